"""The core's messages as Telegram HTML. Every string that came from a user or a
pack goes through `esc`, so names like `<b>Bob</b> & co` show literally."""
from __future__ import annotations

import html
import string

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit, PollLimit

from bot.model import DiscussionMsg, QuestionMsg, Ranking, Reveal, Text

LETTERS = string.ascii_uppercase
CALLBACK_PREFIX = "a"


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def clip(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def text_html(msg: Text) -> str:
    body = esc(msg.body)
    if msg.title:
        body = f"<b>{esc(msg.title)}</b>\n{body}"
    return _fit(body)


def question_html(q: QuestionMsg) -> str:
    head = f"<b>Question {q.index + 1}/{q.total}</b> ({q.seconds:g} s)\n{esc(q.prompt)}"
    if q.kind == "typed":
        return _fit(head + "\n\n<i>Reply to this message with your answer.</i>")
    lines = [f"{LETTERS[i]}) {esc(c)}" for i, c in enumerate(q.choices)]
    return _fit(head + "\n\n" + "\n".join(lines))


def poll_fits(q: QuestionMsg) -> bool:
    """Whether Telegram can show this question as a native quiz poll. The poll's
    explanation is clipped to its limit; the full one comes with the reveal."""
    return (q.kind != "typed" and q.correct_index is not None
            and 2 <= len(q.choices) <= PollLimit.MAX_OPTION_NUMBER
            and len(poll_question(q)) <= PollLimit.MAX_QUESTION_LENGTH
            and all(1 <= len(c) <= PollLimit.MAX_OPTION_LENGTH for c in q.choices))


def poll_question(q: QuestionMsg) -> str:
    return f"[{q.index + 1}/{q.total}] {q.prompt}"


def poll_explanation(q: QuestionMsg) -> str | None:
    if not q.explanation:
        return None
    # Telegram allows at most two line feeds in a poll explanation.
    flat = " ".join(q.explanation.split())
    return clip(flat, PollLimit.MAX_EXPLANATION_LENGTH)


def keyboard(q: QuestionMsg) -> InlineKeyboardMarkup:
    """One button per choice; callback data carries round, question and choice
    so a press is checked against what is open now."""
    rows = [[InlineKeyboardButton(f"{LETTERS[i]}) {clip(c, 60)}",
                                  callback_data=f"{CALLBACK_PREFIX}:{q.round_id}:{q.index}:{i}")]
            for i, c in enumerate(q.choices)]
    return InlineKeyboardMarkup(rows)


def parse_callback(data: str | None) -> tuple[int, int, int] | None:
    """(round, question, choice) from a button's data, or None when it is not ours."""
    parts = (data or "").split(":")
    if len(parts) != 4 or parts[0] != CALLBACK_PREFIX:
        return None
    try:
        round_id, index, choice = (int(p) for p in parts[1:])
    except ValueError:
        return None
    if min(round_id, index, choice) < 0:
        return None
    return round_id, index, choice


def reveal_html(r: Reveal, with_question: bool) -> str:
    got = ", ".join(esc(w) for w in r.winners) if r.winners else "nobody"
    lines = []
    if with_question:
        lines.append(f"<b>Question {r.index + 1}/{r.question.total}</b>\n{esc(r.question.prompt)}\n")
    lines += [f"✅ <b>Answer:</b> {esc(r.correct)}", f"<b>Right:</b> {got}"]
    if r.explanation:
        lines.append(esc(r.explanation))
    if r.quote:
        source = f" ({esc(r.source_title)})" if r.source_title else ""
        lines.append(f"<blockquote>{esc(r.quote)}</blockquote>{source}")
    return _fit("\n".join(lines))


def ranking_html(r: Ranking) -> str:
    rows = [f"{row.rank}. {esc(row.name)}: <b>{row.points}</b> pts"
            + (f" ({esc(row.detail)})" if row.detail else "") for row in r.rows]
    return _fit(f"<b>{esc(r.title)}</b>\n" + ("\n".join(rows) or esc(r.empty_text)))


def discussion_html(d: DiscussionMsg) -> str:
    return _fit(f"💬 <b>Discussion</b> ({esc(d.title)})\n{esc(d.prompt)}\n\n"
                f"Vote in the poll, and reply to this message to say why. "
                f"It closes in {d.hours:g} h.")


def _fit(body: str) -> str:
    # Cutting HTML could leave a tag open; bodies this long are our own reports,
    # which are plain escaped text, so cut at a line instead.
    if len(body) <= MessageLimit.MAX_TEXT_LENGTH:
        return body
    cut = body.rfind("\n", 0, MessageLimit.MAX_TEXT_LENGTH - 20)
    return body[: cut if cut > 0 else MessageLimit.MAX_TEXT_LENGTH - 20] + "\n…"
