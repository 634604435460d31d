"""Kill the bot with SIGKILL twenty times while members answer and schedules
come round, restart it on the same database each time, and check that nothing
acknowledged was lost, nothing counted twice, no schedule lost or fired twice,
and no round left hanging."""
from __future__ import annotations

import asyncio
import random
import sys
import time
from collections import Counter

from storage.sqlite import SqliteStore
from tests.conftest import ROOT

KILLS = 20


async def run_child(db, t0: float, *extra: str):
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.crash_child", str(db), str(t0), *extra, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def read_lines(proc, lines: list[str]) -> None:
    while True:
        line = await proc.stdout.readline()
        if not line:
            return
        if line.endswith(b"\n"):  # a line cut by the kill is not a report
            lines.append(line.decode().strip())


async def test_sigkill_twenty_times_loses_nothing(tmp_path):
    db, t0, rng = tmp_path / "crash.sqlite3", time.time(), random.Random(20)
    lines: list[str] = []
    for kill in range(KILLS):
        proc = await run_child(db, t0)
        reader = asyncio.ensure_future(read_lines(proc, lines))
        started = len(lines)
        deadline = time.monotonic() + 30
        while "READY" not in lines[started:]:
            assert proc.returncode is None, (await proc.stderr.read()).decode()
            assert time.monotonic() < deadline, "the bot did not start"
            await asyncio.sleep(0.01)
        await asyncio.sleep(rng.uniform(0.2, 1.2))  # a random moment, mid-work
        proc.kill()
        await proc.wait()
        await reader
        assert proc.returncode == -9

    check = await run_child(db, t0, "check")
    out, err = await asyncio.wait_for(check.communicate(), timeout=60)
    final = out.decode().splitlines()
    assert check.returncode == 0, err.decode()
    assert "OPEN 0" in final  # every round left open by a kill was closed on start
    lines += final

    acks = [tuple(line.split()[1:]) for line in lines if line.startswith("ACK ")]
    claims = [tuple(line.split()[1:]) for line in lines if line.startswith("CLAIM ")]
    # One Text per on-this-day post (a picture may follow it).
    posts = Counter(line.split()[1] for line in lines
                    if line.startswith("POST s") and line.endswith(" Text"))
    notes = sum(1 for line in lines if line.endswith(" interrupted"))
    assert len(acks) > 200 and len(claims) >= KILLS, (len(acks), len(claims))

    store = await SqliteStore.open(db)
    try:
        assert await store.integrity_check() == "ok"
        for round_id, index, user in acks:  # every acknowledged answer is stored ...
            user_db = await store.user_id("crash", user, "")
            assert await store.has_answer(int(round_id), int(index), user_db), (round_id, index, user)
        assert len(set(acks)) == len(acks)  # ... acknowledged once ...
        assert await store.totals_mismatches() == []  # ... and counted once in every total
        statuses = await store.round_statuses()
        assert statuses.get("open", 0) == 0
        assert statuses.get("interrupted", 0) == notes  # and each chat was told
        schedules = await store.schedules()
        assert len(schedules) == 3 and not any(s.paused for s in schedules)  # none lost
        assert len(set(claims)) == len(claims)  # no due time claimed twice
        claimed = Counter(next(s.chat_id for s in schedules if str(s.id) == sid) for sid, _ in claims)
        for chat_id, count in posts.items():
            # A kill between a claim and its post loses that one post; none is doubled.
            assert count <= claimed[chat_id], (chat_id, count, claimed[chat_id])
    finally:
        await store.close()
