"""Plain data the core exchanges with adapters: events in, messages out.

Nothing here knows a platform. An adapter turns a platform update into one of
the events and renders each outgoing message the way its platform does best.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Awaitable, Callable


class Role(IntEnum):
    """Ordered so that a higher role may do everything a lower one may."""

    MEMBER = 0
    MODERATOR = 1
    ADMIN = 2


@dataclass(frozen=True)
class ChatRef:
    platform: str
    chat_id: str
    title: str = ""
    # A forum topic (Telegram) or thread (Discord) the chat's messages go to.
    thread_id: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.platform, self.chat_id)


@dataclass(frozen=True)
class UserRef:
    platform: str
    user_id: str
    name: str
    role: Role = Role.MEMBER

    @property
    def key(self) -> tuple[str, str]:
        return (self.platform, self.user_id)


@dataclass(frozen=True)
class Attachment:
    """A file a user sent. The core fetches it only after checking who sent it."""

    filename: str
    size: int
    fetch: Callable[[], Awaitable[bytes]]


# ---- events in -------------------------------------------------------------

@dataclass(frozen=True)
class Command:
    chat: ChatRef
    user: UserRef
    name: str
    args: str = ""
    attachment: Attachment | None = None


@dataclass(frozen=True)
class Message:
    """A plain chat message. `addressed` is true when it was meant for the bot
    (a private chat, the console, a reply to the bot): only then does the bot
    answer something that is not a quiz answer. `place` names what it was
    posted under, when the platform says: the bot message it replies to, or
    the thread it is in (see Sent.refs), so replies to a discussion count."""

    chat: ChatRef
    user: UserRef
    text: str
    addressed: bool = False
    place: str | None = None


@dataclass(frozen=True)
class ChoiceAnswer:
    """A press of one choice (button or native poll option) of a question."""

    chat: ChatRef
    user: UserRef
    round_id: int
    index: int
    choice: int


@dataclass(frozen=True)
class PollVote:
    """A vote in a native discussion poll, found by the poll's reference.
    `added` false takes a vote back (`option` None: whatever it was)."""

    platform: str
    poll: str
    user: UserRef
    option: int | None
    added: bool = True


Event = Command | Message | ChoiceAnswer | PollVote


# ---- messages out ----------------------------------------------------------

@dataclass(frozen=True)
class Text:
    body: str
    title: str | None = None
    # Shown only to the user who caused it, where the platform can.
    ephemeral: bool = False


@dataclass(frozen=True)
class QuestionMsg:
    round_id: int
    index: int  # 0-based position in the round
    total: int
    kind: str  # choice | true_false | typed
    prompt: str
    choices: tuple[str, ...]
    correct_index: int | None
    seconds: float
    explanation: str
    native_poll_ok: bool


@dataclass(frozen=True)
class Reveal:
    round_id: int
    index: int
    question: QuestionMsg
    correct: str
    winners: tuple[str, ...]
    explanation: str
    quote: str | None
    source_title: str | None


@dataclass(frozen=True)
class Picture:
    """A PNG image with a caption."""

    filename: str
    png: bytes
    caption: str = ""


@dataclass(frozen=True)
class DiscussionMsg:
    """A discussion prompt: a poll with its options and a place to talk."""

    discussion_id: int
    prompt: str
    options: tuple[str, ...]
    hours: float
    title: str


@dataclass(frozen=True)
class PollEnd:
    """Sent as an edit of a DiscussionMsg: close its poll."""

    discussion_id: int


@dataclass(frozen=True)
class RankRow:
    rank: int
    name: str
    points: int
    detail: str = ""


@dataclass(frozen=True)
class Ranking:
    title: str
    rows: tuple[RankRow, ...]
    empty_text: str = "Nobody has scored yet."


@dataclass(frozen=True)
class Document:
    """A text file sent to the chat, for reports too long for one message."""

    filename: str
    content: bytes
    caption: str = ""
    ephemeral: bool = False


OutMessage = Text | QuestionMsg | Reveal | Ranking | Document | DiscussionMsg | PollEnd | Picture


@dataclass
class Sent:
    """What an adapter reports back after delivering a message. `refs` are the
    platform's names for what was created (a poll, a thread, a message replies
    point at), as the adapter will pass them back in PollVote or Message.place."""

    message_id: str | None = None
    refs: tuple[str, ...] = ()
