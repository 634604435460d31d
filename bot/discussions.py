"""Discussions: a prompt where reasonable people differ, a poll, a place to
talk, and a closing summary that takes no side. Votes earn no points and are
never shown by name."""
from __future__ import annotations

import asyncio
import logging
import random

from .delivery import ChatUnavailable, Delivery
from .model import ChatRef, DiscussionMsg, PollEnd, Sent, Text, UserRef
from .packs import PackLibrary
from .packs.schema import Discussion, Pack
from .ports import AlreadyOpen, Clock, DiscussionRow, Store, StoreError
from .quiz import QuizError, QuizService

log = logging.getLogger(__name__)

DEFAULT_HOURS = 24.0
MAX_HOURS = 24 * 7
RECENT = 5


class DiscussionService:
    def __init__(self, store: Store, delivery: Delivery, clock: Clock, packs: PackLibrary,
                 quiz: QuizService, default_hours: float = DEFAULT_HOURS, seed: int | None = None):
        self.store, self.delivery, self.clock = store, delivery, clock
        self.packs, self.quiz = packs, quiz
        self.default_hours = default_hours
        self._rng = random.Random(seed)
        self._timers: dict[int, asyncio.Task] = {}

    # ---- finding prompts ----------------------------------------------------------

    def find(self, prompt_id: str) -> tuple[Pack, Discussion] | None:
        """A prompt by id, or by `pack:id` when two packs use the same id."""
        pack_id, _, wanted = prompt_id.rpartition(":")
        for pack in self.packs.packs():
            if pack_id and pack.id != pack_id:
                continue
            for d in pack.discussions:
                if d.id == wanted:
                    return pack, d
        return None

    def _all(self) -> list[tuple[Pack, Discussion]]:
        return [(p, d) for p in self.packs.packs() for d in p.discussions]

    def prompt_ids(self) -> str:
        return ", ".join(d.id for _, d in self._all()) or "none"

    def _find_or_explain(self, prompt_id: str) -> tuple[Pack, Discussion]:
        found = self.find(prompt_id)
        if found is None:
            raise QuizError(f"There is no discussion prompt {prompt_id[:64]!r}. "
                            f"Prompts: {self.prompt_ids()}.")
        return found

    async def _pick(self, chat_db: int) -> tuple[Pack, Discussion]:
        every = self._all()
        if not every:
            raise QuizError("No loaded pack has discussion prompts.")
        used = await self.store.used_prompts(chat_db)
        fresh = [(p, d) for p, d in every if (p.id, d.id) not in used]
        return self._rng.choice(fresh or every)

    # ---- opening --------------------------------------------------------------------

    async def open(self, chat: ChatRef, prompt_id: str | None, hours: float | None = None) -> int:
        """Post a discussion in the chat; its id. QuizError says why not."""
        hours = self.default_hours if hours is None else hours
        if not 0 < hours <= MAX_HOURS:
            raise QuizError(f"A discussion can run from a few minutes to {MAX_HOURS} hours.")
        chat_db = await self.store.chat_id(chat)
        if prompt_id:
            found = self._find_or_explain(prompt_id)
        else:
            found = await self._pick(chat_db)
        pack, d = found
        now = self.clock.now()
        try:
            discussion_id = await self.store.create_discussion(
                chat_db, chat.thread_id, pack.id, d.id, now, now + hours * 3600)
        except AlreadyOpen:
            raise QuizError("A discussion is already open here; it closes on its own, "
                            "or a moderator can end it with /discuss end.") from None
        sent = await self.delivery.send(chat, DiscussionMsg(discussion_id, d.prompt,
                                                            tuple(d.options), hours, pack.title))
        if sent is not None:
            await self.store.set_discussion_post(discussion_id, chat.platform, sent.message_id,
                                                 sent.refs)
        self._schedule_close(discussion_id, hours * 3600)
        return discussion_id

    def _schedule_close(self, discussion_id: int, seconds: float) -> None:
        async def close_later() -> None:
            if seconds > 0:
                await self.clock.sleep(seconds)
            try:
                await self.close(discussion_id)
            except StoreError:
                log.exception("discussion %s could not be closed", discussion_id)
        self._timers[discussion_id] = asyncio.create_task(close_later(),
                                                          name=f"discussion-{discussion_id}")

    async def restore(self) -> int:
        """After a restart: close what ran out while the bot was down, time the rest."""
        rows = await self.store.open_discussions()
        for row in rows:
            self._schedule_close(row.id, row.closes_at - self.clock.now())
        return len(rows)

    async def shutdown(self) -> None:
        for task in self._timers.values():
            task.cancel()
        await asyncio.gather(*self._timers.values(), return_exceptions=True)
        self._timers.clear()

    # ---- votes and talk -----------------------------------------------------------------

    async def vote(self, platform: str, poll: str, user: UserRef, option: int | None,
                   added: bool) -> str | None:
        row = await self.store.discussion_by_ref(platform, poll)
        if row is None:
            return None
        return await self._vote(row, user, option, added)

    async def vote_in_chat(self, chat: ChatRef, user: UserRef, option: int) -> str:
        row = await self.store.open_discussion(await self.store.chat_id(chat))
        if row is None:
            return "No discussion is open here."
        return await self._vote(row, user, option, True)

    async def _vote(self, row: DiscussionRow, user: UserRef, option: int | None, added: bool) -> str:
        found = self.find(f"{row.pack_id}:{row.prompt_id}")
        if row.status != "open" or found is None:
            return "This discussion is closed."
        user_db = await self.store.user_id(user.platform, user.user_id, user.name)
        if not added:
            await self.store.withdraw_vote(row.id, user_db, option)
            return "Vote taken back."
        if option is None or not 0 <= option < len(found[1].options):
            return f"Vote with a number from 1 to {len(found[1].options)}."
        await self.store.record_vote(row.id, user_db, option)
        return "Vote recorded (your latest vote counts)."

    async def took_part(self, platform: str, place: str, user: UserRef) -> bool:
        """Count a member who wrote under a discussion; true if `place` is one."""
        row = await self.store.discussion_by_ref(platform, place)
        if row is None or row.status != "open":
            return False
        user_db = await self.store.user_id(user.platform, user.user_id, user.name)
        await self.store.record_participant(row.id, user_db)
        return True

    # ---- closing ---------------------------------------------------------------------------

    async def end(self, chat: ChatRef) -> bool:
        row = await self.store.open_discussion(await self.store.chat_id(chat))
        if row is None:
            return False
        timer = self._timers.get(row.id)
        if timer is not None:
            timer.cancel()
        await self.close(row.id)
        return True

    async def close(self, discussion_id: int) -> None:
        self._timers.pop(discussion_id, None)
        row = await self.store.discussion(discussion_id)
        if row is None or row.status != "open":
            return
        chat = ChatRef(row.platform, row.chat_id, thread_id=row.thread_id)
        found = self.find(f"{row.pack_id}:{row.prompt_id}")
        options = found[1].options if found else []
        tally = await self.store.tally(row.id, len(options))
        await self.store.close_discussion(row.id, {"votes": list(tally.votes),
                                                   "participants": tally.participants})
        if row.message_id:
            await self.delivery.edit(chat, Sent(row.message_id), PollEnd(row.id))
        if found is None:
            log.warning("discussion %s closed; its pack %s is no longer loaded", row.id, row.pack_id)
            return
        try:
            await self.delivery.send(chat, summary(found[1], tally.votes, tally.participants))
            await self.quiz.ask_one(chat, found[0], found[1].questions)
        except ChatUnavailable:
            log.info("discussion %s closed; its chat is gone", row.id)

    # ---- reading --------------------------------------------------------------------------

    def perspectives(self, prompt_id: str) -> Text:
        _, d = self._find_or_explain(prompt_id)
        return Text("\n\n".join(_perspective(p) for p in d.perspectives), title=d.prompt)

    async def recent(self, chat: ChatRef) -> Text:
        rows = await self.store.recent_discussions(await self.store.chat_id(chat), RECENT)
        if not rows:
            return Text("No discussions here yet. A moderator can open one with /discuss.")
        blocks = []
        for row in rows:
            found = self.find(f"{row.pack_id}:{row.prompt_id}")
            prompt = found[1].prompt if found else row.prompt_id
            if row.status == "open" or not row.result:
                blocks.append(f"{prompt}\n  open now")
                continue
            options = found[1].options if found else []
            blocks.append(f"{prompt}\n" + _shares(options, row.result["votes"]) +
                          f"\n  {row.result['participants']} took part in the talk")
        return Text("\n\n".join(blocks), title="Recent discussions")


def summary(d: Discussion, votes: tuple[int, ...], participants: int) -> Text:
    voters = sum(votes)
    parts = [f"Votes ({voters} {'person' if voters == 1 else 'people'}):\n" + _shares(d.options, votes),
             f"{participants} {'member' if participants == 1 else 'members'} took part in the talk.",
             "The arguments on each side:",
             *(_perspective(p) for p in d.perspectives)]
    return Text("\n\n".join(parts), title=f"Discussion closed: {d.prompt}")


def _shares(options: list[str], votes: list[int] | tuple[int, ...]) -> str:
    total = sum(votes)
    lines = []
    for option, count in zip(options, votes):
        share = f"{100 * count / total:.0f}%" if total else "0%"
        lines.append(f"  {option}: {count} ({share})")
    return "\n".join(lines)


def _perspective(p) -> str:
    text = f"• {p.position}\n{p.argument}"
    if p.source:
        text += f"\n“{p.source}”"
    elif p.context:
        text += f"\n({p.context})"
    return text
