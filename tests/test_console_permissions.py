"""The console's two kinds of speaker against the permission table: the
operator (an admin) and `@name` lines (members)."""
from __future__ import annotations

import io

import pytest

from adapters.console import ConsoleAdapter
from bot.core import COMMANDS
from bot.model import Role
from bot.ratelimit import RateLimiter

ARGS = {"quiz": "mini 1", "answer": "Moscow", "timer": "30", "vote": "1", "perspectives": "x",
        "discuss": "x", "timezone": "UTC", "schedule": "list", "pack": "list", "timeline": "mini"}


@pytest.mark.parametrize("speaker, role", [("", Role.ADMIN), ("@bob ", Role.MEMBER)])
async def test_every_command_from_the_console(core, speaker, role):
    core.limiter = RateLimiter(core.clock, burst=1000)  # one speaker runs every command
    out = io.StringIO()
    console = ConsoleAdapter(core, out=out)
    for spec in COMMANDS:
        before = len(out.getvalue())
        await console.handle_line(f"{speaker}/{spec.name} {ARGS.get(spec.name, '')}")
        said = out.getvalue()[before:]
        refused = f"/{spec.name} is for {spec.role.name.lower()}s only." in said
        assert refused == (role < spec.role), (spec.name, said)
        await core.quiz.shutdown()
        core.quiz._rounds.clear()
