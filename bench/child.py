"""The bot's start-up as run_bot does it, in a fresh process, for the start-up
and memory figures: `python -m bench.child DB ROUNDS`. Prints `ready RSS_KB`
once the store is open, the packs loaded and the schedules restored, then
`rounds RSS_KB` with ROUNDS quiz rounds open at once."""
from __future__ import annotations

import asyncio
import sys

import bench.common  # noqa: F401  (puts the project on sys.path)
from bot.model import ChatRef, Command, Role, Sent, UserRef
from run_bot import build_core, parse_args


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Silent:
    async def send(self, chat, message):
        return Sent("1")

    async def edit(self, chat, sent, message):
        pass


async def main(db: str, rounds: int) -> None:
    core, store = await build_core(parse_args(["--db", db, "--question-seconds", "3600"]))
    core.delivery.register("bench", Silent())
    await core.start()
    print("ready", rss_kb(), core.schedules.active, flush=True)
    for i in range(rounds):  # a moderator per chat: each within their own rate limit
        admin = UserRef("bench", f"admin{i}", "Admin", Role.ADMIN)
        await core.handle(Command(ChatRef("bench", f"r{i}"), admin, "quiz", "japan-ussr-1945 10"))
    await asyncio.sleep(0.2)
    print("rounds", rss_kb(), len(core.quiz._rounds), flush=True)
    await core.stop()
    await store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
