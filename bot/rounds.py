"""A quiz round's state and rules: drawing questions, judging, scoring."""
from __future__ import annotations

import asyncio
import random
import string
from dataclasses import dataclass, field

from . import matching
from .model import ChatRef, QuestionMsg, Sent, UserRef
from .packs.schema import Pack, Question

BASE_POINTS = 10
MAX_SPEED_BONUS = 5
MAX_ROUND_QUESTIONS = 50


@dataclass
class Result:
    name: str
    correct: bool
    points: int


@dataclass
class OpenQuestion:
    question: Question
    msg: QuestionMsg
    opened_at: float
    sent: Sent | None = None
    # user key -> Result, or None while the answer is being committed
    answers: dict[tuple[str, str], Result | None] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    # Set whenever no answer is in the middle of its commit.
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    committing: int = 0

    def __post_init__(self) -> None:
        self.settled.set()

    @property
    def closed(self) -> bool:
        return self.done.is_set()


@dataclass
class Score:
    name: str
    points: int = 0
    correct: int = 0


@dataclass
class Round:
    id: int
    chat: ChatRef
    chat_db_id: int
    pack: Pack
    questions: list[Question]
    choices: list[tuple[str, ...]]
    seconds: float
    started_by: UserRef
    current: OpenQuestion | None = None
    scores: dict[tuple[str, str], Score] = field(default_factory=dict)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    stopped_by: str | None = None
    task: asyncio.Task | None = None

    def question_msg(self, index: int) -> QuestionMsg:
        q = self.questions[index]
        choices = self.choices[index]
        correct = choices.index(q.answer_text) if q.kind != "typed" else None
        return QuestionMsg(
            round_id=self.id, index=index, total=len(self.questions), kind=q.kind,
            prompt=q.prompt, choices=choices, correct_index=correct, seconds=self.seconds,
            explanation=q.explanation, native_poll_ok=not q.poll_problems())

    def add_score(self, user: UserRef, result: Result) -> None:
        score = self.scores.setdefault(user.key, Score(user.name))
        score.points += result.points
        score.correct += result.correct

    def ranking(self) -> list[Score]:
        return sorted(self.scores.values(), key=lambda s: (-s.points, -s.correct, s.name))


def draw(pack: Pack, count: int, rng: random.Random, chosen: list[Question] | None = None
         ) -> tuple[list[Question], list[tuple[str, ...]]]:
    """`count` questions without repeats (or the `chosen` ones), each with its
    choices shuffled."""
    questions = list(chosen) if chosen else rng.sample(pack.questions, count)
    choices = []
    for q in questions:
        if q.kind == "choice":
            shuffled = list(q.choices or [])
            rng.shuffle(shuffled)
            choices.append(tuple(shuffled))
        elif q.kind == "true_false":
            choices.append(("True", "False"))
        else:
            choices.append(())
    return questions, choices


def points_for(correct: bool, elapsed: float, seconds: float) -> int:
    """Points for a correct answer, plus up to MAX_SPEED_BONUS for a fast one."""
    if not correct:
        return 0
    left = max(0.0, 1.0 - elapsed / seconds) if seconds > 0 else 0.0
    return BASE_POINTS + round(MAX_SPEED_BONUS * left)


def choice_from_text(text: str, choices: tuple[str, ...]) -> int | None:
    """A typed reply to a choice question: a letter, a number or the choice's text."""
    t = text.strip().rstrip(").").strip()
    letters = string.ascii_uppercase[: len(choices)]
    if len(t) == 1 and t.upper() in letters:
        return letters.index(t.upper())
    if t.isdigit() and 1 <= int(t) <= len(choices):
        return int(t) - 1
    wanted = matching.normalise(t)
    for i, choice in enumerate(choices):
        if matching.normalise(choice) == wanted:
            return i
    return None


def judge_text(question: Question, text: str) -> bool:
    return matching.matches_any(text, question.accepted)
