"""The core's messages as Discord embeds and buttons. User and pack text is
markdown-escaped, and every message is sent with mentions disabled, so a name
like `**bold** @everyone` shows literally and pings nobody."""
from __future__ import annotations

import datetime as dt
import io
import math
import string

import discord

from bot.model import DiscussionMsg, Document, Picture, QuestionMsg, Ranking, Reveal, Text

LETTERS = string.ascii_uppercase
COLOUR = discord.Colour.dark_gold()
NO_MENTIONS = discord.AllowedMentions.none()
DESCRIPTION_MAX = 4096
CONTENT_MAX = 2000


def esc(text: str) -> str:
    return discord.utils.escape_markdown(text)


def clip(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def text_kwargs(msg: Text) -> dict:
    if msg.title:
        embed = discord.Embed(title=clip(esc(msg.title), 256),
                              description=clip(esc(msg.body), DESCRIPTION_MAX), colour=COLOUR)
        return {"embed": embed}
    return {"content": clip(esc(msg.body), CONTENT_MAX)}


def question_embed(q: QuestionMsg) -> discord.Embed:
    lines = [esc(q.prompt)]
    if q.kind == "typed":
        lines.append("\n*Answer with `/answer`.*")
    else:
        lines.append("")
        lines += [f"**{LETTERS[i]}**  {esc(c)}" for i, c in enumerate(q.choices)]
    embed = discord.Embed(title=f"Question {q.index + 1}/{q.total}",
                          description=clip("\n".join(lines), DESCRIPTION_MAX), colour=COLOUR)
    embed.set_footer(text=f"{q.seconds:g} seconds")
    return embed


def reveal_embed(r: Reveal) -> discord.Embed:
    got = ", ".join(esc(w) for w in r.winners) if r.winners else "nobody"
    embed = discord.Embed(title=f"Question {r.index + 1}/{r.question.total}: closed",
                          description=clip(esc(r.question.prompt), DESCRIPTION_MAX),
                          colour=discord.Colour.green())
    embed.add_field(name="Answer", value=clip(esc(r.correct), 1024), inline=False)
    embed.add_field(name="Right", value=clip(got, 1024), inline=False)
    if r.explanation:
        embed.add_field(name="Why", value=clip(esc(r.explanation), 1024), inline=False)
    if r.quote:
        source = f"\n— {esc(r.source_title)}" if r.source_title else ""
        embed.add_field(name="Source", value=clip(f"> {esc(r.quote)}{source}", 1024), inline=False)
    return embed


def ranking_embed(r: Ranking) -> discord.Embed:
    rows = [f"**{row.rank}.** {esc(row.name)}: **{row.points}** pts"
            + (f" ({esc(row.detail)})" if row.detail else "") for row in r.rows]
    return discord.Embed(title=clip(esc(r.title), 256),
                         description=clip("\n".join(rows) or esc(r.empty_text), DESCRIPTION_MAX),
                         colour=COLOUR)


def document_kwargs(msg: Document) -> dict:
    return {"content": clip(esc(msg.caption), CONTENT_MAX) or None,
            "file": discord.File(io.BytesIO(msg.content), filename=msg.filename)}


def picture_kwargs(msg: Picture) -> dict:
    embed = discord.Embed(title=clip(esc(msg.caption), 256) or None, colour=COLOUR)
    embed.set_image(url=f"attachment://{msg.filename}")
    return {"embed": embed, "file": discord.File(io.BytesIO(msg.png), filename=msg.filename)}


def button_label(index: int, choice: str) -> str:
    return clip(f"{LETTERS[index]}: {choice}", 80)


def discussion_embed(d: DiscussionMsg) -> discord.Embed:
    return discord.Embed(title="Discussion", colour=COLOUR,
                         description=clip(f"{esc(d.prompt)}\n\nVote in the poll and talk it over "
                                          f"in the thread. It closes in {d.hours:g} h.",
                                          DESCRIPTION_MAX))


def discussion_poll(d: DiscussionMsg) -> discord.Poll:
    # Discord polls last whole hours, from 1 to 32 days' worth; the core closes
    # the discussion on its own time and ends the poll then.
    hours = min(768, max(1, math.ceil(d.hours)))
    poll = discord.Poll(question=clip(d.prompt, 300), duration=dt.timedelta(hours=hours))
    for option in d.options:
        poll.add_answer(text=clip(option, 55))
    return poll
