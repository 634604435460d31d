"""Runs quiz rounds: one per chat, questions on a timer, answers committed
before they are acknowledged."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random

from . import matching
from .delivery import ChatUnavailable, Delivery
from .model import ChatRef, RankRow, Ranking, Reveal, Text, UserRef
from .packs.schema import Pack, Question
from .ports import AlreadyAnswered, AnswerRecord, Clock, Store, StoreError
from .rounds import (MAX_ROUND_QUESTIONS, OpenQuestion, Result, Round, choice_from_text,
                     draw, judge_text, points_for)

log = logging.getLogger(__name__)

CLOSED = "This question is closed."
ALREADY = "You already answered this question."
RECORDED = "Answer recorded."
NOT_SAVED = "Sorry, your answer could not be saved. Please try again."
BOT_USER_ID = "history-bot"


class QuizError(Exception):
    """A request the quiz cannot carry out; the message is shown to the user."""


class QuizService:
    def __init__(self, store: Store, delivery: Delivery, clock: Clock, *,
                 default_seconds: float = 20.0, pause_seconds: float = 2.0,
                 seed: int | None = None):
        self.store, self.delivery, self.clock = store, delivery, clock
        self.default_seconds = default_seconds
        self.pause_seconds = pause_seconds
        self._rng = random.Random(seed)
        self._rounds: dict[tuple[str, str], Round] = {}
        self._starting: set[tuple[str, str]] = set()

    # ---- starting and stopping -------------------------------------------

    def current(self, chat: ChatRef) -> Round | None:
        return self._rounds.get(chat.key)

    async def start(self, chat: ChatRef, user: UserRef, pack: Pack, count: int | None,
                    questions: list[Question] | None = None) -> Round:
        """Start a round of `count` drawn questions, or of exactly `questions`."""
        if chat.key in self._rounds or chat.key in self._starting:
            raise QuizError("A round is already running here. Answer it, or /stop it first.")
        most = min(len(pack.questions), MAX_ROUND_QUESTIONS)
        count = len(questions) if questions else (min(5, most) if count is None else count)
        if not 1 <= count <= most:
            raise QuizError(f"The number of questions must be from 1 to {most} for pack {pack.id}.")
        # Claimed before the first await, so two /quiz at once cannot both start.
        self._starting.add(chat.key)
        try:
            rnd = await self._create(chat, user, pack, count, questions)
        finally:
            self._starting.discard(chat.key)
        self._rounds[chat.key] = rnd
        rnd.task = asyncio.create_task(self._run(rnd), name=f"round-{rnd.id}")
        return rnd

    def bot_user(self, chat: ChatRef) -> UserRef:
        """Who starts the rounds that schedules and discussions start."""
        return UserRef(chat.platform, BOT_USER_ID, "History bot")

    async def ask_one(self, chat: ChatRef, pack: Pack, question_ids: list[str]) -> None:
        """A one-question round on the first of `question_ids` the pack has, as a
        follow-up; nothing when none exists or a round is already running."""
        question = next((pack.question(q) for q in question_ids if pack.question(q)), None)
        if question is None:
            return
        try:
            await self.start(chat, self.bot_user(chat), pack, 1, questions=[question])
        except (QuizError, StoreError) as exc:
            log.info("no follow-up question in %s: %s", chat.key, exc)

    async def _create(self, chat: ChatRef, user: UserRef, pack: Pack, count: int,
                      chosen: list[Question] | None) -> Round:
        chat_db = await self.store.chat_id(chat)
        settings = await self.store.chat_settings(chat_db)
        seconds = settings.question_seconds or self.default_seconds
        seed = self._rng.randrange(2**31)
        questions, choices = draw(pack, count, random.Random(seed), chosen)
        starter_db = await self._user_db(user)
        round_id = await self.store.create_round(chat_db, chat.thread_id, pack.id, starter_db,
                                                 [q.id for q in questions], seed)
        return Round(round_id, chat, chat_db, pack, questions, choices, seconds, user)

    def stop(self, chat: ChatRef, user: UserRef, is_moderator: bool) -> None:
        rnd = self._rounds.get(chat.key)
        if rnd is None:
            raise QuizError("No round is running here.")
        if rnd.started_by.key != user.key and not is_moderator:
            raise QuizError("Only the member who started the round or a moderator can stop it.")
        rnd.stopped_by = user.name
        rnd.stop.set()

    async def wait_idle(self, chat: ChatRef) -> None:
        rnd = self._rounds.get(chat.key)
        if rnd and rnd.task:
            await asyncio.shield(rnd.task)

    async def wait_question_closed(self, chat: ChatRef) -> None:
        """Wait until the question open now is closed (or the round is over)."""
        rnd = self._rounds.get(chat.key)
        if rnd is not None and rnd.current is not None:
            await rnd.current.done.wait()

    async def shutdown(self) -> None:
        tasks = [r.task for r in self._rounds.values() if r.task]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def recover(self) -> int:
        """Close rounds a previous run left open, telling their chats."""
        stale = await self.store.open_rounds()
        for r in stale:
            await self.store.close_round(r.round_id, "interrupted")
            chat = ChatRef(r.platform, r.chat_id, thread_id=r.thread_id)
            note = Text("The quiz round here was interrupted when the bot restarted. "
                        "Answers given before are kept in the scores. Start a new one with /quiz.")
            try:
                await self.delivery.send(chat, note)
            except ChatUnavailable:
                log.warning("chat %s:%s is gone; its interrupted round was closed",
                            r.platform, r.chat_id)
        return len(stale)

    # ---- the round loop -----------------------------------------------------

    async def _run(self, rnd: Round) -> None:
        status = "finished"
        try:
            for index in range(len(rnd.questions)):
                await self._ask(rnd, index)
                await self._wait(rnd, rnd.seconds)
                await self._close_question(rnd)
                if rnd.stop.is_set():
                    status = "stopped"
                    break
                if index + 1 < len(rnd.questions):
                    await self._wait(rnd, self.pause_seconds)
        except ChatUnavailable:
            status = "chat unavailable"
        except asyncio.CancelledError:
            status = "interrupted"
            raise
        except Exception:
            log.exception("round %s failed", rnd.id)
            status = "failed"
        finally:
            if rnd.current:
                rnd.current.done.set()
            try:
                await self._finish(rnd, status)
            finally:
                self._rounds.pop(rnd.chat.key, None)

    async def _ask(self, rnd: Round, index: int) -> None:
        msg = rnd.question_msg(index)
        rnd.current = OpenQuestion(rnd.questions[index], msg, self.clock.now())
        rnd.current.sent = await self.delivery.send(rnd.chat, msg)

    async def _wait(self, rnd: Round, seconds: float) -> None:
        if seconds <= 0 or rnd.stop.is_set():
            return
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        stopper = asyncio.ensure_future(rnd.stop.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()

    async def _close_question(self, rnd: Round) -> None:
        q = rnd.current
        q.done.set()
        # Answers accepted before the close are still committing: reveal after them.
        try:
            await asyncio.wait_for(q.settled.wait(), timeout=10)
        except asyncio.TimeoutError:
            log.warning("round %s: answers still committing at the reveal", rnd.id)
        winners = tuple(r.name for r in q.answers.values() if r and r.correct)
        source = q.question.source
        reveal = Reveal(rnd.id, q.msg.index, q.msg, q.question.answer_text, winners,
                        q.question.explanation, source,
                        rnd.pack.sources[0].title if source and rnd.pack.sources else None)
        await self.delivery.edit(rnd.chat, q.sent, reveal)

    async def _finish(self, rnd: Round, status: str) -> None:
        if status == "interrupted":
            return  # left open: the next start closes it and tells the chat
        try:
            await self.store.close_round(rnd.id, status)
        except StoreError:
            log.exception("could not close round %s", rnd.id)
        title = f"Round over: {rnd.pack.title}"
        if rnd.stopped_by:
            title = f"Round stopped by {rnd.stopped_by}: {rnd.pack.title}"
        rows = tuple(RankRow(i, s.name, s.points, f"{s.correct}/{len(rnd.questions)} correct")
                     for i, s in enumerate(rnd.ranking(), start=1))
        try:
            await self.delivery.send(rnd.chat, Ranking(title, rows, "Nobody answered correctly."))
        except ChatUnavailable:
            pass

    # ---- answers ------------------------------------------------------------

    def _open_question(self, chat: ChatRef, round_id: int | None, index: int | None):
        rnd = self._rounds.get(chat.key)
        q = rnd.current if rnd else None
        if q is None or q.closed:
            return rnd, None
        if round_id is not None and (rnd.id != round_id or q.msg.index != index):
            return rnd, None
        return rnd, q

    async def answer_choice(self, chat: ChatRef, user: UserRef, round_id: int, index: int,
                            choice: int) -> str:
        rnd, q = self._open_question(chat, round_id, index)
        if q is None:
            return CLOSED
        if not 0 <= choice < len(q.msg.choices):
            return "That is not one of this question's choices."
        return await self._record(rnd, q, user, q.msg.choices[choice], choice == q.msg.correct_index)

    async def answer_text(self, chat: ChatRef, user: UserRef, text: str) -> str | None:
        """A typed answer to whatever is open. None when nothing is open."""
        rnd, q = self._open_question(chat, None, None)
        if q is None:
            return None
        if len(text) > matching.MAX_ANSWER_CHARS:
            return f"That answer is too long ({matching.MAX_ANSWER_CHARS} characters at most); it was not counted."
        if not matching.readable(text):
            return "I could not find an answer in that (no letters or digits); it was not counted."
        if q.msg.kind == "typed":
            return await self._record(rnd, q, user, text.strip(), judge_text(q.question, text))
        choice = choice_from_text(text, q.msg.choices)
        if choice is None:
            letters = "/".join(chr(65 + i) for i in range(len(q.msg.choices)))
            return f"Answer with {letters}, the choice's number, or its text."
        return await self._record(rnd, q, user, q.msg.choices[choice], choice == q.msg.correct_index)

    async def _record(self, rnd: Round, q: OpenQuestion, user: UserRef, answer: str,
                      correct: bool) -> str:
        if user.key in q.answers:
            return ALREADY
        q.answers[user.key] = None  # reserved while the commit runs
        points = points_for(correct, self.clock.now() - q.opened_at, rnd.seconds)
        q.committing += 1
        q.settled.clear()
        try:
            user_db = await self._user_db(user)
            await self.store.record_answer(AnswerRecord(
                rnd.id, q.msg.index, rnd.chat_db_id, user_db, answer[:matching.MAX_ANSWER_CHARS],
                correct, points, self.week()))
        except AlreadyAnswered:
            return ALREADY
        except StoreError:
            log.exception("answer of %s in round %s not saved", user.key, rnd.id)
            del q.answers[user.key]
            return NOT_SAVED
        finally:
            q.committing -= 1
            if q.committing == 0:
                q.settled.set()
        result = Result(user.name, correct, points)
        q.answers[user.key] = result
        rnd.add_score(user, result)
        return RECORDED

    async def _user_db(self, user: UserRef) -> int:
        return await self.store.user_id(user.platform, user.user_id, user.name)

    def week(self) -> str:
        year, week, _ = dt.datetime.fromtimestamp(self.clock.now(), dt.timezone.utc).isocalendar()
        return f"{year}-W{week:02d}"
