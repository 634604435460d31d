"""The small interfaces the core needs from outside: a store, a clock, an outbox.

`storage/` implements Store, each adapter implements Outbox; the core imports
neither of them.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol, Sequence

from .model import ChatRef, OutMessage, Sent


class AlreadyAnswered(Exception):
    """The store already holds an answer of this user to this question."""


class StoreError(Exception):
    """The store could not do what was asked (read-only, locked, broken)."""


@dataclass(frozen=True)
class ChatSettings:
    question_seconds: float | None = None
    timezone: str = "UTC"


@dataclass(frozen=True)
class OpenRound:
    round_id: int
    chat_db_id: int
    platform: str
    chat_id: str
    thread_id: str | None


@dataclass(frozen=True)
class BoardRow:
    user_db_id: int
    name: str
    points: int
    answered: int
    correct: int


@dataclass(frozen=True)
class UserStats:
    answered: int
    correct: int
    points: int
    streak: int
    best_streak: int
    rank: int | None


@dataclass(frozen=True)
class AnswerRecord:
    round_id: int
    index: int
    chat_db_id: int
    user_db_id: int
    answer: str
    correct: bool
    points: int
    week: str  # ISO week, e.g. "2026-W48", for weekly boards


class AlreadyOpen(Exception):
    """The chat already has an open discussion."""


@dataclass(frozen=True)
class DiscussionRow:
    id: int
    chat_db_id: int
    platform: str
    chat_id: str
    thread_id: str | None
    pack_id: str
    prompt_id: str
    opened_at: float
    closes_at: float
    status: str
    message_id: str | None
    result: dict | None


@dataclass(frozen=True)
class Tally:
    votes: tuple[int, ...]  # per option
    participants: int

    @property
    def voters(self) -> int:
        return sum(self.votes)


@dataclass(frozen=True)
class ScheduleRow:
    id: int
    chat_db_id: int
    platform: str
    chat_id: str
    thread_id: str | None
    kind: str  # onthisday | quiz | discuss
    spec: str  # the <when> as stored, parsed again at start
    args: str
    paused: bool
    created_at: float
    last_due: float | None
    timezone: str


class Store(Protocol):
    async def chat_id(self, chat: ChatRef) -> int: ...
    async def user_id(self, platform: str, user_id: str, name: str) -> int: ...
    async def chat_settings(self, chat_db_id: int) -> ChatSettings: ...
    async def set_question_seconds(self, chat_db_id: int, seconds: float) -> None: ...
    async def create_round(self, chat_db_id: int, thread_id: str | None, pack_id: str,
                           user_db_id: int, question_ids: Sequence[str], seed: int) -> int: ...
    async def record_answer(self, rec: AnswerRecord) -> None:
        """Commit the answer and the totals in one transaction before returning.
        Raise AlreadyAnswered on a second answer, StoreError when it cannot write."""
    async def close_round(self, round_id: int, status: str) -> None: ...
    async def open_rounds(self) -> list[OpenRound]: ...
    async def board(self, chat_db_id: int | None, week: str | None, limit: int) -> list[BoardRow]: ...
    async def user_stats(self, chat_db_id: int, user_db_id: int) -> UserStats: ...
    # discussions
    async def create_discussion(self, chat_db_id: int, thread_id: str | None, pack_id: str,
                                prompt_id: str, opened_at: float, closes_at: float) -> int:
        """Raises AlreadyOpen if the chat has an open discussion."""
    async def set_discussion_post(self, discussion_id: int, platform: str, message_id: str | None,
                                  refs: Sequence[str]) -> None: ...
    async def discussion(self, discussion_id: int) -> DiscussionRow | None: ...
    async def discussion_by_ref(self, platform: str, ref: str) -> DiscussionRow | None: ...
    async def open_discussion(self, chat_db_id: int) -> DiscussionRow | None: ...
    async def open_discussions(self) -> list[DiscussionRow]: ...
    async def used_prompts(self, chat_db_id: int) -> set[tuple[str, str]]: ...
    async def record_vote(self, discussion_id: int, user_db_id: int, option: int) -> None: ...
    async def withdraw_vote(self, discussion_id: int, user_db_id: int, option: int | None) -> None: ...
    async def record_participant(self, discussion_id: int, user_db_id: int) -> None: ...
    async def tally(self, discussion_id: int, options: int) -> Tally: ...
    async def close_discussion(self, discussion_id: int, result: dict) -> None: ...
    async def recent_discussions(self, chat_db_id: int, limit: int) -> list[DiscussionRow]: ...
    # schedules
    async def set_timezone(self, chat_db_id: int, timezone: str) -> None: ...
    async def add_schedule(self, chat_db_id: int, thread_id: str | None, kind: str, spec: str,
                           args: str, created_at: float) -> int: ...
    async def schedules(self, chat_db_id: int | None = None) -> list[ScheduleRow]: ...
    async def schedule(self, schedule_id: int) -> ScheduleRow | None: ...
    async def remove_schedule(self, chat_db_id: int, schedule_id: int) -> bool: ...
    async def set_schedule_paused(self, chat_db_id: int, schedule_id: int, paused: bool) -> bool: ...
    async def pause_chat_schedules(self, chat_db_id: int) -> list[int]: ...
    async def claim_due(self, schedule_id: int, due: float) -> bool:
        """Mark `due` as fired; false when it (or a later one) already was."""


class Outbox(Protocol):
    """Delivers core messages to one platform."""

    async def send(self, chat: ChatRef, message: OutMessage) -> Sent: ...
    async def edit(self, chat: ChatRef, sent: Sent, message: OutMessage) -> None: ...


class Clock(Protocol):
    def now(self) -> float: ...
    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
