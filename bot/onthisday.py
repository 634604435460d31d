"""'On this day': the events of every loaded pack whose anniversary is today.

An event of 29 February is remembered on 28 February in other years: that
keeps it in its own month, on the last day before the date would have passed.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .packs import PackLibrary
from .packs.schema import Event, Pack


@dataclass(frozen=True)
class Anniversary:
    pack: Pack
    index: int  # the event's position in its pack
    event: Event

    def years(self, today: dt.date) -> int:
        return today.year - self.event.date.year


def anniversary(day: dt.date, year: int) -> dt.date:
    if day.month == 2 and day.day == 29 and not _leap(year):
        return dt.date(year, 2, 28)
    return day.replace(year=year)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def events_on(packs: PackLibrary, today: dt.date) -> list[Anniversary]:
    found = [Anniversary(p, i, e) for p in packs.packs() for i, e in enumerate(p.events)
             if anniversary(e.date, today.year) == today and e.date <= today]
    return sorted(found, key=lambda a: a.event.date)


def next_anniversary(packs: PackLibrary, today: dt.date) -> tuple[int, Anniversary] | None:
    """The soonest anniversary after today, and how many days away it is."""
    best = None
    for p in packs.packs():
        for i, e in enumerate(p.events):
            when = anniversary(e.date, today.year)
            if when <= today:
                when = anniversary(e.date, today.year + 1)
            days = (when - today).days
            if best is None or (days, e.date) < (best[0], best[1].event.date):
                best = (days, Anniversary(p, i, e))
    return best


def describe(a: Anniversary, today: dt.date) -> str:
    years = a.years(today)
    ago = "today" if years == 0 else f"{years} year{'s' if years != 1 else ''} ago today"
    lines = [f"{a.event.date.day} {a.event.date:%B %Y}, {ago}: {a.event.title}", a.event.text]
    if a.event.source:
        lines.append(f"“{a.event.source}”")
    return "\n".join(lines)


def describe_upcoming(a: Anniversary, today: dt.date, days: int) -> str:
    on = today + dt.timedelta(days=days)
    years = on.year - a.event.date.year
    return (f"In {days} day{'s' if days != 1 else ''}, {years} years on: "
            f"{a.event.date.day} {a.event.date:%B %Y}: {a.event.title}\n{a.event.text}")
