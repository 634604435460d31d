"""Pack loading: a big generated pack, and a pack full of errors."""
from __future__ import annotations

from bench.common import RUNS, header, median, row, timed
from bot.packs import load_pack_bytes


def generated_pack(questions: int, broken: bool) -> bytes:
    lines = ["id: gen", "title: Generated", "questions:"]
    for i in range(questions):
        answer = "Z" if broken else "A"  # "Z" is not among the choices: one error each
        lines += [f"  - id: q{i}", "    kind: choice", f"    prompt: Question {i}?",
                  "    choices: [A, B, C]", f"    answer: {answer}", "    explanation: x",
                  "    source: y"]
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    header("3. Pack loading")
    good, bad = generated_pack(10_000, broken=False), generated_pack(1_000, broken=True)
    result = load_pack_bytes(bad, "gen.yaml")
    assert len(result.errors) == 1_000, len(result.errors)
    load = median(timed(load_pack_bytes, good, "gen.yaml") for _ in range(RUNS))
    row("load + validate a 10,000-question pack (s)", f"{load:.2f}", "< 1", load < 1)
    report = median(timed(lambda: load_pack_bytes(bad, "gen.yaml").report()) for _ in range(RUNS))
    row("error report of a pack with 1,000 errors (s)", f"{report:.2f}", "< 2", report < 2)
