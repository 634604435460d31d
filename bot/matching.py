"""Tolerant matching of typed answers.

An expected answer that reads as a date is compared as a date, one that reads
as a number as a number (so "500,000" never passes for "600,000"), and
anything else as normalised text with a fuzzy ratio for small typos.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache

from rapidfuzz import fuzz

MAX_ANSWER_CHARS = 200
_ARTICLES = ("the ", "a ", "an ")
_MONTHS = {m.lower(): i for i, m in enumerate(
    ["January", "February", "March", "April", "May", "June", "July", "August",
     "September", "October", "November", "December"], start=1)}
_MONTHS.update({name[:3]: i for name, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9


def normalise(text: str) -> str:
    """Lower case, no diacritics, punctuation as spaces, no leading article."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = "".join(c if c.isalnum() else " " for c in text.casefold())
    text = " ".join(text.split())
    for article in _ARTICLES:
        if text.startswith(article) and len(text) > len(article):
            return text[len(article):]
    return text


def parse_date(text: str) -> dt.date | None:
    """A date in a common form: 13 April 1941, April 13, 1941, 1941-04-13, 13.04.1941."""
    t = text.strip().casefold().replace(",", " ")
    t = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", t)
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", t):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./](\d{4})", t):
            return dt.date(int(m[3]), int(m[2]), int(m[1]))
        words = t.replace(".", " ").split()
        if len(words) == 3:
            if words[1] in _MONTHS and words[0].isdigit() and words[2].isdigit():
                return dt.date(int(words[2]), _MONTHS[words[1]], int(words[0]))
            if words[0] in _MONTHS and words[1].isdigit() and words[2].isdigit():
                return dt.date(int(words[2]), _MONTHS[words[0]], int(words[1]))
    except ValueError:
        return None
    return None


_MULTIPLIERS = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "million": 1_000_000}


def parse_number(text: str) -> float | None:
    """600,000 / 600 000 / 600k / 600 thousand / 1.5 million; None if not a number."""
    t = text.strip().casefold().replace("\u00a0", " ").replace("\u202f", " ")
    t = re.sub(r"^(about|around|over|more than|some|approx\.?|~)\s*", "", t)
    m = re.fullmatch(r"([0-9][0-9 ,']*(?:\.[0-9]+)?)\s*(k|m|thousand|million)?", t)
    if not m:
        return None
    digits = m[1].replace(" ", "").replace(",", "").replace("'", "")
    try:
        value = float(digits)
    except ValueError:
        return None
    return value * _MULTIPLIERS.get(m[2] or "", 1)


@lru_cache(maxsize=4096)
def _expected_forms(expected: str) -> tuple[dt.date | None, float | None, str]:
    return parse_date(expected), parse_number(expected), normalise(expected)


def _text_close(given: str, wanted: str) -> bool:
    if not given or not wanted:
        return False
    if given == wanted:
        return True
    if min(len(given), len(wanted)) <= 4:
        return False  # short words: one letter changes the meaning
    threshold = 85 if len(wanted) >= 8 else 80
    if fuzz.ratio(given, wanted) >= threshold:
        return True
    # A surname alone names the person: "Matsuoka" for "Yosuke Matsuoka".
    words = wanted.split()
    return len(words) >= 2 and len(words[-1]) >= 4 and " " not in given and \
        fuzz.ratio(given, words[-1]) >= threshold


def matches(given: str, expected: str) -> bool:
    given = given[:MAX_ANSWER_CHARS]
    want_date, want_number, want_text = _expected_forms(expected)
    if want_date is not None:
        return parse_date(given) == want_date
    if want_number is not None:
        if _is_year(want_number) and (day := parse_date(given)) is not None:
            return day.year == want_number  # a full date answers "which year?"
        return parse_number(given) == want_number
    return _text_close(normalise(given), want_text)


def _is_year(number: float) -> bool:
    return number.is_integer() and 1000 <= number <= 2100


def matches_any(given: str, accepted: list[str]) -> bool:
    return any(matches(given, expected) for expected in accepted)


def readable(given: str) -> bool:
    """False for an answer with no letters or digits at all (only emoji, say)."""
    return bool(normalise(given))
