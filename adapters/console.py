"""The console adapter: one chat in the terminal, for trying the bot with no token.

You speak as an admin. A line `@alice text` speaks as the member alice, so
several players can be tried. In a piped script, a line `:wait` waits until the
open question closes, so later lines can answer the next question.
"""
from __future__ import annotations

import asyncio
import string
import sys
from pathlib import Path
from typing import TextIO

from bot.core import Core
from bot.model import (ChatRef, Command, DiscussionMsg, Document, Message, OutMessage, Picture, PollEnd,
                       QuestionMsg, Ranking, Reveal, Role, Sent, Text, UserRef)

PLATFORM = "console"
CHAT = ChatRef(PLATFORM, "terminal", "Console")


def render(msg: OutMessage) -> str:
    """Plain text for the terminal; no markup to escape here."""
    if isinstance(msg, Text):
        return f"== {msg.title} ==\n{msg.body}" if msg.title else msg.body
    if isinstance(msg, QuestionMsg):
        head = f"Question {msg.index + 1}/{msg.total} ({msg.seconds:g} s): {msg.prompt}"
        if msg.kind == "typed":
            return head + "\n  (type your answer)"
        letters = string.ascii_uppercase
        return head + "".join(f"\n  {letters[i]}) {c}" for i, c in enumerate(msg.choices))
    if isinstance(msg, Reveal):
        got = ", ".join(msg.winners) if msg.winners else "nobody"
        lines = [f"Answer: {msg.correct}", f"Right: {got}", msg.explanation]
        if msg.quote:
            lines.append(f"Source: \"{msg.quote}\"" + (f" ({msg.source_title})" if msg.source_title else ""))
        return "\n".join(lines)
    if isinstance(msg, Ranking):
        rows = [f"{r.rank}. {r.name}: {r.points} pts" + (f" ({r.detail})" if r.detail else "")
                for r in msg.rows]
        return f"== {msg.title} ==\n" + ("\n".join(rows) or msg.empty_text)
    if isinstance(msg, DiscussionMsg):
        options = "".join(f"\n  {i}) {o}" for i, o in enumerate(msg.options, start=1))
        return (f"== Discussion ({msg.hours:g} h) ==\n{msg.prompt}{options}\n"
                "Vote with /vote <number>; say what you think below.")
    if isinstance(msg, Picture):
        return f"[picture {msg.filename}, {len(msg.png) // 1024} KB] {msg.caption}"
    if isinstance(msg, PollEnd):
        return "(the discussion's poll is closed)"
    if isinstance(msg, Document):
        return f"[file {msg.filename}] {msg.caption}\n{msg.content.decode('utf-8', 'replace')}"
    return str(msg)


class ConsoleAdapter:
    def __init__(self, core: Core, out: TextIO = sys.stdout, echo: bool = False,
                 user_name: str = "you", pictures: Path | None = None):
        self.core, self.out, self.echo = core, out, echo
        self.pictures = pictures
        self.admin = UserRef(PLATFORM, "console-admin", user_name, Role.ADMIN)
        self._next_id = 0
        core.delivery.register(PLATFORM, self)

    # ---- Outbox -----------------------------------------------------------------

    async def send(self, chat: ChatRef, message: OutMessage) -> Sent:
        self._print(render(message))
        self._keep(message)
        self._next_id += 1
        return Sent(str(self._next_id))

    async def edit(self, chat: ChatRef, sent: Sent, message: OutMessage) -> None:
        self._print(render(message))

    def _keep(self, message: OutMessage) -> None:
        """A terminal cannot show a picture: write it where the user can open it."""
        if isinstance(message, Picture) and self.pictures is not None:
            self.pictures.mkdir(parents=True, exist_ok=True)
            path = self.pictures / message.filename
            path.write_bytes(message.png)
            self._print(f"(saved as {path})")

    def _print(self, text: str) -> None:
        self.out.write(text + "\n\n")
        self.out.flush()

    # ---- input ------------------------------------------------------------------

    def parse(self, line: str) -> Command | Message | None:
        line = line.strip()
        if not line or line.startswith("#"):
            return None
        user = self.admin
        if line.startswith("@"):
            name, _, line = line[1:].partition(" ")
            user = UserRef(PLATFORM, f"console-{name}", name or "someone", Role.MEMBER)
            line = line.strip()
        if line.startswith("/"):
            name, _, args = line[1:].partition(" ")
            return Command(CHAT, user, name, args.strip())
        return Message(CHAT, user, line, addressed=True)

    async def handle_line(self, line: str) -> None:
        if line.strip() == ":wait":
            await self.core.quiz.wait_question_closed(CHAT)
            return
        event = self.parse(line)
        if event is None:
            return
        if self.echo:
            said = event.text if isinstance(event, Message) else f"/{event.name} {event.args}"
            self._print(f"{event.user.name}> {said.strip()}")
        for reply in await self.core.handle(event):
            self._print(render(reply))
            self._keep(reply)

    async def run(self, stream: TextIO = sys.stdin) -> None:
        """Read lines until end of input, then let the open round finish."""
        loop = asyncio.get_running_loop()
        if not self.echo:
            self._print("History quiz bot (console). Type /help, /quiz to play, "
                        "@name text to speak as another member. Ctrl-D quits.")
        while True:
            line = await loop.run_in_executor(None, stream.readline)
            if not line:
                break
            await self.handle_line(line)
        await self.core.quiz.wait_idle(CHAT)
