"""Test doubles at the core's own ports: a clock the test moves, an outbox that records."""
from __future__ import annotations

import asyncio

from bot.model import ChatRef, DiscussionMsg, OutMessage, QuestionMsg, Ranking, Reveal, Role, Sent, UserRef


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0):
        self.t = start
        self._sleepers: list[tuple[float, asyncio.Future]] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        fut = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.t + seconds, fut))
        await fut

    @property
    def waiting(self) -> int:
        """How many sleepers are waiting for time to move."""
        return sum(1 for _, fut in self._sleepers if not fut.done())

    async def run_out(self, seconds: float) -> None:
        """Let a timer that is about to start (a question's) run out: wait until
        something sleeps on this clock, then move it on."""
        await until(lambda: self.waiting > 0, timeout=10)
        await self.advance(seconds)

    async def advance(self, seconds: float, turns: int = 20) -> None:
        """Move time on and let everything that was waiting for it run."""
        await settle(turns)  # tasks just created get to start their sleep first
        self.t += seconds
        for due, fut in list(self._sleepers):
            if due <= self.t:
                self._sleepers.remove((due, fut))
                if not fut.done():
                    fut.set_result(None)
        await settle(turns)


async def settle(turns: int = 20) -> None:
    """Let other tasks run, including store calls that finish on aiosqlite's thread."""
    for _ in range(turns):
        await asyncio.sleep(0.001)


async def until(condition, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.001)


class RecordingOutbox:
    def __init__(self):
        self.sent: list[tuple[ChatRef, OutMessage]] = []
        self.edits: list[tuple[ChatRef, Sent, OutMessage]] = []

    async def send(self, chat: ChatRef, message: OutMessage) -> Sent:
        self.sent.append((chat, message))
        number = len(self.sent)
        if isinstance(message, DiscussionMsg):  # as a platform names its poll and thread
            return Sent(str(number), refs=(f"poll-{number}", f"thread-{number}"))
        return Sent(str(number))

    async def edit(self, chat: ChatRef, sent: Sent, message: OutMessage) -> None:
        self.edits.append((chat, sent, message))

    def of(self, kind) -> list:
        return [m for _, m in self.sent if isinstance(m, kind)] + \
            [m for _, _, m in self.edits if isinstance(m, kind)]

    def last_question(self) -> QuestionMsg:
        return self.of(QuestionMsg)[-1]

    def reveals(self) -> list[Reveal]:
        return self.of(Reveal)

    def rankings(self) -> list[Ranking]:
        return self.of(Ranking)


CHAT = ChatRef("test", "chat-1", "Test chat")
ADMIN = UserRef("test", "u-admin", "Ada", Role.ADMIN)
MOD = UserRef("test", "u-mod", "Moe", Role.MODERATOR)
ALICE = UserRef("test", "u-alice", "Alice")
BOB = UserRef("test", "u-bob", "Bob")
