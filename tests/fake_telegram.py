"""A fake Telegram Bot API server on 127.0.0.1 for tests.

The real python-telegram-bot talks to it over HTTP. It answers the methods the
bot calls with objects shaped as Bot API 10 defines them (PTB 22.8 checks
them), records every call, lets a test queue updates for getUpdates, and can
be told to fail the next call of a method (a 429 with retry_after, a 403).
"""
from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.local_server import serve

BOT_ID = 5000
BOT_USERNAME = "history_quiz_bot"
NOW = 1_800_000_000
# Values Telegram sends as JSON inside form fields; everything else is text.
JSON_FIELDS = {"reply_markup", "options", "commands", "correct_option_ids", "reply_parameters",
               "allowed_updates", "link_preview_options", "entities", "caption_entities"}
INT_FIELDS = {"chat_id", "message_id", "message_thread_id", "offset", "limit", "timeout",
              "open_period", "user_id", "cache_time"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    ok: bool = True


@dataclass
class Failure:
    status: int
    description: str
    parameters: dict | None = None


class ApiError(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status, self.description = status, description


@dataclass
class FakeBotApi:
    token: str = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"
    calls: list[Call] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    admins: dict[int, set[int]] = field(default_factory=dict)  # chat -> admin user ids
    failures: dict[str, list[Failure]] = field(default_factory=dict)

    def __post_init__(self):
        self._updates: list[dict] = []
        self._new_update = asyncio.Event()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(100)
        self._poll_ids = itertools.count(9000)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # ---- serving --------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.*}", self._file)
        self._runner, self.base_url = await serve(app)
        return self.base_url

    async def stop(self) -> None:
        self._new_update.set()
        if self._runner:
            await self._runner.cleanup()

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await _params(request)
        call = Call(method, params)
        self.calls.append(call)
        queued = self.failures.get(method)
        if queued:
            f = queued.pop(0)
            call.ok = False
            body = {"ok": False, "error_code": f.status, "description": f.description}
            if f.parameters:
                body["parameters"] = f.parameters
            return web.json_response(body, status=f.status)
        handler = getattr(self, "m_" + method, None)
        if handler is None:
            return web.json_response({"ok": False, "error_code": 404,
                                      "description": f"Not Found: method {method}"}, status=404)
        try:
            return web.json_response({"ok": True, "result": await handler(params)})
        except ApiError as exc:
            return web.json_response({"ok": False, "error_code": exc.status,
                                      "description": exc.description}, status=exc.status)

    async def _file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["path"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data)

    # ---- what tests use ----------------------------------------------------------

    def fail_next(self, method: str, status: int, description: str, **parameters) -> None:
        self.failures.setdefault(method, []).append(Failure(status, description, parameters or None))

    def push(self, update: dict) -> dict:
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        self._new_update.set()
        return update

    def called(self, method: str) -> list[dict]:
        """The parameters of every call of `method` that succeeded."""
        return [c.params for c in self.calls if c.method == method and c.ok]

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        return [p["text"] for p in self.called("sendMessage")
                if chat_id is None or p["chat_id"] == chat_id]

    def add_file(self, file_id: str, data: bytes) -> None:
        self.files[f"documents/{file_id}.yaml"] = data

    # ---- methods ---------------------------------------------------------------

    async def m_getMe(self, p):
        return {"id": BOT_ID, "is_bot": True, "first_name": "History Quiz", "username": BOT_USERNAME,
                "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    async def m_getUpdates(self, p):
        offset, timeout = p.get("offset", 0), min(float(p.get("timeout", 0)), 2.0)
        pending = [u for u in self._updates if u["update_id"] >= offset]
        if not pending and timeout:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout)
            except asyncio.TimeoutError:
                pass
            pending = [u for u in self._updates if u["update_id"] >= offset]
        self._updates = pending
        return pending

    async def m_setMyCommands(self, p):
        return True

    async def m_deleteWebhook(self, p):
        return True

    async def m_setWebhook(self, p):
        return True

    async def m_sendMessage(self, p):
        msg = self._message(p, text=p["text"])
        if "reply_markup" in p:
            msg["reply_markup"] = p["reply_markup"]
        return msg

    async def m_sendDocument(self, p):
        doc = {"file_id": f"out{next(self._message_ids)}", "file_unique_id": "u",
               "file_name": p.get("document_name", "report.txt")}
        return self._message(p, document=doc, caption=p.get("caption", ""))

    async def m_sendPhoto(self, p):
        photo = [{"file_id": f"photo{next(self._message_ids)}", "file_unique_id": "p",
                  "width": 1080, "height": 1920}]
        return self._message(p, photo=photo, caption=p.get("caption", ""))

    async def m_sendPoll(self, p):
        options = [{"text": t if isinstance(t, str) else t["text"], "voter_count": 0,
                    "persistent_id": f"opt{i}"} for i, t in enumerate(p["options"])]
        poll = {"id": str(next(self._poll_ids)), "question": p["question"], "options": options,
                "total_voter_count": 0, "is_closed": False,
                "is_anonymous": p.get("is_anonymous", True) in (True, "true", "True"),
                "type": p.get("type", "regular"), "allows_multiple_answers": False,
                "allows_revoting": False, "members_only": False}
        if p.get("correct_option_ids") is not None:
            poll["correct_option_ids"] = p["correct_option_ids"]
        if p.get("explanation"):
            poll["explanation"] = p["explanation"]
        if p.get("open_period"):
            poll["open_period"] = p["open_period"]
        return self._message(p, poll=poll)

    async def m_stopPoll(self, p):
        for c in self.calls:
            if c.method == "sendPoll" and c.params.get("_message_id") == p["message_id"]:
                return {**c.params["_poll"], "is_closed": True}
        raise ApiError(400, "Bad Request: message with poll to stop not found")

    async def m_editMessageText(self, p):
        return self._message(p, text=p["text"], message_id=p["message_id"])

    async def m_answerCallbackQuery(self, p):
        return True

    async def m_getChatMember(self, p):
        user = {"id": p["user_id"], "is_bot": False, "first_name": f"user{p['user_id']}"}
        if p["user_id"] in self.admins.get(p["chat_id"], set()):
            return {"status": "administrator", "user": user, "can_be_edited": False,
                    "is_anonymous": False, "can_manage_chat": True, "can_delete_messages": True,
                    "can_manage_video_chats": True, "can_restrict_members": True,
                    "can_promote_members": False, "can_change_info": True,
                    "can_invite_users": True, "can_post_stories": False,
                    "can_edit_stories": False, "can_delete_stories": False}
        return {"status": "member", "user": user}

    async def m_getFile(self, p):
        path = f"documents/{p['file_id']}.yaml"
        size = len(self.files.get(path, b""))
        return {"file_id": p["file_id"], "file_unique_id": "u" + p["file_id"], "file_size": size,
                "file_path": path}

    def _message(self, p: dict, message_id: int | None = None, **content) -> dict:
        chat_id = p["chat_id"]
        message_id = message_id or next(self._message_ids)
        msg = {"message_id": message_id, "date": NOW, "chat": chat_json(chat_id),
               "from": {"id": BOT_ID, "is_bot": True, "first_name": "History Quiz",
                        "username": BOT_USERNAME}, **content}
        if p.get("message_thread_id"):
            msg["message_thread_id"] = p["message_thread_id"]
            msg["is_topic_message"] = True
        p["_message_id"] = message_id
        if "poll" in content:
            p["_poll"] = content["poll"]
        return msg


async def _params(request: web.Request) -> dict[str, Any]:
    form = await request.post()
    params: dict[str, Any] = {}
    for key, value in form.items():
        if hasattr(value, "file"):  # an uploaded file
            params[key] = value.file.read()
            params[key + "_name"] = value.filename
            continue
        if key in JSON_FIELDS:
            value = json.loads(value)
        elif key in INT_FIELDS and value.lstrip("-").isdigit():
            value = int(value)
        elif value in ("true", "false"):
            value = value == "true"
        params[key] = value
    return params


# ---- building updates ---------------------------------------------------------

def chat_json(chat_id: int, title: str = "History club", forum: bool = False) -> dict:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Someone"}
    chat = {"id": chat_id, "type": "supergroup", "title": title}
    if forum:
        chat["is_forum"] = True
    return chat


def user_json(user_id: int, first_name: str, last_name: str | None = None) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": first_name}
    if last_name:
        user["last_name"] = last_name
    return user


_ids = itertools.count(1)


def message_update(chat_id: int, user: dict, text: str | None = None, *, thread: int | None = None,
                   reply_to: dict | None = None, document: dict | None = None,
                   caption: str | None = None, sender_chat: dict | None = None) -> dict:
    msg: dict[str, Any] = {"message_id": next(_ids), "date": NOW,
                           "chat": chat_json(chat_id, forum=thread is not None), "from": user}
    if text is not None:
        msg["text"] = text
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0,
                                "length": len(text.split()[0])}]
    if thread is not None:
        msg["message_thread_id"] = thread
        msg["is_topic_message"] = True
    if reply_to is not None:
        msg["reply_to_message"] = reply_to
    if document is not None:
        msg["document"] = document
    if caption is not None:
        msg["caption"] = caption
    if sender_chat is not None:
        msg["sender_chat"] = sender_chat
    return {"message": msg}


def document_json(file_id: str, name: str, size: int) -> dict:
    return {"file_id": file_id, "file_unique_id": "u" + file_id, "file_name": name,
            "mime_type": "application/yaml", "file_size": size}


def callback_update(chat_id: int, user: dict, message: dict, data: str) -> dict:
    return {"callback_query": {"id": str(next(_ids)), "from": user, "chat_instance": "ci",
                               "message": message, "data": data}}


def poll_answer_update(poll_id: str, user: dict, option: int) -> dict:
    return {"poll_answer": {"poll_id": poll_id, "user": user, "option_ids": [option],
                            "option_persistent_ids": [f"opt{option}"]}}
