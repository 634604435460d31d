"""Schedules: "on this day" posts, quiz rounds and discussions that come round
by themselves, per chat and in the chat's time zone.

Schedules live in the store and become APScheduler jobs at start. Every due
time is claimed in the store before anything is posted, so a due time fires
at most once, even across a crash right after posting. A time that passed
while the bot was down is fired on start if it is less than `grace` late.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import difflib
import functools
import logging
import zoneinfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from . import onthisday, when
from .delivery import ChatUnavailable, Delivery
from .discussions import DiscussionService
from .model import ChatRef, OutMessage, Picture, Text
from .packs import PackLibrary
from .ports import Clock, ScheduleRow, Store
from .quiz import QuizError, QuizService
from .timeline import Timeline

log = logging.getLogger(__name__)

KINDS = ("onthisday", "quiz", "discuss")
USAGE = ("Usage: /schedule onthisday <when> [quiet] | quiz <when> [pack] [count] | "
         "discuss <when> [prompt] | list | remove <id> | pause <id> | resume <id>")
MAX_PER_CHAT = 20


class ScheduleService:
    def __init__(self, store: Store, delivery: Delivery, clock: Clock, packs: PackLibrary,
                 quiz: QuizService, discussions: DiscussionService, timeline: Timeline, *,
                 grace_seconds: float = 3600.0):
        self.store, self.delivery, self.clock = store, delivery, clock
        self.packs, self.quiz, self.discussions = packs, quiz, discussions
        self.timeline = timeline
        self.grace = grace_seconds
        self.scheduler: AsyncIOScheduler | None = None
        self._groups: dict[tuple[str, str], set[int]] = {}
        self._group_of: dict[int, tuple[str, str]] = {}
        delivery.on_unavailable(self.pause_chat)

    # ---- running ---------------------------------------------------------------------

    async def start(self) -> None:
        self.scheduler = AsyncIOScheduler(timezone=dt.timezone.utc)
        rows = await self.store.schedules()
        for row in rows:
            if not row.paused:
                self._add_job(row)
        self.scheduler.start()
        await self.catch_up(rows)

    async def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    # One APScheduler job per distinct (when, time zone), firing every schedule
    # that shares it: 10,000 chats posting "daily 09:00" in one zone are one job.

    def _add_job(self, row: ScheduleRow) -> None:
        self._remove_job(row.id)
        key = (row.spec, row.timezone)
        group = self._groups.setdefault(key, set())
        group.add(row.id)
        self._group_of[row.id] = key
        if self.scheduler is not None and self.scheduler.get_job(_job(key)) is None:
            self.scheduler.add_job(self.due_group, _trigger(row), args=list(key), id=_job(key),
                                   coalesce=True, misfire_grace_time=int(self.grace))

    def _remove_job(self, schedule_id: int) -> None:
        key = self._group_of.pop(schedule_id, None)
        if key is None:
            return
        group = self._groups.get(key, set())
        group.discard(schedule_id)
        if not group:
            self._groups.pop(key, None)
            if self.scheduler is not None and self.scheduler.get_job(_job(key)) is not None:
                self.scheduler.remove_job(_job(key))

    @property
    def active(self) -> int:
        """How many schedules are waiting for their time."""
        return len(self._group_of)

    def next_run(self, schedule_id: int) -> dt.datetime | None:
        key = self._group_of.get(schedule_id)
        job = self.scheduler.get_job(_job(key)) if self.scheduler and key else None
        return job.next_run_time if job else None

    async def due_group(self, spec: str, timezone: str) -> int:
        """Called by APScheduler: every schedule sharing this time posts (paced).
        The due time is worked out once for the group, not once per chat."""
        ids = sorted(self._groups.get((spec, timezone), ()))
        due = self._latest_due(_cached_trigger(spec, timezone))
        if not ids or due is None:
            return 0
        return sum(await asyncio.gather(*(self._due_at(i, due) for i in ids)))

    async def due(self, schedule_id: int) -> bool:
        """Fire one schedule for its latest due time; true if it posted."""
        row = await self.store.schedule(schedule_id)
        due = self._latest_due(_trigger(row)) if row is not None else None
        return due is not None and await self._due_at(schedule_id, due, row)

    async def _due_at(self, schedule_id: int, due: float, row: ScheduleRow | None = None) -> bool:
        row = row or await self.store.schedule(schedule_id)
        if row is None or row.paused:
            return False
        return await self._fire(row, due)

    def _latest_due(self, trigger) -> float | None:
        now = self._now()
        due = when.latest_due(trigger, now - dt.timedelta(seconds=self.grace + 60), now)
        return due.timestamp() if due is not None else None

    async def catch_up(self, rows: list[ScheduleRow] | None = None) -> int:
        """Fire, once, what came due while the bot was down and is within grace.
        Only the latest due time of each schedule matters: older ones are past it."""
        now = self._now()
        groups: dict[tuple[str, str], list[ScheduleRow]] = {}
        for row in rows if rows is not None else await self.store.schedules():
            if not row.paused:
                groups.setdefault((row.spec, row.timezone), []).append(row)
        fired = 0
        for members in groups.values():
            since = [max(r.created_at, r.last_due or 0.0) for r in members]
            due = when.latest_due(_trigger(members[0]), _utc(min(since)), now)
            if due is None:
                continue
            for row, after in zip(members, since):
                if due.timestamp() > after:
                    fired += await self._missed(row, due, now)
        return fired

    async def _missed(self, row: ScheduleRow, due: dt.datetime, now: dt.datetime) -> bool:
        late = (now - due).total_seconds()
        if late <= self.grace:
            return await self._fire(row, due.timestamp())
        await self.store.claim_due(row.id, due.timestamp())  # never fire it later
        log.warning("schedule %s (%s in %s:%s) was due %s, %.0f min ago, past the "
                    "%.0f min grace; skipped", row.id, row.kind, row.platform, row.chat_id,
                    due.isoformat(), late / 60, self.grace / 60)
        return False

    async def _fire(self, row: ScheduleRow, due: float) -> bool:
        if not await self.store.claim_due(row.id, due):
            return False  # this due time was already fired
        chat = ChatRef(row.platform, row.chat_id, thread_id=row.thread_id)
        try:
            await self._run(row, chat)
        except ChatUnavailable:
            pass  # the chat's schedules were paused when delivery failed
        except QuizError as exc:
            log.info("schedule %s skipped in %s: %s", row.id, chat.key, exc)
        return True

    async def _run(self, row: ScheduleRow, chat: ChatRef) -> None:
        if row.kind == "onthisday":
            await self.post_on_this_day(chat, row.timezone, quiet=row.args == "quiet")
        elif row.kind == "quiz":
            pack_id, count = _quiz_args(row.args)
            pack = self.packs.get(pack_id) or next(iter(self.packs.packs()), None)
            if pack is None:
                raise QuizError("no quiz packs are loaded")
            await self.quiz.start(chat, self.quiz.bot_user(chat), pack,
                                  min(count, len(pack.questions)))
        elif row.kind == "discuss":
            await self.discussions.open(chat, row.args or None)

    def _now(self) -> dt.datetime:
        return _utc(self.clock.now())

    # ---- on this day --------------------------------------------------------------------

    def on_this_day(self, timezone: str, quiet: bool = False) -> tuple[list[OutMessage], object]:
        """The post for today in `timezone`, and the anniversary to quiz about."""
        today = self._now().astimezone(zoneinfo.ZoneInfo(timezone)).date()
        found = onthisday.events_on(self.packs, today)
        if not found:
            upcoming = onthisday.next_anniversary(self.packs, today)
            if quiet or upcoming is None:
                return [], None
            days, a = upcoming
            return [Text(onthisday.describe_upcoming(a, today, days),
                         title="Nothing in our packs happened on this day")], None
        title = f"On this day, {today.day} {today:%B}"
        text = Text("\n\n".join(onthisday.describe(a, today) for a in found), title=title)
        first = found[0]
        png = self.timeline.png(first.pack, self.packs.version(first.pack.id) or "", first.index)
        return [text, Picture(f"timeline-{first.pack.id}.png", png, first.event.title)], first

    async def post_on_this_day(self, chat: ChatRef, timezone: str, quiet: bool = False) -> bool:
        messages, first = self.on_this_day(timezone, quiet)
        for message in messages:
            await self.delivery.send(chat, message)
        if first is not None:
            await self.quiz.ask_one(chat, first.pack, first.event.questions)
        return bool(messages)

    # ---- commands -------------------------------------------------------------------------

    async def set_timezone(self, chat: ChatRef, name: str) -> str:
        name = name.strip()
        zones = zoneinfo.available_timezones()
        if name not in zones:
            close = difflib.get_close_matches(name, sorted(zones), n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise QuizError(f"{name[:60]!r} is not an IANA time zone name, like Europe/Moscow "
                            f"or Asia/Tokyo.{hint}")
        chat_db = await self.store.chat_id(chat)
        await self.store.set_timezone(chat_db, name)
        for row in await self.store.schedules(chat_db):
            if not row.paused:
                self._add_job(row)  # re-timed in the new zone
        return f"This chat's time zone is now {name}."

    async def add(self, chat: ChatRef, words: list[str]) -> str:
        kind, rest = words[0], words[1:]
        if not rest:
            raise QuizError(f"Say when. {when.USAGE}")
        spec, args = when.split(rest)
        args_text = self._check_args(kind, args)
        chat_db = await self.store.chat_id(chat)
        existing = await self.store.schedules(chat_db)
        if len(existing) >= MAX_PER_CHAT:
            raise QuizError(f"A chat may have at most {MAX_PER_CHAT} schedules; remove one first.")
        schedule_id = await self.store.add_schedule(chat_db, chat.thread_id, kind,
                                                    spec.describe(), args_text, self.clock.now())
        row = await self.store.schedule(schedule_id)
        self._add_job(row)
        return f"Schedule #{schedule_id} added: {self._line(row)}"

    def _check_args(self, kind: str, args: list[str]) -> str:
        if kind == "onthisday":
            if args not in ([], ["quiet"]):
                raise QuizError("After the time, /schedule onthisday takes only `quiet` "
                                "(post nothing on days without an anniversary).")
            return " ".join(args)
        if kind == "quiz":
            pack_id, count = None, 5
            for word in args:
                if word.isdigit():
                    count = int(word)
                elif self.packs.get(word) is None:
                    raise QuizError(f"There is no pack {word[:64]!r}. Packs: {', '.join(self.packs.ids())}.")
                else:
                    pack_id = word
            if not 1 <= count <= 50:
                raise QuizError("A scheduled round has from 1 to 50 questions.")
            return f"{pack_id or ''} {count}".strip()
        if len(args) > 1:
            raise QuizError("/schedule discuss takes one prompt id after the time.")
        if args and self.discussions.find(args[0]) is None:
            raise QuizError(f"There is no discussion prompt {args[0][:64]!r}.")
        return args[0] if args else ""

    async def list(self, chat: ChatRef) -> Text:
        chat_db = await self.store.chat_id(chat)
        rows = await self.store.schedules(chat_db)
        if not rows:
            return Text("No schedules here. Add one with /schedule onthisday 09:00, "
                        "/schedule quiz fri 19:00 or /schedule discuss sun 12:00.")
        settings = await self.store.chat_settings(chat_db)
        return Text("\n".join(f"#{r.id} {self._line(r)}" for r in rows),
                    title=f"Schedules (time zone {settings.timezone})")

    def _line(self, row: ScheduleRow) -> str:
        what = {"onthisday": "on this day", "quiz": "quiz round", "discuss": "discussion"}[row.kind]
        extra = f" ({row.args})" if row.args else ""
        if row.paused:
            state = "paused"
        else:
            nxt = _trigger(row).get_next_fire_time(None, self._now())
            local = nxt.astimezone(zoneinfo.ZoneInfo(row.timezone)) if nxt else None
            state = f"next {local:%a %d %b %H:%M}" if local else "never again"
        return f"{what}{extra}, {row.spec}, {state}"

    async def change(self, chat: ChatRef, action: str, arg: str) -> str:
        try:
            schedule_id = int(arg.lstrip("#"))
        except ValueError:
            raise QuizError(f"Usage: /schedule {action} <id> (see /schedule list)") from None
        chat_db = await self.store.chat_id(chat)
        if action == "remove":
            done = await self.store.remove_schedule(chat_db, schedule_id)
        else:
            done = await self.store.set_schedule_paused(chat_db, schedule_id, action == "pause")
        if not done:
            raise QuizError(f"There is no schedule #{schedule_id} in this chat (see /schedule list).")
        if action == "resume":
            self._add_job(await self.store.schedule(schedule_id))
        else:
            self._remove_job(schedule_id)
        past = {"remove": "removed", "pause": "paused", "resume": "resumed"}[action]
        return f"Schedule #{schedule_id} {past}."

    async def pause_chat(self, chat: ChatRef) -> None:
        """The bot can no longer post in the chat: stop its schedules until resumed."""
        paused = await self.store.pause_chat_schedules(await self.store.chat_id(chat))
        for schedule_id in paused:
            self._remove_job(schedule_id)


def _job(key: tuple[str, str]) -> str:
    return f"schedules {key[0]} {key[1]}"


@functools.lru_cache(maxsize=4096)
def _cached_trigger(spec: str, timezone: str):
    # Building a CronTrigger costs tens of microseconds; chats share a few.
    return when.parse(spec).trigger(timezone)


def _trigger(row: ScheduleRow):
    return _cached_trigger(row.spec, row.timezone)


def _utc(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc)


def _quiz_args(args: str) -> tuple[str | None, int]:
    words = args.split()
    count = int(words[-1]) if words and words[-1].isdigit() else 5
    pack = words[0] if words and not words[0].isdigit() else None
    return pack, count

