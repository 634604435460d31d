"""The Discord adapter through the real discord.py, against a fake gateway
and REST API on 127.0.0.1. Question timers run on the test's clock."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from adapters.discord import DiscordAdapter, DiscordConfig
from bot.core import Core
from bot.model import ChatRef
from bot.packs import PackLibrary, load_pack_file
from storage.sqlite import SqliteStore
from tests.conftest import DATA
from tests.fake_discord import (ADMIN_PERMS, BOT_USER, member_json, message_json, poll_vote, CHANNEL_ID, FakeDiscord, attachment_json, click,
                                slash, subcommand, user_json)
from tests.helpers import FakeClock, until

ALICE = user_json(11, "Alice")
BOB = user_json(12, "**bold** @everyone")
ADA = user_json(10, "Ada")
CHAT = ChatRef("discord", str(CHANNEL_ID))


@dataclass
class Harness:
    fake: FakeDiscord
    core: Core
    adapter: DiscordAdapter
    clock: FakeClock

    async def interact(self, payload: dict) -> dict:
        """Send an interaction and return the bot's response to it."""
        await self.fake.dispatch("INTERACTION_CREATE", payload)
        path = f"/interactions/{payload['id']}/{payload['token']}/callback"
        await until(lambda: any(c.path == path for c in self.fake.calls), timeout=10)
        return next(c.body for c in self.fake.calls if c.path == path)

    async def close_question(self, seconds: float = 20) -> None:
        await self.clock.run_out(seconds)

    def channel_posts(self) -> list[dict]:
        return [c.body for c in self.fake.called("POST", f"/channels/{CHANNEL_ID}/messages")]


@pytest.fixture
async def make_dc(tmp_path, clock):
    running = []

    async def make(db_name: str = "bot.sqlite3", fake: FakeDiscord | None = None,
                   **config) -> Harness:
        if fake is None:
            fake = FakeDiscord()
            await fake.start()
        store = await SqliteStore.open(tmp_path / db_name)
        packs = PackLibrary()
        for name in ("mini", "telegram", "typed", "choices", "talk"):
            packs.add(load_pack_file(DATA / f"{name}.yaml"))
        core = Core(store, packs, clock=clock, question_seconds=20, pause_seconds=0, seed=3,
                    default_pack="mini")
        adapter = DiscordAdapter(core, DiscordConfig(
            fake.token, api_base_url=fake.base_url, gateway_url=fake.gateway_url,
            guild_ready_timeout=0.05, **config))
        running.append((fake, store, core, adapter))
        await adapter.start()
        await core.start()  # after the adapter, so interrupted rounds can be announced
        return Harness(fake, core, adapter, clock)

    yield make
    for fake, store, core, adapter in reversed(running):
        await adapter.stop()
        await core.stop()
        await store.close()
        await fake.stop()


@pytest.fixture
async def dc(make_dc):
    return await make_dc()


async def test_start_syncs_slash_commands(dc):
    synced = dc.fake.called("PUT", "/applications/")[0].body
    names = {c["name"] for c in synced}
    assert {"quiz", "answer", "leaderboard", "pack", "timer"} <= names
    pack = next(c for c in synced if c["name"] == "pack")
    assert {o["name"] for o in pack["options"]} == {"load", "list"}
    assert int(pack["default_member_permissions"]) == 1 << 5  # Manage Server


async def test_packs_command_answers(dc):
    reply = await dc.interact(slash("packs", ALICE))
    assert reply["type"] == 4
    assert "Telegram test pack" in reply["data"]["embeds"][0]["description"]


def sent_message(fake: FakeDiscord, body: dict) -> dict:
    """The message the fake made of a body the bot posted."""
    return next(m for m in fake.messages.values() if m.get("embeds") == body.get("embeds"))


def buttons(message: dict) -> list[dict]:
    return [b for row in message["components"] for b in row["components"]]


async def test_round_with_buttons_then_leaderboard(dc):
    started = await dc.interact(slash("quiz", ALICE, [{"name": "pack", "type": 3, "value": "choices"},
                                                      {"name": "count", "type": 4, "value": 1}]))
    assert "started a round of 1 question" in started["data"]["content"]
    await until(lambda: dc.channel_posts())
    question = dc.channel_posts()[0]
    message = sent_message(dc.fake, question)
    choices = buttons(question)
    correct_label = {"Moscow", "Yosuke Matsuoka", "True"}  # the pack's answers
    right = next(b for b in choices if b["label"].split(": ", 1)[1] in correct_label)
    wrong = next(b for b in choices if b is not right)
    first = await dc.interact(click(message, right["custom_id"], ALICE))
    again = await dc.interact(click(message, wrong["custom_id"], ALICE))
    await dc.clock.advance(10)
    bob = await dc.interact(click(message, right["custom_id"], BOB))
    for reply, text in ((first, "Answer recorded."), (again, "You already answered this question."),
                        (bob, "Answer recorded.")):
        assert reply["type"] == 4 and reply["data"]["content"] == text
        assert reply["data"]["flags"] & 64  # ephemeral
    await dc.close_question(10)
    await until(lambda: dc.fake.called("PATCH", f"/channels/{CHANNEL_ID}/messages/"))
    edit = dc.fake.called("PATCH", f"/channels/{CHANNEL_ID}/messages/")[0].body
    assert edit["embeds"][0]["fields"][0]["value"] in correct_label
    assert all(b["disabled"] for b in buttons(edit))
    await until(lambda: any("Round over" in (p.get("embeds") or [{}])[0].get("title", "")
                            for p in dc.channel_posts()))
    board = await dc.interact(slash("leaderboard", ALICE))
    text = board["data"]["embeds"][0]["description"]
    assert "**1.** Alice: **15** pts" in text
    assert "**2.** \\*\\*bold\\*\\* @everyone: **12** pts" in text
    # Nothing the bot sends may ping anyone.
    for call in dc.fake.calls:
        if call.method == "POST" and isinstance(call.body, dict) and "allowed_mentions" in call.body:
            assert call.body["allowed_mentions"]["parse"] == []


async def test_a_click_after_a_restart_is_handled(make_dc, tmp_path):
    first = await make_dc("restart.sqlite3")
    await first.interact(slash("quiz", ALICE, [{"name": "pack", "type": 3, "value": "tg"}]))
    await until(lambda: any(p.get("components") for p in first.channel_posts()))
    question = next(p for p in first.channel_posts() if p.get("components"))
    message_id = sent_message(first.fake, question)["id"]
    fake = first.fake
    await first.adapter.stop()
    await first.core.stop()
    await first.core.store.close()

    fake.identified.clear()
    second = await make_dc("restart.sqlite3", fake=fake)
    # The new run closed the interrupted round and said so in the channel.
    assert any("interrupted" in (p.get("content") or "") for p in second.channel_posts())
    reply = await second.interact(click(fake.messages[message_id], buttons(question)[0]["custom_id"], BOB))
    assert reply["data"]["content"] == "This question is closed."
    assert reply["data"]["flags"] & 64


GOOD_PACK = (DATA / "typed.yaml").read_bytes().replace(b"id: typed", b"id: uploaded")
BROKEN_PACK = b"id: broken\ntitle: Broken\nquestions:\n  - id: q1\n    kind: choice\n    prompt: Why?\n"


def pack_load(fake: FakeDiscord, user: dict, name: str, data: bytes, permissions: str) -> dict:
    fake.files[name] = data
    attachment = attachment_json(fake.base_url, name, len(data))
    return subcommand("pack", "load", user,
                      [{"name": "file", "type": 11, "value": attachment["id"]}],
                      permissions=permissions,
                      resolved={"attachments": {attachment["id"]: attachment}})


async def followups(dc: Harness, payload: dict, count: int = 1) -> list[dict]:
    path = f"/webhooks/700/{payload['token']}"
    await until(lambda: len(dc.fake.called("POST", path)) >= count, timeout=10)
    return [c for c in dc.fake.called("POST", path)]


async def test_pack_load_by_an_admin_good_and_broken(dc):
    payload = pack_load(dc.fake, ADA, "uploaded.yaml", GOOD_PACK, ADMIN_PERMS)
    deferred = await dc.interact(payload)
    assert deferred["type"] == 5 and deferred["data"]["flags"] & 64
    reply = (await followups(dc, payload))[0].body
    assert reply["content"].startswith("Pack uploaded loaded: 1 questions")
    assert dc.core.packs.get("uploaded") is not None

    payload = pack_load(dc.fake, ADA, "broken.yaml", BROKEN_PACK, ADMIN_PERMS)
    await dc.interact(payload)
    reply = (await followups(dc, payload))[0].body
    assert "broken.yaml was not loaded" in reply["content"] and "broken.yaml:4:" in reply["content"]
    assert reply["flags"] & 64
    assert dc.core.packs.get("broken") is None


async def test_pack_load_by_a_member_is_refused(dc):
    payload = pack_load(dc.fake, ALICE, "uploaded.yaml", GOOD_PACK, "68608")
    await dc.interact(payload)
    reply = (await followups(dc, payload))[0].body
    assert reply["content"] == "/pack is for admins only." and reply["flags"] & 64
    assert dc.core.packs.get("uploaded") is None
    assert not any(c.path.startswith("/attachments") for c in dc.fake.calls)


async def test_typed_answer_with_the_answer_command(dc):
    await dc.interact(slash("quiz", ALICE, [{"name": "pack", "type": 3, "value": "typed"}]))
    await until(lambda: dc.channel_posts())
    assert "components" not in dc.channel_posts()[0] or not dc.channel_posts()[0]["components"]
    reply = await dc.interact(slash("answer", ALICE, [{"name": "text", "type": 3, "value": "1941"}]))
    assert reply["data"]["content"] == "Answer recorded." and reply["data"]["flags"] & 64
    await dc.close_question()
    await until(lambda: dc.fake.called("PATCH", f"/channels/{CHANNEL_ID}/messages/"))
    edit = dc.fake.called("PATCH", f"/channels/{CHANNEL_ID}/messages/")[0].body
    assert edit["embeds"][0]["fields"][1]["value"] == "Alice"


async def test_quiz_where_the_bot_cannot_post_gives_a_hint(dc, caplog):
    reply = await dc.interact(slash("quiz", ADA, app_permissions="1024"))  # view channel only
    assert "Send Messages" in reply["data"]["content"] and reply["data"]["flags"] & 64
    assert dc.core.quiz.current(CHAT) is None
    assert len([r for r in caplog.records if "missing permissions" in r.getMessage()]) == 1


async def test_channel_that_refuses_messages_ends_the_round_and_logs_once(dc, caplog):
    path = f"/channels/{CHANNEL_ID}/messages"
    for _ in range(3):
        dc.fake.fail_next("POST", path, 403, 50013, "Missing Permissions")
    await dc.interact(slash("quiz", ALICE, [{"name": "pack", "type": 3, "value": "typed"}]))
    await until(lambda: ("discord", str(CHANNEL_ID)) in dc.core.delivery.unavailable)
    await until(lambda: dc.core.quiz.current(CHAT) is None)
    assert len([r for r in caplog.records if "cannot post to" in r.getMessage()]) == 1


async def test_forged_buttons_are_refused(dc):
    ids = ("quiz:999:0:1", "quiz:abc", "something-else")
    message = message_json(str(CHANNEL_ID), BOT_USER, "")
    message["components"] = [{"type": 1, "components": [
        {"type": 2, "style": 1, "label": "A", "custom_id": i} for i in ids]}]
    for custom_id, text in ((ids[0], "This question is closed."),
                            (ids[1], "This button is not valid any more."),
                            (ids[2], "This button is not valid any more."),
                            ("quiz:1:0:0", "This button is not valid any more.")):  # not on it
        reply = await dc.interact(click(message, custom_id, ALICE))
        assert reply["data"]["content"] == text and reply["data"]["flags"] & 64


async def test_the_token_never_reaches_the_logs(dc, caplog):
    caplog.set_level("DEBUG")
    await dc.interact(slash("packs", ALICE))
    await dc.fake.drop_connections()  # a reconnect logs a lot
    await until(lambda: len(dc.fake._sockets) == 1, timeout=15)
    assert caplog.records
    assert dc.fake.token not in caplog.text


MOD_PERMS = str(1 << 13 | 68608)  # + manage messages


async def open_discussion(dc: Harness, hours: float = 2) -> dict:
    reply = await dc.interact(slash("discuss", ADA, [{"name": "prompt", "type": 3, "value": "betrayal"},
                                                     {"name": "hours", "type": 10, "value": hours}],
                                    permissions=MOD_PERMS))
    assert reply["data"]["content"] == "Discussion opened."
    post = next(p for p in dc.channel_posts() if p.get("poll"))
    return sent_message(dc.fake, post) | {"sent": post}


async def stored_tally(dc: Harness):
    row = await dc.core.store.open_discussion(await dc.core.store.chat_id(CHAT))
    return await dc.core.store.tally(row.id, 3)


async def test_discussion_poll_thread_votes_and_summary(dc):
    message = await open_discussion(dc)
    poll = message["sent"]["poll"]
    assert [a["poll_media"]["text"] for a in poll["answers"]] == ["Yes", "No", "It depends"]
    assert poll["duration"] == 2
    assert dc.fake.threads and dc.fake.threads[0]["name"].startswith("Was the Soviet entry")
    for event, user_id, answer in (("ADD", 11, 1), ("REMOVE", 11, 1), ("ADD", 11, 2),
                                   ("ADD", 12, 3), ("ADD", 12, 3)):
        await dc.fake.dispatch(f"MESSAGE_POLL_VOTE_{event}", poll_vote(message, user_id, answer))
    thread_id = dc.fake.threads[0]["id"]
    for user in (ALICE, BOB):
        talk = message_json(thread_id, user, "")  # no Message Content intent: no text
        await dc.fake.dispatch("MESSAGE_CREATE", talk | {"guild_id": "800",
                                                          "member": member_json(user)})
    await until_tally(dc, lambda t: t.votes == (0, 1, 1) and t.participants == 2)
    await dc.clock.advance(2 * 3600)
    await until(lambda: dc.fake.called("POST", f"/channels/{CHANNEL_ID}/polls/"))
    await until(lambda: any(p.get("embeds") and "Discussion closed" in p["embeds"][0]["title"]
                            for p in dc.channel_posts()))
    summary = next(p for p in dc.channel_posts()
                   if p.get("embeds") and "Discussion closed" in p["embeds"][0]["title"])
    text = summary["embeds"][0]["description"]
    assert "No: 1 (50%)" in text and "It depends: 1 (50%)" in text
    assert "2 members took part" in text


async def test_discussion_without_thread_permission_runs_with_the_poll(dc, caplog):
    dc.fake.refuse_threads = True
    message = await open_discussion(dc, hours=1)
    assert not dc.fake.threads
    assert len([r for r in caplog.records if "cannot create threads" in r.getMessage()]) == 1
    await dc.fake.dispatch("MESSAGE_POLL_VOTE_ADD", poll_vote(message, 11, 1))
    await until_tally(dc, lambda t: t.votes == (1, 0, 0))
    await dc.clock.advance(3600)
    await until(lambda: any(p.get("embeds") and "Discussion closed" in p["embeds"][0]["title"]
                            for p in dc.channel_posts()))


async def until_tally(dc: Harness, check, timeout: float = 10) -> None:
    import asyncio
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check(tally := await stored_tally(dc)):
        assert loop.time() < end, f"tally is {tally}"
        await asyncio.sleep(0.01)


async def test_schedule_group_and_timeline_picture(dc):
    refused = await dc.interact(subcommand("schedule", "quiz", ALICE,
                                           [{"name": "when", "type": 3, "value": "fri 19:00"}]))
    assert refused["data"]["content"] == "/schedule is for moderators only."
    added = await dc.interact(subcommand("schedule", "quiz", ADA,
                                         [{"name": "when", "type": 3, "value": "fri 19:00"},
                                          {"name": "pack", "type": 3, "value": "mini"},
                                          {"name": "count", "type": 4, "value": 3}],
                                         permissions=MOD_PERMS))
    assert added["data"]["content"].startswith("Schedule #1 added: quiz round (mini 3), fri 19:00")
    removed = await dc.interact(subcommand("schedule", "remove", ADA,
                                           [{"name": "id", "type": 4, "value": 1}],
                                           permissions=MOD_PERMS))
    assert removed["data"]["content"] == "Schedule #1 removed."
    dc.core.packs.add(load_pack_file(DATA / "dates.yaml"))
    picture = await dc.interact(slash("timeline", ALICE, [{"name": "pack", "type": 3, "value": "dates"}]))
    assert picture["data"]["embeds"][0]["image"]["url"] == "attachment://timeline-dates.png"
    call = next(c for c in dc.fake.calls if c.path.endswith("/callback") and c.files)
    assert call.files["timeline-dates.png"].startswith(b"\x89PNG")


DISCORD_CALLS = {
    "quiz": [{"name": "pack", "type": 3, "value": "typed"}],
    "answer": [{"name": "text", "type": 3, "value": "1941"}],
    "vote": [{"name": "option", "type": 4, "value": 1}],
    "perspectives": [{"name": "prompt", "type": 3, "value": "x"}],
    "discuss": [{"name": "prompt", "type": 3, "value": "x"}],
    "timeline": [{"name": "pack", "type": 3, "value": "mini"}],
    "timezone": [{"name": "name", "type": 3, "value": "UTC"}],
    "timer": [{"name": "seconds", "type": 4, "value": 30}],
}


async def test_permission_table_on_discord(dc):
    """Every command as a member, a moderator (Manage Messages) and an admin (Manage Server)."""
    from bot.core import COMMANDS
    from bot.model import Role
    from bot.ratelimit import RateLimiter
    dc.core.limiter = RateLimiter(dc.clock, burst=1000)  # this test is a flood on purpose
    perms = {Role.MEMBER: "68608", Role.MODERATOR: MOD_PERMS, Role.ADMIN: ADMIN_PERMS}
    for role, permissions in perms.items():
        for spec in COMMANDS:
            if spec.name in ("pack", "schedule"):
                payload = subcommand(spec.name, "list", ADA, permissions=permissions)
            else:
                payload = slash(spec.name, ADA, DISCORD_CALLS.get(spec.name), permissions=permissions)
            reply = await dc.interact(payload)
            content = (reply.get("data") or {}).get("content") or ""
            refused = content == f"/{spec.name} is for {spec.role.name.lower()}s only."
            assert refused == (role < spec.role), (role, spec.name, content)
            await dc.core.quiz.shutdown()
            dc.core.quiz._rounds.clear()


async def test_plain_message_answers_with_the_message_content_intent(make_dc):
    dc = await make_dc(message_content=True)
    await dc.interact(slash("quiz", ALICE, [{"name": "pack", "type": 3, "value": "typed"}]))
    await until(lambda: dc.channel_posts())
    question = sent_message(dc.fake, dc.channel_posts()[0])
    reply_to = {"message_id": question["id"], "channel_id": str(CHANNEL_ID), "guild_id": "800"}
    answer = message_json(str(CHANNEL_ID), BOB, "1941") | {
        "guild_id": "800", "member": member_json(BOB), "message_reference": reply_to,
        "referenced_message": question}
    await dc.fake.dispatch("MESSAGE_CREATE", answer)
    await until(lambda: any(p.get("content") == "Answer recorded." for p in dc.channel_posts()))
    ack = next(p for p in dc.channel_posts() if p.get("content") == "Answer recorded.")
    assert str(ack["message_reference"]["message_id"]) == answer["id"]
    assert ack["allowed_mentions"]["parse"] == [] and ack["allowed_mentions"]["replied_user"] is False


def test_sharding_is_configured_from_the_environment():
    config = DiscordConfig.from_env("t" * 30, {"DISCORD_SHARD_COUNT": "4", "DISCORD_SHARD_IDS": "0,1",
                                               "DISCORD_GUILD_ID": "800"})
    assert (config.shard_count, config.shard_ids, config.guild_id) == (4, [0, 1], 800)
    assert DiscordConfig.from_env("t" * 30, {}).shard_count is None


async def test_a_long_error_report_comes_back_as_a_file(dc):
    broken = b"id: broken\ntitle: Broken\nquestions:\n" + b"".join(
        f"  - {{id: q{i}, kind: choice, prompt: Q?, choices: [A, B], answer: Z, explanation: x, "
        f"source: y}}\n".encode() for i in range(20))
    payload = pack_load(dc.fake, ADA, "many.yaml", broken, ADMIN_PERMS)
    await dc.interact(payload)
    replies = await followups(dc, payload, 2)
    assert "and 5 more in the file" in replies[0].body["content"]
    assert replies[1].files["many.yaml.errors.txt"].decode().count("many.yaml:") == 20
    assert all(r.body["flags"] & 64 for r in replies)  # only the admin sees them
