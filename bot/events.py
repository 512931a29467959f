"""Platform-neutral events. Adapters build these in pure translation functions; the engine reads them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Actor:
    platform: str
    user_id: str
    name: str
    is_bot: bool = False
    # What the platform itself says about the person in this room: "admin" for Telegram chat
    # administrators, "moderator" for holders of a Discord community's moderator role.
    platform_roles: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    platform: str
    chat_id: str  # room, channel or private chat the event happened in
    actor: Actor
    at: datetime
    update_id: str | None = None  # the platform's own id, for deduplication
    private: bool = False  # a one-to-one conversation with Haven
    # The group the room belongs to (a Discord category, a Telegram forum), so a community can be
    # bound to the whole group rather than each room.
    parent_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageCreated(Event):
    message_id: str
    text: str
    reply_to: str | None = None  # message id this one answers
    reply_to_author: Actor | None = None
    mentions: tuple[Actor, ...] = ()
    link: str | None = None  # a URL that opens the post, for moderators


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEdited(MessageCreated):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberJoined(Event):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberLeft(Event):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandInvoked(Event):
    """A command the platform parsed for us (Discord slash commands). Text commands arrive as
    MessageCreated and the engine parses them."""

    name: str
    args: str = ""
    mentions: tuple[Actor, ...] = ()
    interaction_id: str | None = None
    reply_to: str | None = None
    reply_to_author: Actor | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ButtonPressed(Event):
    payload: str  # "ack:12", "notme:4", ...
    message_id: str | None = None
    interaction_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BotMembershipChanged(Event):
    """Haven itself was added to or removed from a room, or its rights changed."""

    status: str  # "member", "administrator", "left", "kicked"
    can_read_all: bool = True
    details: dict = field(default_factory=dict, hash=False, compare=False)


AnyEvent = MessageCreated | MessageEdited | MemberJoined | MemberLeft | CommandInvoked | ButtonPressed | BotMembershipChanged
