"""Routes the core's outgoing messages to the adapter that owns each chat."""
from __future__ import annotations

import logging

from .model import ChatRef, OutMessage, Sent
from .ports import Outbox

log = logging.getLogger(__name__)


class ChatUnavailable(Exception):
    """The bot can no longer post to this chat (removed, blocked, no permission)."""


class Delivery:
    def __init__(self) -> None:
        self._outboxes: dict[str, Outbox] = {}

    def register(self, platform: str, outbox: Outbox) -> None:
        self._outboxes[platform] = outbox

    async def send(self, chat: ChatRef, message: OutMessage) -> Sent | None:
        """Deliver or log why not; a failed delivery never stops the caller."""
        outbox = self._outboxes.get(chat.platform)
        if outbox is None:
            log.warning("no adapter for platform %s; message to chat %s dropped",
                        chat.platform, chat.chat_id)
            return None
        try:
            return await outbox.send(chat, message)
        except ChatUnavailable:
            raise
        except Exception:
            log.exception("could not send to %s chat %s", chat.platform, chat.chat_id)
            return None

    async def edit(self, chat: ChatRef, sent: Sent | None, message: OutMessage) -> None:
        """Replace a message sent before (a question by its reveal). With no
        message to edit (its sending failed) the adapter posts a new one."""
        outbox = self._outboxes.get(chat.platform)
        if outbox is None:
            return
        try:
            await outbox.edit(chat, sent or Sent(), message)
        except Exception:
            log.exception("could not edit a message in %s chat %s", chat.platform, chat.chat_id)
