"""Pacing of outgoing messages, so a minute when many chats are due goes out
within a platform's flood limits instead of being refused by it.

Each message reserves the next free slot: at most `per_second` overall and
`per_chat_per_minute` in any one chat. Reservations are taken in the order
messages arrive, so a burst is spread evenly and nobody waits twice.
"""
from __future__ import annotations

from .ports import Clock


class Pacer:
    def __init__(self, clock: Clock, per_second: float, per_chat_per_minute: float | None = None):
        self.clock = clock
        self.gap = 1.0 / per_second
        self.chat_gap = 60.0 / per_chat_per_minute if per_chat_per_minute else 0.0
        self._next = 0.0
        self._chat_next: dict[tuple[str, str], float] = {}

    def reserve(self, chat_key: tuple[str, str]) -> float:
        """The time this message may go; later messages get later slots."""
        now = self.clock.now()
        slot = max(now, self._next, self._chat_next.get(chat_key, 0.0))
        self._next = slot + self.gap
        if self.chat_gap:
            self._chat_next[chat_key] = slot + self.chat_gap
            if len(self._chat_next) > 100_000:
                self._forget(now)
        return slot

    async def wait(self, chat_key: tuple[str, str]) -> None:
        slot = self.reserve(chat_key)
        delay = slot - self.clock.now()
        if delay > 0:
            await self.clock.sleep(delay)

    def _forget(self, now: float) -> None:
        self._chat_next = {k: t for k, t in self._chat_next.items() if t > now}
