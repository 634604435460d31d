"""The Discord adapter: slash commands, buttons and messages in, core events;
core messages out, embeds with buttons that survive restarts.

Roles come from the member's permissions in the channel (Manage Server or
Administrator: admin; Manage Messages: moderator); the core checks them again.
"""
from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

import discord
import yarl
from discord import app_commands

from bot import logsafe
from bot.core import Core
from bot.delivery import ChatUnavailable
from bot.model import (Attachment, ChatRef, ChoiceAnswer, Command, DiscussionMsg, Document, Message,
                       OutMessage, Picture, PollEnd, PollVote, QuestionMsg, Ranking, Reveal, Role,
                       Sent, Text, UserRef)

from . import render
from .commands import add_commands

PLATFORM = "discord"
log = logging.getLogger(__name__)
# Discord's error codes for "the bot cannot use this channel".
GONE_CODES = {10003, 50001, 50013}
# Commands after which the bot posts in the channel on its own.
POSTING_COMMANDS = {"quiz", "discuss"}
MISSING_PERMISSIONS = ("I cannot post in this channel. Give me the View Channel, Send Messages "
                       "and Embed Links permissions here, then try again.")


@dataclass
class DiscordConfig:
    token: str
    guild_id: int | None = None  # sync commands to one guild, instantly (for testing)
    message_content: bool = False  # plain-message answers need this privileged intent
    shard_count: int | None = None
    shard_ids: list[int] | None = None
    # For tests and proxies: where discord.py's REST and gateway traffic goes.
    api_base_url: str | None = None
    gateway_url: str | None = None
    # How long discord.py waits for more guilds before it calls itself ready.
    guild_ready_timeout: float = 2.0

    @classmethod
    def from_env(cls, token: str, env: dict[str, str]) -> "DiscordConfig":
        def number(name: str) -> int | None:
            return int(env[name]) if env.get(name) else None
        shard_ids = [int(s) for s in env.get("DISCORD_SHARD_IDS", "").split(",") if s.strip()]
        return cls(token=token, guild_id=number("DISCORD_GUILD_ID"),
                   message_content=env.get("DISCORD_MESSAGE_CONTENT", "") in ("1", "true", "yes"),
                   shard_count=number("DISCORD_SHARD_COUNT"), shard_ids=shard_ids or None,
                   api_base_url=env.get("DISCORD_API_BASE_URL") or None,
                   gateway_url=env.get("DISCORD_GATEWAY_URL") or None)


class AnswerButton(discord.ui.DynamicItem[discord.ui.Button],
                   template=r"quiz:(?P<round>[0-9]{1,12}):(?P<index>[0-9]{1,3}):(?P<choice>[0-9]{1,2})"):
    """A choice button. Its custom id carries round, question and choice, so a
    click is understood after a restart; the core decides if it still counts."""

    def __init__(self, round_id: int, index: int, choice: int, label: str = "?", *,
                 style: discord.ButtonStyle = discord.ButtonStyle.primary, disabled: bool = False):
        super().__init__(discord.ui.Button(label=label, style=style, disabled=disabled,
                                           custom_id=f"quiz:{round_id}:{index}:{choice}"))
        self.round_id, self.index, self.choice = round_id, index, choice

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> "AnswerButton":
        return cls(int(match["round"]), int(match["index"]), int(match["choice"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.client.adapter.on_click(interaction, self.round_id, self.index, self.choice)


def question_view(q: QuestionMsg, correct: int | None = None) -> discord.ui.View | None:
    """Buttons for a question; with `correct` given, the closed state."""
    if q.kind == "typed":
        return None
    view = discord.ui.View(timeout=None)
    for i, choice in enumerate(q.choices):
        style = discord.ButtonStyle.primary
        if correct is not None:
            style = discord.ButtonStyle.success if i == correct else discord.ButtonStyle.secondary
        view.add_item(AnswerButton(q.round_id, q.index, i, render.button_label(i, choice),
                                   style=style, disabled=correct is not None))
    return view


class _Client:
    """Mixed into discord.py's client so button callbacks can find the adapter."""

    adapter: "DiscordAdapter"

    async def setup_hook(self) -> None:
        self.add_dynamic_items(AnswerButton)
        await self.adapter.sync_commands()

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.on_message(message)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await self.adapter.on_interaction(interaction)

    async def on_raw_poll_vote_add(self, vote: discord.RawPollVoteActionEvent) -> None:
        await self.adapter.on_poll_vote(vote, added=True)

    async def on_raw_poll_vote_remove(self, vote: discord.RawPollVoteActionEvent) -> None:
        await self.adapter.on_poll_vote(vote, added=False)


class QuizClient(_Client, discord.Client):
    pass


class ShardedQuizClient(_Client, discord.AutoShardedClient):
    pass


class DiscordAdapter:
    def __init__(self, core: Core, config: DiscordConfig):
        self.core, self.config = core, config
        logsafe.hide(config.token)
        _point_at(config)
        intents = discord.Intents.none()
        intents.guilds = True
        intents.guild_messages = True
        intents.message_content = config.message_content
        intents.guild_polls = True  # discussion votes
        options = dict(intents=intents, allowed_mentions=render.NO_MENTIONS,
                       guild_ready_timeout=config.guild_ready_timeout)
        if config.shard_count or config.shard_ids:
            self.client = ShardedQuizClient(shard_count=config.shard_count,
                                            shard_ids=config.shard_ids, **options)
        else:
            self.client = QuizClient(**options)
        self.client.adapter = self
        self.tree = app_commands.CommandTree(self.client)
        self.tree.on_error = self._on_command_error
        add_commands(self)
        core.delivery.register(PLATFORM, self)
        self._task = None
        self._no_threads: set[int] = set()

    # ---- lifecycle ----------------------------------------------------------

    async def start(self) -> None:
        await self.client.login(self.config.token)
        self._task = asyncio.create_task(self.client.connect(), name="discord-gateway")
        ready = asyncio.create_task(self.client.wait_until_ready())
        done, _ = await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            ready.cancel()
            self._task.result()  # raises why the connection failed
        log.info("discord: running as %s", self.client.user)

    async def stop(self) -> None:
        await self.client.close()
        if self._task:
            try:
                await self._task
            except Exception:
                log.exception("discord: the gateway task ended with an error")

    async def sync_commands(self) -> None:
        guild = discord.Object(self.config.guild_id) if self.config.guild_id else None
        if guild:
            self.tree.copy_global_to(guild=guild)
        await self.tree.sync(guild=guild)

    # ---- events in -------------------------------------------------------------

    async def command(self, interaction: discord.Interaction, name: str, args: str = "",
                      file: discord.Attachment | None = None) -> None:
        """Every slash command comes through here as a core Command."""
        if name in POSTING_COMMANDS and not can_post(interaction.app_permissions):
            log.warning("discord: missing permissions to post in channel %s", interaction.channel_id)
            await interaction.response.send_message(MISSING_PERMISSIONS, ephemeral=True)
            return
        attachment = None
        if file is not None:
            attachment = Attachment(file.filename, file.size, file.read)
            await interaction.response.defer(ephemeral=True, thinking=True)
        event = Command(chat_ref(interaction.channel_id, interaction.guild_id),
                        self._user(interaction.user, role_of(interaction.permissions)), name, args,
                        attachment)
        await self._respond(interaction, await self.core.handle(event))

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Buttons that are not ours (forged or from an old version) get a clear
        answer instead of Discord's "interaction failed"."""
        if interaction.type != discord.InteractionType.component:
            return
        custom_id = (interaction.data or {}).get("custom_id", "")
        on_message = interaction.message is not None and any(
            getattr(child, "custom_id", None) == custom_id
            for row in interaction.message.components for child in getattr(row, "children", [row]))
        # discord.py routes our buttons to AnswerButton only when both hold.
        if not (on_message and AnswerButton.__discord_ui_compiled_template__.fullmatch(custom_id)):
            await interaction.response.send_message("This button is not valid any more.",
                                                    ephemeral=True)

    async def on_click(self, interaction: discord.Interaction, round_id: int, index: int,
                       choice: int) -> None:
        event = ChoiceAnswer(chat_ref(interaction.channel_id, interaction.guild_id),
                             self._user(interaction.user, Role.MEMBER), round_id, index, choice)
        await self._respond(interaction, await self.core.handle(event))

    async def on_poll_vote(self, vote: discord.RawPollVoteActionEvent, added: bool) -> None:
        # Raw events carry no name; an empty one leaves the stored name as it is.
        user = UserRef(PLATFORM, str(vote.user_id), "")
        await self.core.handle(PollVote(PLATFORM, f"msg:{vote.message_id}", user,
                                        vote.answer_id - 1, added))

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.content.startswith("/"):
            return
        me = self.client.user
        ref = message.reference.resolved if message.reference else None
        addressed = (message.guild is None or me in message.mentions
                     or isinstance(ref, discord.Message) and ref.author == me)
        # Without the Message Content intent the text is empty, but a message in
        # a discussion's thread still counts its author as taking part.
        event = Message(chat_ref(message.channel.id, message.guild.id if message.guild else None),
                        self._user(message.author, Role.MEMBER), message.content, addressed,
                        place=f"thread:{message.channel.id}")
        for reply in await self.core.handle(event):
            try:
                await self._deliver(message.channel, reply, reference=message)
            except discord.HTTPException as exc:
                log.warning("discord: could not reply in channel %s: %s", message.channel.id, exc)

    async def _on_command_error(self, interaction: discord.Interaction,
                                error: app_commands.AppCommandError) -> None:
        log.error("discord: command failed", exc_info=error)
        text = "Sorry, that did not work. Nothing was changed."
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)

    def _user(self, user: discord.abc.User, role: Role) -> UserRef:
        return UserRef(PLATFORM, str(user.id), user.display_name, role)

    async def _respond(self, interaction: discord.Interaction, replies: list[OutMessage]) -> None:
        """The first reply answers the interaction (within its 3 seconds); the rest follow."""
        for reply in replies:
            kwargs = _kwargs(reply)
            ephemeral = getattr(reply, "ephemeral", False)
            if interaction.response.is_done():
                await interaction.followup.send(ephemeral=ephemeral, **kwargs)
            else:
                await interaction.response.send_message(ephemeral=ephemeral, **kwargs)
        if not interaction.response.is_done():
            await interaction.response.defer()

    # ---- Outbox -------------------------------------------------------------------

    async def send(self, chat: ChatRef, message: OutMessage) -> Sent:
        channel = self._channel(chat)
        with _unavailable_on_forbidden():
            sent = await self._deliver(channel, message)
        if isinstance(message, DiscussionMsg):
            return Sent(str(sent.id), (f"msg:{sent.id}",) + await self._thread(sent, message))
        return Sent(str(sent.id))

    def _channel(self, chat: ChatRef):
        """The cached channel (it knows its guild, which threads need), or a bare one."""
        channel_id = int(chat.thread_id or chat.chat_id)
        return self.client.get_channel(channel_id) or self.client.get_partial_messageable(channel_id)

    async def _thread(self, sent: discord.Message, d: DiscussionMsg) -> tuple[str, ...]:
        """A thread on the prompt to talk in; without permission the poll runs alone."""
        try:
            thread = await sent.create_thread(name=render.clip(d.prompt, 100),
                                              auto_archive_duration=1440)
        except (discord.HTTPException, ValueError) as exc:
            if sent.channel.id not in self._no_threads:
                self._no_threads.add(sent.channel.id)
                log.warning("discord: cannot create threads in channel %s (%s); "
                            "discussions there run with the poll alone", sent.channel.id, exc)
            return ()
        return (f"thread:{thread.id}",)

    async def edit(self, chat: ChatRef, sent: Sent, message: OutMessage) -> None:
        if isinstance(message, PollEnd):
            channel = self._channel(chat)
            try:
                await channel.get_partial_message(int(sent.message_id)).end_poll()
            except discord.HTTPException as exc:
                log.info("discord: could not end poll %s (%s); it ends on its own", sent.message_id, exc)
            return
        if not isinstance(message, Reveal) or sent.message_id is None:
            await self.send(chat, message)
            return
        channel = self._channel(chat)
        view = question_view(message.question, correct=message.question.correct_index)
        with _unavailable_on_forbidden():
            await channel.get_partial_message(int(sent.message_id)).edit(
                embed=render.reveal_embed(message), view=view)

    async def _deliver(self, channel, message: OutMessage, reference=None) -> discord.Message:
        if isinstance(message, DiscussionMsg):
            return await channel.send(embed=render.discussion_embed(message),
                                      poll=render.discussion_poll(message))
        kwargs = _kwargs(message)
        if isinstance(message, QuestionMsg):
            view = question_view(message)
            if view is not None:
                kwargs["view"] = view
        return await channel.send(reference=reference, mention_author=False, **kwargs)


def _kwargs(message: OutMessage) -> dict:
    if isinstance(message, Text):
        return render.text_kwargs(message)
    if isinstance(message, QuestionMsg):
        return {"embed": render.question_embed(message)}
    if isinstance(message, Reveal):
        return {"embed": render.reveal_embed(message)}
    if isinstance(message, Ranking):
        return {"embed": render.ranking_embed(message)}
    if isinstance(message, Document):
        return render.document_kwargs(message)
    if isinstance(message, Picture):
        return render.picture_kwargs(message)
    raise TypeError(f"cannot send {type(message).__name__} to Discord")


class _unavailable_on_forbidden:
    """Turns "the bot cannot use this channel" into the core's ChatUnavailable."""

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if isinstance(exc, discord.HTTPException) and (
                isinstance(exc, (discord.Forbidden, discord.NotFound)) or exc.code in GONE_CODES):
            raise ChatUnavailable(f"{exc.status} {exc.text}") from exc
        return False


def can_post(permissions: discord.Permissions) -> bool:
    return permissions.view_channel and permissions.send_messages and permissions.embed_links


def role_of(permissions: discord.Permissions) -> Role:
    if permissions.administrator or permissions.manage_guild:
        return Role.ADMIN
    if permissions.manage_messages:
        return Role.MODERATOR
    return Role.MEMBER


def chat_ref(channel_id: int | None, guild_id: int | None) -> ChatRef:
    return ChatRef(PLATFORM, str(channel_id), f"guild {guild_id}" if guild_id else "direct")


def _point_at(config: DiscordConfig) -> None:
    """discord.py keeps its endpoints in class attributes; move them when asked."""
    if config.api_base_url:
        discord.http.Route.BASE = config.api_base_url.rstrip("/") + "/api/v10"
    if config.gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(config.gateway_url)
