"""The console: its two kinds of speaker against the permission table (the
operator is an admin, `@name` lines are members), and pictures saved to files."""
from __future__ import annotations

import io

import pytest

from adapters.console import ConsoleAdapter
from bot.core import COMMANDS
from bot.model import Role
from bot.packs import load_pack_file
from bot.ratelimit import RateLimiter
from tests.conftest import DATA

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


async def test_pictures_are_saved_where_the_user_can_open_them(core, tmp_path):
    out = io.StringIO()
    console = ConsoleAdapter(core, out=out, pictures=tmp_path / "pictures")
    core.packs.add(load_pack_file(DATA / "dates.yaml"))
    await console.handle_line("/timeline dates")
    saved = tmp_path / "pictures" / "timeline-dates.png"
    assert saved.read_bytes().startswith(b"\x89PNG") and f"(saved as {saved})" in out.getvalue()
