"""Routes the core's outgoing messages to the adapter that owns each chat."""
from __future__ import annotations

import logging
from typing import Awaitable, Callable

from .model import ChatRef, OutMessage, Sent
from .pacing import Pacer
from .ports import Outbox

log = logging.getLogger(__name__)


class ChatUnavailable(Exception):
    """The bot can no longer post to this chat (removed, blocked, no permission)."""


class Delivery:
    def __init__(self) -> None:
        self._outboxes: dict[str, Outbox] = {}
        self._pacers: dict[str, Pacer] = {}
        # Chats found unreachable; their schedules are paused by listeners.
        self.unavailable: set[tuple[str, str]] = set()
        self._unavailable_listeners: list[Callable[[ChatRef], Awaitable[None]]] = []

    def on_unavailable(self, listener: Callable[[ChatRef], Awaitable[None]]) -> None:
        self._unavailable_listeners.append(listener)

    async def mark_unavailable(self, chat: ChatRef, why: ChatUnavailable) -> None:
        if chat.key in self.unavailable:
            return
        self.unavailable.add(chat.key)
        log.warning("cannot post to %s chat %s any more (%s); its schedules are paused",
                    chat.platform, chat.chat_id, why)
        for listener in self._unavailable_listeners:
            await listener(chat)

    def mark_available(self, chat: ChatRef) -> None:
        self.unavailable.discard(chat.key)

    def register(self, platform: str, outbox: Outbox) -> None:
        self._outboxes[platform] = outbox

    def pace(self, platform: str, pacer: Pacer) -> None:
        """Send the platform's messages no faster than `pacer` allows."""
        self._pacers[platform] = pacer

    async def send(self, chat: ChatRef, message: OutMessage) -> Sent | None:
        """Deliver or log why not; a failed delivery never stops the caller."""
        outbox = self._outboxes.get(chat.platform)
        if outbox is None:
            log.warning("no adapter for platform %s; message to chat %s dropped",
                        chat.platform, chat.chat_id)
            return None
        pacer = self._pacers.get(chat.platform)
        if pacer is not None:
            await pacer.wait(chat.key)
        try:
            return await outbox.send(chat, message)
        except ChatUnavailable as exc:
            await self.mark_unavailable(chat, exc)
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
