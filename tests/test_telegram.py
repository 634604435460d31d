"""The Telegram adapter through the real python-telegram-bot, against a fake
Bot API server on 127.0.0.1. Question timers run on the test's clock."""
from __future__ import annotations

import logging
import socket

import aiohttp
from dataclasses import dataclass

import pytest

from adapters.telegram import TelegramAdapter, TelegramConfig
from bot.core import Core
from bot.delivery import ChatUnavailable
from bot.model import ChatRef
from bot.packs import PackLibrary, load_pack_file
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

    async def close_question(self, seconds: float = 20) -> None:
        await self.clock.run_out(seconds)

    async def wait_calls(self, method: str, count: int) -> list[dict]:
        await until(lambda: len(self.api.called(method)) >= count, timeout=10)
        return self.api.called(method)


@pytest.fixture
async def make_tg(tmp_path, clock):
    """Starts the fake server, the core and the adapter; `config` overrides settings."""
    running = []

    async def make(**config) -> Harness:
        api = FakeBotApi()
        await api.start()
        api.admins[GROUP] = {ADMIN_ID}
        store = await SqliteStore.open(tmp_path / "bot.sqlite3")
        packs = PackLibrary()
        for name in ("mini", "telegram", "typed", "talk"):
            packs.add(load_pack_file(DATA / f"{name}.yaml"))
        core = Core(store, packs, clock=clock, question_seconds=20, pause_seconds=0, seed=3,
                    default_pack="mini")
        await core.start()
        # Test-sized flood limits: the real ones would make a test wait a minute.
        settings = dict(base_url=api.base_url, poll_timeout=1, overall_rate=(1000, 1),
                        group_rate=(1000, 1), max_retries=3) | config
        adapter = TelegramAdapter(core, TelegramConfig(api.token, **settings))
        running.append((api, store, core, adapter))
        await adapter.start()
        return Harness(api, core, adapter, clock)

    yield make
    for api, store, core, adapter in running:
        await adapter.stop()
        await core.stop()
        await store.close()
        await api.stop()


@pytest.fixture
async def tg(make_tg):
    return await make_tg()


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
        await tg.close_question()
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


async def test_typed_answer_as_a_reply_to_the_question(tg):
    await tg.say(GROUP, ALICE, "/quiz typed")
    await until(lambda: any("Reply to this message" in t for t in tg.api.sent_texts()))
    question = tg.api.called("sendMessage")[-1]
    assert "reply_markup" not in question
    bot_msg = {"message_id": question["_message_id"], "date": 0, "chat": chat_json(GROUP),
               "from": {"id": BOT_ID, "is_bot": True, "first_name": "History Quiz"}}
    await tg.say(GROUP, ALICE, "1941", reply_to=bot_msg)
    assert tg.last_text() == "Answer recorded."
    assert tg.api.called("sendMessage")[-1]["reply_parameters"]["message_id"] > 0
    await tg.close_question()
    await until(lambda: tg.api.called("editMessageText"))
    assert "Alice" in tg.api.called("editMessageText")[0]["text"]


async def test_commands_with_and_without_the_bot_name(tg):
    await tg.say(GROUP, ALICE, "/packs@history_quiz_bot")
    assert "Telegram test pack" in tg.last_text()
    count = tg.replies_to_count()
    tg.api.push(message_update(GROUP, ALICE, "/packs@some_other_bot"))
    await tg.say(GROUP, ALICE, "/help")
    assert tg.replies_to_count() == count + 1  # only /help was answered
    assert "/pack load" not in tg.last_text()  # a member's help lists member commands


GOOD_PACK = (DATA / "typed.yaml").read_bytes().replace(b"id: typed", b"id: uploaded")
BROKEN_PACK = b"id: broken\ntitle: Broken\nquestions:\n  - id: q1\n    kind: choice\n    prompt: Why?\n"


async def test_admin_uploads_a_good_pack_and_a_broken_one(tg):
    tg.api.add_file("good", GOOD_PACK)
    await tg.say(GROUP, ADMIN, None, caption="/pack load",
                 document=document_json("good", "uploaded.yaml", len(GOOD_PACK)))
    assert tg.last_text().startswith("Pack uploaded loaded: 1 questions")
    assert tg.core.packs.get("uploaded") is not None

    tg.api.add_file("broken", BROKEN_PACK)
    doc_msg = message_update(GROUP, ADMIN, None, caption="here it is",
                             document=document_json("broken", "broken.yaml", len(BROKEN_PACK)))
    await tg.say(GROUP, ADMIN, "/pack load", reply_to=doc_msg["message"])
    report = tg.last_text()
    assert "broken.yaml was not loaded" in report
    assert "broken.yaml:4:" in report  # line-numbered
    assert tg.core.packs.get("broken") is None and tg.core.packs.get("uploaded") is not None


async def test_a_members_upload_is_refused_without_downloading(tg):
    tg.api.add_file("good", GOOD_PACK)
    await tg.say(GROUP, ALICE, None, caption="/pack load",
                 document=document_json("good", "uploaded.yaml", len(GOOD_PACK)))
    assert tg.last_text() == "/pack is for admins only."
    assert tg.api.called("getChatMember")  # the role was asked of Telegram
    assert not tg.api.called("getFile") and tg.core.packs.get("uploaded") is None


async def test_anonymous_admin_and_bot_owner_may_load(tg):
    tg.api.add_file("good", GOOD_PACK)
    anonymous = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
    await tg.say(GROUP, anonymous, None, caption="/pack load", sender_chat=chat_json(GROUP),
                 document=document_json("good", "uploaded.yaml", len(GOOD_PACK)))
    assert tg.last_text().startswith("Pack uploaded loaded")
    assert not tg.api.called("getChatMember")


async def test_an_oversized_upload_is_refused_before_download(tg):
    await tg.say(GROUP, ADMIN, None, caption="/pack load",
                 document=document_json("big", "big.yaml", 50 * 1024 * 1024))
    assert "Nothing was loaded" in tg.last_text()
    assert not tg.api.called("getFile")


async def test_a_429_is_waited_out_and_the_message_delivered_once(tg):
    tg.api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    await tg.say(GROUP, ALICE, "/packs")
    attempts = [c for c in tg.api.calls if c.method == "sendMessage"]
    assert [c.ok for c in attempts] == [False, True]
    assert len(tg.api.sent_texts()) == 1


async def test_forum_topic_round_stays_in_its_topic(tg):
    await tg.say(GROUP, ALICE, "/quiz typed", thread=77)
    await tg.close_question()
    await until(lambda: any("Round over" in t for t in tg.api.sent_texts()))
    sent = tg.api.called("sendMessage")
    assert len(sent) >= 3 and all(p.get("message_thread_id") == 77 for p in sent)


async def test_user_names_with_html_are_escaped(tg):
    await tg.say(GROUP, BOB, "/me")
    await tg.say(GROUP, BOB, "/quiz typed")
    text = tg.api.called("sendMessage")[-1]["text"]
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; co started a round" in text
    assert "<b>Bob</b>" not in text


async def test_removed_from_the_chat_stops_the_round_and_logs_once(tg, caplog):
    tg.api.fail_next("sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat")
    tg.api.fail_next("sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat")
    tg.api.push(message_update(GROUP, ALICE, "/quiz typed"))
    await until(lambda: ("telegram", str(GROUP)) in tg.core.delivery.unavailable)
    await until(lambda: tg.core.quiz.current(ChatRef("telegram", str(GROUP))) is None)
    lines = [r for r in caplog.records if "cannot post to" in r.getMessage()]
    assert len(lines) == 1
    # Once back, the chat works again.
    await tg.say(GROUP, ALICE, "/packs")
    assert ("telegram", str(GROUP)) not in tg.core.delivery.unavailable


async def test_forged_and_stale_buttons_are_refused(tg):
    message = {"message_id": 1, "date": 0, "chat": chat_json(GROUP),
               "from": {"id": BOT_ID, "is_bot": True, "first_name": "History Quiz"}}
    for data in ("a:999:0:1", "garbage", "a:-1:0:0", "a:1:x:0"):
        tg.api.push(callback_update(GROUP, ALICE, message, data))
    acks = await tg.wait_calls("answerCallbackQuery", 4)
    assert sorted(a.get("text") for a in acks) == sorted(
        ["This question is closed."] + ["This button is not valid any more."] * 3)


async def test_the_token_never_reaches_the_logs(tg, caplog):
    caplog.set_level(logging.DEBUG)
    await tg.say(GROUP, ALICE, "/packs")
    tg.api.fail_next("sendMessage", 400, "Bad Request: message text is empty")
    tg.api.push(message_update(GROUP, ALICE, "/help"))
    await until(lambda: any(c.method == "sendMessage" and not c.ok for c in tg.api.calls))
    await until(lambda: any("handling an update failed" in r.getMessage() for r in caplog.records))
    assert any("[token hidden]" in r.getMessage() for r in caplog.records if r.name == "httpx")
    assert tg.api.token not in caplog.text
    assert all(tg.api.token not in (r.exc_text or "") for r in caplog.records)


async def test_polling_survives_server_errors(tg):
    tg.api.fail_next("getUpdates", 502, "Bad Gateway")
    tg.api.fail_next("getUpdates", 500, "Internal Server Error")
    await tg.say(GROUP, ALICE, "/packs")
    assert "Telegram test pack" in tg.last_text()


async def test_webhook_mode_receives_updates(make_tg):
    port = free_port()
    tg = await make_tg(webhook_url="https://bot.example/telegram", webhook_port=port,
                       webhook_secret="s3cret-value")
    assert tg.api.called("setWebhook")[0]["url"] == "https://bot.example/telegram"
    update = {"update_id": 1, **message_update(GROUP, ALICE, "/packs")}
    async with aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{port}/telegram"
        forged = await http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "no"})
        assert forged.status == 403
        ok = await http.post(url, json=update,
                             headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-value"})
        assert ok.status == 200
    await until(lambda: tg.api.sent_texts())
    assert len(tg.api.sent_texts()) == 1 and "Telegram test pack" in tg.last_text()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_discussion_poll_replies_and_summary_in_a_forum_topic(tg):
    await tg.say(GROUP, ADMIN, "/discuss betrayal 1h", thread=55)
    await until(lambda: "Discussion opened." in tg.api.sent_texts())
    intro = next(p for p in tg.api.called("sendMessage") if "Discussion" in p["text"])
    poll_call = tg.api.called("sendPoll")[0]
    assert poll_call["is_anonymous"] is False and poll_call["_poll"]["type"] == "regular"
    assert [o["text"] for o in poll_call["options"]] == ["Yes", "No", "It depends"]
    assert intro["message_thread_id"] == 55 and poll_call["message_thread_id"] == 55
    poll = poll_call["_poll"]
    for user, options in ((ALICE, [0]), (ALICE, [1]), (BOB, [2]), (BOB, []), (BOB, [2])):
        tg.api.push({"poll_answer": {"poll_id": poll["id"], "user": user, "option_ids": options,
                                     "option_persistent_ids": [f"opt{o}" for o in options]}})
    row = None

    async def votes():
        nonlocal row
        row = await tg.core.store.open_discussion(await tg.core.store.chat_id(ChatRef("telegram", str(GROUP))))
        return (await tg.core.store.tally(row.id, 3)).votes
    await until_async(votes, (0, 1, 1))
    sent_before = len(tg.api.sent_texts())
    for user, message_id in ((ALICE, intro["_message_id"]), (BOB, poll_call["_message_id"])):
        replied = {"message_id": message_id, "date": 0, "chat": chat_json(GROUP, forum=True),
                   "from": {"id": BOT_ID, "is_bot": True, "first_name": "History Quiz"}}
        tg.api.push(message_update(GROUP, user, "I think it was not", thread=55, reply_to=replied))
    await until_async(lambda: tg.core.store.tally(row.id, 3), None,
                      check=lambda t: t.participants == 2)
    assert len(tg.api.sent_texts()) == sent_before  # the bot does not answer the talk
    await tg.clock.advance(3600)
    await until(lambda: any("Discussion closed" in t for t in tg.api.sent_texts()))
    assert tg.api.called("stopPoll")[0]["message_id"] == poll_call["_message_id"]
    summary = next(p for p in tg.api.called("sendMessage") if "Discussion closed" in p["text"])
    assert summary["message_thread_id"] == 55
    assert "No: 1 (50%)" in summary["text"] and "2 members took part" in summary["text"]


async def until_async(probe, wanted, check=None, timeout: float = 10) -> None:
    import asyncio
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        value = await probe()
        if (check(value) if check else value == wanted):
            return
        assert loop.time() < end, f"still {value!r}"
        await asyncio.sleep(0.01)


async def test_timeline_picture(tg):
    tg.core.packs.add(load_pack_file(DATA / "dates.yaml"))
    tg.api.push(message_update(GROUP, ALICE, "/timeline dates"))
    await until(lambda: tg.api.called("sendPhoto"))
    photo = tg.api.called("sendPhoto")[0]
    assert photo["photo"].startswith(b"\x89PNG") and photo["photo_name"] == "timeline-dates.png"
    assert photo["caption"] == "Dates pack: 3 events"


async def test_schedules_from_telegram_and_a_lost_chat_pauses_them(tg):
    await tg.say(GROUP, ALICE, "/schedule onthisday 09:00")
    assert tg.last_text() == "/schedule is for moderators only."
    await tg.say(GROUP, ADMIN, "/timezone Europe/Moscow")
    await tg.say(GROUP, ADMIN, "/schedule onthisday 09:00")
    assert tg.last_text().startswith("Schedule #1 added: on this day, daily 09:00")
    tg.core.packs.add(load_pack_file(DATA / "dates.yaml"))
    tg.api.fail_next("sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat")
    with pytest.raises(ChatUnavailable):
        await tg.core.schedules.post_on_this_day(ChatRef("telegram", str(GROUP)), "Europe/Moscow")
    rows = await tg.core.store.schedules()
    assert rows[0].paused and tg.core.schedules.next_run(1) is None


TG_ARGS = {"quiz": "typed", "answer": "1941", "timer": "30", "vote": "1", "perspectives": "x",
           "discuss": "x", "timezone": "UTC", "schedule": "list", "pack": "list", "timeline": "mini"}


async def test_permission_table_on_telegram(tg):
    """Every command as a group member, a group admin, and in a private chat."""
    from bot.core import COMMANDS
    from bot.model import Role
    from bot.ratelimit import RateLimiter
    tg.core.limiter = RateLimiter(tg.clock, burst=1000)  # this test is a flood on purpose
    who = {Role.MEMBER: (GROUP, ALICE), Role.ADMIN: (GROUP, ADMIN),
           Role.MODERATOR: (ALICE_ID, ALICE)}  # one's own private chat
    for role, (chat_id, user) in who.items():
        for spec in COMMANDS:
            args = TG_ARGS.get(spec.name, "")
            await tg.say(chat_id, user, f"/{spec.name} {args}".strip())
            refused = f"/{spec.name} is for {spec.role.name.lower()}s only." in tg.api.sent_texts()[-3:]
            assert refused == (role < spec.role), (role, spec.name)
            await tg.core.quiz.shutdown()  # a round started here must not block the next line
            tg.core.quiz._rounds.clear()


async def test_a_button_from_another_chats_round_is_refused(tg):
    await tg.say(GROUP, ALICE, "/quiz tg 2")
    await until(lambda: tg.api.called("sendPoll") or keyboards(tg))
    rnd = tg.core.quiz.current(ChatRef("telegram", str(GROUP)))
    other = -1009999
    message = {"message_id": 1, "date": 0, "chat": chat_json(other),
               "from": {"id": BOT_ID, "is_bot": True, "first_name": "History Quiz"}}
    tg.api.push(callback_update(other, BOB, message, f"a:{rnd.id}:0:0"))
    ack = (await tg.wait_calls("answerCallbackQuery", 1))[0]
    assert ack["text"] == "This question is closed."
    assert open_answers(tg) == 0


async def test_a_long_error_report_comes_as_a_file_too(tg):
    broken = b"id: broken\ntitle: Broken\nquestions:\n" + b"".join(
        f"  - {{id: q{i}, kind: choice, prompt: Q?, choices: [A, B], answer: Z, explanation: x, "
        f"source: y}}\n".encode() for i in range(20))
    tg.api.add_file("many", broken)
    await tg.say(GROUP, ADMIN, None, caption="/pack load",
                 document=document_json("many", "many.yaml", len(broken)))
    await until(lambda: tg.api.called("sendDocument"))
    document = tg.api.called("sendDocument")[0]
    assert document["document_name"] == "many.yaml.errors.txt"
    assert document["document"].decode().count("many.yaml:") == 20
    assert "and 5 more in the file" in tg.last_text()
