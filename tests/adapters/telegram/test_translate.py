from __future__ import annotations

from datetime import UTC, datetime

import pytest
from telegram import Bot, Update

from adapters.telegram.translate import BotIdentity, message_link, translate
from bot.events import (
    Actor,
    BotMembershipChanged,
    ButtonPressed,
    MemberJoined,
    MemberLeft,
    MessageCreated,
    MessageEdited,
)

ME = BotIdentity(id=999, username="haven_bot", can_read_all_group_messages=False)
GROUP = {"id": -1001234567890, "type": "supergroup", "title": "Support"}
ALICE = {"id": 501, "is_bot": False, "first_name": "Alice", "last_name": "Liddell", "username": "alice"}
BOB = {"id": 502, "is_bot": False, "first_name": "Bob"}
T0 = 1_700_000_000
NOW = datetime(2024, 1, 1, tzinfo=UTC)
BOT = Bot("999:token")


def update(kind: str, payload: dict, update_id: int = 42) -> Update:
    return Update.de_json({"update_id": update_id, kind: payload}, BOT)


def message(text: str | None = None, chat=GROUP, user=ALICE, message_id: int = 7, **extra) -> dict:
    msg = {"message_id": message_id, "date": T0, "chat": chat, "from": user, **extra}
    if text is not None:
        msg["text"] = text
    return msg


def one(upd: Update, admin_ids=()):
    (event,) = translate(upd, ME, received_at=NOW, admin_ids=admin_ids)
    return event


def test_group_message():
    event = one(update("message", message("hello there")))
    assert event == MessageCreated(
        platform="telegram",
        chat_id="-1001234567890",
        actor=Actor("telegram", "501", "Alice Liddell"),
        at=datetime.fromtimestamp(T0, UTC),
        update_id="42",
        message_id="7",
        text="hello there",
        link="https://t.me/c/1234567890/7",
    )


def test_private_message_and_start_payload():
    private = {"id": 501, "type": "private", "first_name": "Alice"}
    entities = [{"type": "bot_command", "offset": 0, "length": 6}]
    event = one(update("message", message("/start help", chat=private, entities=entities)))
    assert event.private is True and event.chat_id == "501"
    assert event.text == "/start help"
    assert event.link is None


@pytest.mark.parametrize(
    ("text", "length", "expected"),
    [
        ("/mute@haven_bot 10m", 15, "/mute 10m"),
        ("/mute@Haven_Bot", 15, "/mute"),
        # Meant for another bot: never run here, but the rest is still a post in the room.
        ("/note@other_bot call me on 07700 900123", 15, "call me on 07700 900123"),
        ("/help", 5, "/help"),
    ],
)
def test_commands_lose_only_our_own_suffix(text, length, expected):
    entities = [{"type": "bot_command", "offset": 0, "length": length}]
    assert one(update("message", message(text, entities=entities))).text == expected


def test_a_bare_command_for_another_bot_is_no_event():
    entities = [{"type": "bot_command", "offset": 0, "length": 14}]
    assert translate(update("message", message("/help@otherbot", entities=entities)), ME, received_at=NOW) == ()


def test_mentions_by_user_and_by_username():
    text = "🙂 Bob and @alice please"
    entities = [
        {"type": "text_mention", "offset": 3, "length": 3, "user": BOB},
        {"type": "mention", "offset": 11, "length": 6},
    ]
    event = one(update("message", message(text, entities=entities)), admin_ids={502})
    assert event.mentions == (
        Actor("telegram", "502", "Bob", platform_roles=frozenset({"admin"})),
        Actor("telegram", "", "alice"),
    )


def test_admin_role_and_reply():
    reply = message("original", user=BOB, message_id=3)
    event = one(update("message", message("answer", reply_to_message=reply)), admin_ids={501})
    assert event.actor.platform_roles == frozenset({"admin"})
    assert event.reply_to == "3"
    assert event.reply_to_author == Actor("telegram", "502", "Bob")


def test_anonymous_admin_speaks_as_the_group():
    anon = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
    event = one(update("message", message("rules reminder", user=anon, sender_chat=GROUP)))
    assert event.actor.user_id == "-1001234567890"
    assert event.actor.platform_roles == frozenset({"admin"})


def test_caption_is_screened_like_text():
    photo = [{"file_id": "p", "file_unique_id": "u", "width": 1, "height": 1}]
    event = one(update("message", message(photo=photo, caption="call me on 0123")))
    assert event.text == "call me on 0123"


def test_service_messages_without_content_are_ignored():
    assert translate(update("message", message(pinned_message=message("x", message_id=1))), ME, received_at=NOW) == ()


def test_edited_message():
    event = one(update("edited_message", message("now worse", edit_date=T0 + 60)))
    assert isinstance(event, MessageEdited)
    assert event.text == "now worse" and event.at == datetime.fromtimestamp(T0 + 60, UTC)


def test_callback_query_becomes_button_press():
    query = {"id": "q1", "from": ALICE, "chat_instance": "c", "data": "ack:12", "message": message("card", user={**BOB, "is_bot": True})}
    event = one(update("callback_query", query))
    assert event == ButtonPressed(
        platform="telegram",
        chat_id="-1001234567890",
        actor=Actor("telegram", "501", "Alice Liddell"),
        at=NOW,
        update_id="42",
        payload="ack:12",
        message_id="7",
        interaction_id="q1",
    )


def test_members_joining_and_leaving_by_service_message():
    me = {"id": 999, "is_bot": True, "first_name": "Haven", "username": "haven_bot"}
    joined = translate(update("message", message(new_chat_members=[ALICE, BOB, me])), ME, received_at=NOW)
    assert [type(e) for e in joined] == [MemberJoined, MemberJoined]
    assert [e.actor.user_id for e in joined] == ["501", "502"]
    assert [e.update_id for e in joined] == ["42", "42:1"]
    left = one(update("message", message(left_chat_member=BOB)))
    assert isinstance(left, MemberLeft) and left.actor.user_id == "502"


def _member(user, status, **extra):
    return {"status": status, "user": user, **extra}


def test_chat_member_updates():
    change = {"chat": GROUP, "from": ALICE, "date": T0, "old_chat_member": _member(ALICE, "left"), "new_chat_member": _member(ALICE, "member")}
    assert isinstance(one(update("chat_member", change)), MemberJoined)
    change |= {"old_chat_member": _member(ALICE, "member"), "new_chat_member": _member(ALICE, "kicked", until_date=0)}
    assert isinstance(one(update("chat_member", change)), MemberLeft)
    promoted = change | {"old_chat_member": _member(ALICE, "member"), "new_chat_member": _member(ALICE, "creator", is_anonymous=False)}
    assert translate(update("chat_member", promoted), ME, received_at=NOW) == ()


def test_bot_membership():
    me = {"id": 999, "is_bot": True, "first_name": "Haven", "username": "haven_bot"}
    change = {"chat": GROUP, "from": ALICE, "date": T0, "old_chat_member": _member(me, "left"), "new_chat_member": _member(me, "member")}
    event = one(update("my_chat_member", change))
    assert isinstance(event, BotMembershipChanged)
    assert (event.status, event.can_read_all, event.details["old_status"]) == ("member", False, "left")
    assert event.actor.user_id == "501"


def test_links():
    assert message_link(Update.de_json({"update_id": 1, "message": message("x", chat={**GROUP, "username": "pubgroup"})}, BOT).message.chat, 5) == "https://t.me/pubgroup/5"
    basic = {"id": -4242, "type": "group", "title": "Basic"}
    assert one(update("message", message("x", chat=basic))).link is None


def test_updates_haven_ignores():
    post = {"message_id": 1, "date": T0, "chat": {"id": -1009, "type": "channel", "title": "News"}, "text": "hi"}
    assert translate(update("channel_post", post), ME, received_at=NOW) == ()
