"""Answer ingest: members answering open questions through the core and the
SQLite store, every answer committed before it is acknowledged."""
from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench.common import ARTICLE, RUNS, header, median, row
from bot.core import Core
from bot.model import ChatRef, ChoiceAnswer, Command, Message, QuestionMsg, Role, Sent, UserRef
from bot.packs import PackLibrary, load_pack_file
from storage.floor import raw_answer_rate
from storage.sqlite import SqliteStore


class QuestionsOnly:
    """An outbox that remembers the open question per chat and prints nothing."""

    def __init__(self):
        self.open: dict[str, QuestionMsg] = {}

    async def send(self, chat, message):
        if isinstance(message, QuestionMsg):
            self.open[chat.chat_id] = message
        return Sent("1")

    async def edit(self, chat, sent, message):
        pass


class Quiz:
    """A core on a fresh database with one open question in each of `chats` chats."""

    async def __aenter__(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.store = await SqliteStore.open(Path(self.tmp.name) / "bench.sqlite3")
        packs = PackLibrary()
        packs.add(load_pack_file(ARTICLE))
        self.core = Core(self.store, packs, question_seconds=3600, pause_seconds=0, seed=1)
        self.outbox = QuestionsOnly()
        self.core.delivery.register("bench", self.outbox)
        return self

    async def open_questions(self, chats: int) -> list[ChatRef]:
        refs = [ChatRef("bench", f"c{i}") for i in range(chats)]
        for i, chat in enumerate(refs):
            admin = UserRef("bench", f"admin{i}", "Admin", Role.ADMIN)  # a moderator per chat
            await self.core.handle(Command(chat, admin, "quiz", "japan-ussr-1945 1"))
        await asyncio.wait_for(self._all_open(chats), timeout=60)
        return refs

    async def _all_open(self, chats: int) -> None:
        while len(self.outbox.open) < chats:
            await asyncio.sleep(0.001)

    async def members(self, chat: ChatRef, count: int) -> list[UserRef]:
        """Members who have played before: known to the store, as in a living chat."""
        users = [UserRef("bench", f"{chat.chat_id}-u{j}", f"User {j}") for j in range(count)]
        for user in users:
            await self.store.user_id(user.platform, user.user_id, user.name)
        return users

    async def answer(self, chat: ChatRef, user: UserRef) -> float:
        """Seconds from the answer's arrival to its acknowledgement."""
        q = self.outbox.open[chat.chat_id]
        started = time.perf_counter()
        if q.kind == "typed":  # right or wrong, a typed answer is recorded the same way
            reply = await self.core.handle(Message(chat, user, "1941", addressed=True))
        else:
            reply = await self.core.handle(ChoiceAnswer(chat, user, q.round_id, q.index, 0))
        assert reply[0].body == "Answer recorded.", reply
        return time.perf_counter() - started

    async def __aexit__(self, *exc):
        await self.core.stop()
        await self.store.close()
        self.tmp.cleanup()


async def burst(chats: int, users_per_chat: int) -> tuple[float, float]:
    """Everyone answers at once: answers/s and the p99 acknowledgement (ms)."""
    async with Quiz() as quiz:
        refs = await quiz.open_questions(chats)
        pairs = [(c, u) for c in refs for u in await quiz.members(c, users_per_chat)]
        started = time.perf_counter()
        latencies = await asyncio.gather(*(quiz.answer(c, u) for c, u in pairs))
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, _p99(latencies) * 1000


async def paced(rate: float, seconds: float, chats: int = 100) -> tuple[float, float]:
    """Answers arriving evenly at `rate` per second: p50 and p99 acknowledgement (ms)."""
    async with Quiz() as quiz:
        refs = await quiz.open_questions(chats)
        total = int(rate * seconds)
        members = {c.chat_id: await quiz.members(c, total // chats) for c in refs}
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.05
        tasks = []
        for i in range(total):
            chat = refs[i % chats]
            user = members[chat.chat_id][i // chats]
            await asyncio.sleep(max(0.0, start + i / rate - loop.time()))
            tasks.append(asyncio.ensure_future(quiz.answer(chat, user)))
        latencies = sorted(await asyncio.gather(*tasks))
    return latencies[len(latencies) // 2] * 1000, _p99(latencies) * 1000


def _p99(latencies) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def floor(chats: int, users_per_chat: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        return raw_answer_rate(Path(tmp) / "floor.sqlite3", chats, users_per_chat)


def main() -> None:
    header("1. Answer ingest (through the core and the store; each answer committed before its ack)")
    results = [asyncio.run(burst(100, 50)) for _ in range(RUNS)]
    floors = [floor(100, 50) for _ in range(RUNS)]
    rate, p99 = median(r[0] for r in results), median(r[1] for r in results)
    raw = median(floors)
    row("burst, 100 chats x 50 members (answers/s)", f"{rate:,.0f}", ">= 10,000", rate >= 10_000)
    row("  p99 ack in that burst of 5,000 (ms)", f"{p99:,.1f}")
    row("  raw sqlite3, same rows, batched (answers/s)", f"{raw:,.0f}")
    row("  bot / raw sqlite3", f"{rate / raw:.2f}")
    lat = [asyncio.run(paced(2000, 3)) for _ in range(RUNS)]
    p50, p99 = median(x[0] for x in lat), median(x[1] for x in lat)
    row("steady 2,000 answers/s for 3 s: p50 ack (ms)", f"{p50:.2f}")
    row("steady 2,000 answers/s for 3 s: p99 ack (ms)", f"{p99:.2f}", "< 20", p99 < 20)
    for chats in (1, 10, 100, 1000):
        rates = [asyncio.run(burst(chats, 5000 // chats))[0] for _ in range(RUNS)]
        row(f"  5,000 answers over {chats:,} chat(s) (answers/s)", f"{median(rates):,.0f}")
