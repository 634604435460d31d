"""Broadcast: an "on this day" post due in 10,000 Telegram groups at once,
through the real Telegram adapter (python-telegram-bot) and the core's pacing,
over a fake transport that enforces Telegram's flood limits (30 messages/s
overall, 20 a minute per group) and answers 429 past them.

The limits are about time, and the slowest honest run takes 10,000 / 30 = 333
seconds, so the bot's clock and the transport's run on virtual time: every
sleep in the bot is a jump of that clock, and the wall time is CPU only."""
from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import time
from collections import deque

from telegram.request import BaseRequest

from adapters.telegram import TelegramAdapter, TelegramConfig
from bench.common import header, row
from bot.delivery import Delivery
from bot.model import ChatRef, Text
from bot.pacing import Pacer

CHATS = 10_000
OVERALL, PER_GROUP = 30, 20


class VirtualClock:
    def __init__(self):
        self.t = 0.0
        self._sleepers: list = []
        self._order = itertools.count()

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        done = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.t + seconds, next(self._order), done))
        await done

    def wake_next(self) -> bool:
        if not self._sleepers:
            return False
        self.t = self._sleepers[0][0]
        while self._sleepers and self._sleepers[0][0] <= self.t:
            heapq.heappop(self._sleepers)[2].set_result(None)
        return True


class FloodLimitedTelegram(BaseRequest):
    """Answers like the Bot API, refusing what breaks the flood limits."""

    def __init__(self, clock: VirtualClock):
        self.clock = clock
        self.recent: deque[float] = deque()
        self.per_chat: dict[str, deque[float]] = {}
        self.delivered = self.refused = 0
        self._ids = itertools.count(1)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float:
        return 5.0

    async def do_request(self, url, method, request_data=None, *args, **kwargs):
        api_method = url.rsplit("/", 1)[-1]
        if api_method == "getMe":
            return 200, _ok({"id": 1, "is_bot": True, "first_name": "Bot", "username": "bot"})
        params = request_data.parameters if request_data else {}
        chat = str(params["chat_id"])
        now = self.clock.now()
        # A small tolerance, so two messages exactly a window apart do not collide.
        while self.recent and self.recent[0] <= now - 1 + 1e-9:
            self.recent.popleft()
        mine = self.per_chat.setdefault(chat, deque())
        while mine and mine[0] <= now - 60 + 1e-9:
            mine.popleft()
        if len(self.recent) >= OVERALL or len(mine) >= PER_GROUP:
            self.refused += 1
            return 429, json.dumps({"ok": False, "error_code": 429, "parameters": {"retry_after": 1},
                                    "description": "Too Many Requests: retry after 1"}).encode()
        self.recent.append(now)
        mine.append(now)
        self.delivered += 1
        return 200, _ok({"message_id": next(self._ids), "date": 0, "text": params.get("text", ""),
                         "chat": {"id": int(chat), "type": "supergroup", "title": "g"}})


def _ok(result) -> bytes:
    return json.dumps({"ok": True, "result": result}).encode()


class _CoreStub:
    """The adapter registers itself with a core's delivery; nothing else is used."""

    def __init__(self, delivery):
        self.delivery, self.commands = delivery, {}


async def broadcast(paced: bool = True) -> dict[str, float]:
    clock = VirtualClock()
    transport = FloodLimitedTelegram(clock)
    delivery = Delivery()
    if paced:
        delivery.pace("telegram", Pacer(clock, per_second=OVERALL, per_chat_per_minute=PER_GROUP))
    # PTB's own limiter runs on real time; here it only retries, the pacing is the core's.
    config = TelegramConfig("1:bench", transport=transport, overall_rate=(10**6, 1),
                            group_rate=(10**6, 1), max_retries=3 if paced else 0)
    adapter = TelegramAdapter(_CoreStub(delivery), config)
    await adapter.app.bot.initialize()
    post = Text("On 8 August 1945 the Soviet Union declared war on Japan.", title="On this day")
    chats = [ChatRef("telegram", str(-1_000_000 - i)) for i in range(CHATS)]
    started = time.perf_counter()
    sends = [asyncio.ensure_future(delivery.send(chat, post)) for chat in chats]
    left = [len(sends)]
    for s in sends:
        s.add_done_callback(lambda _: left.__setitem__(0, left[0] - 1))
    while left[0]:
        # Woken sends run to their next sleep in a few turns: nothing here waits
        # on real I/O. Then the clock jumps to the next reserved slot.
        for _ in range(4):
            await asyncio.sleep(0)
        clock.wake_next()
    wall = time.perf_counter() - started
    await adapter.app.bot.shutdown()
    return {"delivered": transport.delivered, "refused": transport.refused, "virtual": clock.t,
            "wall": wall, "ok": sum(1 for s in sends if s.result() is not None)}


def main() -> None:
    header(f"4. Broadcast to {CHATS:,} Telegram groups at once (virtual time, limits enforced)")
    f = asyncio.run(broadcast())
    least = (CHATS - 1) / OVERALL
    row("messages delivered", f"{f['delivered']:,}", f"{CHATS:,}", f["delivered"] == CHATS)
    row("429 Too Many Requests answers", f"{f['refused']:,}", "0", f["refused"] == 0)
    row("time on the bot's clock (s)", f"{f['virtual']:.1f}", f"<= {least * 1.05:.0f}",
        f["virtual"] <= least * 1.05)
    row("  the limit's minimum (s)", f"{least:.1f}")
    row("  wall time to run it (s)", f"{f['wall']:.1f}")
    control = asyncio.run(broadcast(paced=False))
    row("  control, the same without the core's pacing: 429s", f"{control['refused']:,}")
