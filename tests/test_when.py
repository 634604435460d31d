"""The `<when>` of a schedule: every form, its errors, and time zones with DST."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from bot.when import WhenError, latest_due, parse, split

UTC = dt.timezone.utc


@pytest.mark.parametrize("text, fields", [
    ("daily 18:00", ("0", "18", "*")),
    ("18:00", ("0", "18", "*")),
    ("mon,fri 19:30", ("30", "19", "mon,fri")),
    ("weekly sun 12:00", ("0", "12", "sun")),
    ("weekdays 8:05", ("5", "8", "mon-fri")),
    ("30 9 * * 1-5", ("30", "9", "mon,tue,wed,thu,fri")),  # cron's Monday to Friday
    ("0 12 * * 0", ("0", "12", "sun")),  # cron's Sunday is 0 ...
    ("0 12 * * 7", ("0", "12", "sun")),  # ... and 7
])
def test_forms(text, fields):
    when = parse(text)
    assert (when.minute, when.hour, when.day_of_week) == fields
    assert parse(when.describe()) == when  # what is stored reads back the same


def test_cron_weekdays_fire_on_the_right_days():
    trigger = parse("30 9 * * 1-5").trigger("UTC")
    saturday = dt.datetime(2026, 11, 28, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, saturday) == dt.datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("text, says", [
    ("", "Say when"),
    ("daily 25:00", "'25:00' is not a time"),
    ("funday 10:00", "'funday' is not a day"),
    ("weekly mon,tue 10:00", "`weekly` takes one day"),
    ("1 2 3 4 9", "Weekdays run from 0 to 7"),
    ("99 * * * *", "That cron line does not work"),
    ("0 0 31 2 *", "never comes round"),
    ("every tuesday", "is not a day"),
])
def test_errors_say_what_was_expected(text, says):
    with pytest.raises(WhenError) as caught:
        parse(text)
    assert says in str(caught.value)
    assert "daily 18:00" in str(caught.value)  # and show the forms that work


def test_split_takes_the_when_and_leaves_the_rest():
    when, rest = split("fri 19:00 japan-ussr-1945 5".split())
    assert (when.day_of_week, when.hour, rest) == ("fri", "19", ["japan-ussr-1945", "5"])
    when, rest = split("0 18 * * 5 japan".split())
    assert (when.day_of_week, rest) == ("fri", ["japan"])
    with pytest.raises(WhenError, match="not complete"):
        split(["weekly", "sun"])


def test_daylight_saving_keeps_the_local_time():
    trigger = parse("daily 09:00").trigger("Europe/Berlin")
    # Berlin moves its clocks forward on 29 March 2026 and back on 25 October.
    before = trigger.get_next_fire_time(None, dt.datetime(2026, 3, 27, 12, tzinfo=UTC))
    after = trigger.get_next_fire_time(None, dt.datetime(2026, 3, 28, 12, tzinfo=UTC))
    autumn = trigger.get_next_fire_time(None, dt.datetime(2026, 10, 25, 12, tzinfo=UTC))
    assert before.astimezone(UTC).hour == 8 and after.astimezone(UTC).hour == 7
    assert autumn.astimezone(UTC).hour == 8
    for t in (before, after, autumn):
        assert t.astimezone(ZoneInfo("Europe/Berlin")).hour == 9


def test_a_time_skipped_by_dst_still_fires_once():
    trigger = parse("daily 02:30").trigger("Europe/Berlin")  # 02:30 does not exist on 29 March
    day = latest_due(trigger, dt.datetime(2026, 3, 28, 23, tzinfo=UTC),
                     dt.datetime(2026, 3, 29, 23, tzinfo=UTC))
    assert day is not None and day.astimezone(ZoneInfo("Europe/Berlin")).day == 29


def test_latest_due_finds_the_last_time_in_range():
    trigger = parse("daily 09:00").trigger("UTC")
    due = latest_due(trigger, dt.datetime(2026, 11, 20, tzinfo=UTC),
                     dt.datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    assert due == dt.datetime(2026, 11, 24, 9, tzinfo=UTC)
    assert latest_due(trigger, dt.datetime(2026, 11, 24, 9, 1, tzinfo=UTC),
                      dt.datetime(2026, 11, 24, 10, tzinfo=UTC)) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_fuzz_parse_raises_only_when_error(text):
    try:
        when = parse(text)
    except WhenError:
        return
    when.trigger("UTC")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["*", "*/5", "1-5", "0", "7", "mon", "12", "30", "1,3", "5-7",
                                 "0-6", "*/2", "jan", "31", "2"]), min_size=5, max_size=5))
def test_fuzz_cron_lines(fields):
    try:
        when = parse(" ".join(fields))
    except WhenError:
        return
    assert parse(when.describe()) == when
