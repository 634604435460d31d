"""The SQLite store: migrations, one answer per user and question, clear errors."""
import asyncio
import os
import sqlite3

import pytest

from bot.model import ChatRef
from bot.ports import AlreadyAnswered, AnswerRecord, StoreError
from storage.migrations import MIGRATIONS
from storage.sqlite import SqliteStore

CHAT = ChatRef("test", "c1", "Chat")


async def seed_round(store):
    chat = await store.chat_id(CHAT)
    user = await store.user_id("test", "u1", "Alice")
    round_id = await store.create_round(chat, None, "p", user, ["q1", "q2"], 1)
    return chat, user, round_id


def record(round_id, chat, user, index=0, correct=True, points=10):
    return AnswerRecord(round_id, index, chat, user, "x", correct, points, "2026-W48")


async def test_migrations_reach_latest_and_wal_is_on(store):
    assert await store.schema_version() == MIGRATIONS[-1][0]
    row = await store._fetch_one("PRAGMA journal_mode")
    assert row[0] == "wal"
    assert (await store._fetch_one("PRAGMA foreign_keys"))[0] == 1


async def test_reopen_does_not_migrate_again(tmp_path):
    path = tmp_path / "db.sqlite3"
    first = await SqliteStore.open(path)
    chat, user, round_id = await seed_round(first)
    await first.record_answer(record(round_id, chat, user))
    await first.close()
    again = await SqliteStore.open(path)
    assert (await again.board(chat, None, 10))[0].points == 10
    await again.close()


async def test_second_answer_is_refused_by_the_database(store):
    chat, user, round_id = await seed_round(store)
    await store.record_answer(record(round_id, chat, user))
    with pytest.raises(AlreadyAnswered):
        await store.record_answer(record(round_id, chat, user, points=15))
    stats = await store.user_stats(chat, user)
    assert (stats.answered, stats.points) == (1, 10)  # the refused answer left no trace


async def test_streaks_and_totals(store):
    chat, user, round_id = await seed_round(store)
    await store.record_answer(record(round_id, chat, user, 0, True, 12))
    await store.record_answer(record(round_id, chat, user, 1, False, 0))
    s = await store.user_stats(chat, user)
    assert (s.answered, s.correct, s.points, s.streak, s.best_streak, s.rank) == (2, 1, 12, 0, 1, 1)
    assert [r.points for r in await store.board(None, None, 10)] == [12]
    assert [r.points for r in await store.board(chat, "2026-W48", 10)] == [12]
    assert await store.board(chat, "2026-W01", 10) == []


async def test_open_rounds_and_close(store):
    chat, user, round_id = await seed_round(store)
    assert [r.round_id for r in await store.open_rounds()] == [round_id]
    await store.close_round(round_id, "finished")
    assert await store.open_rounds() == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
async def test_read_only_database_file_gives_clear_error(tmp_path):
    path = tmp_path / "ro.sqlite3"
    await (await SqliteStore.open(path)).close()
    os.chmod(path, 0o444)
    with pytest.raises(StoreError, match="readonly|read-only|cannot"):
        await SqliteStore.open(path)


async def test_read_only_connection_refuses_writes_clearly(tmp_path):
    path = tmp_path / "ro.sqlite3"
    s = await SqliteStore.open(path)
    chat, user, round_id = await seed_round(s)
    await s.close()
    ro = await SqliteStore.open(f"file:{path}?mode=ro")
    with pytest.raises(StoreError, match="readonly"):
        await ro.record_answer(record(round_id, chat, user))
    assert (await ro.user_stats(chat, user)).answered == 0
    await ro.close()


async def test_locked_database_gives_store_error(tmp_path, monkeypatch):
    monkeypatch.setattr("storage.sqlite.BUSY_TIMEOUT_MS", 100)
    path = tmp_path / "locked.sqlite3"
    s = await SqliteStore.open(path)
    chat, user, round_id = await seed_round(s)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="locked"):
            await s.record_answer(record(round_id, chat, user))
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    await s.record_answer(record(round_id, chat, user))
    assert (await s.user_stats(chat, user)).answered == 1
    await s.close()


async def test_user_id_is_cached_but_a_new_display_name_is_stored(store):
    first = await store.user_id("test", "u1", "Alice")
    assert await store.user_id("test", "u1", "Alice") == first
    assert await store.user_id("test", "u1", "Alice B.") == first
    row = await store._fetch_one("SELECT display_name FROM users WHERE id = ?", (first,))
    assert row[0] == "Alice B."


async def test_answers_arriving_together_commit_together_and_a_duplicate_is_singled_out(store):
    chat, user, round_id = await seed_round(store)
    others = [await store.user_id("test", f"other-{i}", f"Other {i}") for i in range(50)]
    burst = [store.record_answer(record(round_id, chat, u)) for u in others]
    burst.append(store.record_answer(record(round_id, chat, others[7], points=15)))  # twice
    # The same user answering two questions in one batch: the streak counts in order.
    burst += [store.record_answer(record(round_id, chat, user, 0, True, 12)),
              store.record_answer(record(round_id, chat, user, 1, True, 11)),
              store.record_answer(record(round_id, chat, user, 2, False, 0))]
    results = await asyncio.gather(*burst, return_exceptions=True)
    assert [type(r).__name__ for r in results].count("AlreadyAnswered") == 1
    assert isinstance(results[50], AlreadyAnswered)
    board = await store.board(chat, None, 100)
    assert sorted(r.points for r in board if r.user_db_id != user) == [10] * 50
    s = await store.user_stats(chat, user)
    assert (s.answered, s.points, s.streak, s.best_streak) == (3, 23, 0, 2)
