"""Typed answers are matched tolerantly but never loosely."""
import pytest
from hypothesis import given, strategies as st

from bot.matching import matches, matches_any, parse_date, parse_number, readable


@pytest.mark.parametrize("given_text, expected", [
    ("Moscow", "Moscow"),
    ("moscow!", "Moscow"),
    ("  MOSCOW  ", "Moscow"),
    ("Khalkhin Gol", "Khalkhin-Gol"),
    ("Sakhalin", "Sakhalín"),
    ("the Kuril Islands", "Kuril Islands"),
    ("Kuril Islands", "The Kuril Islands"),
    ("Matsuoka", "Yosuke Matsuoka"),
    ("Yosuke Matsouka", "Yosuke Matsuoka"),
    ("Kwantung Army", "Kwantung army"),
    ("Kwantung Armi", "Kwantung Army"),
    ("13 April 1941", "1941-04-13"),
    ("April 13, 1941", "1941-04-13"),
    ("1941-04-13", "13 April 1941"),
    ("13.04.1941", "13 April 1941"),
    ("13th of April 1941".replace(" of", ""), "13 April 1941"),
    ("Apr 13 1941", "13 April 1941"),
    ("600,000", "600000"),
    ("600 000", "600,000"),
    ("600k", "600,000"),
    ("600 thousand", "600000"),
    ("over 600,000", "600000"),
    ("1941", "1941"),
    ("13 April 1941", "1941"),
])
def test_matches(given_text, expected):
    assert matches(given_text, expected)


@pytest.mark.parametrize("given_text, expected", [
    ("Molotov", "Matsuoka"),
    ("Molotov", "Yosuke Matsuoka"),
    ("Tokyo", "Kyoto"),
    ("500,000", "600,000"),
    ("1942", "1941"),
    ("14 April 1941", "13 April 1941"),
    ("April 1941", "13 April 1941"),
    ("Moscow Kremlin palace of congresses", "Moscow"),
    ("Mos", "Moscow"),
    ("", "Moscow"),
    ("🙂", "Moscow"),
    ("Army", "Kwantung Army"),
    ("Baikal", "Khasan"),
])
def test_does_not_match(given_text, expected):
    assert not matches(given_text, expected)


def test_matches_any_alias():
    assert matches_any("Kantokuen", ["Kantokuen plan", "Kantokuen"])


def test_parsers_return_none_on_nonsense():
    assert parse_date("31 February 1941") is None
    assert parse_date("Moscow") is None
    assert parse_number("many") is None
    assert not readable("🎉🎉 !!")


@given(st.text(max_size=300), st.sampled_from(["Moscow", "1941-04-13", "600,000", "Yosuke Matsuoka"]))
def test_matcher_never_raises(text, expected):
    assert matches(text, expected) in (True, False)
