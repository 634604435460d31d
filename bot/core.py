"""The core: takes platform-neutral events, checks who may do what, and
answers with platform-neutral messages. Adapters call `Core.handle`."""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Awaitable, Callable

from . import sanitize
from .delivery import Delivery
from .discussions import DEFAULT_HOURS, DiscussionService
from .model import (ChoiceAnswer, Command, Document, Event, Message, OutMessage, Picture,
                    PollVote, RankRow, Ranking, Role, Text)
from .schedules import KINDS, USAGE as SCHEDULE_USAGE, ScheduleService
from .timeline import Timeline
from .when import WhenError
from .packs import PackLibrary, load_pack_bytes
from .packs.loader import MAX_BYTES
from .ports import Clock, RealClock, Store, StoreError
from .quiz import RECORDED, QuizError, QuizService
from .ratelimit import RateLimiter

log = logging.getLogger(__name__)

MAX_ARGS_CHARS = 500
REPORT_INLINE_LINES = 15

Handler = Callable[["Core", Command], Awaitable[list[OutMessage]]]


@dataclass(frozen=True)
class CommandSpec:
    name: str
    role: Role
    usage: str
    help: str
    handler: Handler


class Core:
    def __init__(self, store: Store, packs: PackLibrary, delivery: Delivery | None = None,
                 clock: Clock | None = None, *, default_pack: str | None = None,
                 question_seconds: float = 20.0, pause_seconds: float = 2.0,
                 discussion_hours: float = DEFAULT_HOURS, grace_seconds: float = 3600.0,
                 seed: int | None = None):
        self.store, self.packs = store, packs
        self.delivery = delivery or Delivery()
        self.clock = clock or RealClock()
        self.default_pack = default_pack
        self.quiz = QuizService(store, self.delivery, self.clock, default_seconds=question_seconds,
                                pause_seconds=pause_seconds, seed=seed)
        self.discussions = DiscussionService(store, self.delivery, self.clock, packs, self.quiz,
                                             discussion_hours, seed=seed)
        self.timeline = Timeline()
        self.schedules = ScheduleService(store, self.delivery, self.clock, packs, self.quiz,
                                         self.discussions, self.timeline,
                                         grace_seconds=grace_seconds)
        self.commands: dict[str, CommandSpec] = {c.name: c for c in COMMANDS}
        self.limiter = RateLimiter(self.clock)

    async def start(self) -> None:
        interrupted = await self.quiz.recover()
        if interrupted:
            log.info("closed %d round(s) left open by the last run", interrupted)
        await self.discussions.restore()
        await self.schedules.start()

    async def stop(self) -> None:
        await self.schedules.stop()
        await self.discussions.shutdown()
        await self.quiz.shutdown()

    # ---- events ---------------------------------------------------------------

    async def handle(self, event: Event) -> list[OutMessage]:
        """Everything an adapter passes in comes through here; the replies go back
        to the event's author (ephemeral where marked)."""
        event = _cleaned(event)
        if isinstance(event, Message) and not event.addressed and not event.text.strip():
            # A platform that hides message text (Discord without the Message
            # Content intent) still says who wrote where: that counts as taking
            # part in a discussion, and costs the member nothing of their limit.
            if event.place:
                await self.discussions.took_part(event.chat.platform, event.place, event.user)
            return []
        if not self.limiter.allow(event.user.key):
            return self._slow_down(event.user.key)
        try:
            if isinstance(event, PollVote):
                await self.discussions.vote(event.platform, event.poll, event.user, event.option,
                                            event.added)
                return []  # a native poll shows the voter their vote itself
            # Hearing from a chat means the bot is (again) in it.
            self.delivery.mark_available(event.chat)
            if isinstance(event, Command):
                return await self._command(event)
            if isinstance(event, ChoiceAnswer):
                reply = await self.quiz.answer_choice(event.chat, event.user, event.round_id,
                                                      event.index, event.choice)
                return [Text(reply, ephemeral=True)]
            if isinstance(event, Message):
                return await self._message(event)
        except StoreError as exc:
            log.error("store error: %s", exc)
            return [Text("Sorry, the bot's database is unavailable right now; nothing was changed.",
                         ephemeral=True)]
        raise TypeError(f"not an event: {event!r}")

    def _slow_down(self, key: tuple[str, str]) -> list[OutMessage]:
        # Said once per flood: answering every dropped message would be a flood too.
        if key in self.limiter.warned:
            return []
        self.limiter.warned.add(key)
        return [Text("You are sending too much too fast; the bot ignores you for a moment.",
                     ephemeral=True)]

    async def _message(self, event: Message) -> list[OutMessage]:
        if event.place and await self.discussions.took_part(event.chat.platform, event.place,
                                                            event.user):
            return []
        reply = await self.quiz.answer_text(event.chat, event.user, event.text)
        if reply is None:
            if not event.addressed:
                return []
            reply = "No question is open right now. Start a round with /quiz."
        elif reply != RECORDED and not event.addressed:
            return []  # chat that was not meant as an answer
        return [Text(reply, ephemeral=True)]

    async def _command(self, cmd: Command) -> list[OutMessage]:
        spec = self.commands.get(cmd.name.lower())
        if spec is None:
            return [Text(f"Unknown command /{_clip(cmd.name, 40)}. Try /help.", ephemeral=True)]
        if cmd.user.role < spec.role:
            return [Text(f"/{spec.name} is for {spec.role.name.lower()}s only.", ephemeral=True)]
        if len(cmd.args) > MAX_ARGS_CHARS:
            return [Text(f"That is too long for /{spec.name} ({MAX_ARGS_CHARS} characters at most).",
                         ephemeral=True)]
        try:
            return await spec.handler(self, cmd)
        except (QuizError, WhenError) as exc:
            return [Text(str(exc), ephemeral=True)]

    def allowed(self, role: Role) -> list[CommandSpec]:
        return [c for c in COMMANDS if role >= c.role]

    # ---- commands -------------------------------------------------------------

    async def cmd_help(self, cmd: Command) -> list[OutMessage]:
        lines = [f"/{c.usage} - {c.help}" for c in self.allowed(cmd.user.role)]
        return [Text("\n".join(lines), title="Commands")]

    async def cmd_packs(self, cmd: Command) -> list[OutMessage]:
        if not len(self.packs):
            return [Text("No quiz packs are loaded.")]
        lines = [f"{p.id} - {p.title} ({len(p.questions)} questions)" for p in self.packs.packs()]
        return [Text("\n".join(lines), title="Quiz packs")]

    async def cmd_quiz(self, cmd: Command) -> list[OutMessage]:
        pack_id, count = None, None
        for word in cmd.args.split():
            if word.lstrip("-").isdigit():
                count = int(word)
            else:
                pack_id = word
        pack = self._pack(pack_id)
        rnd = await self.quiz.start(cmd.chat, cmd.user, pack, count)
        return [Text(f"{cmd.user.name} started a round of {len(rnd.questions)} question(s) from "
                     f"\"{pack.title}\". {rnd.seconds:g} seconds per question.")]

    def _pack(self, pack_id: str | None):
        if pack_id is None:
            pack_id = self.default_pack if self.packs.get(self.default_pack or "") else None
            pack_id = pack_id or (self.packs.ids() or [None])[0]
            if pack_id is None:
                raise QuizError("No quiz packs are loaded.")
        pack = self.packs.get(pack_id)
        if pack is None:
            raise QuizError(f"There is no pack {_clip(pack_id, 64)!r}. Packs: "
                            f"{', '.join(self.packs.ids()) or 'none'}.")
        return pack

    async def cmd_stop(self, cmd: Command) -> list[OutMessage]:
        self.quiz.stop(cmd.chat, cmd.user, cmd.user.role >= Role.MODERATOR)
        return [Text("Stopping the round.", ephemeral=True)]

    async def cmd_answer(self, cmd: Command) -> list[OutMessage]:
        if not cmd.args.strip():
            return [Text("Usage: /answer <your answer>", ephemeral=True)]
        return await self._message(Message(cmd.chat, cmd.user, cmd.args, addressed=True))

    async def cmd_leaderboard(self, cmd: Command) -> list[OutMessage]:
        scope = (cmd.args.strip().lower() or "all")
        if scope not in ("all", "week", "global"):
            return [Text("Usage: /leaderboard [week|all|global]", ephemeral=True)]
        chat_db = None if scope == "global" else await self.store.chat_id(cmd.chat)
        week = self.quiz.week() if scope == "week" else None
        rows = await self.store.board(chat_db, week, 10)
        title = {"all": "Leaderboard", "week": "Leaderboard this week",
                 "global": "Global leaderboard"}[scope]
        return [Ranking(title, tuple(
            RankRow(i, r.name, r.points, f"{r.correct}/{r.answered} correct")
            for i, r in enumerate(rows, start=1)))]

    async def cmd_me(self, cmd: Command) -> list[OutMessage]:
        chat_db = await self.store.chat_id(cmd.chat)
        user_db = await self.store.user_id(cmd.user.platform, cmd.user.user_id, cmd.user.name)
        s = await self.store.user_stats(chat_db, user_db)
        if not s.answered:
            return [Text("You have not answered any question here yet. Try /quiz.", ephemeral=True)]
        accuracy = 100 * s.correct / s.answered
        rank = f"#{s.rank}" if s.rank else "-"
        body = (f"Answered: {s.answered}\nCorrect: {s.correct} ({accuracy:.0f}%)\n"
                f"Points: {s.points}\nStreak: {s.streak} (best {s.best_streak})\nRank here: {rank}")
        return [Text(body, title=f"{cmd.user.name} in this chat")]

    async def cmd_timer(self, cmd: Command) -> list[OutMessage]:
        try:
            seconds = float(cmd.args.strip())
        except ValueError:
            seconds = -1
        if not 5 <= seconds <= 600:
            return [Text("Usage: /timer <seconds>, from 5 to 600.", ephemeral=True)]
        await self.store.set_question_seconds(await self.store.chat_id(cmd.chat), seconds)
        return [Text(f"Questions here now stay open for {seconds:g} seconds.")]

    async def cmd_pack(self, cmd: Command) -> list[OutMessage]:
        words = cmd.args.split()
        if words[:1] == ["list"] or not words:
            return await self.cmd_packs(cmd)
        if words[0] != "load":
            return [Text("Usage: /pack load (with a YAML file attached) or /pack list", ephemeral=True)]
        return await self.load_upload(cmd)

    async def load_upload(self, cmd: Command) -> list[OutMessage]:
        file = cmd.attachment
        if file is None:
            return [Text("Attach a YAML pack file to /pack load.", ephemeral=True)]
        if file.size > MAX_BYTES:
            return [Text(f"{_clip(file.filename, 80)} is {file.size:,} bytes; packs may be at most "
                         f"{MAX_BYTES:,} bytes. Nothing was loaded.", ephemeral=True)]
        data = await file.fetch()
        result = load_pack_bytes(data, file.filename)
        if not result.ok:
            return _report(f"{file.filename} was not loaded: {len(result.errors)} error(s). "
                           "The packs already loaded are unchanged.", result.report(), file.filename)
        replaced = self.packs.get(result.pack.id) is not None
        self.packs.add(result)
        verb = "replaced" if replaced else "loaded"
        summary = (f"Pack {result.pack.id} {verb}: {len(result.pack.questions)} questions, "
                   f"{len(result.pack.events)} events, {len(result.pack.discussions)} discussions.")
        if result.warnings:
            return _report(summary + f" {len(result.warnings)} warning(s):", result.report(),
                           file.filename)
        return [Text(summary)]


    # ---- discussions -----------------------------------------------------------

    async def cmd_discuss(self, cmd: Command) -> list[OutMessage]:
        words = cmd.args.split()
        if words == ["end"]:
            if await self.discussions.end(cmd.chat):
                return [Text("The discussion is closed.", ephemeral=True)]
            return [Text("No discussion is open here.", ephemeral=True)]
        prompt_id, hours = None, None
        for word in words:
            parsed = _hours(word)
            if parsed is not None:
                hours = parsed
            else:
                prompt_id = word
        await self.discussions.open(cmd.chat, prompt_id, hours)
        return [Text("Discussion opened.", ephemeral=True)]

    async def cmd_perspectives(self, cmd: Command) -> list[OutMessage]:
        if not cmd.args.strip():
            return [Text(f"Usage: /perspectives <prompt-id>. Prompts: "
                         f"{self.discussions.prompt_ids()}.", ephemeral=True)]
        return [self.discussions.perspectives(cmd.args.strip())]

    async def cmd_discussions(self, cmd: Command) -> list[OutMessage]:
        return [await self.discussions.recent(cmd.chat)]

    async def cmd_vote(self, cmd: Command) -> list[OutMessage]:
        arg = cmd.args.strip()
        if not arg.isdigit():
            return [Text("Usage: /vote <option number>", ephemeral=True)]
        return [Text(await self.discussions.vote_in_chat(cmd.chat, cmd.user, int(arg) - 1),
                     ephemeral=True)]


    # ---- schedules and time ----------------------------------------------------

    async def cmd_timezone(self, cmd: Command) -> list[OutMessage]:
        if not cmd.args.strip():
            settings = await self.store.chat_settings(await self.store.chat_id(cmd.chat))
            return [Text(f"This chat's time zone is {settings.timezone}. "
                         "Change it with /timezone <name>, e.g. /timezone Europe/Moscow.")]
        return [Text(await self.schedules.set_timezone(cmd.chat, cmd.args))]

    async def cmd_schedule(self, cmd: Command) -> list[OutMessage]:
        words = cmd.args.split()
        if not words:
            return [Text(SCHEDULE_USAGE, ephemeral=True)]
        if words[0] == "list" and len(words) == 1:
            return [await self.schedules.list(cmd.chat)]
        if words[0] in ("remove", "pause", "resume") and len(words) == 2:
            return [Text(await self.schedules.change(cmd.chat, words[0], words[1]))]
        if words[0] in KINDS:
            return [Text(await self.schedules.add(cmd.chat, words))]
        return [Text(SCHEDULE_USAGE, ephemeral=True)]

    async def cmd_onthisday(self, cmd: Command) -> list[OutMessage]:
        settings = await self.store.chat_settings(await self.store.chat_id(cmd.chat))
        messages, _ = self.schedules.on_this_day(settings.timezone)
        return messages or [Text("No loaded pack has dated events.")]

    async def cmd_timeline(self, cmd: Command) -> list[OutMessage]:
        pack = self._pack(cmd.args.strip() or None)
        if not pack.events:
            return [Text(f"Pack {pack.id} has no dated events.", ephemeral=True)]
        png = self.timeline.png(pack, self.packs.version(pack.id) or "")
        return [Picture(f"timeline-{pack.id}.png", png, f"{pack.title}: {len(pack.events)} events")]


def _cleaned(event: Event) -> Event:
    """The event with the author's name and any typed text cleaned of control
    and invisible characters (markup stays: adapters escape it)."""
    user = replace(event.user, name=sanitize.name(event.user.name)) if event.user.name else event.user
    if isinstance(event, Command):
        return replace(event, user=user, name=sanitize.clean(event.name),
                       args=sanitize.clean(event.args, keep_newlines=True))
    if isinstance(event, Message):
        return replace(event, user=user, text=sanitize.clean(event.text, keep_newlines=True))
    return replace(event, user=user)


def _hours(word: str) -> float | None:
    """'2h', '90m' or '1.5' as hours; None when the word is not a duration."""
    unit = {"h": 1.0, "m": 1 / 60, "d": 24.0}.get(word[-1:].lower())
    number = word[:-1] if unit else word
    try:
        value = float(number)
    except ValueError:
        return None
    return value * (unit or 1.0)


def _report(head: str, body: str, filename: str) -> list[OutMessage]:
    lines = body.splitlines()
    if len(lines) <= REPORT_INLINE_LINES:
        return [Text(head + "\n" + body, ephemeral=True)]
    shown = "\n".join(lines[:REPORT_INLINE_LINES])
    return [Text(f"{head}\n{shown}\n... and {len(lines) - REPORT_INLINE_LINES} more in the file.",
                 ephemeral=True),
            Document(f"{filename}.errors.txt", body.encode(), "The full report", ephemeral=True)]


def _clip(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


COMMANDS: list[CommandSpec] = [
    CommandSpec("help", Role.MEMBER, "help", "what you can do here", Core.cmd_help),
    CommandSpec("quiz", Role.MEMBER, "quiz [pack] [count]", "start a quiz round", Core.cmd_quiz),
    CommandSpec("answer", Role.MEMBER, "answer <text>", "answer the open question", Core.cmd_answer),
    CommandSpec("stop", Role.MEMBER, "stop", "stop the round (its starter or a moderator)",
                Core.cmd_stop),
    CommandSpec("leaderboard", Role.MEMBER, "leaderboard [week|all|global]", "top scores",
                Core.cmd_leaderboard),
    CommandSpec("me", Role.MEMBER, "me", "your own numbers", Core.cmd_me),
    CommandSpec("packs", Role.MEMBER, "packs", "the quiz packs loaded", Core.cmd_packs),
    CommandSpec("vote", Role.MEMBER, "vote <n>", "vote in the open discussion", Core.cmd_vote),
    CommandSpec("perspectives", Role.MEMBER, "perspectives <prompt>",
                "each side's strongest argument, with its source", Core.cmd_perspectives),
    CommandSpec("discussions", Role.MEMBER, "discussions", "recent discussions and their results",
                Core.cmd_discussions),
    CommandSpec("discuss", Role.MODERATOR, "discuss [prompt] [hours] | end",
                "open a discussion with a poll (24 h unless told)", Core.cmd_discuss),
    CommandSpec("onthisday", Role.MEMBER, "onthisday", "what happened on this day",
                Core.cmd_onthisday),
    CommandSpec("timeline", Role.MEMBER, "timeline [pack]", "a picture of the pack's events",
                Core.cmd_timeline),
    CommandSpec("timezone", Role.MODERATOR, "timezone [name]", "this chat's time zone",
                Core.cmd_timezone),
    CommandSpec("schedule", Role.MODERATOR, "schedule onthisday|quiz|discuss <when> ... | list | "
                "remove|pause|resume <id>", "posts that come round by themselves",
                Core.cmd_schedule),
    CommandSpec("timer", Role.MODERATOR, "timer <seconds>", "how long questions stay open here",
                Core.cmd_timer),
    CommandSpec("pack", Role.ADMIN, "pack load|list", "load a YAML quiz pack (attach the file)",
                Core.cmd_pack),
]
