"""A scripted session piped through `run_bot.py` (console adapter), twice on one database."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"

# What Alice and Bob answer to each question of the mini pack.
ANSWERS = {
    "Where was the pact signed?": ["@alice Moscow", "@bob Tokyo", "@bob Moscow"],
    "In what year was the pact signed?": ["@alice 1941", "@bob 1942"],
    "The pact promised neutrality.": ["@alice true", "@bob b"],
}


def question_order(db: Path) -> list[str]:
    """The seeded draw, learnt from a round nobody answers."""
    out = run_console(db, "/quiz mini 3\n:wait\n:wait\n:wait\n").stdout
    return [line.split("): ", 1)[1] for line in out.splitlines() if line.startswith("Question ")]


def script(order: list[str]) -> str:
    lines = ["/packs", "/quiz nope", "/quiz mini 10000", "/quiz mini 3", "/quiz mini", "@carol"]
    for prompt in order:
        lines += ANSWERS[prompt] + [":wait"]
    return "\n".join(lines) + "\n"


def run_console(db: Path, script: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "run_bot.py"), "--db", str(db), "--packs", str(DATA),
         "--seed", "3", "--question-seconds", "0.4", "--pause-seconds", "0", *extra],
        input=script, capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_scripted_round_then_scores_survive_a_restart(tmp_path):
    order = question_order(tmp_path / "probe.sqlite3")
    assert sorted(order) == sorted(ANSWERS)
    db = tmp_path / "bot.sqlite3"
    first = run_console(db, script(order))
    out = first.stdout
    assert first.returncode == 0, first.stderr
    assert "mini - Mini pack (3 questions)" in out
    assert "There is no pack 'nope'" in out
    assert "must be from 1 to 3" in out
    assert "A round is already running here" in out
    assert "Question 1/3" in out and "Question 3/3" in out
    assert "Round over: Mini pack" in out
    assert "You already answered" in out  # Bob's second try at the pact's place
    assert "could not find an answer" in out  # Carol said nothing
    ranking = out.split("== Round over: Mini pack ==")[1].strip().splitlines()
    assert ranking[0].startswith("1. alice: ") and "(3/3 correct)" in ranking[0]
    assert ranking[1].startswith("2. bob: ") and "(0/3 correct)" in ranking[1]
    second = run_console(db, "/leaderboard\n@alice /me\n/leaderboard global\n")
    assert second.returncode == 0, second.stderr
    board = second.stdout.split("== Leaderboard ==")[1].split("\n\n")[0]
    first_board = out.split("== Round over: Mini pack ==")[1].split("\n\n")[0]
    assert [line.split(" (")[0] for line in board.strip().splitlines()] == \
        [line.split(" (")[0] for line in first_board.strip().splitlines()]
    assert "Answered: 3" in second.stdout


def _read_until(proc: subprocess.Popen, prefix: str, seconds: float) -> bool:
    """Read the bot's output until a line starts with prefix; never hang the suite."""
    import queue
    import threading
    import time
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            if lines.get(timeout=left).startswith(prefix):
                return True
        except queue.Empty:
            return False
    return False


def test_round_left_open_by_a_crash_is_closed_on_restart(tmp_path):
    db = tmp_path / "bot.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run_bot.py"), "--db", str(db), "--packs", str(DATA),
         "--question-seconds", "60"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        proc.stdin.write("/quiz mini 2\n")
        proc.stdin.flush()
        seen = _read_until(proc, "Question 1/2", seconds=30)
    finally:
        proc.kill()
        proc.wait()
    assert seen, "the round never started"
    again = run_console(db, "/packs\n")
    assert "interrupted when the bot restarted" in again.stdout


def test_unreadable_database_path_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = run_console(blocker / "bot.sqlite3", "/help\n")
    assert result.returncode == 2
    assert "error:" in result.stderr and "Traceback" not in result.stderr


def test_validate_command_reports_and_sets_exit_status(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\ntitle: X\nquestions:\n  - id: q\n    kind: choice\n")
    result = subprocess.run([sys.executable, str(ROOT / "run_bot.py"), "validate",
                             str(DATA / "mini.yaml"), str(bad)],
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 1
    assert "mini.yaml: ok: pack mini" in result.stdout
    assert f"{bad}:4:5: question q: missing field `prompt`" in result.stdout
