"""`make bench`: every figure of the benchmarks, one table, each row with its
goal and `ok` or `MISS`. Medians of several runs; ratios from one run.

    python -m bench              all of them (a few minutes)
    python -m bench ingest ...   only the named parts: ingest boards packs broadcast startup hostile
"""
from __future__ import annotations

import logging
import sys
import time

from bench import boards, broadcast, common, hostile, ingest, packs, startup

PARTS = {"ingest": ingest.main, "boards": boards.main, "packs": packs.main,
         "broadcast": broadcast.main, "startup": startup.main, "hostile": hostile.main}


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in PARTS]
    if unknown:
        print(f"unknown part(s): {', '.join(unknown)}; choose from {', '.join(PARTS)}")
        return 2
    # The broadcast's control run fails on purpose thousands of times; its log is noise.
    logging.disable(logging.CRITICAL)
    started = time.perf_counter()
    print(f"{'figure':<58} {'value':>16} {'goal':>12}  ok?")
    for name in names or list(PARTS):
        PARTS[name]()
    print(f"\n(runs per figure: {common.RUNS}; took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
