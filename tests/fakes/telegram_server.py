"""A fake Telegram Bot API on 127.0.0.1 for the real python-telegram-bot to talk to.

Tests point `base_url` at `server.base_url`, push updates the way Telegram would produce them, and
assert on what the library actually sent (`calls`, `sent_messages`). Only the slice of the Bot API that
Haven uses is modelled, but that slice follows the real wire format: form-encoded, multipart or JSON
parameters in, `{"ok": ..., "result" | "description", "error_code", "parameters"}` out.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession, web

# Values PTB sends as plain strings; everything else it JSON-encodes (numbers, booleans, objects).
_STRING_PARAMS = frozenset(
    {"text", "caption", "parse_mode", "callback_query_id", "url", "secret_token", "language_code", "ip_address"}
)
_COMMAND_OR_MENTION = re.compile(r"(?<![\w/@])(/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?|@[A-Za-z0-9_]{4,32})")
# What Telegram delivers when a bot does not say which updates it wants.
_DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post", "inline_query",
        "chosen_inline_result", "callback_query", "shipping_query", "pre_checkout_query", "poll",
        "poll_answer", "my_chat_member", "chat_join_request", "chat_boost", "removed_chat_boost",
    }
)  # fmt: skip


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def detect_entities(text: str) -> list[dict[str, Any]]:
    """bot_command and mention entities as Telegram computes them (offsets in UTF-16 code units)."""
    entities = []
    for m in _COMMAND_OR_MENTION.finditer(text):
        kind = "bot_command" if m.group().startswith("/") else "mention"
        entities.append({"type": kind, "offset": _utf16_len(text[: m.start()]), "length": _utf16_len(m.group())})
    return entities


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: int | None


def _default_description(status: int, retry_after: int | None) -> str:
    if status == 429:
        return f"Too Many Requests: retry after {retry_after}"
    if status == 403:
        return "Forbidden: bot was blocked by the user"
    if status == 400:
        return "Bad Request: chat not found"
    return "Internal Server Error"


class FakeTelegramServer:
    """Use as `async with FakeTelegramServer() as tg:`; then `tg.base_url` is what PTB needs."""

    def __init__(
        self,
        token: str = "123456:TEST-token",
        *,
        bot_id: int = 777000111,
        bot_username: str = "haven_test_bot",
        can_read_all_group_messages: bool = True,
    ) -> None:
        self.token = token
        self.bot_user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Haven",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": can_read_all_group_messages,
            "supports_inline_queries": False,
        }
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.users: dict[int, dict[str, Any]] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self.admins: dict[int, set[int]] = defaultdict(set)
        self.members: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
        self.started_users: set[int] = set()  # users who pressed Start in a private chat with the bot
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.deleted: list[tuple[int, int]] = []
        self.answered_callbacks: dict[str, dict[str, Any]] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}  # scope JSON -> commands
        self.webhook: dict[str, Any] = {"url": ""}
        self._updates: deque[dict[str, Any]] = deque()
        self._next_update_id = 100_000
        self._next_message_id: dict[int, int] = defaultdict(lambda: 1)
        self._next_callback_id = 1
        self._allowed_updates: frozenset[str] = _DEFAULT_UPDATE_TYPES
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._outage: tuple[float, _Failure, frozenset[str] | None] | None = None
        self._changed: asyncio.Condition | None = None
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeTelegramServer:
        self._changed = asyncio.Condition()
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing = True
        await self._notify()  # wakes long polls so shutdown does not wait for their timeout
        assert self._runner is not None
        await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # -- world set-up ---------------------------------------------------------------------------

    def add_user(self, user_id: int, first_name: str | None = None, username: str | None = None, **extra: Any) -> dict:
        user = {"id": user_id, "is_bot": False, "first_name": first_name or f"User{user_id}", **extra}
        if username:
            user["username"] = username
        self.users[user_id] = user
        return user

    def add_chat(self, chat_id: int, title: str | None = None, type: str | None = None, **extra: Any) -> dict:
        if type is None:
            type = "private" if chat_id > 0 else "supergroup" if str(chat_id).startswith("-100") else "group"
        chat: dict[str, Any] = {"id": chat_id, "type": type, **extra}
        if type == "private":
            user = self.user(chat_id)
            chat["first_name"] = user["first_name"]
            if "username" in user:
                chat["username"] = user["username"]
        else:
            chat["title"] = title or f"Chat {chat_id}"
        self.chats[chat_id] = chat
        return chat

    def user(self, user: int | dict) -> dict:
        if isinstance(user, dict):
            return user
        if user == self.bot_user["id"]:
            return {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}
        return self.users.get(user) or self.add_user(user)

    def chat(self, chat: int | dict) -> dict:
        if isinstance(chat, dict):
            return chat
        return self.chats.get(chat) or self.add_chat(chat)

    def set_admin(self, chat_id: int, user_id: int, admin: bool = True) -> None:
        (self.admins[chat_id].add if admin else self.admins[chat_id].discard)(user_id)

    def start_private_chat(self, user_id: int) -> None:
        self.started_users.add(user_id)

    def set_can_read_all_group_messages(self, value: bool) -> None:
        self.bot_user["can_read_all_group_messages"] = value

    # -- programmable behaviour -----------------------------------------------------------------

    def fail_next(
        self, method: str, status: int = 429, retry_after: int | None = 1, description: str | None = None, times: int = 1
    ) -> None:
        """The next `times` calls of `method` fail; 429 carries parameters.retry_after like Telegram's."""
        retry_after = retry_after if status == 429 else None
        failure = _Failure(status, description or _default_description(status, retry_after), retry_after)
        self._failures[method.lower()].extend([failure] * times)

    def start_outage(self, status: int = 500, seconds: float | None = None, methods: set[str] | None = None,
                     retry_after: int | None = None) -> None:
        """Every call (or only `methods`) fails until `end_outage()` or until `seconds` have passed; a 429
        carries `retry_after` like Telegram's."""
        until = float("inf") if seconds is None else time.monotonic() + seconds
        only = frozenset(m.lower() for m in methods) if methods else None
        retry_after = retry_after if status == 429 else None
        self._outage = (until, _Failure(status, _default_description(status, retry_after), retry_after), only)

    def end_outage(self) -> None:
        self._outage = None

    # -- pushing updates ------------------------------------------------------------------------

    def _message_id(self, chat_id: int) -> int:
        mid = self._next_message_id[chat_id]
        self._next_message_id[chat_id] = mid + 1
        return mid

    def _push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        self._updates.append(update)
        asyncio.get_running_loop().create_task(self._notify())
        return update

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    def _new_message(self, chat: int | dict, user: int | dict | None, **fields: Any) -> dict[str, Any]:
        chat_d = self.chat(chat)
        msg: dict[str, Any] = {"message_id": self._message_id(chat_d["id"]), "date": int(time.time()), "chat": chat_d}
        if user is not None:
            msg["from"] = self.user(user)
        msg.update({k: v for k, v in fields.items() if v is not None})
        self.messages[(chat_d["id"], msg["message_id"])] = msg
        return msg

    def push_message(
        self,
        chat: int | dict,
        user: int | dict,
        text: str,
        *,
        reply_to: int | dict | None = None,
        entities: list[dict[str, Any]] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A member writes `text`; bot_command and @mention entities are detected unless given."""
        msg = self._new_message(chat, user, text=text, **fields)
        found = detect_entities(text) if entities is None else entities
        if found:
            msg["entities"] = found
        if reply_to is not None:
            msg["reply_to_message"] = self._lookup(msg["chat"]["id"], reply_to)
        return self._push("message", msg)

    def _lookup(self, chat_id: int, message: int | dict) -> dict[str, Any]:
        if isinstance(message, dict):
            return message.get("message", message)  # accepts an update as well as a message
        return self.messages[(chat_id, message)]

    def push_edit(self, chat: int | dict, message: int | dict, text: str) -> dict[str, Any]:
        chat_id = self.chat(chat)["id"]
        edited = {**self._lookup(chat_id, message), "text": text, "edit_date": int(time.time())}
        edited.pop("entities", None)
        if found := detect_entities(text):
            edited["entities"] = found
        self.messages[(chat_id, edited["message_id"])] = edited
        return self._push("edited_message", edited)

    def push_callback(self, user: int | dict, message: int | dict, data: str, chat: int | dict | None = None) -> dict:
        """A user presses an inline button under `message` (a message dict, or its id in `chat`)."""
        if isinstance(message, int) and chat is None:
            raise ValueError("a message id needs its chat")
        msg = self._lookup(self.chat(chat)["id"] if chat is not None else 0, message)
        query = {
            "id": str(self._next_callback_id),
            "from": self.user(user),
            "message": msg,
            "chat_instance": f"ci{msg['chat']['id']}",
            "data": data,
        }
        self._next_callback_id += 1
        return self._push("callback_query", query)

    def push_member_joined(self, chat: int | dict, user: int | dict) -> dict[str, Any]:
        u = self.user(user)
        self.members[self.chat(chat)["id"]][u["id"]] = {"status": "member", "user": u}
        return self._push("message", self._new_message(chat, u, new_chat_members=[u]))

    def push_member_left(self, chat: int | dict, user: int | dict) -> dict[str, Any]:
        u = self.user(user)
        self.members[self.chat(chat)["id"]].pop(u["id"], None)
        return self._push("message", self._new_message(chat, u, left_chat_member=u))

    def _member_change(self, chat: int | dict, user: int | dict, old: str, new: str, by: int | dict | None) -> dict:
        u = self.user(user)
        return {
            "chat": self.chat(chat),
            "from": self.user(by) if by is not None else u,
            "date": int(time.time()),
            "old_chat_member": self._member_dict(u, old),
            "new_chat_member": self._member_dict(u, new),
        }

    def push_chat_member(
        self, chat: int | dict, user: int | dict, old: str, new: str, by: int | dict | None = None
    ) -> dict[str, Any]:
        """A chat_member update (only delivered when asked for in allowed_updates, as on Telegram)."""
        return self._push("chat_member", self._member_change(chat, user, old, new, by))

    def push_my_chat_member(
        self, chat: int | dict, old: str = "left", new: str = "member", by: int | dict | None = None
    ) -> dict[str, Any]:
        chat_id = self.chat(chat)["id"]
        self.set_admin(chat_id, self.bot_user["id"], new == "administrator")
        return self._push("my_chat_member", self._member_change(chat, self.bot_user["id"], old, new, by))

    def push_raw(self, update: dict[str, Any]) -> dict[str, Any]:
        """Any other update; `update_id` is assigned here."""
        ((kind, payload),) = update.items()
        return self._push(kind, payload)

    async def post_to_webhook(self, url: str, update: dict[str, Any], secret: str | None) -> int:
        """Deliver `update` the way Telegram calls a webhook; returns the HTTP status."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with ClientSession() as session, session.post(url, json=update, headers=headers) as resp:
            return resp.status

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed with getUpdates(offset=...)."""
        return list(self._updates)

    # -- inspection -----------------------------------------------------------------------------

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        return [params for m, params in self.calls if m.lower() == method.lower()]

    def sent_messages(self, chat_id: int | str | None = None) -> list[dict[str, Any]]:
        """sendMessage calls that succeeded, with their parameters decoded."""
        return [
            p for m, p in self.calls
            if m == "sendMessage" and "_result" in p and (chat_id is None or str(p["chat_id"]) == str(chat_id))
        ]  # fmt: skip

    async def wait_for(self, condition: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until `condition()` is truthy and return its value; fail after `timeout` seconds."""
        assert self._changed is not None

        async def satisfied() -> Any:
            while not (value := condition()):
                async with self._changed:
                    # Re-checked on every request and push; the short wait covers changes made by
                    # the code under test outside the server (a sink filling a list).
                    try:
                        await asyncio.wait_for(self._changed.wait(), 0.02)
                    except TimeoutError:
                        pass
            return value

        try:
            return await asyncio.wait_for(satisfied(), timeout)
        except TimeoutError:
            raise AssertionError(f"condition not met within {timeout}s; last calls: {self.calls[-5:]}") from None

    async def wait_for_call(self, method: str, predicate: Callable[[dict], bool] = lambda p: True, timeout: float = 5.0):
        return await self.wait_for(lambda: next((p for p in self.calls_of(method) if predicate(p)), None), timeout)

    # -- HTTP -----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append((method, params))
        try:
            self._maybe_fail(method)
            handler = getattr(self, f"_api_{method.lower()}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
        except ApiError as e:
            params["_error"] = e.code
            response = web.json_response(e.body(), status=e.code)
        else:
            params["_result"] = result
            response = web.json_response({"ok": True, "result": result})
        if method.lower() != "getupdates":
            await self._notify()
        return response

    def _maybe_fail(self, method: str) -> None:
        key = method.lower()
        if self._failures[key]:
            f = self._failures[key].popleft()
            raise ApiError(f.status, f.description, f.retry_after)
        if self._outage is not None:
            until, f, only = self._outage
            if time.monotonic() >= until:
                self._outage = None
            elif only is None or key in only:
                raise ApiError(f.status, f.description, f.retry_after)

    @staticmethod
    def _decode(key: str, value: str) -> Any:
        if key in _STRING_PARAMS:
            return value
        try:
            return json.loads(value)
        except ValueError:
            return value

    async def _params(self, request: web.Request) -> dict[str, Any]:
        ctype = request.content_type
        if ctype == "application/json":
            body = await request.read()
            return json.loads(body) if body else {}
        params: dict[str, Any] = {}
        if ctype == "multipart/form-data":
            files: dict[str, dict[str, Any]] = {}
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if part.filename:
                    files[part.name] = {"filename": part.filename, "content": await part.read()}
                else:
                    params[part.name] = self._decode(part.name, await part.text())
            for key, value in list(params.items()):
                if isinstance(value, str) and value.startswith("attach://"):
                    params[key] = files.pop(value.removeprefix("attach://"))
            params.update(files)
        else:
            form = await request.post() if request.body_exists else {}
            params = {k: self._decode(k, v) for k, v in form.items()}
        params.update({k: self._decode(k, v) for k, v in request.query.items()})
        return params

    # -- Bot API methods ------------------------------------------------------------------------

    async def _api_getme(self, p: dict) -> dict:
        return dict(self.bot_user)

    async def _api_logout(self, p: dict) -> bool:
        return True

    async def _api_close(self, p: dict) -> bool:
        return True

    async def _api_getupdates(self, p: dict) -> list[dict]:
        if self.webhook["url"]:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
        offset = int(p.get("offset") or 0)
        limit = max(1, min(100, int(p.get("limit") or 100)))
        timeout = float(p.get("timeout") or 0)
        if "allowed_updates" in p:  # Telegram remembers the last list; an empty one means the default
            self._allowed_updates = frozenset(p["allowed_updates"]) or _DEFAULT_UPDATE_TYPES

        def confirm() -> None:
            if offset < 0:
                keep = list(self._updates)[offset:]
                self._updates = deque(keep)
            else:
                while self._updates and self._updates[0]["update_id"] < offset:
                    self._updates.popleft()
            # Telegram never stores updates the bot did not ask for.
            self._updates = deque(u for u in self._updates if self._kind(u) in self._allowed_updates)

        confirm()
        if not self._updates and timeout > 0 and not self._closing:
            assert self._changed is not None
            async with self._changed:
                try:
                    await asyncio.wait_for(self._changed.wait_for(lambda: bool(self._updates) or self._closing), timeout)
                except TimeoutError:
                    pass
            confirm()
        return list(self._updates)[:limit]

    @staticmethod
    def _kind(update: dict) -> str:
        return next(k for k in update if k != "update_id")

    async def _api_setwebhook(self, p: dict) -> bool:
        self.webhook = {
            "url": p.get("url", ""),
            "secret_token": p.get("secret_token"),
            "allowed_updates": p.get("allowed_updates"),
        }
        if p.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _api_deletewebhook(self, p: dict) -> bool:
        self.webhook = {"url": ""}
        if p.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _api_getwebhookinfo(self, p: dict) -> dict:
        info = {"url": self.webhook["url"], "has_custom_certificate": False, "pending_update_count": len(self._updates)}
        if self.webhook.get("allowed_updates"):
            info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    def _chat_for_send(self, chat_id: Any) -> dict:
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            chat = next((c for c in self.chats.values() if c.get("username") == chat_id[1:]), None)
            if chat is None:
                raise ApiError(400, "Bad Request: chat not found")
            return chat
        cid = int(chat_id)
        if cid > 0:
            if cid not in self.started_users:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            return self.chat(cid)
        if cid not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        return self.chats[cid]

    def _bot_message(self, p: dict, **fields: Any) -> dict:
        chat = self._chat_for_send(p["chat_id"])
        reply = p.get("reply_parameters") or ({"message_id": p["reply_to_message_id"]} if "reply_to_message_id" in p else None)
        reply_to = None
        if reply:
            reply_to = self.messages.get((chat["id"], int(reply["message_id"])))
            if reply_to is None and not reply.get("allow_sending_without_reply"):
                raise ApiError(400, "Bad Request: message to be replied not found")
        msg = self._new_message(chat, self.bot_user["id"], reply_markup=p.get("reply_markup"), **fields)
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        return msg

    async def _api_sendmessage(self, p: dict) -> dict:
        if not str(p.get("text", "")).strip():
            raise ApiError(400, "Bad Request: message text is empty")
        return self._bot_message(p, text=p["text"])

    async def _api_senddocument(self, p: dict) -> dict:
        doc = p.get("document") or {}
        content = doc.get("content", b"") if isinstance(doc, dict) else b""
        name = doc.get("filename") if isinstance(doc, dict) else None
        file = {"file_id": f"doc{len(self.calls)}", "file_unique_id": f"u{len(self.calls)}", "file_size": len(content)}
        if name:
            file["file_name"] = name
        return self._bot_message(p, document=file, caption=p.get("caption"))

    async def _api_sendphoto(self, p: dict) -> dict:
        photo = [{"file_id": f"photo{len(self.calls)}", "file_unique_id": f"u{len(self.calls)}", "width": 1, "height": 1}]
        return self._bot_message(p, photo=photo, caption=p.get("caption"))

    def _existing(self, p: dict) -> dict:
        key = (int(p["chat_id"]), int(p["message_id"]))
        if key not in self.messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        return self.messages[key]

    async def _api_editmessagetext(self, p: dict) -> dict:
        msg = self._existing(p)
        if msg.get("text") == p["text"] and msg.get("reply_markup") == p.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        msg = {**msg, "text": p["text"], "edit_date": int(time.time()), "reply_markup": p.get("reply_markup")}
        self.messages[(msg["chat"]["id"], msg["message_id"])] = msg
        return {k: v for k, v in msg.items() if v is not None}

    async def _api_deletemessage(self, p: dict) -> bool:
        key = (int(p["chat_id"]), int(p["message_id"]))
        if self.messages.pop(key, None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        self.deleted.append(key)
        return True

    def _require_group_admin(self, p: dict) -> int:
        chat_id = int(p["chat_id"])
        if chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        if self.bot_user["id"] not in self.admins[chat_id]:
            raise ApiError(400, "Bad Request: not enough rights to restrict/unrestrict chat member")
        return chat_id

    async def _api_restrictchatmember(self, p: dict) -> bool:
        chat_id = self._require_group_admin(p)
        user = self.user(int(p["user_id"]))
        perms = p.get("permissions") or {}
        self.members[chat_id][user["id"]] = {"status": "restricted", "user": user, "permissions": perms, "until_date": p.get("until_date", 0)}
        return True

    async def _api_banchatmember(self, p: dict) -> bool:
        chat_id = self._require_group_admin(p)
        user = self.user(int(p["user_id"]))
        self.members[chat_id][user["id"]] = {"status": "kicked", "user": user, "until_date": p.get("until_date", 0)}
        return True

    async def _api_unbanchatmember(self, p: dict) -> bool:
        chat_id = self._require_group_admin(p)
        current = self.members[chat_id].get(int(p["user_id"]))
        if current and current["status"] == "kicked":
            del self.members[chat_id][int(p["user_id"])]
        elif current and not p.get("only_if_banned"):
            del self.members[chat_id][int(p["user_id"])]  # Telegram removes a member on a plain unban
        return True

    def _member_dict(self, user: dict, status: str, extra: dict | None = None) -> dict:
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "administrator":
            member |= dict.fromkeys(
                ("can_manage_chat", "can_delete_messages", "can_restrict_members", "can_invite_users", "can_pin_messages"), True
            ) | dict.fromkeys(
                ("can_be_edited", "is_anonymous", "can_manage_video_chats", "can_promote_members", "can_change_info",
                 "can_post_stories", "can_edit_stories", "can_delete_stories"), False
            )  # fmt: skip
        elif status == "creator":
            member["is_anonymous"] = False
        elif status == "restricted":
            perms = (extra or {}).get("permissions", {})
            member |= {
                key: bool(perms.get(key, False))
                for key in (
                    "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos",
                    "can_send_videos", "can_send_video_notes", "can_send_voice_notes", "can_send_polls",
                    "can_send_other_messages", "can_add_web_page_previews", "can_change_info",
                    "can_invite_users", "can_pin_messages", "can_manage_topics", "can_edit_tag",
                    "can_react_to_messages",
                )
            }  # fmt: skip
            member |= {"is_member": True, "until_date": (extra or {}).get("until_date", 0)}
        elif status == "kicked":
            member["until_date"] = (extra or {}).get("until_date", 0)
        return member

    async def _api_getchatadministrators(self, p: dict) -> list[dict]:
        chat_id = int(p["chat_id"])
        if chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        return [self._member_dict(self.user(uid), "administrator") for uid in sorted(self.admins[chat_id])]

    async def _api_getchatmember(self, p: dict) -> dict:
        chat_id, user_id = int(p["chat_id"]), int(p["user_id"])
        if chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        if user_id in self.admins[chat_id]:
            return self._member_dict(self.user(user_id), "administrator")
        known = self.members[chat_id].get(user_id)
        if known is None:
            is_bot = user_id == self.bot_user["id"]
            return self._member_dict(self.user(user_id), "member" if is_bot else "left")
        return self._member_dict(known["user"], known["status"], known)

    async def _api_getchat(self, p: dict) -> dict:
        chat_id = p["chat_id"]
        chat = self._chat_for_send(chat_id) if int(chat_id) < 0 else self.chat(int(chat_id))
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys(
                ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels"), False
            ),
        }

    async def _api_setmycommands(self, p: dict) -> bool:
        scope = p.get("scope") or {"type": "default"}
        self.commands[json.dumps(scope, sort_keys=True)] = p["commands"]
        return True

    async def _api_deletemycommands(self, p: dict) -> bool:
        scope = p.get("scope") or {"type": "default"}
        self.commands.pop(json.dumps(scope, sort_keys=True), None)
        return True

    def commands_for(self, scope: dict[str, Any]) -> list[dict[str, Any]] | None:
        return self.commands.get(json.dumps(scope, sort_keys=True))

    async def _api_answercallbackquery(self, p: dict) -> bool:
        qid = str(p["callback_query_id"])
        if qid in self.answered_callbacks:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self.answered_callbacks[qid] = p
        return True
