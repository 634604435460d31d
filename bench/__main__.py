"""Benchmarks that print figures (run with `make bench`). A first set: answer
ingest through the core and store, and pack loading. Issue 8 lists the rest."""
from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core import Core  # noqa: E402
from bot.model import ChatRef, ChoiceAnswer, Command, QuestionMsg, Role, Sent, UserRef  # noqa: E402
from bot.packs import PackLibrary, load_pack_bytes, load_pack_file  # noqa: E402
from storage.sqlite import SqliteStore  # noqa: E402

RUNS = 3


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


async def ingest_once(chats: int, users_per_chat: int) -> tuple[float, float]:
    """Answers/s and p99 acknowledgement latency (ms), every answer committed first."""
    with tempfile.TemporaryDirectory() as tmp:
        store = await SqliteStore.open(Path(tmp) / "bench.sqlite3")
        packs = PackLibrary()
        packs.add(load_pack_file(ROOT / "quizzes" / "japan-ussr-1945.yaml"))
        core = Core(store, packs, question_seconds=600, pause_seconds=0, seed=1)
        outbox = QuestionsOnly()
        core.delivery.register("bench", outbox)
        admin = UserRef("bench", "admin", "Admin", Role.ADMIN)
        refs = [ChatRef("bench", f"c{i}") for i in range(chats)]
        for chat in refs:
            await core.handle(Command(chat, admin, "quiz", "japan-ussr-1945 1"))
        while len(outbox.open) < chats:
            await asyncio.sleep(0.001)
        latencies: list[float] = []

        async def answer(chat, user):
            q = outbox.open[chat.chat_id]
            started = time.perf_counter()
            await core.handle(ChoiceAnswer(chat, user, q.round_id, q.index, 0))
            latencies.append(time.perf_counter() - started)

        users = [UserRef("bench", f"u{j}", f"User {j}") for j in range(users_per_chat)]
        started = time.perf_counter()
        await asyncio.gather(*(answer(c, u) for c in refs for u in users))
        elapsed = time.perf_counter() - started
        await core.stop()
        await store.close()
    latencies.sort()
    return len(latencies) / elapsed, latencies[int(len(latencies) * 0.99)] * 1000


def generated_pack(questions: int, broken: bool) -> bytes:
    lines = ["id: gen", "title: Generated", "questions:"]
    for i in range(questions):
        answer = "Z" if broken else "A"
        lines += [f"  - id: q{i}", "    kind: choice", f"    prompt: Question {i}?",
                  "    choices: [A, B, C]", f"    answer: {answer}", "    explanation: x",
                  "    source: y"]
    return ("\n".join(lines) + "\n").encode()


def time_load(data: bytes) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        load_pack_bytes(data, "gen.yaml")
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def row(name: str, value: str, goal: str, ok: bool | None) -> None:
    verdict = "" if ok is None else "ok" if ok else "MISS"
    print(f"{name:<48} {value:>14} {goal:>14}  {verdict}")


def main() -> None:
    print(f"{'figure':<48} {'value':>14} {'goal':>14}")
    rates, p99s = zip(*(asyncio.run(ingest_once(100, 50)) for _ in range(RUNS)))
    rate, p99 = statistics.median(rates), statistics.median(p99s)
    row("answer ingest, 100 chats x 50 users (answers/s)", f"{rate:,.0f}", ">= 10,000", rate >= 10_000)
    row("  p99 acknowledgement under that burst (ms)", f"{p99:,.1f}", "-", None)
    good = time_load(generated_pack(10_000, broken=False))
    row("load + validate 10,000-question pack (s)", f"{good:.2f}", "< 1", good < 1)
    bad = time_load(generated_pack(1_000, broken=True))
    row("error report, pack with 1,000 errors (s)", f"{bad:.2f}", "< 2", bad < 2)


if __name__ == "__main__":
    main()
