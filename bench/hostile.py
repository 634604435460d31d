"""Hostile packs: how long each takes to be refused and how much memory the
attempt needs at its peak (tracemalloc), including a 50 MB file on disk."""
from __future__ import annotations

import tempfile
import time
import tracemalloc
from pathlib import Path

from bench.common import header, row
from bot.packs import load_pack_bytes, load_pack_file
from tests.hostile_packs import HOSTILE  # the shapes the reliability tests upload


def refuse(load) -> tuple[float, float, bool]:
    tracemalloc.start()
    started = time.perf_counter()
    result = load()
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return elapsed, peak, result.pack is None and bool(result.errors)


def main() -> None:
    header("7. Hostile packs: refused, how fast, and peak memory while refusing")
    cases = {name: (lambda data=data: load_pack_bytes(data, "hostile.yaml"))
             for name, data in HOSTILE.items()}
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.yaml"
        with big.open("wb") as f:
            f.truncate(50 * 2**20)  # a 50 MB file
        cases["50 MB file"] = lambda: load_pack_file(big)
        for name, load in cases.items():
            elapsed, peak, refused = refuse(load)
            row(f"{name}: refused in (s) / peak MB {peak:.1f}", f"{elapsed:.3f}", "< 2",
                refused and elapsed < 2 and peak < 200)
