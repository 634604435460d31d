"""The core's commands as Discord slash commands. Each one only gathers its
options into the core's argument text; what they do lives in the core."""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands

if TYPE_CHECKING:
    from . import DiscordAdapter

MODERATOR = discord.Permissions(manage_messages=True)
ADMIN = discord.Permissions(manage_guild=True)


def add_commands(adapter: "DiscordAdapter") -> None:
    tree, run = adapter.tree, adapter.command

    def simple(name: str, description: str, permissions: discord.Permissions | None = None):
        async def callback(interaction: discord.Interaction) -> None:
            await run(interaction, name)
        command = app_commands.Command(name=name, description=description, callback=callback)
        if permissions is not None:
            command.default_permissions = permissions
        tree.add_command(command)

    simple("help", "What you can do here")
    simple("stop", "Stop the round (its starter or a moderator)")
    simple("me", "Your own numbers in this channel")
    simple("packs", "The quiz packs loaded")

    @tree.command(name="quiz", description="Start a quiz round")
    @app_commands.describe(pack="Pack id (see /packs)", count="How many questions")
    async def quiz(interaction: discord.Interaction, pack: str | None = None,
                   count: app_commands.Range[int, 1, 50] | None = None) -> None:
        await run(interaction, "quiz", " ".join(str(a) for a in (pack, count) if a is not None))

    @quiz.autocomplete("pack")
    async def pack_ids(interaction: discord.Interaction, current: str):
        return [app_commands.Choice(name=p, value=p) for p in adapter.core.packs.ids()
                if current.lower() in p.lower()][:25]

    @tree.command(name="answer", description="Answer the open question in words")
    async def answer(interaction: discord.Interaction, text: app_commands.Range[str, 1, 500]) -> None:
        await run(interaction, "answer", text)

    @tree.command(name="leaderboard", description="Top scores")
    async def leaderboard(interaction: discord.Interaction,
                          scope: Literal["all", "week", "global"] = "all") -> None:
        await run(interaction, "leaderboard", scope)

    @tree.command(name="timer", description="How long questions stay open here")
    @app_commands.default_permissions(manage_messages=True)
    async def timer(interaction: discord.Interaction, seconds: app_commands.Range[int, 5, 600]) -> None:
        await run(interaction, "timer", str(seconds))

    @tree.command(name="discuss", description="Open a discussion with a poll and a thread")
    @app_commands.default_permissions(manage_messages=True)
    @app_commands.describe(prompt="Prompt id (random when empty)", hours="How long it runs",
                           end="End the open discussion now")
    async def discuss(interaction: discord.Interaction, prompt: str | None = None,
                      hours: app_commands.Range[float, 0.1, 168.0] | None = None,
                      end: bool = False) -> None:
        args = "end" if end else " ".join(str(a) for a in (prompt, hours) if a is not None)
        await run(interaction, "discuss", args)

    @tree.command(name="perspectives", description="Each side's strongest argument, with its source")
    async def perspectives(interaction: discord.Interaction, prompt: str) -> None:
        await run(interaction, "perspectives", prompt)

    @discuss.autocomplete("prompt")
    @perspectives.autocomplete("prompt")
    async def prompt_ids(interaction: discord.Interaction, current: str):
        return [app_commands.Choice(name=d.id, value=d.id) for p in adapter.core.packs.packs()
                for d in p.discussions if current.lower() in d.id.lower()][:25]

    simple("discussions", "Recent discussions and their results")

    @tree.command(name="vote", description="Vote in the open discussion by number")
    async def vote(interaction: discord.Interaction, option: app_commands.Range[int, 1, 10]) -> None:
        await run(interaction, "vote", str(option))

    simple("onthisday", "What happened on this day")

    @tree.command(name="timeline", description="A picture of a pack's events")
    async def timeline(interaction: discord.Interaction, pack: str | None = None) -> None:
        await run(interaction, "timeline", pack or "")

    timeline.autocomplete("pack")(pack_ids)

    @tree.command(name="timezone", description="This channel's time zone (IANA name)")
    @app_commands.default_permissions(manage_messages=True)
    async def timezone(interaction: discord.Interaction, name: str | None = None) -> None:
        await run(interaction, "timezone", name or "")

    add_schedule_group(adapter)

    pack = app_commands.Group(name="pack", description="Quiz packs", default_permissions=ADMIN)

    @pack.command(name="load", description="Load or replace a quiz pack from a YAML file")
    async def pack_load(interaction: discord.Interaction, file: discord.Attachment) -> None:
        await run(interaction, "pack", "load", file)

    @pack.command(name="list", description="The quiz packs loaded")
    async def pack_list(interaction: discord.Interaction) -> None:
        await run(interaction, "pack", "list")

    tree.add_command(pack)


def add_schedule_group(adapter: "DiscordAdapter") -> None:
    run = adapter.command
    group = app_commands.Group(name="schedule", description="Posts that come round by themselves",
                               default_permissions=MODERATOR)
    when_help = "daily 18:00, mon,fri 19:30, weekly sun 12:00 or a cron line"

    @group.command(name="onthisday", description="Post what happened on this day")
    @app_commands.describe(when=when_help, quiet="Post nothing on days without an anniversary")
    async def onthisday(interaction: discord.Interaction, when: str, quiet: bool = False) -> None:
        await run(interaction, "schedule", f"onthisday {when}" + (" quiet" if quiet else ""))

    @group.command(name="quiz", description="Start a quiz round")
    @app_commands.describe(when=when_help)
    async def quiz(interaction: discord.Interaction, when: str, pack: str | None = None,
                   count: app_commands.Range[int, 1, 50] | None = None) -> None:
        extra = " ".join(str(a) for a in (pack, count) if a is not None)
        await run(interaction, "schedule", f"quiz {when} {extra}".strip())

    @group.command(name="discuss", description="Open a discussion")
    @app_commands.describe(when=when_help)
    async def discuss(interaction: discord.Interaction, when: str, prompt: str | None = None) -> None:
        await run(interaction, "schedule", f"discuss {when} {prompt or ''}".strip())

    @group.command(name="list", description="This channel's schedules")
    async def listing(interaction: discord.Interaction) -> None:
        await run(interaction, "schedule", "list")

    for action in ("remove", "pause", "resume"):
        group.add_command(_by_id(run, action))
    adapter.tree.add_command(group)


def _by_id(run, action: str) -> app_commands.Command:
    async def callback(interaction: discord.Interaction, id: int) -> None:  # noqa: A002
        await run(interaction, "schedule", f"{action} {id}")
    return app_commands.Command(name=action, description=f"{action.capitalize()} a schedule by id",
                                callback=callback)
