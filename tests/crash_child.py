"""The bot under a crash test: members answer continuously in five chats and
three chats have an every-minute schedule. It prints what it acknowledged:

    ACK <round> <question> <user>    an answer committed and acknowledged
    CLAIM <schedule> <due>           a schedule's due time claimed (to post once)
    POST <chat> <kind>               a message delivered to a chat

Bot time runs 60 times faster than real time, so schedules come round every
real second. `python -m tests.crash_child DB T0 [check]`; with `check` it only
starts (closing interrupted rounds), prints `OPEN <n>` and stops cleanly."""
from __future__ import annotations

import asyncio
import random
import sys
import time

from tests.conftest import DATA  # noqa: F401  (puts the project on sys.path)
from bot.core import Core
from bot.model import ChatRef, ChoiceAnswer, Command, QuestionMsg, Role, Sent, Text, UserRef
from bot.packs import PackLibrary, load_pack_file
from storage.sqlite import SqliteStore

FAST = 60.0
BASE = 1_900_000_000.0
ADMIN = UserRef("crash", "admin", "Admin", Role.ADMIN)


def say(*words) -> None:
    sys.stdout.write(" ".join(str(w) for w in words) + "\n")
    sys.stdout.flush()


class FastClock:
    def __init__(self, t0: float):
        self.t0 = t0

    def now(self) -> float:
        return BASE + (time.time() - self.t0) * FAST

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / FAST)


class LoggingStore(SqliteStore):
    async def claim_due(self, schedule_id: int, due: float) -> bool:
        claimed = await super().claim_due(schedule_id, due)
        if claimed:
            say("CLAIM", schedule_id, due)
        return claimed


class PrintingOutbox:
    def __init__(self):
        self.open: dict[str, QuestionMsg] = {}

    async def send(self, chat, message):
        if isinstance(message, QuestionMsg):
            self.open[chat.chat_id] = message
        kind = type(message).__name__
        if isinstance(message, Text) and "interrupted" in message.body:
            kind = "interrupted"
        say("POST", chat.chat_id, kind)
        return Sent("1")

    async def edit(self, chat, sent, message):
        pass


async def members_answer(core: Core, outbox: PrintingOutbox, chat: ChatRef) -> None:
    members = [UserRef("crash", f"{chat.chat_id}-m{i}", f"Member {i}") for i in range(8)]
    while True:
        if core.quiz.current(chat) is None:
            await core.handle(Command(chat, ADMIN, "quiz", "choices 3"))
        q = outbox.open.get(chat.chat_id)
        if q is not None:
            for user in random.sample(members, 3):
                reply = await core.handle(ChoiceAnswer(chat, user, q.round_id, q.index,
                                                       random.randrange(len(q.choices))))
                if reply and reply[0].body == "Answer recorded.":
                    say("ACK", q.round_id, q.index, user.user_id)
        await asyncio.sleep(0.01)


async def main(db: str, t0: float, check: bool) -> None:
    store = await LoggingStore.open(db)
    packs = PackLibrary()
    packs.add(load_pack_file(DATA / "choices.yaml"))
    packs.add(load_pack_file(DATA / "dates.yaml"))
    core = Core(store, packs, clock=FastClock(t0), question_seconds=20, pause_seconds=0)
    outbox = PrintingOutbox()
    core.delivery.register("crash", outbox)
    await core.start()
    core.schedules.scheduler.pause()  # bot time is fast; the loop below fires what is due
    if check:
        say("OPEN", len(await store.open_rounds()))
        await core.stop()
        await store.close()
        return
    if not await store.schedules():
        for i in range(3):
            await core.handle(Command(ChatRef("crash", f"s{i}"), ADMIN, "schedule",
                                      "onthisday * * * * *"))
    say("READY")
    chats = [ChatRef("crash", f"c{i}") for i in range(5)]
    answering = [asyncio.ensure_future(members_answer(core, outbox, c)) for c in chats]
    while True:
        await core.schedules.catch_up()
        await asyncio.sleep(0.1)
        for task in answering:
            if task.done():
                task.result()  # an error here should show in the test


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2]), "check" in sys.argv[3:]))
