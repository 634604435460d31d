"""Reliability and security through the core: concurrency, hostile input,
floods, the permission table and hostile packs."""
from __future__ import annotations

import asyncio

import pytest

from bot.core import COMMANDS
from bot.model import (Attachment, ChatRef, ChoiceAnswer, Command, Message, QuestionMsg, Role,
                       Text, UserRef)
from tests.helpers import ADMIN, ALICE, BOB, CHAT, until
from tests.hostile_packs import HOSTILE


async def open_choice_question(core) -> QuestionMsg:
    await core.handle(Command(CHAT, ADMIN, "quiz", "choices 1"))
    await until(lambda: core.outbox.of(QuestionMsg))
    return core.outbox.last_question()


def member(i: int) -> UserRef:
    return UserRef("test", f"m{i}", f"Member {i}")


async def test_fifty_members_in_the_same_millisecond_each_count_once(core, clock):
    q = await open_choice_question(core)
    replies = await asyncio.gather(*(core.handle(ChoiceAnswer(CHAT, member(i), q.round_id, q.index,
                                                              q.correct_index)) for i in range(50)))
    assert all(r[0].body == "Answer recorded." for r in replies)
    board = (await core.handle(Command(CHAT, ALICE, "leaderboard")))[0]
    assert len(board.rows) == 10 and all(r.points == 15 for r in board.rows)
    stats = [await core.store.user_stats(await core.store.chat_id(CHAT),
                                         await core.store.user_id("test", f"m{i}", f"Member {i}"))
             for i in range(50)]
    assert [(s.answered, s.points) for s in stats] == [(1, 15)] * 50


async def test_one_member_clicking_ten_times_counts_once(core):
    q = await open_choice_question(core)
    replies = await asyncio.gather(*(core.handle(ChoiceAnswer(CHAT, ALICE, q.round_id, q.index, c % 2))
                                     for c in range(10)))
    bodies = [r[0].body for r in replies]
    assert bodies.count("Answer recorded.") == 1
    assert bodies.count("You already answered this question.") == 9
    stats = await core.store.user_stats(await core.store.chat_id(CHAT),
                                        await core.store.user_id("test", "u-alice", "Alice"))
    assert stats.answered == 1


async def test_forged_answers_for_another_round_or_chat_are_refused(core):
    q = await open_choice_question(core)
    elsewhere = ChatRef("test", "chat-2")
    assert (await core.handle(ChoiceAnswer(elsewhere, ALICE, q.round_id, q.index, 0)))[0].body == \
        "This question is closed."
    assert (await core.handle(ChoiceAnswer(CHAT, ALICE, q.round_id + 1, q.index, 0)))[0].body == \
        "This question is closed."
    assert (await core.handle(ChoiceAnswer(CHAT, ALICE, q.round_id, q.index + 3, 0)))[0].body == \
        "This question is closed."
    assert (await core.handle(ChoiceAnswer(CHAT, ALICE, q.round_id, q.index, 99)))[0].body == \
        "That is not one of this question's choices."


async def test_ten_thousand_character_arguments_are_refused(core):
    for name in ("quiz", "answer", "discuss", "schedule", "timezone", "perspectives"):
        reply = (await core.handle(Command(CHAT, ADMIN, name, "x" * 10_000)))[0]
        assert "That is too long" in reply.body
    assert core.quiz.current(CHAT) is None


async def test_invisible_and_control_characters_are_removed_from_names_and_text(core):
    q = await open_choice_question(core)
    sneaky = UserRef("test", "sneaky", "\u202eevil\u202c\u200bname\x00\x07 <b>&</b>")
    await core.handle(ChoiceAnswer(CHAT, sneaky, q.round_id, q.index, q.correct_index))
    board = (await core.handle(Command(CHAT, ALICE, "leaderboard")))[0]
    assert board.rows[0].name == "evilname <b>&</b>"  # markup stays; adapters escape it
    text = (await core.handle(Command(CHAT, ALICE, "he\u200blp")))[0]
    assert text.title == "Commands"


async def test_a_flood_from_one_member_is_limited_and_others_are_not(core, clock):
    q = await open_choice_question(core)
    flood = [await core.handle(Message(CHAT, BOB, f"spam {i}", addressed=True)) for i in range(1000)]
    answered = [r for r in flood if r]
    warnings = [r for r in answered if "too much too fast" in r[0].body]
    assert len(warnings) == 1
    assert len(answered) <= 21  # the burst, then one warning, then silence
    reply = await core.handle(ChoiceAnswer(CHAT, ALICE, q.round_id, q.index, q.correct_index))
    assert reply[0].body == "Answer recorded."
    await clock.advance(10)  # ten seconds later Bob may speak again
    assert (await core.handle(Command(CHAT, BOB, "packs")))[0].title == "Quiz packs"


EXAMPLE_ARGS = {"quiz": "choices 1", "answer": "Moscow", "timer": "30", "vote": "1",
                "perspectives": "x", "discuss": "x", "timezone": "UTC", "schedule": "list",
                "pack": "list", "timeline": "mini"}


@pytest.mark.parametrize("spec", COMMANDS, ids=[c.name for c in COMMANDS])
@pytest.mark.parametrize("role", list(Role), ids=[r.name.lower() for r in Role])
async def test_permission_table(core, spec, role):
    user = UserRef("test", f"user-{role.name}", role.name.title(), role)
    replies = await core.handle(Command(CHAT, user, spec.name, EXAMPLE_ARGS.get(spec.name, "")))
    refused = any(isinstance(r, Text) and r.body == f"/{spec.name} is for "
                  f"{spec.role.name.lower()}s only." for r in replies)
    assert refused == (role < spec.role)


def upload(data: bytes, name: str = "hostile.yaml") -> Attachment:
    async def fetch() -> bytes:
        return data
    return Attachment(name, len(data), fetch)


@pytest.mark.parametrize("name", HOSTILE)
async def test_hostile_uploads_are_refused_whole_and_the_bot_keeps_going(core, name):
    before = core.packs.ids()
    replies = await core.handle(Command(CHAT, ADMIN, "pack", "load", upload(HOSTILE[name])))
    body = replies[0].body
    assert ("was not loaded" in body and "unchanged" in body) or "Nothing was loaded" in body
    assert core.packs.ids() == before
    assert (await core.handle(Command(CHAT, ALICE, "packs")))[0].title == "Quiz packs"


async def test_a_fifty_megabyte_upload_is_refused_before_download(core):
    fetched = []

    async def fetch() -> bytes:
        fetched.append(True)
        return b""
    replies = await core.handle(Command(CHAT, ADMIN, "pack", "load",
                                        Attachment("big.yaml", 50 * 1024 * 1024, fetch)))
    assert "Nothing was loaded" in replies[0].body and not fetched


async def test_text_hidden_by_the_platform_costs_nothing_of_the_limit(core):
    for i in range(200):  # chat the bot cannot read, e.g. Discord without Message Content
        assert await core.handle(Message(CHAT, BOB, "", place="thread-x")) == []
    assert (await core.handle(Command(CHAT, BOB, "packs")))[0].title == "Quiz packs"
