"""The floor for the ingest benchmark: the same answer rows written with plain
sqlite3 on the same kind of database, batched, with no asyncio, no core and no
aiosqlite thread in between. The bot can only be slower than this."""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from bot.ports import AnswerRecord

from .migrations import MIGRATIONS
from .sqlite import MAX_BATCH, answer_statements


def raw_answer_rate(path: Path, chats: int, users_per_chat: int) -> float:
    """Answers/s for the rows a burst of chats x users would write."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        for _, sql in MIGRATIONS:
            conn.executescript(sql)
        records = _seed(conn, chats, users_per_chat)
        started = time.perf_counter()
        for i in range(0, len(records), MAX_BATCH):
            conn.execute("BEGIN IMMEDIATE")
            for sql, rows in answer_statements(records[i:i + MAX_BATCH]):
                conn.executemany(sql, rows)
            conn.execute("COMMIT")
        return len(records) / (time.perf_counter() - started)
    finally:
        conn.close()


def _seed(conn: sqlite3.Connection, chats: int, users: int) -> list[AnswerRecord]:
    conn.executemany("INSERT INTO users (id, platform, platform_user_id, display_name) "
                     "VALUES (?, 'bench', ?, ?)", [(u + 1, f"u{u}", f"User {u}") for u in range(users)])
    records = []
    for c in range(chats):
        conn.execute("INSERT INTO chats (id, platform, platform_chat_id) VALUES (?, 'bench', ?)",
                     (c + 1, f"c{c}"))
        conn.execute("INSERT INTO rounds (id, chat_id, pack_id, started_by, question_ids, seed) "
                     "VALUES (?, ?, 'p', 1, '[]', 0)", (c + 1, c + 1))
        records += [AnswerRecord(c + 1, 0, c + 1, u + 1, "A", True, 15, "2026-W48")
                    for u in range(users)]
    return records
