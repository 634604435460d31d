"""The quiz pack format, as pydantic models.

`quizzes/pack.schema.json` is generated from these models (see
`python run_bot.py schema`), so editors can autocomplete packs.
"""
from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

# Telegram's limits for a native quiz poll; past them a question is asked with buttons.
POLL_QUESTION_MAX = 300
POLL_OPTION_MAX = 100
POLL_EXPLANATION_MAX = 200
MIN_CHOICES, MAX_CHOICES = 2, 12

Id = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class Strict(BaseModel):
    # forbid: an unknown key is almost always a typo of a known one.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SourceRef(Strict):
    title: str = Field(min_length=1)
    author: str | None = None
    publisher: str | None = None
    date: dt.date | None = None
    url: str | None = None


class Question(Strict):
    id: str = Id
    kind: Literal["choice", "true_false", "typed"]
    prompt: str = Field(min_length=1, max_length=1000)
    choices: list[str] | None = None
    answer: str | bool | int | float
    accept: list[str] = Field(default_factory=list, description="Other accepted typed answers")
    explanation: str = Field(min_length=1, max_length=1000)
    source: str | None = Field(None, description="A short verbatim quote from the pack's source")
    context: str | None = Field(None, description="Where a fact not in the source comes from")
    tags: list[str] = Field(default_factory=list)
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    date: dt.date | None = None

    @model_validator(mode="after")
    def _kind_fits(self) -> "Question":
        if self.kind == "choice":
            self._check_choices()
        elif self.kind == "true_false":
            if not isinstance(self.answer, bool):
                raise ValueError("a true_false question needs `answer: true` or `answer: false`")
            if self.choices:
                raise ValueError("a true_false question takes no `choices`")
        else:
            if self.choices:
                raise ValueError("a typed question takes no `choices`; put other answers in `accept`")
            if isinstance(self.answer, bool):
                raise ValueError("a typed question needs the answer as text, not true/false")
            if not str(self.answer).strip():
                raise ValueError("the answer is empty")
        if not self.source and not self.context:
            raise ValueError("give a `source` quote or, for facts outside the source, a `context` note")
        return self

    def _check_choices(self) -> None:
        choices = self.choices or []
        if not MIN_CHOICES <= len(choices) <= MAX_CHOICES:
            raise ValueError(f"a choice question needs {MIN_CHOICES} to {MAX_CHOICES} choices, "
                             f"not {len(choices)}")
        if len({c.casefold() for c in choices}) != len(choices):
            raise ValueError("two choices are the same")
        answer = str(self.answer)
        if answer not in choices:
            hint = ""
            if "," in answer and answer.split(",")[0].strip() in choices:
                hint = " (a comma inside [...] starts a new choice: put the choice in quotes)"
            raise ValueError(f"the answer {answer!r} is not among the choices{hint}")

    @property
    def answer_text(self) -> str:
        if self.kind == "true_false":
            return "True" if self.answer else "False"
        return str(self.answer)

    @property
    def accepted(self) -> list[str]:
        return [self.answer_text, *self.accept]

    def poll_problems(self) -> list[str]:
        """Why this question cannot be a native Telegram quiz poll (empty if it can)."""
        if self.kind == "typed":
            return []
        problems = []
        if len(self.prompt) > POLL_QUESTION_MAX:
            problems.append(f"question over {POLL_QUESTION_MAX} characters")
        if any(len(c) > POLL_OPTION_MAX for c in self.choices or []):
            problems.append(f"an option over {POLL_OPTION_MAX} characters")
        if len(self.explanation) > POLL_EXPLANATION_MAX:
            problems.append(f"explanation over {POLL_EXPLANATION_MAX} characters")
        return problems


class Event(Strict):
    date: dt.date
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=1500)
    source: str | None = None
    context: str | None = None
    questions: list[str] = Field(default_factory=list, description="Related question ids")


class Perspective(Strict):
    position: str = Field(min_length=1, max_length=300)
    argument: str = Field(min_length=1, max_length=1500)
    source: str | None = None
    context: str | None = None


class Discussion(Strict):
    id: str = Id
    prompt: str = Field(min_length=1, max_length=300)
    options: list[str] = Field(min_length=2, max_length=10)
    perspectives: list[Perspective] = Field(min_length=2)
    questions: list[str] = Field(default_factory=list, description="Related question ids")

    @field_validator("options")
    @classmethod
    def _options_fit_polls(cls, options: list[str]) -> list[str]:
        too_long = [o for o in options if len(o) > POLL_OPTION_MAX]
        if too_long:
            raise ValueError(f"poll options must be at most {POLL_OPTION_MAX} characters")
        return options


class Pack(Strict):
    id: str = Id
    title: str = Field(min_length=1, max_length=200)
    language: str = Field("en", min_length=2, max_length=16)
    description: str = ""
    sources: list[SourceRef] = Field(default_factory=list)
    questions: list[Question] = Field(min_length=1)
    events: list[Event] = Field(default_factory=list)
    discussions: list[Discussion] = Field(default_factory=list)

    _by_id: dict[str, Question] = PrivateAttr(default_factory=dict)

    def model_post_init(self, _context) -> None:
        self._by_id = {q.id: q for q in self.questions}

    def question(self, question_id: str) -> Question | None:
        return self._by_id.get(question_id)
