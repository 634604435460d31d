"""The article pack that ships in quizzes/: complete, answerable, quoted verbatim."""
import datetime as dt
from pathlib import Path

import pytest

from bot.matching import matches_any
from bot.packs import load_pack_file

ROOT = Path(__file__).resolve().parent.parent
PACK_FILE = ROOT / "quizzes" / "japan-ussr-1945.yaml"
ARTICLE = ROOT.parent / "shared" / "source" / "article-why-japan-accused-the-ussr-1945.txt"


@pytest.fixture(scope="module")
def result():
    return load_pack_file(PACK_FILE)


@pytest.fixture(scope="module")
def pack(result):
    assert result.ok, result.report()
    return result.pack


def test_validates_without_errors_or_warnings(result):
    assert result.errors == [] and result.warnings == []


def test_size_and_mix(pack):
    kinds = [q.kind for q in pack.questions]
    assert len(pack.questions) >= 45
    assert kinds.count("choice") > len(kinds) / 2
    assert kinds.count("true_false") >= 5 and kinds.count("typed") >= 5
    assert len(pack.events) >= 14
    assert len(pack.discussions) >= 6


def test_every_question_is_answerable_by_its_own_answer(pack):
    for q in pack.questions:
        if q.kind == "typed":
            assert all(matches_any(a, q.accepted) for a in q.accepted), q.id
        elif q.kind == "choice":
            assert q.answer_text in q.choices, q.id
        assert q.explanation.strip() and (q.source or q.context), q.id


def test_no_duplicate_prompts_and_context_is_a_minority(pack):
    prompts = [q.prompt.casefold() for q in pack.questions]
    assert len(prompts) == len(set(prompts))
    with_context = [q.id for q in pack.questions if q.context]
    assert len(with_context) < len(pack.questions) / 5


def test_events_dates_unique_and_required(pack):
    dates = [e.date for e in pack.events]
    assert len(dates) == len(set(dates))
    required = ["1941-04-13", "1941-06-22", "1941-08-10", "1945-02-11", "1945-04-05", "1945-05-08",
                "1945-08-08", "1945-08-09", "1945-08-16", "1945-08-17", "1945-09-02", "1945-09-03"]
    assert set(dt.date.fromisoformat(d) for d in required) <= set(dates)
    assert any(d.year == 1938 for d in dates) and any(d.year == 1939 for d in dates)


def test_related_ids_exist(pack):
    ids = {q.id for q in pack.questions}
    for e in pack.events:
        assert e.questions and set(e.questions) <= ids, e.title
    for d in pack.discussions:
        assert set(d.questions) <= ids, d.id
        assert 2 <= len(d.options) <= 5 and len(d.perspectives) >= 2, d.id


def test_our_own_text_uses_the_correct_names(pack):
    for q in pack.questions:
        own = f"{q.prompt} {q.explanation} {' '.join(q.choices or [])}"
        if "Kanokwan" in own:
            assert "garble" in own, q.id  # only where we explain the garble
        assert "Sato Naotake" not in own or "Japanese order" in own, q.id


def quotes(pack):
    for q in pack.questions:
        yield q.id, q.source
    for e in pack.events:
        yield str(e.date), e.source
    for d in pack.discussions:
        for p in d.perspectives:
            yield d.id, p.source


def test_every_quote_occurs_in_the_article(pack):
    if not ARTICLE.exists():
        pytest.skip(f"the article is not at {ARTICLE}; quotes not checked")
    article = " ".join(ARTICLE.read_text(encoding="utf-8").split())
    missing = [(where, quote) for where, quote in quotes(pack)
               if quote and " ".join(quote.split()) not in article]
    assert missing == []
