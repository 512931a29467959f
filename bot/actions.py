"""What the engine asks an adapter to do. Adapters dispatch on the type and raise on one they do not know."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, fields
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    payload: str | None = None  # sent back as ButtonPressed.payload
    url: str | None = None  # a link button; "deeplink:help" asks the adapter for its own deep link


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    platform: str
    # Durable actions (crisis cards, moderator alerts) go through the outbox: stored before they are
    # sent and retried until the platform accepts them.
    durable: bool = False
    dedupe_key: str | None = None
    # A durable action stored before it reached the dispatcher (a crisis card, in its incident's
    # transaction): its outbox id, None if its dedupe key was stored already, and whether older items
    # of its chat wait to be sent before it. Not part of what is stored.
    stored: tuple[int | None, bool] | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Post(Action):
    """A message in a room. `kind` tells the console which prefix to print."""

    chat_id: str
    text: str
    reply_to: str | None = None
    buttons: tuple[Button, ...] = ()
    kind: str = "room"  # "room", "mods", "notice"
    community: str | None = None
    spoiler: str | None = None  # a part the adapter hides behind its spoiler markup
    interaction_id: str | None = None  # answer to a slash command or button
    ephemeral: bool = False  # only the person who invoked the interaction sees it


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectMessage(Action):
    """A private message. If the platform refuses (never started the bot, DMs closed) the adapter posts
    `fallback_text` in `fallback_chat_id` with a button that opens the private conversation."""

    user_id: str
    text: str
    buttons: tuple[Button, ...] = ()
    fallback_chat_id: str | None = None
    fallback_text: str | None = None
    fallback_reply_to: str | None = None
    interaction_id: str | None = None
    attachment: tuple[str, bytes] | None = field(default=None, repr=False)  # (filename, content)


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveMessage(Action):
    chat_id: str
    message_id: str
    community: str | None = None
    author: str | None = None  # shown by the console
    reason: str = ""
    held: bool = False  # removed from view pending review rather than for good


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeout(Action):
    chat_id: str
    user_id: str
    until: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class LiftTimeout(Action):
    chat_id: str
    user_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Kick(Action):
    chat_id: str
    user_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Ban(Action):
    chat_id: str
    user_id: str
    until: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Unban(Action):
    chat_id: str
    user_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SetRoomMembership(Action):
    """Give or take the platform's own membership of a community (a Discord role)."""

    chat_id: str
    user_id: str
    community: str
    member: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelPost(Action):
    """A label beside the author's name on a post that stands, like "verified: nurse", where the platform
    lets a bot show one post by post (the console). Others ignore it: Discord shows a role instead
    (SetVerified), and a Telegram bot cannot label a member's posts."""

    chat_id: str
    message_id: str
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SetVerified(Action):
    """Show or stop showing a member as a verified professional with the platform's own means (a Discord
    role, where the community configures one); platforms without such a thing ignore it."""

    chat_id: str
    user_id: str
    community: str
    verified: bool


ACTION_TYPES: dict[str, type[Action]] = {
    cls.__name__: cls
    for cls in (Post, DirectMessage, RemoveMessage, Timeout, LiftTimeout, Kick, Ban, Unban, SetRoomMembership,
                LabelPost, SetVerified)
}


def encode(action: Action) -> dict:
    """A JSON-safe form of an action, for the outbox."""
    out: dict = {"type": type(action).__name__}
    for f in fields(action):
        if f.name == "stored":
            continue
        value = getattr(action, f.name)
        if isinstance(value, datetime):
            value = {"datetime": value.isoformat()}
        elif f.name == "buttons":
            value = [{"label": b.label, "payload": b.payload, "url": b.url} for b in value]
        elif f.name == "attachment" and value is not None:
            value = {"name": value[0], "base64": base64.b64encode(value[1]).decode()}
        out[f.name] = value
    return out


def decode(data: dict) -> Action:
    data = dict(data)
    cls = ACTION_TYPES[data.pop("type")]
    for key, value in list(data.items()):
        if isinstance(value, dict) and "datetime" in value:
            data[key] = datetime.fromisoformat(value["datetime"])
        elif key == "buttons":
            data[key] = tuple(Button(**b) for b in value)
        elif key == "attachment" and value is not None:
            data[key] = (value["name"], base64.b64decode(value["base64"]))
    return cls(**data)


def chat_key(action: Action) -> str:
    """Where an action lands, so the outbox keeps the order of what one chat sees."""
    target = getattr(action, "chat_id", None) or getattr(action, "user_id", "")
    return f"{action.platform}:{target}"


def outbox_item(action: Action) -> dict:
    """What the outbox stores of a durable action (see `Store.outbox_add`)."""
    return {"platform": action.platform, "chat_key": chat_key(action), "payload": encode(action),
            "dedupe_key": action.dedupe_key}
