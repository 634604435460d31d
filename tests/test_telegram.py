"""The Telegram adapter through the real python-telegram-bot, against a fake
Bot API server on 127.0.0.1. Question timers run on the test's clock."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest

from adapters.telegram import TelegramAdapter, TelegramConfig
from bot.core import Core
from bot.model import ChatRef
from bot.packs import load_pack_file
from storage.sqlite import SqliteStore
from tests.conftest import DATA
from tests.fake_telegram import (BOT_ID, FakeBotApi, callback_update, chat_json, document_json,
                                 message_update, poll_answer_update, user_json)
from tests.helpers import FakeClock, until

GROUP = -1001234
ADMIN_ID, ALICE_ID, BOB_ID = 10, 11, 12
ADMIN = user_json(ADMIN_ID, "Ada")
ALICE = user_json(ALICE_ID, "Alice")
BOB = user_json(BOB_ID, "<b>Bob</b> & co")


@dataclass
class Harness:
    api: FakeBotApi
    core: Core
    adapter: TelegramAdapter
    clock: FakeClock

    async def say(self, chat_id: int, user: dict, text: str, **kw) -> dict:
        """Send a message from `user` and wait until the bot has answered it."""
        before = self.replies_to_count()
        update = self.api.push(message_update(chat_id, user, text, **kw))
        await until(lambda: self.replies_to_count() > before, timeout=10)
        return update["message"]

    def replies_to_count(self) -> int:
        return sum(1 for c in self.api.calls if c.ok and c.method in ("sendMessage", "sendDocument"))

    def last_text(self) -> str:
        return self.api.sent_texts()[-1]

    async def wait_calls(self, method: str, count: int) -> list[dict]:
        await until(lambda: len(self.api.called(method)) >= count, timeout=10)
        return self.api.called(method)


@pytest.fixture
async def tg(tmp_path, clock):
    api = FakeBotApi()
    await api.start()
    api.admins[GROUP] = {ADMIN_ID}
    store = await SqliteStore.open(tmp_path / "bot.sqlite3")
    from bot.packs import PackLibrary
    packs = PackLibrary()
    for name in ("mini", "telegram", "typed"):
        packs.add(load_pack_file(DATA / f"{name}.yaml"))
    core = Core(store, packs, clock=clock, question_seconds=20, pause_seconds=0, seed=3,
                default_pack="mini")
    await core.start()
    # Test-sized flood limits: the real ones would make a test wait a minute.
    config = TelegramConfig(api.token, base_url=api.base_url, poll_timeout=1,
                            overall_rate=(1000, 1), group_rate=(1000, 1), max_retries=3)
    adapter = TelegramAdapter(core, config)
    await adapter.start()
    yield Harness(api, core, adapter, clock)
    await adapter.stop()
    await core.stop()
    await store.close()
    await api.stop()


async def test_start_registers_commands_with_telegram(tg):
    commands = tg.api.called("setMyCommands")[0]["commands"]
    assert {"quiz", "leaderboard", "pack", "help"} <= {c["command"] for c in commands}


async def test_group_round_with_poll_answers_and_a_button_then_leaderboard(tg):
    await tg.say(GROUP, ALICE, "/quiz tg 2")
    seen_polls = 0
    for number in (1, 2):
        await until(lambda: len(tg.api.called("sendPoll")) + len(keyboards(tg)) == number)
        if len(tg.api.called("sendPoll")) > seen_polls:
            seen_polls += 1
            await answer_poll(tg)
        else:
            await press_buttons(tg)
        await tg.clock.advance(20)
    await until(lambda: any("Round over" in t for t in tg.api.sent_texts()))
    await tg.say(GROUP, ALICE, "/leaderboard")
    board = tg.last_text()
    # Alice: right at once on the poll (10 + 5 bonus). Bob: wrong on the poll,
    # right on the buttons half-way through the time (10 + 2).
    assert "1. Alice: <b>15</b> pts" in board
    assert "2. &lt;b&gt;Bob&lt;/b&gt; &amp; co: <b>12</b> pts" in board
    # The poll was stopped and answered by a reveal; the keyboard message was
    # edited into the reveal, with its buttons gone.
    assert len(tg.api.called("stopPoll")) == 1
    edits = tg.api.called("editMessageText")
    assert len(edits) == 1 and "Answer:" in edits[0]["text"] and "reply_markup" not in edits[0]


async def answer_poll(tg) -> None:
    sent = tg.api.called("sendPoll")[-1]
    poll = sent["_poll"]
    assert poll["type"] == "quiz" and poll["is_anonymous"] is False
    assert sent["open_period"] == 20 and sent["explanation"] == "It was signed in Moscow."
    right = poll["correct_option_ids"][0]
    assert poll["options"][right]["text"] == "Moscow"
    tg.api.push(poll_answer_update(poll["id"], ALICE, right))
    tg.api.push(poll_answer_update(poll["id"], BOB, (right + 1) % 3))
    await until(lambda: open_answers(tg) == 2)


async def press_buttons(tg) -> None:
    question = keyboards(tg)[-1]
    rows = question["reply_markup"]["inline_keyboard"]
    right = next(row[0]["callback_data"] for row in rows if ") A promise" in row[0]["text"])
    message = {"message_id": question["_message_id"], "date": 0, "chat": chat_json(GROUP),
               "from": {"id": BOT_ID, "is_bot": True, "first_name": "History Quiz"}}
    await tg.clock.advance(10)  # half of the question's time has gone
    for _ in range(2):  # a double press is acknowledged twice and counted once
        tg.api.push(callback_update(GROUP, BOB, message, right))
    acks = await tg.wait_calls("answerCallbackQuery", 2)
    assert sorted(a["text"] for a in acks) == ["Answer recorded.",
                                               "You already answered this question."]
    assert open_answers(tg) == 1


def keyboards(tg) -> list[dict]:
    return [p for p in tg.api.called("sendMessage") if "reply_markup" in p]


def open_answers(tg, chat_id: int = GROUP) -> int:
    """Answers committed to the question open now in the chat."""
    rnd = tg.core.quiz.current(ChatRef("telegram", str(chat_id)))
    q = rnd.current if rnd else None
    return sum(1 for a in q.answers.values() if a is not None) if q else 0
