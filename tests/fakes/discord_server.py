"""A Discord REST API and gateway on 127.0.0.1 that the real discord.py client can talk to.

It keeps one guild with a category, text channels, and moderator, member and verified-professional
roles, and records every request so tests assert on what reached "Discord" rather than on objects they
built. Events are pushed by the test (`push_message`, `push_slash`, ...) and numbered per gateway
session, so RESUME replays exactly what a client missed.

Point a client at it with `api_base_url` and `gateway_url`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from aiohttp import WSMsgType, web

DISCORD_EPOCH_MS = 1420070400000
MESSAGE_CONTENT = 1 << 15
_BODY = web.RequestKey("body", object)
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | MESSAGE_CONTENT  # members, presences, message content
EPHEMERAL = 64
# Permission bits the fake needs to compute a member's permissions in interactions.
VIEW_AND_SEND = (1 << 10) | (1 << 11)
MANAGE_MESSAGES = 1 << 13
ADMINISTRATOR = 1 << 3
ALL_PERMISSIONS = (1 << 50) - 1


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


@dataclass
class Call:
    method: str
    path: str  # without the /api/v10 prefix
    json: Any
    query: dict[str, str]


@dataclass
class _Session:
    id: str
    shard: tuple[int, int]
    intents: int
    seq: int = 0
    log: list[dict] = field(default_factory=list)  # every dispatch sent or owed, with its "s"
    ws: web.WebSocketResponse | None = None
    send: Callable[[dict], Any] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class FakeDiscord:
    """Async context manager: `async with FakeDiscord() as discord: ...`."""

    def __init__(
        self,
        *,
        granted_intents: int | None = None,
        heartbeat_interval_ms: int = 41250,
    ) -> None:
        # None grants every privileged intent; otherwise IDENTIFY asking for a privileged intent that
        # is not in this mask is closed with 4014, as Discord does.
        self.granted_intents = granted_intents
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self._ids = itertools.count(1)
        self.calls: list[Call] = []
        self.interaction_responses: list[dict] = []  # {"interaction_id", "type", "data"}
        self.followups: list[dict] = []  # {"token", "data", "message"}
        self.identifies: list[dict] = []
        self.resumes: list[dict] = []
        self.heartbeats = 0
        self.heartbeat_acks = 0
        self.commands: dict[str | None, list[dict]] = {}  # guild id (None: global) -> commands
        self.bans: dict[int, dict] = {}
        self.messages: dict[int, dict] = {}  # every message that exists, by id
        self._sent: list[dict] = []  # messages created through REST, in order
        self._sessions: dict[str, _Session] = {}
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

        self.bot_id = self.snowflake()
        self.application_id = self.bot_id
        self.users: dict[int, dict] = {}
        self.dms_closed: set[int] = set()
        self._dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self._interaction_tokens: dict[str, dict] = {}  # token -> interaction payload

        self.guild_id = self.snowflake()
        self.everyone_role = self._role(self.guild_id, "@everyone", VIEW_AND_SEND, 0)
        self.moderator_role_id = self.snowflake()
        self.member_role_id = self.snowflake()
        self.verified_role_id = self.snowflake()
        self.roles: dict[int, dict] = {
            self.guild_id: self.everyone_role,
            self.moderator_role_id: self._role(self.moderator_role_id, "Moderators", MANAGE_MESSAGES, 2),
            self.member_role_id: self._role(self.member_role_id, "Members", 0, 1),
            self.verified_role_id: self._role(self.verified_role_id, "Verified professionals", 0, 1),
        }
        self.category_id = self.snowflake()
        self.channels: dict[int, dict] = {}
        self._channel(self.category_id, "support", 4, None)
        self.general_id = self._channel(self.snowflake(), "general", 0, self.category_id)
        self.mods_id = self._channel(self.snowflake(), "mods", 0, None)
        self.members: dict[int, dict] = {}
        self.add_user("haven", bot=True, user_id=self.bot_id)

    # ----- model -----

    def snowflake(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (next(self._ids) & 0x3FFFFF)

    @staticmethod
    def _role(role_id: int, name: str, permissions: int, position: int) -> dict:
        return {
            "id": str(role_id),
            "name": name,
            "permissions": str(permissions),
            "position": position,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }

    def _channel(self, channel_id: int, name: str, kind: int, parent_id: int | None) -> int:
        self.channels[channel_id] = {
            "id": str(channel_id),
            "type": kind,
            "guild_id": str(self.guild_id),
            "name": name,
            "position": len(self.channels),
            "parent_id": str(parent_id) if parent_id else None,
            "permission_overwrites": [],
            "nsfw": False,
        }
        return channel_id

    def add_user(
        self,
        name: str,
        *,
        roles: tuple[int, ...] = (),
        bot: bool = False,
        in_guild: bool = True,
        dms_open: bool = True,
        user_id: int | None = None,
    ) -> int:
        uid = user_id or self.snowflake()
        self.users[uid] = {
            "id": str(uid),
            "username": name,
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": bot,
            "public_flags": 0,
        }
        if not dms_open:
            self.dms_closed.add(uid)
        if in_guild:
            self.members[uid] = {
                "roles": [str(r) for r in roles],
                "joined_at": _now_iso(),
                "nick": None,
                "deaf": False,
                "mute": False,
                "flags": 0,
                "pending": False,
                "communication_disabled_until": None,
            }
        return uid

    def member_payload(self, user_id: int) -> dict:
        return {**self.members[user_id], "user": self.users[user_id]}

    def permissions_of(self, user_id: int) -> int:
        perms = int(self.everyone_role["permissions"])
        for role_id in self.members[user_id]["roles"]:
            perms |= int(self.roles[int(role_id)]["permissions"])
        return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms

    def guild_payload(self) -> dict:
        return {
            "id": str(self.guild_id),
            "name": "Haven test guild",
            "icon": None,
            "owner_id": str(self.bot_id),
            "region": "europe",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": list(self.roles.values()),
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "max_members": 1000,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-GB",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "joined_at": _now_iso(),
            "large": False,
            "unavailable": False,
            "member_count": len(self.members),
            "voice_states": [],
            "members": [self.member_payload(u) for u in self.members],
            "channels": list(self.channels.values()),
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def _dm_channel(self, user_id: int) -> int:
        if user_id not in self._dm_channels:
            self._dm_channels[user_id] = self.snowflake()
        return self._dm_channels[user_id]

    def _message(self, channel_id: int, author_id: int, content: str, **extra: Any) -> dict:
        message_id = self.snowflake()
        in_guild = channel_id in self.channels
        msg = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": self.users[author_id],
            "content": content,
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
        }
        if in_guild:
            msg["guild_id"] = str(self.guild_id)
            if author_id in self.members:
                msg["member"] = self.members[author_id]
        msg.update(extra)
        self.messages[message_id] = msg
        return msg

    def _mention(self, user_id: int) -> dict:
        mention = dict(self.users[user_id])
        if user_id in self.members:
            mention["member"] = self.members[user_id]
        return mention

    # ----- push API: what users do -----

    async def push_message(
        self,
        channel: int,
        author: int,
        content: str,
        *,
        mentions: tuple[int, ...] = (),
        reply_to: int | None = None,
    ) -> int:
        extra: dict[str, Any] = {"mentions": [self._mention(u) for u in mentions]}
        if reply_to is not None:
            extra["type"] = 19
            extra["message_reference"] = {"message_id": str(reply_to), "channel_id": str(channel), "type": 0}
            if channel in self.channels:
                extra["message_reference"]["guild_id"] = str(self.guild_id)
            if reply_to in self.messages:
                extra["referenced_message"] = self.messages[reply_to]
        msg = self._message(channel, author, content, **extra)
        await self._dispatch("MESSAGE_CREATE", msg, guild=channel in self.channels)
        return int(msg["id"])

    async def push_dm(self, author: int, content: str) -> int:
        return await self.push_message(self._dm_channel(author), author, content)

    async def push_edit(self, message_id: int, content: str) -> None:
        msg = self.messages[message_id]
        msg.update(content=content, edited_timestamp=_now_iso())
        await self._dispatch("MESSAGE_UPDATE", dict(msg), guild="guild_id" in msg)

    async def push_member_add(self, user_id: int) -> None:
        if user_id not in self.members:
            self.add_user(self.users[user_id]["username"], user_id=user_id)
        await self._dispatch("GUILD_MEMBER_ADD", {**self.member_payload(user_id), "guild_id": str(self.guild_id)})

    async def push_member_remove(self, user_id: int) -> None:
        self.members.pop(user_id, None)
        await self._dispatch("GUILD_MEMBER_REMOVE", {"guild_id": str(self.guild_id), "user": self.users[user_id]})

    def _interaction(self, kind: int, user_id: int, channel_id: int, data: dict, **extra: Any) -> dict:
        token = secrets.token_urlsafe(24)
        payload = {
            "id": str(self.snowflake()),
            "application_id": str(self.application_id),
            "type": kind,
            "token": token,
            "version": 1,
            "guild_id": str(self.guild_id),
            "channel_id": str(channel_id),
            "channel": self.channels[channel_id],
            "member": {**self.member_payload(user_id), "permissions": str(self.permissions_of(user_id))},
            "data": data,
            "locale": "en-GB",
            "guild_locale": "en-GB",
            "app_permissions": str(ALL_PERMISSIONS),
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "authorizing_integration_owners": {"0": str(self.guild_id)},
            "context": 0,
            **extra,
        }
        self._interaction_tokens[token] = payload
        return payload

    async def push_slash(self, user: int, channel: int, name: str, options: dict[str, Any] | None = None) -> int:
        """Invoke a registered slash command; an int option value is taken as a user (type 6)."""
        command = next(
            (c for cmds in self.commands.values() for c in cmds if c["name"] == name),
            {"id": str(self.snowflake()), "name": name},
        )
        opts, users, members = [], {}, {}
        for key, value in (options or {}).items():
            if isinstance(value, int):
                opts.append({"name": key, "type": 6, "value": str(value)})
                users[str(value)] = self.users[value]
                if value in self.members:
                    members[str(value)] = {**self.members[value], "permissions": str(self.permissions_of(value))}
            else:
                opts.append({"name": key, "type": 3, "value": value})
        data: dict[str, Any] = {"id": command["id"], "name": name, "type": 1, "options": opts}
        if users:
            data["resolved"] = {"users": users, "members": members}
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        payload = self._interaction(2, user, channel, data)
        await self._dispatch("INTERACTION_CREATE", payload)
        return int(payload["id"])

    async def push_button(self, user: int, message_id: int, custom_id: str) -> int:
        message = self.messages[message_id]
        data = {"custom_id": custom_id, "component_type": 2}
        payload = self._interaction(3, user, int(message["channel_id"]), data, message=message)
        await self._dispatch("INTERACTION_CREATE", payload)
        return int(payload["id"])

    # ----- push API: what Discord does -----

    async def request_reconnect(self) -> None:
        """Send op 7 on every live connection; the client should RESUME."""
        for session in self._sessions.values():
            if session.send:
                await session.send({"op": 7, "d": None})

    async def invalidate_session(self, resumable: bool = False) -> None:
        for session in self._sessions.values():
            if session.send:
                await session.send({"op": 9, "d": resumable})

    async def drop_connection(self, code: int = 4000) -> None:
        """Close every live connection as Discord does after an internal error; sessions stay resumable."""
        for session in list(self._sessions.values()):
            ws = session.ws
            if ws is not None:
                async with session.lock:
                    session.ws = session.send = None
                await ws.close(code=code)

    # ----- inspection -----

    def sent_messages(self, channel_id: int | None = None) -> list[dict]:
        return [m for m in self._sent if channel_id is None or int(m["channel_id"]) == channel_id]

    def calls_to(self, method: str, path_prefix: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.startswith(path_prefix)]

    @property
    def live_sessions(self) -> int:
        return sum(1 for s in self._sessions.values() if s.ws is not None)

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until `predicate()` is truthy (checked after every request and gateway frame)."""
        async with asyncio.timeout(timeout):
            while not (result := predicate()):
                self._changed.clear()
                await self._changed.wait()
            return result

    def _touch(self) -> None:
        self._changed.set()

    # ----- server -----

    @property
    def api_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/gateway", self._gateway)
        r = app.router
        api = "/api/v10"
        r.add_get(api + "/users/@me", self._get_me)
        r.add_get(api + "/oauth2/applications/@me", self._get_application)
        r.add_get(api + "/gateway/bot", self._get_gateway_bot)
        r.add_get(api + "/gateway", self._get_gateway_bot)
        r.add_post(api + "/channels/{channel}/messages", self._create_message)
        r.add_patch(api + "/channels/{channel}/messages/{message}", self._edit_message)
        r.add_delete(api + "/channels/{channel}/messages/{message}", self._delete_message)
        r.add_get(api + "/channels/{channel}", self._get_channel)
        r.add_post(api + "/users/@me/channels", self._open_dm)
        r.add_get(api + "/users/{user}", self._get_user)
        r.add_get(api + "/guilds/{guild}", self._get_guild)
        r.add_get(api + "/guilds/{guild}/members/{user}", self._get_member)
        r.add_patch(api + "/guilds/{guild}/members/{user}", self._edit_member)
        r.add_delete(api + "/guilds/{guild}/members/{user}", self._kick)
        r.add_put(api + "/guilds/{guild}/members/{user}/roles/{role}", self._add_role)
        r.add_delete(api + "/guilds/{guild}/members/{user}/roles/{role}", self._remove_role)
        r.add_put(api + "/guilds/{guild}/bans/{user}", self._ban)
        r.add_delete(api + "/guilds/{guild}/bans/{user}", self._unban)
        r.add_put(api + "/applications/{app}/commands", self._put_commands)
        r.add_put(api + "/applications/{app}/guilds/{guild}/commands", self._put_commands)
        r.add_get(api + "/applications/{app}/commands", self._get_commands)
        r.add_get(api + "/applications/{app}/guilds/{guild}/commands", self._get_commands)
        r.add_post(api + "/interactions/{id}/{token}/callback", self._interaction_callback)
        r.add_post(api + "/webhooks/{app}/{token}", self._followup)
        r.add_patch(api + "/webhooks/{app}/{token}/messages/{message}", self._edit_followup)
        r.add_delete(api + "/webhooks/{app}/{token}/messages/{message}", self._delete_followup)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for session in self._sessions.values():
            if session.ws is not None:
                await session.ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()

    # ----- REST -----

    @staticmethod
    def _json(data: Any, status: int = 200) -> web.Response:
        # Discord sends exactly "application/json"; aiohttp's json_response would add a charset.
        return web.Response(
            status=status,
            body=json.dumps(data).encode(),
            headers={
                "Content-Type": "application/json",
                "X-RateLimit-Limit": "50",
                "X-RateLimit-Remaining": "49",
                "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
                "X-RateLimit-Reset-After": "1.000",
                "X-RateLimit-Bucket": "fake",
            },
        )

    def _error(self, status: int, code: int, message: str) -> web.Response:
        return self._json({"code": code, "message": message}, status)

    def _no_content(self) -> web.Response:
        return web.Response(status=204, headers={"X-RateLimit-Remaining": "49", "X-RateLimit-Reset-After": "1.000"})

    @web.middleware
    async def _record(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        if request.path.startswith("/api/v10/"):
            payload = None
            if request.content_type.startswith("multipart/"):
                payload = await self._multipart_json(request)
            elif request.content_type == "application/json" and (body := await request.read()):
                payload = json.loads(body)
            request[_BODY] = payload
            self.calls.append(Call(request.method, request.path.removeprefix("/api/v10"), payload, dict(request.query)))
        try:
            return await handler(request)
        finally:
            self._touch()

    @staticmethod
    async def _multipart_json(request: web.Request) -> Any:
        reader = await request.multipart()
        async for part in reader:
            if part.name == "payload_json":  # type: ignore[union-attr]
                return json.loads(await part.text())  # type: ignore[union-attr]
        return None

    async def _get_me(self, request: web.Request) -> web.Response:
        return self._json(self.users[self.bot_id])

    async def _get_application(self, request: web.Request) -> web.Response:
        return self._json(
            {
                "id": str(self.application_id),
                "name": "Haven",
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "owner": self.users[self.bot_id],
                "team": None,
                "summary": "",
                "flags": 0,
                "interactions_endpoint_url": None,
            }
        )

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return self._json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    def _store_sent(self, channel_id: int, body: dict, author_id: int | None = None, **extra: Any) -> dict:
        msg = self._message(
            channel_id,
            author_id or self.bot_id,
            body.get("content") or "",
            components=body.get("components") or [],
            flags=body.get("flags") or 0,
            **extra,
        )
        if body.get("message_reference"):
            # Discord answers with snowflakes as strings whatever the request sent.
            ref = body["message_reference"]
            msg["message_reference"] = {k: str(v) if k.endswith("_id") else v for k, v in ref.items()}
        self._sent.append(msg)
        return msg

    async def _create_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel"])
        if channel_id not in self.channels and channel_id not in self._dm_channels.values():
            return self._error(404, 10003, "Unknown Channel")
        dm_user = next((u for u, c in self._dm_channels.items() if c == channel_id), None)
        if dm_user is not None and dm_user in self.dms_closed:
            return self._error(403, 50007, "Cannot send messages to this user")
        return self._json(self._store_sent(channel_id, request[_BODY] or {}))

    async def _edit_message(self, request: web.Request) -> web.Response:
        msg = self.messages.get(int(request.match_info["message"]))
        if msg is None:
            return self._error(404, 10008, "Unknown Message")
        body = request[_BODY] or {}
        for key in ("content", "components", "flags"):
            if key in body:
                msg[key] = body[key]
        msg["edited_timestamp"] = _now_iso()
        return self._json(msg)

    async def _delete_message(self, request: web.Request) -> web.Response:
        if self.messages.pop(int(request.match_info["message"]), None) is None:
            return self._error(404, 10008, "Unknown Message")
        return self._no_content()

    async def _get_channel(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel"])
        if channel_id in self.channels:
            return self._json(self.channels[channel_id])
        for user_id, dm in self._dm_channels.items():
            if dm == channel_id:
                return self._json({"id": str(dm), "type": 1, "recipients": [self.users[user_id]], "last_message_id": None})
        return self._error(404, 10003, "Unknown Channel")

    async def _open_dm(self, request: web.Request) -> web.Response:
        user_id = int(request[_BODY]["recipient_id"])
        if user_id not in self.users:
            return self._error(404, 10013, "Unknown User")
        dm = self._dm_channel(user_id)
        return self._json({"id": str(dm), "type": 1, "recipients": [self.users[user_id]], "last_message_id": None})

    async def _get_user(self, request: web.Request) -> web.Response:
        user = self.users.get(int(request.match_info["user"]))
        return self._json(user) if user else self._error(404, 10013, "Unknown User")

    async def _get_guild(self, request: web.Request) -> web.Response:
        return self._json(self.guild_payload())

    async def _get_member(self, request: web.Request) -> web.Response:
        user_id = int(request.match_info["user"])
        if user_id not in self.members:
            return self._error(404, 10007, "Unknown Member")
        return self._json(self.member_payload(user_id))

    async def _edit_member(self, request: web.Request) -> web.Response:
        user_id = int(request.match_info["user"])
        if user_id not in self.members:
            return self._error(404, 10007, "Unknown Member")
        body = request[_BODY] or {}
        for key in ("communication_disabled_until", "roles", "nick"):
            if key in body:
                self.members[user_id][key] = body[key]
        return self._json(self.member_payload(user_id))

    async def _kick(self, request: web.Request) -> web.Response:
        if self.members.pop(int(request.match_info["user"]), None) is None:
            return self._error(404, 10007, "Unknown Member")
        return self._no_content()

    async def _add_role(self, request: web.Request) -> web.Response:
        user_id, role = int(request.match_info["user"]), request.match_info["role"]
        if user_id not in self.members:
            return self._error(404, 10007, "Unknown Member")
        if int(role) not in self.roles:
            return self._error(404, 10011, "Unknown Role")
        if role not in self.members[user_id]["roles"]:
            self.members[user_id]["roles"].append(role)
        return self._no_content()

    async def _remove_role(self, request: web.Request) -> web.Response:
        user_id, role = int(request.match_info["user"]), request.match_info["role"]
        if user_id not in self.members:
            return self._error(404, 10007, "Unknown Member")
        if int(role) not in self.roles:
            return self._error(404, 10011, "Unknown Role")
        if role in self.members[user_id]["roles"]:
            self.members[user_id]["roles"].remove(role)
        return self._no_content()

    async def _ban(self, request: web.Request) -> web.Response:
        user_id = int(request.match_info["user"])
        self.bans[user_id] = request[_BODY] or {}
        self.members.pop(user_id, None)
        return self._no_content()

    async def _unban(self, request: web.Request) -> web.Response:
        if self.bans.pop(int(request.match_info["user"]), None) is None:
            return self._error(404, 10026, "Unknown Ban")
        return self._no_content()

    async def _put_commands(self, request: web.Request) -> web.Response:
        guild = request.match_info.get("guild")
        stored = []
        for cmd in request[_BODY] or []:
            full = {
                "id": str(self.snowflake()),
                "application_id": str(self.application_id),
                "version": str(self.snowflake()),
                "type": 1,
                "description": "",
                "options": [],
                "default_member_permissions": None,
                "dm_permission": True,
                "nsfw": False,
                **cmd,
            }
            if full["default_member_permissions"] is not None:
                # discord.py sends an integer; Discord answers with the string it stores.
                full["default_member_permissions"] = str(full["default_member_permissions"])
            if guild:
                full["guild_id"] = guild
            stored.append(full)
        self.commands[guild] = stored
        return self._json(stored)

    async def _get_commands(self, request: web.Request) -> web.Response:
        return self._json(self.commands.get(request.match_info.get("guild"), []))

    async def _interaction_callback(self, request: web.Request) -> web.Response:
        interaction = self._interaction_tokens.get(request.match_info["token"])
        if interaction is None or interaction["id"] != request.match_info["id"]:
            return self._error(404, 10062, "Unknown interaction")
        if any(r["interaction_id"] == interaction["id"] for r in self.interaction_responses):
            return self._error(400, 40060, "Interaction has already been acknowledged.")
        body = request[_BODY] or {}
        kind, data = body.get("type"), body.get("data") or {}
        self.interaction_responses.append({"interaction_id": interaction["id"], "type": kind, "data": data})
        response: dict[str, Any] = {
            "interaction": {
                "id": interaction["id"],
                "type": interaction["type"],
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(data.get("flags", 0) & EPHEMERAL),
            }
        }
        if kind in (4, 5):
            msg = self._message(
                int(interaction["channel_id"]),
                self.bot_id,
                data.get("content") or "",
                flags=data.get("flags") or 0,
                components=data.get("components") or [],
                interaction_metadata={"id": interaction["id"], "type": interaction["type"], "user": interaction["member"]["user"]},
            )
            interaction["original"] = msg
            response["interaction"]["response_message_id"] = msg["id"]
            response["resource"] = {"type": kind, "message": msg}
        return self._json(response)

    async def _followup(self, request: web.Request) -> web.Response:
        interaction = self._interaction_tokens.get(request.match_info["token"])
        if interaction is None:
            return self._error(404, 10015, "Unknown Webhook")
        body = request[_BODY] or {}
        msg = self._message(
            int(interaction["channel_id"]),
            self.bot_id,
            body.get("content") or "",
            flags=body.get("flags") or 0,
            components=body.get("components") or [],
            webhook_id=str(self.application_id),
        )
        self.followups.append({"interaction_id": interaction["id"], "data": body, "message": msg})
        return self._json(msg)

    async def _edit_followup(self, request: web.Request) -> web.Response:
        interaction = self._interaction_tokens.get(request.match_info["token"])
        if interaction is None or "original" not in interaction and request.match_info["message"] == "@original":
            return self._error(404, 10008, "Unknown Message")
        key = request.match_info["message"]
        msg = interaction["original"] if key == "@original" else self.messages.get(int(key))
        if msg is None:
            return self._error(404, 10008, "Unknown Message")
        body = request[_BODY] or {}
        for k in ("content", "components"):
            if k in body:
                msg[k] = body[k]
        self.followups.append({"interaction_id": interaction["id"], "data": body, "message": msg, "edit": key})
        return self._json(msg)

    async def _delete_followup(self, request: web.Request) -> web.Response:
        interaction = self._interaction_tokens.get(request.match_info["token"])
        if interaction is None:
            return self._error(404, 10008, "Unknown Message")
        key = request.match_info["message"]
        msg = interaction.pop("original", None) if key == "@original" else self.messages.get(int(key))
        if msg is None:
            return self._error(404, 10008, "Unknown Message")
        self.messages.pop(int(msg["id"]), None)
        return self._no_content()

    # ----- gateway -----

    def _owns_guild(self, session: _Session) -> bool:
        shard_id, count = session.shard
        return (self.guild_id >> 22) % count == shard_id

    async def _dispatch(self, event: str, data: dict, guild: bool = True) -> None:
        for session in list(self._sessions.values()):
            owner = self._owns_guild(session) if guild else session.shard[0] == 0
            if owner:
                await self._send_dispatch(session, event, data)
        self._touch()

    async def _send_dispatch(self, session: _Session, event: str, data: dict) -> None:
        async with session.lock:
            session.seq += 1
            frame = {"op": 0, "t": event, "s": session.seq, "d": data}
            # Logged before sending: if the connection dies mid-send, RESUME still owes it.
            session.log.append(frame)
            if session.send is not None:
                try:
                    await session.send(frame)
                except ConnectionError:
                    session.ws = session.send = None

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        compress = request.query.get("compress")
        if compress not in (None, "zlib-stream"):
            raise web.HTTPBadRequest(text=f"the fake speaks zlib-stream only, not {compress}")
        if request.query.get("encoding", "json") != "json":
            raise web.HTTPBadRequest(text="the fake speaks json only")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        deflate = zlib.compressobj() if compress else None

        async def send(frame: dict) -> None:
            text = json.dumps(frame)
            if deflate is None:
                await ws.send_str(text)
            else:
                await ws.send_bytes(deflate.compress(text.encode()) + deflate.flush(zlib.Z_SYNC_FLUSH))

        session: _Session | None = None
        await send({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}, "s": None, "t": None})
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op, data = frame.get("op"), frame.get("d")
                if op == 1:
                    self.heartbeats += 1
                    await send({"op": 11, "d": None, "s": None, "t": None})
                    self.heartbeat_acks += 1
                elif op == 2:
                    session = await self._identify(ws, send, data)
                elif op == 6:
                    session = await self._resume(ws, send, data)
                elif op == 8:
                    await self._members_chunk(send, data)
                self._touch()
        finally:
            if session is not None and session.ws is ws:
                async with session.lock:
                    session.ws = session.send = None
            self._touch()
        return ws

    async def _identify(self, ws: web.WebSocketResponse, send: Callable, data: dict) -> _Session | None:
        self.identifies.append(data)
        intents = int(data.get("intents", 0))
        if self.granted_intents is not None and intents & PRIVILEGED_INTENTS & ~self.granted_intents:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return None
        shard = tuple(data.get("shard") or (0, 1))
        session = _Session(id=secrets.token_hex(16), shard=(int(shard[0]), int(shard[1])), intents=intents)
        self._sessions[session.id] = session
        owned = self._owns_guild(session)
        ready = {
            "v": 10,
            "user": self.users[self.bot_id],
            "guilds": [{"id": str(self.guild_id), "unavailable": True}] if owned else [],
            "session_id": session.id,
            "resume_gateway_url": self.gateway_url,
            "shard": list(session.shard),
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        async with session.lock:
            session.ws, session.send = ws, send
        await self._send_dispatch(session, "READY", ready)
        if owned:
            await self._send_dispatch(session, "GUILD_CREATE", self.guild_payload())
        return session

    async def _resume(self, ws: web.WebSocketResponse, send: Callable, data: dict) -> _Session | None:
        self.resumes.append(data)
        session = self._sessions.get(data.get("session_id"))
        if session is None:
            await send({"op": 9, "d": False, "s": None, "t": None})
            return None
        last = data.get("seq") or 0
        async with session.lock:
            for frame in session.log:
                if frame["s"] > last:
                    await send(frame)
            session.ws, session.send = ws, send
        await self._send_dispatch(session, "RESUMED", {})
        return session

    async def _members_chunk(self, send: Callable, data: dict) -> None:
        chunk = {
            "guild_id": str(self.guild_id),
            "members": [self.member_payload(u) for u in self.members],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await send({"op": 0, "t": "GUILD_MEMBERS_CHUNK", "s": None, "d": chunk})
