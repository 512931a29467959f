"""The fake Bot API must behave like Telegram where Haven depends on it, so these drive the real library."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import ClientSession, FormData
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    ChatPermissions,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from telegram.error import BadRequest, Forbidden, RetryAfter

from tests.fakes.telegram_server import FakeTelegramServer, detect_entities

GROUP = -1001234567890
ALICE = 501


@pytest.fixture
async def tg():
    async with FakeTelegramServer() as server:
        server.add_chat(GROUP, title="Support group")
        server.add_user(ALICE, "Alice", username="alice")
        yield server


@pytest.fixture
async def bot(tg):
    async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url) as b:
        yield b


async def test_get_me_reports_privacy_mode(tg):
    tg.set_can_read_all_group_messages(False)
    async with Bot(tg.token, base_url=tg.base_url) as b:
        assert b.username == "haven_test_bot"
        assert b.bot.can_read_all_group_messages is False


async def test_offset_confirms_earlier_updates(tg, bot):
    first = tg.push_message(GROUP, ALICE, "one")
    tg.push_message(GROUP, ALICE, "two")

    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates] == ["one", "two"]
    assert [u.message.text for u in await bot.get_updates(timeout=0)] == ["one", "two"]  # not yet confirmed

    updates = await bot.get_updates(offset=first["update_id"] + 1, timeout=0)
    assert [u.message.text for u in updates] == ["two"]
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
    assert tg.pending_updates == []


async def test_long_poll_wakes_when_an_update_arrives(tg, bot):
    poll = asyncio.create_task(bot.get_updates(timeout=20, read_timeout=25))
    await tg.wait_for_call("getUpdates")
    assert not poll.done()
    tg.push_message(GROUP, ALICE, "hello")
    updates = await asyncio.wait_for(poll, 5)
    assert updates[0].message.text == "hello"


async def test_allowed_updates_filters_what_is_delivered(tg, bot):
    tg.push_chat_member(GROUP, ALICE, "left", "member")
    assert await bot.get_updates(timeout=0) == ()  # chat_member needs asking for, as on Telegram
    tg.push_chat_member(GROUP, ALICE, "member", "left")
    updates = await bot.get_updates(timeout=0, allowed_updates=["chat_member"])
    assert updates[0].chat_member.new_chat_member.status == "left"


async def test_parameters_arrive_form_encoded_and_are_decoded(tg, bot):
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("I'm OK", callback_data="ack:1")]])
    sent = await bot.send_message(GROUP, "hi <there>", reply_markup=markup)

    params = tg.sent_messages(GROUP)[0]
    assert params["chat_id"] == GROUP and params["text"] == "hi <there>"
    assert params["reply_markup"] == {"inline_keyboard": [[{"text": "I'm OK", "callback_data": "ack:1"}]]}
    assert sent.message_id == params["_result"]["message_id"]
    assert (await bot.send_message(GROUP, "again")).message_id == sent.message_id + 1


async def test_json_and_plain_form_clients_are_understood(tg):
    url = f"{tg.base_url}{tg.token}/sendMessage"
    async with ClientSession() as s:
        async with s.post(url, json={"chat_id": GROUP, "text": "123"}) as r:
            assert (await r.json())["ok"] is True
        async with s.post(url, data=FormData({"chat_id": str(GROUP), "text": "007"})) as r:
            assert (await r.json())["result"]["text"] == "007"
    assert [m["text"] for m in tg.sent_messages()] == ["123", "007"]  # text stays text


async def test_429_carries_retry_after(tg, bot):
    tg.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter, match="Retry in 3 seconds"):
        await bot.send_message(GROUP, "x")
    await bot.send_message(GROUP, "x")  # only the next call failed
    assert len(tg.sent_messages()) == 1


async def test_private_message_to_a_stranger_is_forbidden(tg, bot):
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(ALICE, "hello")
    tg.start_private_chat(ALICE)
    await bot.send_message(ALICE, "hello")


async def test_outage_then_recovery(tg, bot):
    tg.start_outage(500)
    with pytest.raises(Exception, match="Internal Server Error"):
        await bot.get_me()
    tg.end_outage()
    assert (await bot.get_me()).username == "haven_test_bot"


async def test_moderation_calls_are_recorded(tg, bot):
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    with pytest.raises(BadRequest, match="(?i)not enough rights"):
        await bot.restrict_chat_member(GROUP, ALICE, ChatPermissions.no_permissions(), until_date=until)
    tg.set_admin(GROUP, tg.bot_user["id"])
    await bot.restrict_chat_member(GROUP, ALICE, ChatPermissions.no_permissions(), until_date=until)
    params = tg.calls_of("restrictChatMember")[-1]
    assert params["until_date"] == int(until.timestamp())
    assert params["permissions"]["can_send_messages"] is False
    member = await bot.get_chat_member(GROUP, ALICE)
    assert member.status == "restricted" and member.until_date == until

    await bot.ban_chat_member(GROUP, ALICE)
    assert (await bot.get_chat_member(GROUP, ALICE)).status == "kicked"
    await bot.unban_chat_member(GROUP, ALICE, only_if_banned=True)
    assert (await bot.get_chat_member(GROUP, ALICE)).status == "left"
    assert [a.user.id for a in await bot.get_chat_administrators(GROUP)] == [tg.bot_user["id"]]


async def test_documents_arrive_as_multipart(tg, bot):
    tg.start_private_chat(ALICE)
    await bot.send_document(ALICE, b"my data", filename="export.json", caption="Your data")
    params = tg.calls_of("sendDocument")[0]
    assert params["document"] == {"filename": "export.json", "content": b"my data"}
    assert params["caption"] == "Your data"


async def test_edit_delete_callback_and_commands(tg, bot):
    msg = await bot.send_message(GROUP, "first")
    await bot.edit_message_text("second", GROUP, msg.message_id)
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("second", GROUP, msg.message_id)
    await bot.delete_message(GROUP, msg.message_id)
    assert tg.deleted == [(GROUP, msg.message_id)]

    update = tg.push_callback(ALICE, tg.push_message(GROUP, ALICE, "card"), "ack:1")
    await bot.answer_callback_query(update["callback_query"]["id"], text="Thanks")
    assert tg.answered_callbacks["1"]["text"] == "Thanks"

    await bot.set_my_commands([BotCommand("mute", "Mute someone")], scope=BotCommandScopeAllChatAdministrators())
    assert tg.commands_for({"type": "all_chat_administrators"}) == [{"command": "mute", "description": "Mute someone"}]


async def test_webhook_blocks_polling_and_posts_updates(tg, bot):
    await bot.set_webhook("http://127.0.0.1:1/hook", secret_token="s3cret")
    assert (await bot.get_webhook_info()).url == "http://127.0.0.1:1/hook"
    with pytest.raises(Exception, match="webhook is active"):
        await bot.get_updates(timeout=0)
    await bot.delete_webhook()
    await bot.get_updates(timeout=0)


def test_entities_are_detected_in_utf16_units():
    assert detect_entities("🙂 /help@haven_test_bot hi @alice") == [
        {"type": "bot_command", "offset": 3, "length": 20},
        {"type": "mention", "offset": 27, "length": 6},
    ]
    assert detect_entities("see https://x.org/a/b and mail@host.com") == []
