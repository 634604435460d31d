"""A fake Discord on 127.0.0.1 for tests: the gateway (a websocket speaking
the v10 JSON protocol) and the REST API, both used by the real discord.py.

Tests dispatch gateway events (INTERACTION_CREATE, MESSAGE_CREATE, ...) and
read the REST calls discord.py made, e.g. the interaction callbacks and the
messages it sent. `fail_next` makes the next call of a route fail.
"""
from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.local_server import serve

APP_ID = 700
BOT_ID = 701
GUILD_ID = 800
CHANNEL_ID = 801
BOT_USER = {"id": str(BOT_ID), "username": "history-quiz", "discriminator": "0", "avatar": None,
            "global_name": "History Quiz", "bot": True}
TIMESTAMP = "2026-11-24T12:00:00+00:00"
EVERYONE_PERMS = "68608"  # view channel, send messages, read history
ADMIN_PERMS = str(1 << 5 | 68608)  # + manage server
BOT_PERMS = "2251799813685247"  # everything
_ids = itertools.count(10_000)


def snowflake() -> str:
    return str(next(_ids))


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Call:
    method: str
    path: str
    body: Any
    files: dict[str, bytes] = field(default_factory=dict)
    ok: bool = True


@dataclass
class FakeDiscord:
    token: str = "ODAw.fake-discord-token.abcdefghijklmnopqrstuvwxyz"
    calls: list[Call] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    failures: dict[tuple[str, str], list[tuple[int, int, str]]] = field(default_factory=dict)

    def __post_init__(self):
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.identified = asyncio.Event()
        self.messages: dict[str, dict] = {}  # message id -> message, as the bot left it
        self.threads: list[dict] = []
        self.refuse_threads = False  # as if the bot lacked Create Public Threads

    # ---- serving ------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{name}", self._attachment)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        self._runner, self.base_url = await serve(app)

    @property
    def gateway_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/gateway"

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner:
            await self._runner.cleanup()

    # ---- gateway -----------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45_000}, "s": None, "t": None}))
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            payload = json.loads(msg.data)
            if payload["op"] == 1:
                await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
            elif payload["op"] == 2:
                await self._ready(ws)
        self._sockets.remove(ws)
        return ws

    async def _ready(self, ws: web.WebSocketResponse) -> None:
        await self._send(ws, "READY", {
            "v": 10, "user": BOT_USER, "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
            "session_id": "session", "resume_gateway_url": self.gateway_url, "shard": [0, 1],
            "application": {"id": str(APP_ID), "flags": 0}})
        await self._send(ws, "GUILD_CREATE", guild_json())
        self.identified.set()

    async def _send(self, ws: web.WebSocketResponse, event: str, data: dict) -> None:
        await ws.send_str(json.dumps({"op": 0, "t": event, "s": next(self._seq), "d": data}))

    async def dispatch(self, event: str, data: dict) -> None:
        for ws in self._sockets:
            await self._send(ws, event, data)

    async def drop_connections(self) -> None:
        """Close every gateway connection, as a restart of the bot would."""
        for ws in list(self._sockets):
            await ws.close()

    # ---- REST ----------------------------------------------------------------------

    def fail_next(self, method: str, path: str, status: int, code: int, message: str) -> None:
        self.failures.setdefault((method, path), []).append((status, code, message))

    def called(self, method: str, prefix: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.startswith(prefix) and c.ok]

    def callbacks(self) -> list[dict]:
        """Bodies of every interaction response, in order."""
        return [c.body for c in self.calls if c.path.endswith("/callback") and c.ok]

    async def _attachment(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["name"])
        return web.Response(body=data) if data is not None else web.Response(status=404)

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        if request.headers.get("Authorization") not in (f"Bot {self.token}", None):
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        body, files = await _body(request)
        call = Call(request.method, path, body, files)
        self.calls.append(call)
        queued = self.failures.get((request.method, path))
        if queued:
            status, code, message = queued.pop(0)
            call.ok = False
            return _json({"message": message, "code": code}, status=status)
        try:
            result = self._route(request.method, path, body or {}, files)
        except ApiError as exc:
            call.ok = False
            return _json({"message": exc.message, "code": exc.code}, status=exc.status)
        if result is None:
            return web.Response(status=204)
        return _json(result)

    def _route(self, method: str, path: str, body: dict, files: dict) -> Any:
        parts = path.strip("/").split("/")
        if path == "/users/@me":
            return BOT_USER
        if path == "/oauth2/applications/@me":
            return {"id": str(APP_ID), "name": "History Quiz", "icon": None, "description": "",
                    "bot_public": True, "bot_require_code_grant": False, "verify_key": "k",
                    "owner": {**BOT_USER, "bot": False, "id": "1"}, "flags": 0}
        if path == "/gateway/bot":
            return {"url": self.gateway_url, "shards": 1,
                    "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0,
                                            "max_concurrency": 1}}
        if parts[0] == "applications" and parts[-1] == "commands" and method == "PUT":
            return [{**c, "id": snowflake(), "application_id": str(APP_ID), "version": "1",
                     "default_member_permissions": c.get("default_member_permissions")}
                    for c in body]
        if parts[0] == "channels" and parts[2:] == ["messages"] and method == "POST":
            return self._message(parts[1], body, files)
        if parts[0] == "channels" and parts[2] == "messages" and method == "PATCH":
            return self._message(parts[1], body, files, message_id=parts[3])
        if parts[0] == "channels" and parts[2] == "messages" and parts[-1] == "threads":
            return self._thread(parts[1], parts[3], body)
        if parts[0] == "channels" and parts[2] == "polls" and parts[-1] == "expire":
            message = self.messages[parts[3]]
            message["poll"]["results"] = {"is_finalized": True, "answer_counts": []}
            return message
        if parts[0] == "interactions" and parts[-1] == "callback":
            return self._callback(parts[1], body, files)
        if parts[0] == "webhooks" and method == "POST":
            return self._message(str(CHANNEL_ID), body, files)
        if parts[0] == "webhooks" and method == "PATCH":
            return self._message(str(CHANNEL_ID), body, files, message_id=snowflake())
        return None

    def _thread(self, channel_id: str, message_id: str, body: dict) -> dict:
        if self.refuse_threads:
            raise ApiError(403, 50013, "Missing Permissions")
        thread = {"id": message_id, "type": 11, "guild_id": str(GUILD_ID), "parent_id": channel_id,
                  "name": body["name"], "owner_id": str(BOT_ID), "message_count": 0,
                  "member_count": 1, "rate_limit_per_user": 0, "flags": 0,
                  "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                      "archive_timestamp": TIMESTAMP, "locked": False}}
        self.threads.append(thread)
        return thread

    def _callback(self, interaction_id: str, body: dict, files: dict) -> dict:
        data = body.get("data") or {}
        message = None
        if body.get("type") in (4, 5):
            message = self._message(str(CHANNEL_ID), data, files)
        return {"interaction": {"id": interaction_id, "type": 2,
                                "response_message_id": message and message["id"],
                                "response_message_loading": body.get("type") == 5,
                                "response_message_ephemeral": bool((data.get("flags") or 0) & 64)},
                "resource": {"type": body.get("type"), "message": message} if message else None}

    def _message(self, channel_id: str, body: dict, files: dict, message_id: str | None = None) -> dict:
        message = self.messages.get(message_id or "", {})
        message = {**message_json(channel_id, BOT_USER, body.get("content") or ""),
                   **{k: v for k, v in message.items() if k not in body}}
        if message_id:
            message["id"] = message_id
        for key in ("embeds", "components", "flags", "content"):
            if key in body and body[key] is not None:
                message[key] = body[key]
        if body.get("poll"):
            message["poll"] = poll_json(body["poll"])
        message["attachments"] = [{"id": snowflake(), "filename": name, "size": len(data),
                                   "url": f"{self.base_url}/attachments/{name}",
                                   "proxy_url": f"{self.base_url}/attachments/{name}"}
                                  for name, data in files.items()]
        self.messages[message["id"]] = message
        return message


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py parses a body as JSON only when the content type is exactly this.
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json"})


async def _body(request: web.Request) -> tuple[Any, dict[str, bytes]]:
    if request.content_type.startswith("multipart/"):
        body, files = {}, {}
        reader = await request.multipart()
        async for part in reader:
            if part.name == "payload_json":
                body = json.loads(await part.text())
            else:
                files[part.filename or part.name] = bytes(await part.read())
        return body, files
    if request.can_read_body:
        text = await request.text()
        return (json.loads(text) if text else None), {}
    return None, {}


# ---- building payloads -------------------------------------------------------------

def guild_json() -> dict:
    return {"id": str(GUILD_ID), "name": "History club", "owner_id": "1", "unavailable": False,
            "roles": [{"id": str(GUILD_ID), "name": "@everyone", "permissions": EVERYONE_PERMS,
                       "position": 0, "color": 0, "hoist": False, "managed": False,
                       "mentionable": False, "flags": 0}],
            "channels": [channel_json()], "threads": [], "members": [], "member_count": 3,
            "emojis": [], "stickers": [], "features": [], "voice_states": [], "presences": [],
            "large": False, "joined_at": TIMESTAMP, "mfa_level": 0, "verification_level": 0,
            "explicit_content_filter": 0, "default_message_notifications": 0, "nsfw_level": 0,
            "premium_tier": 0, "preferred_locale": "en-US", "system_channel_flags": 0}


def channel_json(channel_id: int = CHANNEL_ID) -> dict:
    return {"id": str(channel_id), "type": 0, "name": "quiz", "position": 0,
            "permission_overwrites": [], "guild_id": str(GUILD_ID), "nsfw": False}


def poll_json(sent: dict) -> dict:
    """A poll as Discord returns it, from the poll the bot sent."""
    return {"question": sent["question"], "allow_multiselect": sent.get("allow_multiselect", False),
            "layout_type": sent.get("layout_type", 1), "expiry": TIMESTAMP,
            "answers": [{"answer_id": i, **answer} for i, answer in enumerate(sent["answers"], 1)],
            "results": {"is_finalized": False, "answer_counts": []}}


def poll_vote(message: dict, user_id: int, answer_id: int) -> dict:
    return {"user_id": str(user_id), "channel_id": message["channel_id"],
            "message_id": message["id"], "guild_id": str(GUILD_ID), "answer_id": answer_id}


def user_json(user_id: int, name: str) -> dict:
    return {"id": str(user_id), "username": f"user{user_id}", "discriminator": "0",
            "avatar": None, "global_name": name}


def member_json(user: dict, permissions: str = EVERYONE_PERMS) -> dict:
    return {"user": user, "roles": [], "joined_at": TIMESTAMP, "deaf": False, "mute": False,
            "flags": 0, "permissions": permissions, "nick": None}


def message_json(channel_id: str, author: dict, content: str) -> dict:
    return {"id": snowflake(), "channel_id": channel_id, "author": author, "content": content,
            "timestamp": TIMESTAMP, "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
            "embeds": [], "pinned": False, "type": 0, "flags": 0, "components": []}


def _interaction(kind: int, user: dict, permissions: str, data: dict, **extra) -> dict:
    interaction_id = snowflake()
    return {"id": interaction_id, "application_id": str(APP_ID), "type": kind, "data": data,
            "token": f"token-{interaction_id}", "version": 1, "guild_id": str(GUILD_ID),
            "channel_id": str(CHANNEL_ID), "channel": channel_json(),
            "member": member_json(user, permissions), "app_permissions": BOT_PERMS,
            "locale": "en-US", "guild_locale": "en-US", "entitlements": [],
            "authorizing_integration_owners": {"0": str(GUILD_ID)}, "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024, **extra}


def slash(name: str, user: dict, options: list[dict] | None = None, *,
          permissions: str = EVERYONE_PERMS, resolved: dict | None = None, **extra) -> dict:
    data: dict[str, Any] = {"id": snowflake(), "name": name, "type": 1}
    if options:
        data["options"] = options
    if resolved:
        data["resolved"] = resolved
    return _interaction(2, user, permissions, data, **extra)


def subcommand(group: str, name: str, user: dict, options: list[dict] | None = None, **kw) -> dict:
    sub = {"name": name, "type": 1, "options": options or []}
    return slash(group, user, [sub], **kw)


def click(message: dict, custom_id: str, user: dict) -> dict:
    return _interaction(3, user, EVERYONE_PERMS, {"custom_id": custom_id, "component_type": 2},
                        message=message)


def attachment_json(base_url: str, name: str, size: int) -> dict:
    return {"id": snowflake(), "filename": name, "size": size,
            "url": f"{base_url}/attachments/{name}", "proxy_url": f"{base_url}/attachments/{name}",
            "content_type": "application/yaml"}
