"""The `<when>` of a schedule, as moderators type it:

    daily 18:00        every day
    mon,fri 19:30      on those weekdays
    weekly sun 12:00   once a week
    09:00              same as daily 09:00
    30 9 * * 1-5       a five-field cron line (minute hour day month weekday)

Each becomes an APScheduler CronTrigger in the chat's time zone.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
GROUPS = {"weekdays": "mon-fri", "weekends": "sat,sun"}
TIME = re.compile(r"([01]?\d|2[0-3])[:.h]([0-5]\d)")
CRON_FIELD = re.compile(r"[\d*/,\-a-zA-Z]{1,40}")
USAGE = ("Expected one of: `daily 18:00`, `mon,fri 19:30`, `weekly sun 12:00`, or a cron line "
         "like `30 9 * * 1-5` (minute hour day month weekday).")


class WhenError(ValueError):
    """A `<when>` that cannot be understood; the message says what was expected."""


@dataclass(frozen=True)
class When:
    """A parsed `<when>`: cron fields, kept as APScheduler names them."""

    minute: str
    hour: str
    day: str = "*"
    month: str = "*"
    day_of_week: str = "*"

    def trigger(self, timezone: str) -> CronTrigger:
        return CronTrigger(minute=self.minute, hour=self.hour, day=self.day, month=self.month,
                           day_of_week=self.day_of_week, timezone=ZoneInfo(timezone))

    def describe(self) -> str:
        time = f"{int(self.hour):02d}:{int(self.minute):02d}" if (
            self.hour.isdigit() and self.minute.isdigit()) else None
        if time and (self.day, self.month) == ("*", "*"):
            if self.day_of_week == "*":
                return f"daily {time}"
            return f"{self.day_of_week} {time}"
        return f"{self.minute} {self.hour} {self.day} {self.month} {self.day_of_week}"


def parse(text: str) -> When:
    words = text.strip().lower().split()
    if not words or len(text) > 120:
        raise WhenError("Say when. " + USAGE)
    if len(words) == 5:
        return _cron(words)
    if len(words) == 1:
        return _at(words[0])
    if len(words) == 2 and words[0] in ("daily", "everyday"):
        return _at(words[1])
    if len(words) == 3 and words[0] == "weekly":
        days = _days(words[1])
        if "," in days:
            raise WhenError(f"`weekly` takes one day, not {words[1]!r}. " + USAGE)
        return _at(words[2], days)
    if len(words) == 2:
        return _at(words[1], _days(words[0]))
    raise WhenError(f"I could not read {text.strip()[:60]!r}. " + USAGE)


def split(words: list[str]) -> tuple[When, list[str]]:
    """A `<when>` at the start of `words`, and the words after it. Its form is
    told by its first word, so the error names the form that was meant."""
    first = words[0].lower()
    if first == "weekly":
        size = 3
    elif first in ("daily", "everyday") or first[:1].isalpha():
        size = 2
    elif TIME.fullmatch(first):
        size = 1
    else:
        size = 5
    if len(words) < size:
        raise WhenError(f"{' '.join(words)[:60]!r} is not complete. " + USAGE)
    return parse(" ".join(words[:size])), words[size:]


def _at(word: str, days: str = "*") -> When:
    match = TIME.fullmatch(word)
    if not match:
        raise WhenError(f"{word[:20]!r} is not a time; use 24-hour HH:MM, like 18:00. " + USAGE)
    return When(minute=str(int(match[2])), hour=str(int(match[1])), day_of_week=days)


def _days(word: str) -> str:
    names = []
    for part in word.split(","):
        if part in GROUPS:
            names.append(GROUPS[part])
        elif "-" in part:
            low, _, high = part.partition("-")
            names.append(f"{_day(low)}-{_day(high)}")
        else:
            names.append(_day(part))
    return ",".join(names)


def _day(word: str) -> str:
    day = next((d for d in FULL_DAYS if len(word) >= 3 and d.startswith(word)), None)
    if day is None:
        raise WhenError(f"{word[:20]!r} is not a day; use mon, tue, wed, thu, fri, sat, sun. " + USAGE)
    return day[:3]


def _cron(fields: list[str]) -> When:
    if not all(CRON_FIELD.fullmatch(f) for f in fields):
        raise WhenError("A cron line has five fields of digits, `*`, `/`, `,` and `-`. " + USAGE)
    minute, hour, day, month, weekday = fields
    when = When(minute, hour, day, month, _cron_weekdays(weekday))
    try:
        trigger = when.trigger("UTC")
    except (ValueError, TypeError, KeyError) as exc:
        raise WhenError(f"That cron line does not work: {exc}. " + USAGE) from None
    start = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    if trigger.get_next_fire_time(None, start) is None:
        raise WhenError("That cron line never comes round (no such date). " + USAGE)
    return when


def _cron_weekdays(field: str) -> str:
    """Cron counts weekdays from Sunday = 0 (and 7); APScheduler from Monday = 0.
    Numeric parts are spelled out as day names, so `1-5` means Monday to Friday
    as it does in cron."""
    names = []
    for part in field.split(","):
        base, _, step = part.partition("/")
        numeric = base == "*" or re.fullmatch(r"\d+(-\d+)?", base)
        if not numeric or (base == "*" and not step):
            names.append(part)  # names and plain `*` mean the same to both
            continue
        low, _, high = base.partition("-") if base != "*" else ("0", "", "6")
        high = high or (low if not step else "7")
        if not step.isdigit() and step:
            raise WhenError(f"{part[:20]!r} has a bad step. " + USAGE)
        numbers = range(int(low), int(high) + 1, int(step or 1) or 1)
        if int(high) > 7 or not numbers:
            raise WhenError(f"Weekdays run from 0 to 7 (0 and 7 are Sunday), not {part[:20]!r}. "
                            + USAGE)
        names += [DAYS[(n - 1) % 7] for n in numbers]
    return ",".join(dict.fromkeys(names))


def latest_due(trigger: CronTrigger, after: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """The last time the trigger fired in (after, now], if any."""
    last = None
    t = trigger.get_next_fire_time(None, after + dt.timedelta(seconds=1))
    while t is not None and t <= now:
        last = t
        t = trigger.get_next_fire_time(t, t + dt.timedelta(seconds=1))
    return last
