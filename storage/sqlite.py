"""The SQLite store behind the core's Store port (aiosqlite, WAL, migrations)."""
from __future__ import annotations

import asyncio
import json
import sqlite3
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Sequence

import aiosqlite

from bot.model import ChatRef
from bot.ports import (AlreadyAnswered, AlreadyOpen, AnswerRecord, BoardRow, ChatSettings,
                       DiscussionRow, OpenRound, ScheduleRow, StoreError, Tally, UserStats)

from .migrations import MIGRATIONS

BUSY_TIMEOUT_MS = 5000
MAX_BATCH = 500  # answers per group commit


INSERT_ANSWER = ("INSERT INTO answers (round_id, question_index, user_id, answer, correct, points) "
                 "VALUES (?, ?, ?, ?, ?, ?)")
# Run in order, so a user's two answers in one batch update the streak in turn.
UPSERT_CHAT_TOTAL = (
    "INSERT INTO chat_totals (chat_id, user_id, answered, correct, points, streak, best_streak) "
    "VALUES (?1, ?2, 1, ?3, ?4, ?3, ?3) ON CONFLICT (chat_id, user_id) DO UPDATE SET "
    "answered = answered + 1, correct = correct + ?3, points = points + ?4, "
    "streak = CASE WHEN ?3 THEN streak + 1 ELSE 0 END, "
    "best_streak = MAX(best_streak, CASE WHEN ?3 THEN streak + 1 ELSE 0 END)")
UPSERT_WEEK_TOTAL = (
    "INSERT INTO week_totals (chat_id, week, user_id, answered, correct, points) "
    "VALUES (?1, ?2, ?3, 1, ?4, ?5) ON CONFLICT (chat_id, week, user_id) DO UPDATE SET "
    "answered = answered + 1, correct = correct + ?4, points = points + ?5")
UPSERT_USER_TOTAL = (
    "INSERT INTO user_totals (user_id, answered, correct, points) VALUES (?1, 1, ?2, ?3) "
    "ON CONFLICT (user_id) DO UPDATE SET "
    "answered = answered + 1, correct = correct + ?2, points = points + ?3")


def answer_statements(recs: list[AnswerRecord]) -> list[tuple[str, list[tuple]]]:
    """The statements that record answers and their totals, with their rows."""
    return [
        (INSERT_ANSWER, [(r.round_id, r.index, r.user_db_id, r.answer, int(r.correct), r.points)
                         for r in recs]),
        (UPSERT_CHAT_TOTAL, [(r.chat_db_id, r.user_db_id, int(r.correct), r.points) for r in recs]),
        (UPSERT_WEEK_TOTAL, [(r.chat_db_id, r.week, r.user_db_id, int(r.correct), r.points)
                             for r in recs]),
        (UPSERT_USER_TOTAL, [(r.user_db_id, int(r.correct), r.points) for r in recs]),
    ]


def _settle(batch, error: Exception | None) -> None:
    for _, done in batch:
        if done.done():
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)


class SqliteStore:
    def __init__(self, conn: aiosqlite.Connection, path: str):
        self._conn = conn
        self.path = path
        # One connection serves every coroutine: a write transaction must not
        # interleave with another's statements, so writes take turns.
        self._write = asyncio.Lock()
        self._chat_ids: dict[tuple[str, str], int] = {}
        # (platform, user id) -> (db id, display name): a name change writes again.
        self._users: dict[tuple[str, str], tuple[int, str]] = {}
        self._answers: list[tuple[AnswerRecord, asyncio.Future]] = []
        self._in_flight: dict[tuple, asyncio.Future] = {}
        self._flusher: asyncio.Task | None = None

    @classmethod
    async def open(cls, path: str | Path) -> "SqliteStore":
        path = str(path)
        uri = path.startswith("file:")  # e.g. file:bot.sqlite3?mode=ro
        try:
            if path != ":memory:" and not uri:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            conn = await aiosqlite.connect(path, isolation_level=None, uri=uri)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from None
        store = cls(conn, path)
        try:
            await store._prepare()
        except (sqlite3.Error, StoreError) as exc:
            await conn.close()
            raise StoreError(f"cannot use database {path}: {exc}") from None
        return store

    async def _prepare(self) -> None:
        await self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await self._conn.execute("PRAGMA foreign_keys = ON")
        mode = await self._fetch_one("PRAGMA journal_mode = WAL")
        if self.path != ":memory:" and mode[0].lower() != "wal":
            raise sqlite3.OperationalError(f"could not switch to WAL mode (got {mode[0]})")
        # NORMAL in WAL mode keeps every commit through a process crash; only a
        # power cut may lose the last commits.
        await self._conn.execute("PRAGMA synchronous = NORMAL")
        await self._migrate()

    async def _migrate(self) -> None:
        await self._conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = await self._fetch_one("SELECT MAX(version) FROM schema_version")
        current = row[0] or 0
        for version, sql in MIGRATIONS:
            if version > current:
                await self._conn.executescript(
                    f"BEGIN;\n{sql}\nINSERT INTO schema_version VALUES ({version});\nCOMMIT;")

    async def schema_version(self) -> int:
        return (await self._fetch_one("SELECT MAX(version) FROM schema_version"))[0]

    async def close(self) -> None:
        if self._flusher is not None:
            await self._flusher  # answers in flight are committed, not dropped
        await self._conn.close()

    # ---- helpers ----------------------------------------------------------------

    async def _fetch_one(self, sql: str, params: Sequence = ()):
        rows = await self._fetch_all(sql, params)
        return rows[0] if rows else None

    async def _fetch_all(self, sql: str, params: Sequence = ()):
        # One trip to aiosqlite's thread instead of execute, fetch and close.
        try:
            return list(await self._conn.execute_fetchall(sql, params))
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            raise StoreError(f"database {self.path}: {exc}") from None

    @asynccontextmanager
    async def _transaction(self):
        async with self._write:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"database {self.path} is not writable: {exc}") from None
            try:
                yield
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise

    async def _rollback(self) -> None:
        try:
            await self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # nothing was open

    async def _write_one(self, sql: str, params: Sequence = ()):
        """One statement, committed on its own. SQLite makes a single statement
        atomic in autocommit mode, so it needs no BEGIN/COMMIT round trips; the
        lock keeps it from landing inside another coroutine's transaction."""
        async with self._write:
            try:
                rows = await self._conn.execute_fetchall(sql, params)
            except sqlite3.Error as exc:
                raise StoreError(f"database {self.path}: {exc}") from None
        return rows[0] if rows else None

    # ---- chats and users --------------------------------------------------------

    async def chat_id(self, chat: ChatRef) -> int:
        cached = self._chat_ids.get(chat.key)
        if cached is not None:
            return cached
        return await self._once(("chat",) + chat.key, lambda: self._write_chat(chat))

    async def _write_chat(self, chat: ChatRef) -> int:
        row = await self._write_one(
            "INSERT INTO chats (platform, platform_chat_id, title) VALUES (?, ?, ?) "
            "ON CONFLICT (platform, platform_chat_id) DO UPDATE SET "
            "title = CASE WHEN excluded.title != '' THEN excluded.title ELSE title END "
            "RETURNING id", (chat.platform, chat.chat_id, chat.title))
        self._chat_ids[chat.key] = row[0]
        return row[0]

    async def user_id(self, platform: str, user_id: str, name: str) -> int:
        """An empty name (a platform event that carries none) keeps the stored one."""
        cached = self._users.get((platform, user_id))
        if cached is not None and (cached[1] == name or not name):
            return cached[0]
        return await self._once(("user", platform, user_id, name),
                                lambda: self._write_user(platform, user_id, name))

    async def _write_user(self, platform: str, user_id: str, name: str) -> int:
        row = await self._write_one(
            "INSERT INTO users (platform, platform_user_id, display_name) VALUES (?, ?, ?) "
            "ON CONFLICT (platform, platform_user_id) DO UPDATE SET display_name = "
            "CASE WHEN excluded.display_name != '' THEN excluded.display_name ELSE display_name END "
            "RETURNING id", (platform, user_id, name))
        self._users[(platform, user_id)] = (row[0], name)
        return row[0]

    async def _once(self, key: tuple, write):
        """Run `write` once for callers that arrive while it runs: the first
        answers of a burst all ask for the same new user at the same moment."""
        running = self._in_flight.get(key)
        if running is None:
            running = self._in_flight[key] = asyncio.ensure_future(write())
            running.add_done_callback(lambda _: self._in_flight.pop(key, None))
        return await asyncio.shield(running)

    async def chat_settings(self, chat_db_id: int) -> ChatSettings:
        row = await self._fetch_one("SELECT question_seconds, timezone FROM chats WHERE id = ?",
                                    (chat_db_id,))
        return ChatSettings(row[0], row[1]) if row else ChatSettings()

    async def set_question_seconds(self, chat_db_id: int, seconds: float) -> None:
        await self._write_one("UPDATE chats SET question_seconds = ? WHERE id = ?", (seconds, chat_db_id))

    # ---- rounds and answers -------------------------------------------------------

    async def create_round(self, chat_db_id: int, thread_id: str | None, pack_id: str,
                           user_db_id: int, question_ids: Sequence[str], seed: int) -> int:
        row = await self._write_one(
            "INSERT INTO rounds (chat_id, thread_id, pack_id, started_by, question_ids, seed) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (chat_db_id, thread_id, pack_id, user_db_id, json.dumps(list(question_ids)), seed))
        return row[0]

    async def close_round(self, round_id: int, status: str) -> None:
        await self._write_one(
            "UPDATE rounds SET status = ?, ended_at = CURRENT_TIMESTAMP WHERE id = ?",
            (status, round_id))

    async def open_rounds(self) -> list[OpenRound]:
        rows = await self._fetch_all(
            "SELECT r.id, r.chat_id, c.platform, c.platform_chat_id, r.thread_id "
            "FROM rounds r JOIN chats c ON c.id = r.chat_id WHERE r.status = 'open'")
        return [OpenRound(*row) for row in rows]

    async def record_answer(self, rec: AnswerRecord) -> None:
        """Commit one answer and its totals; returns once it is on disk.

        Answers arriving together are committed together (group commit): one
        transaction per batch instead of one per answer, so a burst costs a few
        round trips to SQLite rather than six per answer."""
        done = asyncio.get_running_loop().create_future()
        self._answers.append((rec, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_answers())
        await done

    async def _flush_answers(self) -> None:
        while self._answers:
            batch, self._answers = self._answers[:MAX_BATCH], self._answers[MAX_BATCH:]
            async with self._write:
                try:
                    await self._commit_answers([rec for rec, _ in batch])
                except sqlite3.IntegrityError:
                    # Someone answered twice: commit one by one to find who.
                    await self._commit_each(batch)
                    continue
                except sqlite3.Error as exc:
                    _settle(batch, StoreError(f"database {self.path}: {exc}"))
                    continue
            _settle(batch, None)

    async def _commit_each(self, batch) -> None:
        for rec, done in batch:
            try:
                await self._commit_answers([rec])
            except sqlite3.IntegrityError:
                _settle([(rec, done)], AlreadyAnswered())
            except sqlite3.Error as exc:
                _settle([(rec, done)], StoreError(f"database {self.path}: {exc}"))
            else:
                _settle([(rec, done)], None)

    async def _commit_answers(self, recs: list[AnswerRecord]) -> None:
        try:
            await self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise sqlite3.OperationalError(f"not writable: {exc}") from None
        try:
            await self._insert_answers(recs)
            await self._conn.execute("COMMIT")
        except BaseException:
            await self._rollback()
            raise

    async def _insert_answers(self, recs: list[AnswerRecord]) -> None:
        for sql, rows in answer_statements(recs):
            await self._conn.executemany(sql, rows)

    # ---- boards ---------------------------------------------------------------------

    async def board(self, chat_db_id: int | None, week: str | None, limit: int) -> list[BoardRow]:
        cols = "t.user_id, u.display_name, t.points, t.answered, t.correct"
        order = "ORDER BY t.points DESC, t.correct DESC, t.user_id LIMIT ?"
        if chat_db_id is None:
            sql = f"SELECT {cols} FROM user_totals t JOIN users u ON u.id = t.user_id {order}"
            params: tuple = (limit,)
        elif week is None:
            sql = (f"SELECT {cols} FROM chat_totals t JOIN users u ON u.id = t.user_id "
                   f"WHERE t.chat_id = ? {order}")
            params = (chat_db_id, limit)
        else:
            sql = (f"SELECT {cols} FROM week_totals t JOIN users u ON u.id = t.user_id "
                   f"WHERE t.chat_id = ? AND t.week = ? {order}")
            params = (chat_db_id, week, limit)
        return [BoardRow(*row) for row in await self._fetch_all(sql, params)]

    async def user_stats(self, chat_db_id: int, user_db_id: int) -> UserStats:
        row = await self._fetch_one(
            "SELECT answered, correct, points, streak, best_streak FROM chat_totals "
            "WHERE chat_id = ? AND user_id = ?", (chat_db_id, user_db_id))
        if row is None:
            return UserStats(0, 0, 0, 0, 0, None)
        ahead = await self._fetch_one(
            "SELECT COUNT(*) FROM chat_totals WHERE chat_id = ? AND points > ?", (chat_db_id, row[2]))
        return UserStats(*row, rank=ahead[0] + 1)

    # ---- discussions ---------------------------------------------------------------

    _DISCUSSION = ("SELECT d.id, d.chat_id, c.platform, c.platform_chat_id, d.thread_id, d.pack_id, "
                   "d.prompt_id, d.opened_at, d.closes_at, d.status, d.message_id, d.result "
                   "FROM discussions d JOIN chats c ON c.id = d.chat_id ")

    @staticmethod
    def _discussion_row(row) -> DiscussionRow | None:
        if row is None:
            return None
        return DiscussionRow(*row[:11], json.loads(row[11]) if row[11] else None)

    async def create_discussion(self, chat_db_id: int, thread_id: str | None, pack_id: str,
                                prompt_id: str, opened_at: float, closes_at: float) -> int:
        try:
            async with self._transaction():
                row = await self._fetch_one(
                    "INSERT INTO discussions (chat_id, thread_id, pack_id, prompt_id, opened_at, "
                    "closes_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    (chat_db_id, thread_id, pack_id, prompt_id, opened_at, closes_at))
        except sqlite3.IntegrityError:
            raise AlreadyOpen() from None
        except sqlite3.Error as exc:
            raise StoreError(f"database {self.path}: {exc}") from None
        return row[0]

    async def set_discussion_post(self, discussion_id: int, platform: str, message_id: str | None,
                                  refs: Sequence[str]) -> None:
        try:
            async with self._transaction():
                await self._conn.execute("UPDATE discussions SET message_id = ? WHERE id = ?",
                                         (message_id, discussion_id))
                await self._conn.executemany(
                    "INSERT OR REPLACE INTO discussion_refs (platform, ref, discussion_id) VALUES (?, ?, ?)",
                    [(platform, ref, discussion_id) for ref in refs])
        except sqlite3.Error as exc:
            raise StoreError(f"database {self.path}: {exc}") from None

    async def discussion(self, discussion_id: int) -> DiscussionRow | None:
        return self._discussion_row(await self._fetch_one(self._DISCUSSION + "WHERE d.id = ?",
                                                          (discussion_id,)))

    async def discussion_by_ref(self, platform: str, ref: str) -> DiscussionRow | None:
        return self._discussion_row(await self._fetch_one(
            self._DISCUSSION + "JOIN discussion_refs r ON r.discussion_id = d.id "
            "WHERE r.platform = ? AND r.ref = ?", (platform, ref)))

    async def open_discussion(self, chat_db_id: int) -> DiscussionRow | None:
        return self._discussion_row(await self._fetch_one(
            self._DISCUSSION + "WHERE d.chat_id = ? AND d.status = 'open'", (chat_db_id,)))

    async def open_discussions(self) -> list[DiscussionRow]:
        rows = await self._fetch_all(self._DISCUSSION + "WHERE d.status = 'open'")
        return [self._discussion_row(r) for r in rows]

    async def used_prompts(self, chat_db_id: int) -> set[tuple[str, str]]:
        rows = await self._fetch_all(
            "SELECT DISTINCT pack_id, prompt_id FROM discussions WHERE chat_id = ?", (chat_db_id,))
        return {(r[0], r[1]) for r in rows}

    async def record_vote(self, discussion_id: int, user_db_id: int, option: int) -> None:
        await self._write_one(
            "INSERT INTO discussion_votes (discussion_id, user_id, option) VALUES (?, ?, ?) "
            "ON CONFLICT (discussion_id, user_id) DO UPDATE SET option = excluded.option",
            (discussion_id, user_db_id, option))

    async def withdraw_vote(self, discussion_id: int, user_db_id: int, option: int | None) -> None:
        await self._write_one(
            "DELETE FROM discussion_votes WHERE discussion_id = ? AND user_id = ? "
            "AND (?3 IS NULL OR option = ?3)", (discussion_id, user_db_id, option))

    async def record_participant(self, discussion_id: int, user_db_id: int) -> None:
        await self._write_one(
            "INSERT OR IGNORE INTO discussion_participants (discussion_id, user_id) VALUES (?, ?)",
            (discussion_id, user_db_id))

    async def tally(self, discussion_id: int, options: int) -> Tally:
        rows = await self._fetch_all(
            "SELECT option, COUNT(*) FROM discussion_votes WHERE discussion_id = ? GROUP BY option",
            (discussion_id,))
        votes = [0] * options
        for option, count in rows:
            if 0 <= option < options:
                votes[option] = count
        people = await self._fetch_one(
            "SELECT COUNT(*) FROM discussion_participants WHERE discussion_id = ?", (discussion_id,))
        return Tally(tuple(votes), people[0])

    async def close_discussion(self, discussion_id: int, result: dict) -> None:
        await self._write_one("UPDATE discussions SET status = 'closed', result = ? WHERE id = ?",
                              (json.dumps(result), discussion_id))

    async def recent_discussions(self, chat_db_id: int, limit: int) -> list[DiscussionRow]:
        rows = await self._fetch_all(
            self._DISCUSSION + "WHERE d.chat_id = ? ORDER BY d.opened_at DESC, d.id DESC LIMIT ?",
            (chat_db_id, limit))
        return [self._discussion_row(r) for r in rows]

    # ---- schedules -------------------------------------------------------------------

    _SCHEDULE = ("SELECT s.id, s.chat_id, c.platform, c.platform_chat_id, s.thread_id, s.kind, "
                 "s.spec, s.args, s.paused, s.created_at, s.last_due, c.timezone "
                 "FROM schedules s JOIN chats c ON c.id = s.chat_id ")

    @staticmethod
    def _schedule_row(row) -> ScheduleRow:
        values = list(row)
        values[8] = bool(values[8])
        return ScheduleRow(*values)

    async def set_timezone(self, chat_db_id: int, timezone: str) -> None:
        await self._write_one("UPDATE chats SET timezone = ? WHERE id = ?", (timezone, chat_db_id))

    async def add_schedule(self, chat_db_id: int, thread_id: str | None, kind: str, spec: str,
                           args: str, created_at: float) -> int:
        row = await self._write_one(
            "INSERT INTO schedules (chat_id, thread_id, kind, spec, args, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (chat_db_id, thread_id, kind, spec, args, created_at))
        return row[0]

    async def schedules(self, chat_db_id: int | None = None) -> list[ScheduleRow]:
        if chat_db_id is None:
            rows = await self._fetch_all(self._SCHEDULE + "ORDER BY s.id")
        else:
            rows = await self._fetch_all(self._SCHEDULE + "WHERE s.chat_id = ? ORDER BY s.id",
                                         (chat_db_id,))
        return [self._schedule_row(r) for r in rows]

    async def schedule(self, schedule_id: int) -> ScheduleRow | None:
        row = await self._fetch_one(self._SCHEDULE + "WHERE s.id = ?", (schedule_id,))
        return self._schedule_row(row) if row else None

    async def remove_schedule(self, chat_db_id: int, schedule_id: int) -> bool:
        row = await self._write_one("DELETE FROM schedules WHERE id = ? AND chat_id = ? RETURNING id",
                                    (schedule_id, chat_db_id))
        return row is not None

    async def set_schedule_paused(self, chat_db_id: int, schedule_id: int, paused: bool) -> bool:
        row = await self._write_one(
            "UPDATE schedules SET paused = ? WHERE id = ? AND chat_id = ? RETURNING id",
            (int(paused), schedule_id, chat_db_id))
        return row is not None

    async def pause_chat_schedules(self, chat_db_id: int) -> list[int]:
        try:
            async with self._transaction():
                rows = await self._fetch_all(
                    "UPDATE schedules SET paused = 1 WHERE chat_id = ? AND paused = 0 RETURNING id",
                    (chat_db_id,))
        except sqlite3.Error as exc:
            raise StoreError(f"database {self.path}: {exc}") from None
        return [r[0] for r in rows]

    async def claim_due(self, schedule_id: int, due: float) -> bool:
        row = await self._write_one(
            "UPDATE schedules SET last_due = ?1 WHERE id = ?2 AND (last_due IS NULL OR last_due < ?1) "
            "RETURNING id", (due, schedule_id))
        return row is not None

    # ---- audit (for operators and the crash test) ------------------------------------

    async def integrity_check(self) -> str:
        return (await self._fetch_one("PRAGMA integrity_check"))[0]

    async def answer_count(self) -> int:
        return (await self._fetch_one("SELECT COUNT(*) FROM answers"))[0]

    async def has_answer(self, round_id: int, index: int, user_db_id: int) -> bool:
        return await self._fetch_one(
            "SELECT 1 FROM answers WHERE round_id = ? AND question_index = ? AND user_id = ?",
            (round_id, index, user_db_id)) is not None

    async def totals_mismatches(self) -> list[tuple]:
        """(chat, user, counted, stored) wherever a total disagrees with the answers."""
        return await self._fetch_all(
            "WITH counted AS (SELECT r.chat_id, a.user_id, COUNT(*) AS n, SUM(a.points) AS pts "
            "FROM answers a JOIN rounds r ON r.id = a.round_id GROUP BY r.chat_id, a.user_id) "
            "SELECT c.chat_id, c.user_id, c.n, t.answered FROM counted c "
            "LEFT JOIN chat_totals t ON t.chat_id = c.chat_id AND t.user_id = c.user_id "
            "WHERE t.answered IS NOT c.n OR t.points IS NOT c.pts "
            "UNION ALL SELECT NULL, u.user_id, SUM(c.n), u.answered FROM counted c "
            "JOIN user_totals u ON u.user_id = c.user_id GROUP BY u.user_id "
            "HAVING SUM(c.n) != u.answered")

    async def round_statuses(self) -> dict[str, int]:
        rows = await self._fetch_all("SELECT status, COUNT(*) FROM rounds GROUP BY status")
        return {status: count for status, count in rows}
