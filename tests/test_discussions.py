"""Discussions through the core: open, vote, talk, close on time, summary."""
from __future__ import annotations

import pytest

from bot.core import Core
from bot.model import Command, DiscussionMsg, Message, PollEnd, PollVote, QuestionMsg, Text
from bot.packs import load_pack_file
from tests.conftest import DATA
from tests.helpers import ALICE, BOB, CHAT, MOD, RecordingOutbox, settle

HOUR = 3600


@pytest.fixture
async def talk(core):
    core.packs.add(load_pack_file(DATA / "talk.yaml"))
    return core


async def run(core: Core, user, name: str, args: str = "") -> list:
    return await core.handle(Command(CHAT, user, name, args))


def texts(replies) -> str:
    return "\n".join(r.body for r in replies if isinstance(r, Text))


async def open_betrayal(core: Core, hours: str = "") -> DiscussionMsg:
    replies = await run(core, MOD, "discuss", f"betrayal {hours}".strip())
    assert texts(replies) == "Discussion opened."
    return core.outbox.of(DiscussionMsg)[-1]


async def vote(core: Core, user, option: int | None, *, poll: str, added: bool = True):
    return await core.handle(PollVote("test", poll, user, option, added))


async def test_open_vote_talk_and_close_with_a_summary(talk, clock):
    msg = await open_betrayal(talk)
    assert msg.options == ("Yes", "No", "It depends") and msg.hours == 24
    poll = f"poll-{len(talk.outbox.sent)}"
    await vote(talk, ALICE, 0, poll=poll)
    await vote(talk, ALICE, 1, poll=poll)  # changed: the latest counts
    await vote(talk, BOB, 2, poll=poll)
    await vote(talk, BOB, 2, poll=poll)  # the same vote twice counts once
    thread = f"thread-{len(talk.outbox.sent)}"
    for user in (ALICE, BOB, ALICE):
        assert await talk.handle(Message(CHAT, user, "I think...", place=thread)) == []
    await clock.advance(23 * HOUR)
    assert not talk.outbox.of(PollEnd)
    await clock.advance(1 * HOUR)
    await settle()
    assert talk.outbox.of(PollEnd)
    summary = [m for m in talk.outbox.of(Text) if m.title and m.title.startswith("Discussion closed")][0]
    assert "Votes (2 people):" in summary.body
    assert "Yes: 0 (0%)" in summary.body and "No: 1 (50%)" in summary.body
    assert "It depends: 1 (50%)" in summary.body
    assert "2 members took part in the talk." in summary.body
    assert "The pact was still in force until April 1946.\n“remain neutral”" in summary.body
    assert "(Kantokuen, 1941)" in summary.body
    # The follow-up is a one-question round on the related question.
    assert talk.outbox.of(QuestionMsg)[-1].prompt == "Where was the pact signed?"
    listed = texts(await run(talk, ALICE, "discussions"))
    assert "No: 1 (50%)" in listed and "2 took part" in listed


async def test_votes_earn_no_points_and_no_names(talk, clock):
    await open_betrayal(talk, "1h")
    await vote(talk, ALICE, 0, poll=f"poll-{len(talk.outbox.sent)}")
    await talk.discussions.end(CHAT)
    board = await run(talk, ALICE, "leaderboard")
    assert board[0].rows == ()
    summary = [m for m in talk.outbox.of(Text) if m.title and "closed" in m.title][0]
    assert "Alice" not in summary.body


async def test_a_vote_taken_back_is_not_counted(talk):
    await open_betrayal(talk)
    poll = f"poll-{len(talk.outbox.sent)}"
    await vote(talk, ALICE, 0, poll=poll)
    await vote(talk, ALICE, None, added=False, poll=poll)
    await vote(talk, BOB, 1, poll=poll)
    await vote(talk, BOB, 0, added=False, poll=poll)  # a different option: Bob's 1 stays
    row = await talk.store.open_discussion(await talk.store.chat_id(CHAT))
    tally = await talk.store.tally(row.id, 3)
    assert tally.votes == (0, 1, 0)


async def test_vote_command_where_there_is_no_native_poll(talk):
    await open_betrayal(talk)
    assert texts(await run(talk, ALICE, "vote", "2")) == "Vote recorded (your latest vote counts)."
    assert texts(await run(talk, ALICE, "vote", "9")) == "Vote with a number from 1 to 3."
    assert texts(await run(talk, ALICE, "vote", "x")) == "Usage: /vote <option number>"


async def test_unknown_prompt_and_twice_in_one_chat(talk):
    replies = await run(talk, MOD, "discuss", "no-such-prompt")
    assert "There is no discussion prompt 'no-such-prompt'" in texts(replies)
    assert "betrayal" in texts(replies)
    await open_betrayal(talk)
    replies = await run(talk, MOD, "discuss", "other")
    assert "A discussion is already open here" in texts(replies)
    assert len(talk.outbox.of(DiscussionMsg)) == 1


async def test_members_may_not_open_but_may_read_perspectives(talk):
    assert texts(await run(talk, ALICE, "discuss")) == "/discuss is for moderators only."
    text = (await run(talk, ALICE, "perspectives", "betrayal"))[0]
    assert text.title == "Was the Soviet entry into the war a betrayal?"
    assert "• It was a breach of the pact" in text.body and "• It was allowed" in text.body


async def test_random_prompt_prefers_unused_ones(talk):
    for _ in range(2):
        await run(talk, MOD, "discuss")
        await talk.discussions.end(CHAT)
    prompts = {m.prompt for m in talk.outbox.of(DiscussionMsg)}
    assert len(prompts) == 2


async def test_bad_durations_are_refused(talk):
    assert "to 168 hours" in texts(await run(talk, MOD, "discuss", "betrayal 0h"))
    assert "to 168 hours" in texts(await run(talk, MOD, "discuss", "betrayal 1000"))


async def test_a_discussion_survives_a_restart_and_closes_on_time(talk, store, packs, clock):
    await open_betrayal(talk, "2h")
    await vote(talk, ALICE, 1, poll=f"poll-{len(talk.outbox.sent)}")
    await talk.stop()
    again = Core(store, talk.packs, clock=clock, question_seconds=20, pause_seconds=0, seed=7)
    outbox = RecordingOutbox()
    again.delivery.register("test", outbox)
    await again.start()
    try:
        await clock.advance(2 * HOUR)
        await settle()
        assert outbox.of(PollEnd)
        summary = [m for m in outbox.of(Text) if m.title and "closed" in m.title][0]
        assert "No: 1 (100%)" in summary.body
    finally:
        await again.stop()


async def test_overdue_discussion_closes_at_start(talk, store, clock):
    await open_betrayal(talk, "1h")
    await talk.stop()
    clock.t += 5 * HOUR  # the bot was down past the closing time
    again = Core(store, talk.packs, clock=clock, question_seconds=20, pause_seconds=0, seed=7)
    outbox = RecordingOutbox()
    again.delivery.register("test", outbox)
    await again.start()
    try:
        await settle()
        assert any(m.title and "closed" in m.title for m in outbox.of(Text))
    finally:
        await again.stop()
