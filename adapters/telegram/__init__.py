"""The Telegram adapter: python-telegram-bot updates in, core events; core
messages out, Telegram messages, quiz polls and inline keyboards.

It holds no rules of its own: who may do what is decided by the core from the
role the adapter reads off Telegram (creator, administrator, bot owner).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from telegram import (BotCommand, Chat, InputFile, Message as TgMessage, ReplyParameters, Update,
                      User)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot import logsafe
from bot.core import Core
from bot.delivery import ChatUnavailable
from bot.model import (Attachment, ChatRef, ChoiceAnswer, Command, DiscussionMsg, Document, Message,
                       OutMessage, Picture, PollEnd, PollVote, QuestionMsg, Ranking, Reveal, Role,
                       Sent, Text, UserRef)

from . import render

PLATFORM = "telegram"
log = logging.getLogger(__name__)

# Who posts as the group itself when an administrator is anonymous.
ANONYMOUS_ADMIN_BOT = 1087968824
ADMIN_STATUSES = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
GONE_MARKERS = ("chat not found", "bot was kicked", "not enough rights", "have no rights",
                "topic_closed", "chat_write_forbidden")


@dataclass
class TelegramConfig:
    token: str
    base_url: str | None = None  # a local Bot API server, e.g. http://127.0.0.1:8081
    owners: frozenset[str] = frozenset()
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = None
    # Telegram's flood limits: 30 messages/s overall, 20 per minute in a group.
    overall_rate: tuple[float, float] = (30, 1)
    group_rate: tuple[float, float] = (20, 60)
    max_retries: int = 5
    poll_timeout: float = 10.0
    member_cache_seconds: float = 60.0
    # A python-telegram-bot BaseRequest to talk through instead of HTTP (benchmarks).
    transport: object | None = None

    @classmethod
    def from_env(cls, token: str, env: dict[str, str]) -> "TelegramConfig":
        owners = frozenset(o.strip() for o in env.get("TELEGRAM_OWNER_IDS", "").split(",") if o.strip())
        return cls(token=token, base_url=env.get("TELEGRAM_API_BASE_URL") or None, owners=owners,
                   webhook_url=env.get("TELEGRAM_WEBHOOK_URL") or None,
                   webhook_listen=env.get("TELEGRAM_WEBHOOK_LISTEN", "127.0.0.1"),
                   webhook_port=int(env.get("TELEGRAM_WEBHOOK_PORT", "8443")),
                   webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET") or None)


@dataclass
class _PollRef:
    chat: ChatRef
    round_id: int
    index: int
    message_id: int


@dataclass
class _Roles:
    """getChatMember answers, kept briefly so a burst of commands asks once."""

    ttl: float
    seen: dict[tuple[int, int], tuple[float, Role]] = field(default_factory=dict)

    def get(self, key: tuple[int, int]) -> Role | None:
        hit = self.seen.get(key)
        if hit and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        return None

    def put(self, key: tuple[int, int], role: Role) -> None:
        if len(self.seen) > 10_000:
            self.seen.clear()
        self.seen[key] = (time.monotonic(), role)


class TelegramAdapter:
    def __init__(self, core: Core, config: TelegramConfig):
        self.core, self.config = core, config
        logsafe.hide(config.token)
        self.app = self._build_app()
        self.app.add_handler(TypeHandler(Update, self._on_update))
        self.app.add_error_handler(self._on_error)
        self._polls: dict[str, _PollRef] = {}
        self._poll_messages: dict[tuple[str, str], str] = {}  # (chat, message) -> poll id
        self._roles = _Roles(config.member_cache_seconds)
        core.delivery.register(PLATFORM, self)

    def _build_app(self) -> Application:
        c = self.config
        builder = (ApplicationBuilder().token(c.token).concurrent_updates(True)
                   .rate_limiter(AIORateLimiter(overall_max_rate=c.overall_rate[0],
                                                overall_time_period=c.overall_rate[1],
                                                group_max_rate=c.group_rate[0],
                                                group_time_period=c.group_rate[1],
                                                max_retries=c.max_retries)))
        if c.base_url:
            base = c.base_url.rstrip("/")
            builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
        if c.transport is not None:
            builder = builder.request(c.transport).updater(None)
        return builder.build()

    @property
    def bot(self):
        return self.app.bot

    # ---- lifecycle ----------------------------------------------------------

    async def start(self) -> None:
        await self.app.initialize()
        await self.bot.set_my_commands(
            [BotCommand(c.name, render.clip(c.help, 256)) for c in self.core.commands.values()])
        await self.app.start()
        c = self.config
        if c.webhook_url:
            await self.app.updater.start_webhook(
                listen=c.webhook_listen, port=c.webhook_port, url_path="telegram",
                webhook_url=c.webhook_url, secret_token=c.webhook_secret,
                allowed_updates=Update.ALL_TYPES)
        else:
            # PTB retries network errors while polling, backing off between tries.
            await self.app.updater.start_polling(timeout=c.poll_timeout,
                                                 allowed_updates=Update.ALL_TYPES,
                                                 error_callback=self._on_polling_error)
        log.info("telegram: running as @%s", self.bot.username)

    async def stop(self) -> None:
        if self.app.updater and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    def _on_polling_error(self, error: TelegramError) -> None:
        log.warning("telegram: polling failed (%s); retrying", type(error).__name__)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram: handling an update failed", exc_info=context.error)

    # ---- updates in ---------------------------------------------------------

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.poll_answer:
            await self._on_poll_answer(update)
        elif update.callback_query:
            await self._on_button(update)
        elif update.message:
            await self._on_message(update.message)

    async def _on_message(self, msg: TgMessage) -> None:
        text = msg.text or msg.caption or ""
        if not text or msg.from_user is None or msg.from_user.is_bot and not self._anonymous_admin(msg):
            return
        chat = chat_ref(msg)
        if text.startswith("/"):
            event = await self._command(msg, chat, text)
            if event is None:
                return
        elif msg.text:
            replied = msg.reply_to_message
            place = f"msg:{msg.chat.id}:{replied.message_id}" if replied else None
            event = Message(chat, self._user(msg, Role.MEMBER), msg.text,
                            addressed=self._addressed(msg), place=place)
        else:
            return
        for reply in await self.core.handle(event):
            try:
                await self._send(chat, reply, reply_to=msg.message_id)
            except ChatUnavailable as exc:
                await self.core.delivery.mark_unavailable(chat, exc)
                return

    async def _command(self, msg: TgMessage, chat: ChatRef, text: str) -> Command | None:
        head, _, args = text[1:].partition(" ")
        name, _, target = head.partition("@")
        if target and target.lower() != (self.bot.username or "").lower():
            return None  # meant for another bot in the group
        role = await self._role(msg)
        return Command(chat, self._user(msg, role), name, args.strip(), self._attachment(msg))

    def _addressed(self, msg: TgMessage) -> bool:
        replied = msg.reply_to_message
        return (msg.chat.type == ChatType.PRIVATE
                or bool(replied and replied.from_user and replied.from_user.id == self.bot.id))

    def _attachment(self, msg: TgMessage) -> Attachment | None:
        doc = msg.document or (msg.reply_to_message.document if msg.reply_to_message else None)
        if doc is None:
            return None

        async def fetch() -> bytes:
            file = await self.bot.get_file(doc.file_id)
            return bytes(await file.download_as_bytearray())

        return Attachment(doc.file_name or "pack.yaml", doc.file_size or 0, fetch)

    async def _on_button(self, update: Update) -> None:
        query = update.callback_query
        parsed = render.parse_callback(query.data)
        message = query.message if isinstance(query.message, TgMessage) else None
        if parsed is None or message is None:
            await query.answer("This button is not valid any more.")
            return
        round_id, index, choice = parsed
        user = UserRef(PLATFORM, str(query.from_user.id), display_name(query.from_user))
        replies = await self.core.handle(ChoiceAnswer(chat_ref(message), user, round_id, index, choice))
        note = next((r.body for r in replies if isinstance(r, Text)), "")
        await query.answer(render.clip(note, 200) or None)

    async def _on_poll_answer(self, update: Update) -> None:
        answer = update.poll_answer
        if answer.user is None:
            return  # voted as a channel: not a member we can count
        user = UserRef(PLATFORM, str(answer.user.id), display_name(answer.user))
        ref = self._polls.get(answer.poll_id)
        if ref is None:  # not a quiz poll of an open round: maybe a discussion's
            option = answer.option_ids[0] if answer.option_ids else None
            await self.core.handle(PollVote(PLATFORM, f"poll:{answer.poll_id}", user, option,
                                            added=option is not None))
            return
        if not answer.option_ids:
            return
        replies = await self.core.handle(ChoiceAnswer(ref.chat, user, ref.round_id, ref.index,
                                                      answer.option_ids[0]))
        # A quiz poll shows the voter the result itself; our note has nowhere to go.
        log.debug("poll answer from %s: %s", user.user_id, [getattr(r, "body", r) for r in replies])

    # ---- roles ---------------------------------------------------------------

    def _user(self, msg: TgMessage, role: Role) -> UserRef:
        if self._anonymous_admin(msg):
            return UserRef(PLATFORM, f"chat{msg.chat.id}", msg.chat.title or "Group admin", role)
        return UserRef(PLATFORM, str(msg.from_user.id), display_name(msg.from_user), role)

    @staticmethod
    def _anonymous_admin(msg: TgMessage) -> bool:
        return bool(msg.sender_chat and msg.sender_chat.id == msg.chat.id)

    async def _role(self, msg: TgMessage) -> Role:
        user_id = msg.from_user.id
        if str(user_id) in self.config.owners:
            return Role.ADMIN
        if self._anonymous_admin(msg):
            return Role.ADMIN
        if msg.chat.type == ChatType.PRIVATE:
            return Role.MODERATOR  # settings of one's own private chat
        key = (msg.chat.id, user_id)
        role = self._roles.get(key)
        if role is None:
            try:
                member = await self.bot.get_chat_member(msg.chat.id, user_id)
                role = Role.ADMIN if member.status in ADMIN_STATUSES else Role.MEMBER
            except TelegramError as exc:
                log.warning("telegram: getChatMember failed (%s); treating as a member", exc)
                return Role.MEMBER
            self._roles.put(key, role)
        return role

    # ---- Outbox ----------------------------------------------------------------

    async def send(self, chat: ChatRef, message: OutMessage) -> Sent:
        return await self._send(chat, message)

    async def edit(self, chat: ChatRef, sent: Sent, message: OutMessage) -> None:
        if isinstance(message, PollEnd):
            if sent.message_id is not None:
                with _unavailable_on_forbidden():
                    await self._stop_poll(chat, sent.message_id)
            return
        if not isinstance(message, Reveal) or sent.message_id is None:
            await self._send(chat, message)
            return
        poll_id = self._poll_messages.pop((chat.chat_id, sent.message_id), None)
        with _unavailable_on_forbidden():
            if poll_id is not None:
                self._polls.pop(poll_id, None)
                await self._stop_poll(chat, sent.message_id)
                await self._send(chat, message, reply_to=int(sent.message_id))
                return
            try:
                await self.bot.edit_message_text(render.reveal_html(message, with_question=True),
                                                 chat_id=chat.chat_id,
                                                 message_id=int(sent.message_id),
                                                 parse_mode=ParseMode.HTML, reply_markup=None)
            except BadRequest as exc:
                log.info("telegram: could not edit the question (%s); posting the answer", exc)
                await self._send(chat, message)

    async def _stop_poll(self, chat: ChatRef, message_id: str) -> None:
        try:
            await self.bot.stop_poll(chat.chat_id, int(message_id))
        except BadRequest as exc:
            log.debug("telegram: poll already closed: %s", exc)  # its open_period ran out first

    async def _send(self, chat: ChatRef, message: OutMessage, reply_to: int | None = None) -> Sent:
        common = {"chat_id": chat.chat_id,
                  "message_thread_id": int(chat.thread_id) if chat.thread_id else None}
        if reply_to is not None:
            common["reply_parameters"] = ReplyParameters(reply_to, allow_sending_without_reply=True)
        with _unavailable_on_forbidden():
            if isinstance(message, DiscussionMsg):
                return await self._discussion(chat, message, common)
            sent = await self._deliver(chat, message, common)
        return Sent(str(sent.message_id))

    async def _discussion(self, chat: ChatRef, d: DiscussionMsg, common: dict) -> Sent:
        """The prompt, then its poll; replies to either count as taking part."""
        intro = await self.bot.send_message(text=render.discussion_html(d), parse_mode=ParseMode.HTML,
                                            **common)
        common = {**common, "reply_parameters": ReplyParameters(intro.message_id,
                                                                allow_sending_without_reply=True)}
        poll = await self.bot.send_poll(question=render.clip(d.prompt, 300),
                                        options=[render.clip(o, 100) for o in d.options],
                                        is_anonymous=False, allows_multiple_answers=False, **common)
        refs = (f"poll:{poll.poll.id}", f"msg:{chat.chat_id}:{intro.message_id}",
                f"msg:{chat.chat_id}:{poll.message_id}")
        return Sent(str(poll.message_id), refs)

    async def _deliver(self, chat: ChatRef, message: OutMessage, common: dict) -> TgMessage:
        html = {"parse_mode": ParseMode.HTML, **common}
        if isinstance(message, QuestionMsg):
            return await self._question(chat, message, common)
        if isinstance(message, Document):
            return await self.bot.send_document(
                document=InputFile(message.content, filename=message.filename),
                caption=render.esc(message.caption), **html)
        if isinstance(message, Picture):
            return await self.bot.send_photo(photo=InputFile(message.png, filename=message.filename),
                                             caption=render.clip(render.esc(message.caption), 1024),
                                             **html)
        if isinstance(message, Reveal):
            return await self.bot.send_message(text=render.reveal_html(message, False), **html)
        if isinstance(message, Ranking):
            return await self.bot.send_message(text=render.ranking_html(message), **html)
        if isinstance(message, Text):
            return await self.bot.send_message(text=render.text_html(message), **html)
        raise TypeError(f"cannot send {type(message).__name__} to Telegram")

    async def _question(self, chat: ChatRef, q: QuestionMsg, common: dict) -> TgMessage:
        if render.poll_fits(q):
            sent = await self.bot.send_poll(
                question=render.poll_question(q), options=list(q.choices), type="quiz",
                is_anonymous=False, correct_option_ids=[q.correct_index],
                explanation=render.poll_explanation(q),
                open_period=max(5, min(600, round(q.seconds))), **common)
            self._polls[sent.poll.id] = _PollRef(chat, q.round_id, q.index, sent.message_id)
            self._poll_messages[(chat.chat_id, str(sent.message_id))] = sent.poll.id
            return sent
        markup = None if q.kind == "typed" else render.keyboard(q)
        return await self.bot.send_message(text=render.question_html(q), reply_markup=markup,
                                           parse_mode=ParseMode.HTML, **common)


class _unavailable_on_forbidden:
    """Turns "the bot cannot post here" into the core's ChatUnavailable."""

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if isinstance(exc, Forbidden) or (
                isinstance(exc, BadRequest) and any(m in str(exc).lower() for m in GONE_MARKERS)):
            raise ChatUnavailable(str(exc)) from exc
        return False


def chat_ref(msg: TgMessage) -> ChatRef:
    chat: Chat = msg.chat
    thread = str(msg.message_thread_id) if msg.is_topic_message and msg.message_thread_id else None
    return ChatRef(PLATFORM, str(chat.id), chat.title or chat.full_name or "", thread)


def display_name(user: User) -> str:
    return user.full_name or user.username or str(user.id)
