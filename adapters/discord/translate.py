"""Pure translation from discord.py objects to Haven's core events.

User mentions are rendered as `@username` in text and command arguments, with the mentioned people
in `mentions`, so the engine's text-command parser reads Discord like any other platform. Discord
usernames are unique, so `@username` names one person.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import discord

from bot.config import DiscordBinding
from bot.events import Actor, ButtonPressed, CommandInvoked, MemberJoined, MemberLeft, MessageCreated, MessageEdited

PLATFORM = "discord"
MODERATOR = "moderator"
_USER_MENTION = re.compile(r"<@!?(\d+)>")
_OPTION_USER, _OPTION_MENTIONABLE = 6, 9
_SUBCOMMAND, _SUBCOMMAND_GROUP = 1, 2


def is_moderator(role_ids: set[int], permissions: discord.Permissions | None, binding: DiscordBinding | None) -> bool:
    if binding is None:
        return False
    if binding.moderator_role_id is not None and binding.moderator_role_id in role_ids:
        return True
    return permissions is not None and any(getattr(permissions, p, False) for p in binding.moderator_permissions)


def actor(
    user: discord.abc.User,
    binding: DiscordBinding | None = None,
    permissions: discord.Permissions | None = None,
) -> Actor:
    """`permissions` are the person's permissions where they acted; without them, their guild-wide
    permissions count."""
    roles: frozenset[str] = frozenset()
    if isinstance(user, discord.Member):
        perms = permissions if permissions is not None else user.guild_permissions
        if is_moderator({r.id for r in user.roles}, perms, binding):
            roles = frozenset({MODERATOR})
    return Actor(platform=PLATFORM, user_id=str(user.id), name=user.name, is_bot=user.bot, platform_roles=roles)


def _actor_from_payload(user: dict, member: dict | None, binding: DiscordBinding | None) -> Actor:
    roles: frozenset[str] = frozenset()
    if member is not None:
        perms = discord.Permissions(int(member["permissions"])) if "permissions" in member else None
        if is_moderator({int(r) for r in member.get("roles", ())}, perms, binding):
            roles = frozenset({MODERATOR})
    return Actor(
        platform=PLATFORM,
        user_id=str(user["id"]),
        name=user["username"],
        is_bot=bool(user.get("bot")),
        platform_roles=roles,
    )


def render_mentions(content: str, mentioned: list[discord.abc.User]) -> str:
    names = {u.id: u.name for u in mentioned}
    return _USER_MENTION.sub(lambda m: f"@{names[int(m[1])]}" if int(m[1]) in names else m[0], content)


def _place(channel: Any) -> dict[str, Any]:
    category = getattr(channel, "category_id", None)
    return {
        "chat_id": str(channel.id),
        "parent_id": str(category) if category else None,
        "private": isinstance(channel, discord.DMChannel),
    }


def _author(message: discord.Message, binding: DiscordBinding | None) -> Actor:
    author = message.author
    permissions = None
    if isinstance(author, discord.Member) and isinstance(message.channel, discord.abc.GuildChannel):
        permissions = message.channel.permissions_for(author)
    return actor(author, binding, permissions)


def _message_fields(message: discord.Message, binding: DiscordBinding | None) -> dict[str, Any]:
    reply_to = reply_to_author = None
    if message.reference is not None and message.reference.message_id is not None:
        reply_to = str(message.reference.message_id)
        if isinstance(message.reference.resolved, discord.Message):
            reply_to_author = actor(message.reference.resolved.author, binding)
    return {
        "platform": PLATFORM,
        **_place(message.channel),
        "actor": _author(message, binding),
        "message_id": str(message.id),
        "text": render_mentions(message.content, message.mentions),
        "reply_to": reply_to,
        "reply_to_author": reply_to_author,
        "mentions": tuple(actor(u, binding) for u in message.mentions),
        "link": message.jump_url,
    }


def message_created(message: discord.Message, binding: DiscordBinding | None = None) -> MessageCreated:
    return MessageCreated(
        **_message_fields(message, binding),
        at=message.created_at,
        update_id=f"message:{message.id}",
    )


def message_edited(
    after: discord.Message,
    before: discord.Message | None = None,
    binding: DiscordBinding | None = None,
) -> MessageEdited | None:
    """None when the text did not change: Discord also sends MESSAGE_UPDATE when a link preview
    loads or a message is pinned, and those are not edits to screen again."""
    if before is not None and before.content == after.content:
        return None
    edited_at = after.edited_at or datetime.now(timezone.utc)
    return MessageEdited(
        **_message_fields(after, binding),
        at=edited_at,
        update_id=f"edit:{after.id}:{edited_at.timestamp()}",
    )


def _flatten_options(options: list[dict], resolved: dict, binding: DiscordBinding | None) -> tuple[list[str], list[Actor]]:
    words: list[str] = []
    mentions: list[Actor] = []
    for option in options:
        kind = option.get("type")
        if kind in (_SUBCOMMAND, _SUBCOMMAND_GROUP):
            inner_words, inner_mentions = _flatten_options(option.get("options", []), resolved, binding)
            words += [option["name"], *inner_words]
            mentions += inner_mentions
        elif kind in (_OPTION_USER, _OPTION_MENTIONABLE) and str(option["value"]) in resolved.get("users", {}):
            uid = str(option["value"])
            person = _actor_from_payload(resolved["users"][uid], resolved.get("members", {}).get(uid), binding)
            words.append(f"@{person.name}")
            mentions.append(person)
        elif option.get("value") not in (None, ""):
            words.append(str(option["value"]))
    return words, mentions


def command_invoked(interaction: discord.Interaction, binding: DiscordBinding | None = None) -> CommandInvoked:
    """A slash command, its options in the order Discord sent them, joined as the engine's text
    parser expects: `/mute member:@bob args:10m spam` becomes name "mute", args "@bob 10m spam"."""
    data: dict = interaction.data or {}  # type: ignore[assignment]
    words, mentions = _flatten_options(data.get("options", []), data.get("resolved", {}), binding)
    return CommandInvoked(
        platform=PLATFORM,
        **_place(interaction.channel),
        actor=actor(interaction.user, binding, interaction.permissions),
        at=interaction.created_at,
        update_id=f"interaction:{interaction.id}",
        name=data["name"],
        args=" ".join(words),
        mentions=tuple(mentions),
        interaction_id=str(interaction.id),
    )


def button_pressed(interaction: discord.Interaction, binding: DiscordBinding | None = None) -> ButtonPressed:
    data: dict = interaction.data or {}  # type: ignore[assignment]
    return ButtonPressed(
        platform=PLATFORM,
        **_place(interaction.channel),
        actor=actor(interaction.user, binding, interaction.permissions),
        at=interaction.created_at,
        update_id=f"interaction:{interaction.id}",
        payload=data["custom_id"],
        message_id=str(interaction.message.id) if interaction.message else None,
        interaction_id=str(interaction.id),
    )


def community_place(binding: DiscordBinding) -> dict[str, Any]:
    """Where guild-wide events land for a community: its category, or else its first channel, so
    the core finds the community the way it does for messages."""
    if binding.category_id is not None:
        return {"chat_id": str(binding.category_id), "parent_id": str(binding.category_id)}
    if binding.channel_ids:
        return {"chat_id": str(binding.channel_ids[0]), "parent_id": None}
    return {"chat_id": str(binding.guild_id), "parent_id": None}


def member_joined(member: discord.Member, binding: DiscordBinding, at: datetime | None = None) -> MemberJoined:
    at = at or member.joined_at or datetime.now(timezone.utc)
    return MemberJoined(
        platform=PLATFORM,
        **community_place(binding),
        actor=actor(member, binding),
        at=at,
        update_id=f"join:{member.guild.id}:{member.id}:{at.timestamp()}",
    )


def member_left(user: discord.abc.User, binding: DiscordBinding, at: datetime) -> MemberLeft:
    return MemberLeft(
        platform=PLATFORM,
        **community_place(binding),
        actor=actor(user, binding),
        at=at,
        update_id=f"leave:{binding.guild_id}:{user.id}:{at.timestamp()}",
    )
