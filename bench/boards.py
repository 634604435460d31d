"""Leaderboards and /me with 1,000,000 answers from 100,000 members stored."""
from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench.common import header, median, row
from bot.model import ChatRef
from bot.ports import AnswerRecord
from storage.sqlite import SqliteStore

CHATS, MEMBERS_PER_CHAT, QUESTIONS = 100, 1_000, 10  # 100,000 members, 1,000,000 answers
CALLS = 200


async def fill(store: SqliteStore) -> tuple[list[int], list[int]]:
    """Answers written through the store's own path, a chat at a time."""
    chats, users = [], []
    for c in range(CHATS):
        chat = await store.chat_id(ChatRef("bench", f"c{c}"))
        members = await asyncio.gather(*(store.user_id("bench", f"u{c}-{m}", f"Member {c}-{m}")
                                         for m in range(MEMBERS_PER_CHAT)))
        round_id = await store.create_round(chat, None, "bench", members[0], ["q"] * QUESTIONS, 0)
        await asyncio.gather(*(store.record_answer(AnswerRecord(
            round_id, q, chat, u, "A", (u + q) % 3 != 0, (u * 7 + q) % 16, "2026-W48"))
            for u in members for q in range(QUESTIONS)))
        chats.append(chat)
        users += members
    return chats, users


async def measure() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = await SqliteStore.open(Path(tmp) / "boards.sqlite3")
        started = time.perf_counter()
        chats, users = await fill(store)
        filled = time.perf_counter() - started
        answered = await store.answer_count()
        assert answered == CHATS * MEMBERS_PER_CHAT * QUESTIONS, answered
        figures = {"fill": filled}
        for name, call in (("chat", lambda i: store.board(chats[i % CHATS], None, 10)),
                           ("week", lambda i: store.board(chats[i % CHATS], "2026-W48", 10)),
                           ("global", lambda i: store.board(None, None, 10)),
                           ("me", lambda i: store.user_stats(chats[i % CHATS],
                                                             users[(i * 997) % len(users)]))):
            times = []
            for i in range(CALLS):
                t = time.perf_counter()
                await call(i)
                times.append(time.perf_counter() - t)
            figures[name] = median(times) * 1000
        await store.close()
    return figures


def main() -> None:
    header("2. Leaderboards with 1,000,000 answers from 100,000 members")
    f = asyncio.run(measure())
    row("  writing them through the store (s)", f"{f['fill']:.1f}")
    for key, name in (("chat", "top 10 of a chat"), ("week", "top 10 of a chat this week"),
                      ("global", "top 10 of the whole bot"), ("me", "one member's /me")):
        row(f"{name}, median of {CALLS} (ms)", f"{f[key]:.2f}", "< 5", f[key] < 5)
