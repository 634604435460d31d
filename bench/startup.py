"""Start-up time and memory, with 10,000 chats configured, each with a
schedule, and the article pack loaded; then 1,000 rounds open at once."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, RUNS, header, median, row
from bot.model import ChatRef
from storage.sqlite import SqliteStore

CHATS, ROUNDS = 10_000, 1_000


async def configure(db: Path) -> None:
    store = await SqliteStore.open(db)
    for i in range(CHATS):
        chat = await store.chat_id(ChatRef("bench", f"chat-{i}"))
        await store.set_timezone(chat, ("Europe/Moscow", "Asia/Tokyo", "UTC")[i % 3])
        await store.add_schedule(chat, None, "onthisday", "daily 09:00", "quiet", time.time())
    await store.close()


def start_once(db: Path, rounds: int) -> dict[str, float]:
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "bench.child", str(db), str(rounds)],
                             cwd=ROOT, stdout=subprocess.PIPE, text=True)
    ready = child.stdout.readline().split()
    ready_at = time.perf_counter() - started
    after = child.stdout.readline().split()
    child.wait(timeout=120)
    assert ready[0] == "ready" and int(ready[2]) == CHATS, ready
    assert after[0] == "rounds" and int(after[2]) == rounds, after
    return {"start": ready_at, "idle_mb": int(ready[1]) / 1024,
            "per_round_kb": (int(after[1]) - int(ready[1])) / max(1, rounds)}


def main() -> None:
    header(f"5-6. Start-up and memory ({CHATS:,} chats with schedules, article pack loaded)")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "startup.sqlite3"
        asyncio.run(configure(db))
        runs = [start_once(db, ROUNDS) for _ in range(RUNS)]
    start = median(r["start"] for r in runs)
    idle = median(r["idle_mb"] for r in runs)
    per_round = median(r["per_round_kb"] for r in runs)
    row("process start to ready (s)", f"{start:.2f}", "< 2", start < 2)
    row("resident memory when ready (MB)", f"{idle:.1f}", "< 100", idle < 100)
    row(f"  growth per open round, {ROUNDS:,} open at once (KB)", f"{per_round:.1f}")
