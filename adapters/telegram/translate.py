"""Pure translation from python-telegram-bot updates to Haven's core events.

Nothing here talks to Telegram: whatever needs the network (who the bot is, who administers a chat)
is passed in, so every rule can be tested from a JSON update alone.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime

from telegram import CallbackQuery, Chat, ChatMemberUpdated, Message, MessageEntity, Update, User

from bot.events import (
    Actor,
    BotMembershipChanged,
    ButtonPressed,
    Event,
    MemberJoined,
    MemberLeft,
    MessageCreated,
    MessageEdited,
)

PLATFORM = "telegram"
ADMIN = frozenset({"admin"})
_PRESENT = frozenset({"member", "administrator", "creator", "restricted"})


@dataclass(frozen=True, slots=True)
class BotIdentity:
    id: int
    username: str
    can_read_all_group_messages: bool = True


def actor(user: User, admin_ids: Collection[int] = ()) -> Actor:
    roles = ADMIN if user.id in admin_ids else frozenset()
    return Actor(PLATFORM, str(user.id), user.full_name, is_bot=user.is_bot, platform_roles=roles)


def _author(message: Message, admin_ids: Collection[int]) -> Actor | None:
    chat = message.sender_chat
    if chat is not None:
        # A post signed by the group itself is an anonymous administrator speaking.
        roles = ADMIN if chat.id == message.chat.id else frozenset()
        return Actor(PLATFORM, str(chat.id), chat.title or chat.effective_name or "", platform_roles=roles)
    if message.from_user is None:
        return None
    return actor(message.from_user, admin_ids)


def message_link(chat: Chat, message_id: int) -> str | None:
    if chat.username:
        return f"https://t.me/{chat.username}/{message_id}"
    if chat.type in (Chat.SUPERGROUP, Chat.CHANNEL) and str(chat.id).startswith("-100"):
        return f"https://t.me/c/{str(chat.id)[4:]}/{message_id}"
    return None  # basic groups and private chats have no links


def strip_bot_suffix(text: str, entities: tuple[MessageEntity, ...], bot_username: str) -> str:
    """`/mute@haven_bot 10m` -> `/mute 10m`; `/note@other_bot call me on ...` -> `call me on ...`.

    A command addressed to another bot is not Haven's to run, but what follows it is still said in
    the room, so it is kept as an ordinary post and screened like one.
    """
    first = next((e for e in entities if e.type == MessageEntity.BOT_COMMAND and e.offset == 0), None)
    if first is None:
        return text
    command = _entity_text(text, first)
    name, at, target = command.partition("@")
    if not at:
        return text
    if target.lower() == bot_username.lower():
        return name + text[len(command) :]
    return text[len(command) :].strip()


def _entity_text(text: str, entity: MessageEntity) -> str:
    utf16 = text.encode("utf-16-le")
    return utf16[entity.offset * 2 : (entity.offset + entity.length) * 2].decode("utf-16-le")


def _mentions(text: str, entities: tuple[MessageEntity, ...], admin_ids: Collection[int]) -> tuple[Actor, ...]:
    found = []
    for e in entities:
        if e.type == MessageEntity.TEXT_MENTION and e.user is not None:
            found.append(actor(e.user, admin_ids))
        elif e.type == MessageEntity.MENTION:
            # Only the username is known; the engine resolves it against the people it has seen.
            found.append(Actor(PLATFORM, "", _entity_text(text, e).removeprefix("@")))
    return tuple(found)


def _message_event(message: Message, me: BotIdentity, admin_ids: Collection[int], edited: bool) -> MessageCreated | None:
    author = _author(message, admin_ids)
    if author is None:
        return None
    text = message.text if message.text is not None else message.caption or ""
    entities = message.entities if message.text is not None else message.caption_entities
    reply = message.reply_to_message
    if reply is not None and reply.forum_topic_created is not None:
        reply = None  # in forum topics every message "replies" to the topic's opening post
    own_text = strip_bot_suffix(text, entities, me.username)
    if not own_text and not _is_content(message):
        return None  # a bare command for another bot: nothing for Haven to run or screen
    cls = MessageEdited if edited else MessageCreated
    return cls(
        platform=PLATFORM,
        chat_id=str(message.chat.id),
        actor=author,
        at=(message.edit_date if edited and message.edit_date else message.date),
        private=message.chat.type == Chat.PRIVATE,
        message_id=str(message.message_id),
        text=own_text,
        reply_to=str(reply.message_id) if reply else None,
        reply_to_author=_author(reply, admin_ids) if reply else None,
        mentions=_mentions(text, entities, admin_ids),
        link=message_link(message.chat, message.message_id),
    )


def _service_events(message: Message, me: BotIdentity, admin_ids: Collection[int]) -> tuple[Event, ...]:
    common = {"platform": PLATFORM, "chat_id": str(message.chat.id), "at": message.date}
    if message.new_chat_members:
        # The bot's own arrival is reported separately, as a my_chat_member update.
        return tuple(
            MemberJoined(actor=actor(u, admin_ids), **common) for u in message.new_chat_members if u.id != me.id
        )
    if message.left_chat_member and message.left_chat_member.id != me.id:
        return (MemberLeft(actor=actor(message.left_chat_member, admin_ids), **common),)
    return ()


def _button(query: CallbackQuery, admin_ids: Collection[int], received_at: datetime) -> ButtonPressed | None:
    if query.data is None:
        return None  # game buttons carry no data; Haven never sends them
    message = query.message
    return ButtonPressed(
        platform=PLATFORM,
        chat_id=str(message.chat.id) if message else "",
        actor=actor(query.from_user, admin_ids),
        at=received_at,
        private=bool(message and message.chat.type == Chat.PRIVATE),
        payload=query.data,
        message_id=str(message.message_id) if message else None,
        interaction_id=query.id,
    )


def _member_change(change: ChatMemberUpdated, admin_ids: Collection[int]) -> tuple[Event, ...]:
    before = change.old_chat_member.status in _PRESENT and getattr(change.old_chat_member, "is_member", True)
    after = change.new_chat_member.status in _PRESENT and getattr(change.new_chat_member, "is_member", True)
    if before == after:
        return ()  # a promotion or a restriction, not an arrival or departure
    cls = MemberJoined if after else MemberLeft
    return (cls(platform=PLATFORM, chat_id=str(change.chat.id), actor=actor(change.new_chat_member.user, admin_ids), at=change.date),)


def _bot_membership(change: ChatMemberUpdated, me: BotIdentity) -> BotMembershipChanged:
    status = change.new_chat_member.status
    return BotMembershipChanged(
        platform=PLATFORM,
        chat_id=str(change.chat.id),
        actor=actor(change.from_user),
        at=change.date,
        private=change.chat.type == Chat.PRIVATE,
        status=status,
        # Administrators see every message even in privacy mode; otherwise only what getMe says.
        can_read_all=status in ("administrator", "creator") or me.can_read_all_group_messages,
        details={"old_status": change.old_chat_member.status, "chat_type": change.chat.type, "title": change.chat.title},
    )


def translate(
    update: Update, me: BotIdentity, *, received_at: datetime, admin_ids: Collection[int] = ()
) -> tuple[Event, ...]:
    """The core events an update means, if any.

    `admin_ids` are the administrators of the update's chat, as far as the adapter knows;
    `received_at` dates updates that carry no time of their own (button presses).
    """
    events: tuple[Event, ...]
    if update.message is not None:
        message = update.message
        if message.new_chat_members or message.left_chat_member:
            events = _service_events(message, me, admin_ids)
        elif message.text is None and message.caption is None and not _is_content(message):
            events = ()  # pins, title changes and other service messages
        else:
            events = tuple(e for e in [_message_event(message, me, admin_ids, edited=False)] if e)
    elif update.edited_message is not None:
        events = tuple(e for e in [_message_event(update.edited_message, me, admin_ids, edited=True)] if e)
    elif update.callback_query is not None:
        events = tuple(e for e in [_button(update.callback_query, admin_ids, received_at)] if e)
    elif update.chat_member is not None:
        events = _member_change(update.chat_member, admin_ids)
    elif update.my_chat_member is not None:
        events = (_bot_membership(update.my_chat_member, me),)
    else:
        events = ()  # channel posts, inline queries, reactions: nothing Haven acts on
    # Several members can join in one update; each event still needs an id of its own.
    return tuple(
        replace(e, update_id=str(update.update_id) if i == 0 else f"{update.update_id}:{i}") for i, e in enumerate(events)
    )


def _is_content(message: Message) -> bool:
    """A member's post without text (a sticker, a photo without caption) still counts as a message."""
    return bool(message.effective_attachment)
