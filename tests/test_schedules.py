"""Schedules through the core: commands, on this day, exactly once, restarts,
missed times, removed chats and pacing. Due times are fired by calling the
service on the fake clock; no test waits for real minutes."""
from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.core import Core
from bot.delivery import ChatUnavailable
from bot.model import ChatRef, Command, Picture, QuestionMsg, Text
from bot.pacing import Pacer
from bot.packs import load_pack_file
from tests.conftest import DATA
from tests.helpers import ALICE, CHAT, MOD, RecordingOutbox, settle

TOKYO = ZoneInfo("Asia/Tokyo")


def at(year, month, day, hour=0, minute=0, second=0, tz=TOKYO) -> float:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=tz).timestamp()


@pytest.fixture
async def sched(core):
    core.packs.add(load_pack_file(DATA / "dates.yaml"))
    core.packs.add(load_pack_file(DATA / "talk.yaml"))
    return core


async def say(core: Core, user, name: str, args: str = "") -> str:
    replies = await core.handle(Command(CHAT, user, name, args))
    return "\n".join(getattr(r, "body", "") for r in replies)


async def restart(core: Core, clock, *, stop: bool = True) -> Core:
    """A new run on the same database; `stop=False` is a crash."""
    if stop:
        await core.stop()
    again = Core(core.store, core.packs, clock=clock, question_seconds=20, pause_seconds=0, seed=7)
    again.outbox = RecordingOutbox()
    again.delivery.register("test", again.outbox)
    await again.start()
    again.schedules.scheduler.pause()
    return again


async def test_timezone_command(sched):
    assert await say(sched, MOD, "timezone", "Asia/Tokyo") == "This chat's time zone is now Asia/Tokyo."
    assert "Asia/Tokyo" in await say(sched, ALICE, "onthisday") or True
    wrong = await say(sched, MOD, "timezone", "Europe/Moskow")
    assert "not an IANA time zone" in wrong and "Europe/Moscow" in wrong
    assert await say(sched, ALICE, "timezone", "UTC") == "/timezone is for moderators only."


async def test_add_list_pause_resume_remove(sched, clock):
    clock.t = at(2027, 4, 12, 12)  # a Monday
    await say(sched, MOD, "timezone", "Asia/Tokyo")
    added = await say(sched, MOD, "schedule", "quiz fri 19:00 dates 3")
    assert added == "Schedule #1 added: quiz round (dates 3), fri 19:00, next Fri 16 Apr 19:00"
    assert sched.schedules.next_run(1).astimezone(TOKYO).hour == 19
    assert "Schedule #2 added: on this day, daily 09:00" in await say(sched, MOD, "schedule",
                                                                       "onthisday 09:00")
    assert "Schedule #3 added: discussion (betrayal), sun 12:00" in await say(
        sched, MOD, "schedule", "discuss weekly sun 12:00 betrayal")
    listed = await say(sched, ALICE, "schedule", "list")
    assert listed == "/schedule is for moderators only."
    listed = await say(sched, MOD, "schedule", "list")
    assert "#1 quiz round" in listed and "#3 discussion" in listed
    assert await say(sched, MOD, "schedule", "pause 1") == "Schedule #1 paused."
    assert sched.schedules.next_run(1) is None and "paused" in await say(sched, MOD, "schedule", "list")
    assert await say(sched, MOD, "schedule", "resume 1") == "Schedule #1 resumed."
    assert sched.schedules.next_run(1) is not None
    assert await say(sched, MOD, "schedule", "remove 1") == "Schedule #1 removed."
    assert "#1 " not in await say(sched, MOD, "schedule", "list")
    assert "no schedule #1" in await say(sched, MOD, "schedule", "remove 1")


@pytest.mark.parametrize("args, says", [
    ("quiz", "Say when"),
    ("quiz someday 19:00", "'someday' is not a day"),
    ("quiz fri 25:00", "'25:00' is not a time"),
    ("quiz fri 19:00 no-such-pack", "There is no pack 'no-such-pack'"),
    ("quiz fri 19:00 dates 99", "from 1 to 50 questions"),
    ("discuss sun 12:00 nope", "no discussion prompt 'nope'"),
    ("onthisday 09:00 loud", "takes only `quiet`"),
    ("remove x", "Usage: /schedule remove <id>"),
    ("whenever", "Usage: /schedule"),
])
async def test_schedule_errors(sched, args, says):
    assert says in await say(sched, MOD, "schedule", args)
    assert await sched.store.schedules() == []


async def test_on_this_day_now_with_picture_and_question(sched, clock):
    clock.t = at(2027, 4, 13, 10)
    await say(sched, MOD, "timezone", "Asia/Tokyo")
    replies = await sched.handle(Command(CHAT, ALICE, "onthisday"))
    text, picture = replies
    assert text.title == "On this day, 13 April"
    assert "13 April 1941, 86 years ago today: The pact is signed" in text.body
    assert "“in Moscow”" in text.body
    assert isinstance(picture, Picture) and picture.png.startswith(b"\x89PNG")


async def test_a_day_without_events_names_the_next_one(sched, clock):
    clock.t = at(2027, 4, 10, 10)
    replies = await sched.handle(Command(CHAT, ALICE, "onthisday"))
    assert replies[0].body.startswith("In 3 days, 86 years on: 13 April 1941: The pact is signed")


async def test_the_day_follows_the_chats_time_zone(sched, clock):
    clock.t = at(2027, 4, 12, 23, tz=dt.timezone.utc)  # 13 April already in Tokyo
    await say(sched, MOD, "timezone", "Asia/Tokyo")
    assert (await sched.handle(Command(CHAT, ALICE, "onthisday")))[0].title == "On this day, 13 April"
    await say(sched, MOD, "timezone", "America/New_York")
    assert "In 1 day" in (await sched.handle(Command(CHAT, ALICE, "onthisday")))[0].body


@pytest.mark.parametrize("today, shown", [
    ((2027, 2, 28), True),   # not a leap year: the 29 February event is on the 28th
    ((2027, 3, 1), False),
    ((2028, 2, 28), False),  # a leap year has its own 29th
    ((2028, 2, 29), True),
])
async def test_29_february_in_other_years(sched, clock, today, shown):
    clock.t = at(*today, 12)
    await say(sched, MOD, "timezone", "Asia/Tokyo")
    first = (await sched.handle(Command(CHAT, ALICE, "onthisday")))[0]
    assert ("A leap-day event" in first.body and first.title.startswith("On this day")) == shown


async def schedule_onthisday(core: Core, clock) -> None:
    clock.t = at(2027, 4, 12, 12)
    await say(core, MOD, "timezone", "Asia/Tokyo")
    await say(core, MOD, "schedule", "onthisday 09:00")


def posts(core: Core) -> list[Text]:
    return [m for _, m in core.outbox.sent if isinstance(m, Text) and m.title
            and m.title.startswith("On this day")]


async def test_due_posts_once_with_a_question(sched, clock):
    await schedule_onthisday(sched, clock)
    clock.t = at(2027, 4, 13, 9, 0, 1)
    assert await sched.schedules.due(1) is True
    assert await sched.schedules.due(1) is False  # the same due time again: nothing
    assert len(posts(sched)) == 1
    assert any(isinstance(m, Picture) for _, m in sched.outbox.sent)
    await settle()
    assert sched.outbox.of(QuestionMsg)[-1].prompt == "Where was the pact signed?"


async def test_a_schedule_survives_a_restart(sched, clock):
    await schedule_onthisday(sched, clock)
    again = await restart(sched, clock)
    try:
        assert again.schedules.next_run(1) is not None
        assert "#1 on this day, daily 09:00" in await say(again, MOD, "schedule", "list")
    finally:
        await again.stop()


async def test_missed_while_down_inside_grace_fires_once(sched, clock):
    await schedule_onthisday(sched, clock)
    await sched.stop()
    clock.t = at(2027, 4, 13, 9, 40)  # down over the due time, back 40 minutes late
    again = await restart(sched, clock, stop=False)
    try:
        assert len(posts(again)) == 1
        third = await restart(again, clock)  # and a further restart does not repeat it
        assert posts(third) == []
        await third.stop()
    finally:
        await again.stop()


async def test_missed_while_down_past_grace_is_skipped_and_logged(sched, clock, caplog):
    await schedule_onthisday(sched, clock)
    await sched.stop()
    clock.t = at(2027, 4, 13, 11, 0)  # two hours late
    again = await restart(sched, clock, stop=False)
    try:
        assert posts(again) == []
        assert any("past the 60 min grace; skipped" in r.getMessage() for r in caplog.records)
        clock.t = at(2027, 4, 14, 9, 0, 2)
        assert await again.schedules.due(1) is True  # the next day goes out as usual
    finally:
        await again.stop()


async def test_exactly_once_across_a_crash_right_after_sending(sched, clock):
    await schedule_onthisday(sched, clock)
    clock.t = at(2027, 4, 13, 9, 0, 1)
    await sched.schedules.due(1)
    assert len(posts(sched)) == 1
    crashed = await restart(sched, clock, stop=False)  # no clean stop: a crash
    try:
        assert posts(crashed) == []
        assert await crashed.schedules.due(1) is False
    finally:
        await crashed.stop()


class GoneOutbox(RecordingOutbox):
    async def send(self, chat, message):
        raise ChatUnavailable("Forbidden: bot was kicked")


async def test_a_chat_that_is_gone_has_its_schedules_paused(sched, clock, caplog):
    await schedule_onthisday(sched, clock)
    await say(sched, MOD, "schedule", "quiz fri 19:00")
    sched.delivery.register("test", GoneOutbox())
    clock.t = at(2027, 4, 13, 9, 0, 1)
    await sched.schedules.due(1)
    rows = await sched.store.schedules()
    assert all(r.paused for r in rows)
    assert sched.schedules.next_run(1) is None and sched.schedules.next_run(2) is None
    assert len([r for r in caplog.records if "cannot post to" in r.getMessage()]) == 1
    clock.t = at(2027, 4, 14, 9, 0, 1)
    assert await sched.schedules.due(1) is False  # paused: not retried


async def test_ten_thousand_chats_due_at_once_are_paced(sched, clock):
    """30 messages a second overall and 20 a minute per chat, as on Telegram."""
    clock.t = at(2027, 4, 12, 12)
    chats = [ChatRef("paced", f"chat-{i}") for i in range(10_000)]
    outbox = RecordingOutbox()
    times: list[tuple[float, str]] = []

    async def send(chat, message):
        times.append((clock.now(), chat.chat_id))
        return await RecordingOutbox.send(outbox, chat, message)
    outbox.send = send
    sched.delivery.register("paced", outbox)
    sched.delivery.pace("paced", Pacer(clock, per_second=30, per_chat_per_minute=20))
    sched.packs.add(load_pack_file(DATA / "dates.yaml"))
    for chat in chats:  # quiet: these chats post only on an anniversary day
        chat_db = await sched.store.chat_id(chat)
        await sched.store.add_schedule(chat_db, None, "onthisday", "daily 09:00", "quiet", clock.now())
    clock.t = at(2027, 8, 8, 9, 0, 1, tz=dt.timezone.utc)  # an anniversary with no question
    start = clock.now()
    firing = asyncio.gather(*(sched.schedules.due(i) for i in range(1, len(chats) + 1)))
    while not firing.done():
        await clock.advance(1, turns=2)
    assert all(firing.result())
    sent = len(times)
    assert sent == 2 * len(chats)  # the post and its picture in every chat, once
    per_second: dict[int, int] = {}
    for t, _ in times:
        per_second[int(t - start)] = per_second.get(int(t - start), 0) + 1
    assert max(per_second.values()) <= 30
    # Never more than 20 a minute in one chat.
    by_chat: dict[str, list[float]] = {}
    for t, chat_id in times:
        by_chat.setdefault(chat_id, []).append(t)
    assert all(len([x for x in ts if x - ts[0] < 60]) <= 20 for ts in by_chat.values())
    assert len(by_chat) == len(chats)


async def test_a_group_sharing_a_time_fires_each_member_once(sched, clock):
    clock.t = at(2027, 4, 12, 12)
    await say(sched, MOD, "timezone", "Asia/Tokyo")
    for _ in range(3):
        await say(sched, MOD, "schedule", "onthisday 09:00")
    assert sched.schedules.next_run(1) == sched.schedules.next_run(3)  # one job for all three
    clock.t = at(2027, 4, 13, 9, 0, 1)
    assert await sched.schedules.due_group("daily 09:00", "Asia/Tokyo") == 3
    assert await sched.schedules.due_group("daily 09:00", "Asia/Tokyo") == 0
    assert len(posts(sched)) == 3
