"""What every benchmark shares: the table row, medians, temporary stores."""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RUNS = 3
ARTICLE = ROOT / "quizzes" / "japan-ussr-1945.yaml"


def row(name: str, value: str, goal: str = "-", ok: bool | None = None) -> None:
    verdict = "" if ok is None else "ok" if ok else "MISS"
    print(f"{name:<58} {value:>16} {goal:>12}  {verdict}", flush=True)


def header(title: str) -> None:
    print(f"\n{title}", flush=True)


def median(values) -> float:
    return statistics.median(values)


def timed(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started
