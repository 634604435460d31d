"""The pack loader: every problem at once, each with its line and column."""
import json
import textwrap
import time
from pathlib import Path

import pytest

from bot.packs import PackLibrary, load_pack_bytes, load_pack_file
from bot.packs.loader import MAX_BYTES
from bot.packs.schema import Pack

ROOT = Path(__file__).resolve().parent.parent

GOOD = """\
id: demo
title: Demo
questions:
  - id: q1
    kind: choice
    prompt: Where was the pact signed?
    choices: [Moscow, Tokyo]
    answer: Moscow
    explanation: In Moscow.
    source: in Moscow
"""


def load(text: str, name="pack.yaml"):
    return load_pack_bytes(textwrap.dedent(text).encode(), name)


def lines(result) -> list[str]:
    return [str(p) for p in result.errors]


def test_good_pack_loads():
    result = load(GOOD)
    assert result.ok and result.pack.id == "demo" and not result.errors


def test_every_problem_is_reported_with_its_line():
    result = load("""\
        id: demo
        title: Demo
        questions:
          - id: q1
            kind: choice
            prompt: Where?
            choices: [Moscow, Tokyo]
            answer: Berlin
            explanation: x
            source: y
          - id: q1
            kind: typed
            prmpt: What?
            answer: z
            explanation: x
            source: y
          - id: q3
            kind: choice
            prompt: One choice only?
            choices: [Alone]
            answer: Alone
            explanation: x
            source: y
          - id: q4
            kind: true_false
            prompt: Bad date?
            answer: true
            explanation: x
            source: y
            date: 1941-02-30
        events:
          - date: 1941-04-13
            title: Signed
            text: Signed.
            questions: [q1, q9]
        """)
    assert result.pack is None
    assert lines(result) == [
        "pack.yaml:4:5: question q1: the answer 'Berlin' is not among the choices",
        "pack.yaml:11:5: question q1: missing field `prompt`",
        "pack.yaml:11:9: question q1: duplicate question id `q1`",
        "pack.yaml:13:5: question q1: unknown key `prmpt` (did you mean `prompt`?)",
        "pack.yaml:17:5: question q3: a choice question needs 2 to 12 choices, not 1",
        "pack.yaml:30:11: question q4: `date`: Input should be a valid date or datetime, "
        "day value is outside expected range",
        "pack.yaml:35:21: event 1941-04-13: related question `q9` does not exist",
    ]


def test_more_than_twelve_choices():
    choices = ", ".join(f"C{i}" for i in range(13))
    result = load(GOOD.replace("[Moscow, Tokyo]", f"[Moscow, {choices}]"))
    assert lines(result) == ["pack.yaml:4:5: question q1: a choice question needs 2 to 12 choices, not 14"]


def test_missing_top_level_fields():
    result = load("id: demo\n")
    assert "pack.yaml:1:1: missing field `title`" in lines(result)
    assert "pack.yaml:1:1: missing field `questions`" in lines(result)


def test_syntax_error_has_position():
    result = load("id: demo\ntitle: [unclosed\nquestions: []\n")
    assert result.pack is None
    assert lines(result)[0].startswith("pack.yaml:3:")
    assert "YAML syntax" in lines(result)[0]


@pytest.mark.parametrize("text, message", [
    ("!!python/object/apply:os.system ['echo hacked']", "unsupported YAML tag"),
    ("id: !!python/name:os.system\n", "unsupported YAML value"),
    ("a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
     "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
     "expands to more than"),
    ("a: " + "[" * 100 + "]" * 100 + "\n", "nested deeper than"),
    ("<<: {a: 1}\nid: x\n", "merge keys"),
    ("id: a\nid: b\n", "appears twice"),
    ("", "the file is empty"),
    ("- just\n- a list\n", "a pack must be a mapping"),
])
def test_hostile_or_malformed_yaml_is_refused(text, message):
    started = time.perf_counter()
    result = load_pack_bytes(text.encode(), "bad.yaml")
    assert result.pack is None
    assert message in result.report()
    assert result.errors[0].file == "bad.yaml"
    assert time.perf_counter() - started < 5


def test_binary_non_utf8_and_oversized_files(tmp_path):
    assert "not UTF-8" in load_pack_bytes(b"id: caf\xe9\n", "latin1.yaml").report()
    assert "binary data" in load_pack_bytes(b"\x00\x01\x02garbage", "bin.yaml").report()
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_BYTES + 1))
    assert "the limit is" in load_pack_file(big).report()
    assert "cannot read file" in load_pack_file(tmp_path / "missing.yaml").report()


def test_poll_limits_warn_but_load():
    long_prompt = "Why " + "really " * 60 + "?"
    result = load(GOOD.replace("Where was the pact signed?", long_prompt))
    assert result.ok
    assert [str(w) for w in result.warnings] == [
        "pack.yaml:4:5: question q1: warning: question over 300 characters: "
        "it will be asked with buttons instead"]


def test_red_trivia_list_loads_as_typed_questions():
    result = load_pack_bytes(
        b"AUTHOR: Someone\nCONFIG:\n  timeout: 20\nWhen was the pact signed?:\n- 1941\n- April 1941\n"
        b"Who was foreign minister?:\n- Yosuke Matsuoka\n", "red_list.yaml")
    assert result.ok, result.report()
    pack = result.pack
    assert pack.id == "red_list" and len(pack.questions) == 2
    q = pack.questions[0]
    assert q.kind == "typed" and q.answer == "1941" and q.accept == ["April 1941"]


def test_library_rejects_broken_pack_whole_and_replaces_atomically(tmp_path):
    library = PackLibrary()
    library.add(load(GOOD))
    broken = load(GOOD.replace("answer: Moscow", "answer: Paris"))
    with pytest.raises(ValueError):
        library.add(broken)
    assert library.get("demo").questions[0].answer == "Moscow"
    library.add(load(GOOD.replace("Where was the pact signed?", "Where was it signed?")))
    assert library.get("demo").questions[0].prompt == "Where was it signed?"
    assert library.ids() == ["demo"]


def test_load_dir_skips_broken_files(tmp_path):
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text("id: [\n")
    library = PackLibrary()
    results = library.load_dir(tmp_path)
    assert library.ids() == ["demo"]
    assert [r.ok for r in results] == [False, True]


def test_checked_in_json_schema_matches_the_models():
    checked_in = json.loads((ROOT / "quizzes" / "pack.schema.json").read_text())
    assert checked_in == Pack.model_json_schema(), "run `make schema` to regenerate"


def test_unquoted_comma_in_a_choice_gets_a_hint():
    result = load(GOOD.replace("[Moscow, Tokyo]", "[Moscow, in Russia, Tokyo]")
                  .replace("answer: Moscow", "answer: Moscow, in Russia"))
    assert "put the choice in quotes" in result.report()
