"""Per-member rate limiting, so one member's flood cannot slow the bot for the
rest: a token bucket per member, refilled with time."""
from __future__ import annotations

from .ports import Clock


class RateLimiter:
    def __init__(self, clock: Clock, burst: int = 20, per_minute: float = 60.0):
        self.clock = clock
        self.burst = burst
        self.rate = per_minute / 60.0
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # key -> (tokens, at)
        self.warned: set[tuple[str, str]] = set()

    def allow(self, key: tuple[str, str]) -> bool:
        now = self.clock.now()
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1.0, now)
        self.warned.discard(key)
        if len(self._buckets) > 50_000:
            self._forget(now)
        return True

    def _forget(self, now: float) -> None:
        """Drop members whose buckets are full again: they are as new."""
        self._buckets = {k: (t, at) for k, (t, at) in self._buckets.items()
                         if t + (now - at) * self.rate < self.burst}
