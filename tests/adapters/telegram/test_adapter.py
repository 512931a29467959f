"""The Telegram adapter with the real python-telegram-bot against the fake Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import socket
from datetime import UTC, datetime, timedelta

import pytest

from adapters.base import DeliveryError, PermanentDeliveryError
from adapters.telegram.adapter import TelegramAdapter
from bot.actions import (
    Action,
    Ban,
    Button,
    DirectMessage,
    Kick,
    LabelPost,
    LiftTimeout,
    Post,
    RemoveMessage,
    SetRoomMembership,
    SetVerified,
    Timeout,
)
from bot.config import ConfigError, parse_config
from bot.events import Actor, BotMembershipChanged, ButtonPressed, MemberJoined, MessageCreated, MessageEdited
from tests.fakes.telegram_server import FakeTelegramServer

GROUP = -1001000000001
MODS = -1001000000002
ALICE = 501
MOD = 600
SECRET = "webhook-secret-123"


class RecordingSink:
    def __init__(self) -> None:
        self.events: list = []

    async def __call__(self, event) -> None:
        self.events.append(event)

    def texts(self) -> list[str]:
        return [e.text for e in self.events if isinstance(e, MessageCreated)]


def make_config(tg: FakeTelegramServer, *, secret: str | None = None, **telegram: object):
    settings = {"base_url": tg.base_url, "base_file_url": tg.base_file_url, "poll_timeout": 5, **telegram}
    lines = "\n".join(f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in settings.items())
    toml = f"""
[adapters.telegram]
{lines.replace("'", '"')}

[communities.hearts]
name = "Hearts"
[communities.hearts.telegram]
chat_ids = [{GROUP}]
moderator_chat_id = {MODS}
"""
    env = {"HAVEN_TELEGRAM_TOKEN": tg.token}
    if secret is not None:
        env["HAVEN_TELEGRAM_WEBHOOK_SECRET"] = secret
    return parse_config(toml, env=env)


@pytest.fixture
async def tg():
    async with FakeTelegramServer() as server:
        server.add_chat(GROUP, title="Hearts")
        server.add_chat(MODS, title="Hearts moderators")
        server.add_user(ALICE, "Alice", username="alice")
        server.add_user(MOD, "Mo")
        for chat in (GROUP, MODS):
            server.set_admin(chat, server.bot_user["id"])
        server.set_admin(GROUP, MOD)
        yield server


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
async def make_adapter(tg, sink):
    """Starts adapters on the fake server and stops whatever is still running at the end."""
    started: list[TelegramAdapter] = []

    async def start(config=None, the_sink=None) -> TelegramAdapter:
        adapter = TelegramAdapter(config or make_config(tg), max_retries=2)
        await asyncio.wait_for(adapter.start(the_sink or sink), 10)
        started.append(adapter)
        return adapter

    yield start
    for adapter in started:
        await asyncio.wait_for(adapter.stop(), 10)


@pytest.fixture
async def adapter(make_adapter) -> TelegramAdapter:
    return await make_adapter()


async def perform(adapter: TelegramAdapter, action: Action):
    return await asyncio.wait_for(adapter.perform(action), 10)


# -- updates in ----------------------------------------------------------------------------------


async def test_group_message_reaches_the_sink(tg, sink, adapter):
    pushed = tg.push_message(GROUP, MOD, "/mute@haven_test_bot @alice 10m")
    (event,) = await tg.wait_for(lambda: sink.events)
    assert isinstance(event, MessageCreated)
    assert event.chat_id == str(GROUP) and event.message_id == str(pushed["message"]["message_id"])
    assert event.text == "/mute @alice 10m"
    assert event.actor == Actor("telegram", str(MOD), "Mo", platform_roles=frozenset({"admin"}))
    assert event.mentions == (Actor("telegram", "", "alice"),)
    assert event.update_id == str(pushed["update_id"])
    assert event.link == f"https://t.me/c/1000000001/{event.message_id}"


async def test_administrators_are_cached(tg, sink, adapter):
    tg.push_message(GROUP, ALICE, "one")
    tg.push_message(GROUP, ALICE, "two")
    await tg.wait_for(lambda: len(sink.events) == 2)
    assert len(tg.calls_of("getChatAdministrators")) == 1
    assert sink.events[0].actor.platform_roles == frozenset()


async def test_admin_cache_is_refreshed_when_rights_change(tg, sink, adapter):
    tg.push_message(GROUP, ALICE, "before")
    await tg.wait_for(lambda: sink.events)
    tg.set_admin(GROUP, ALICE)
    tg.push_chat_member(GROUP, ALICE, "member", "administrator", by=MOD)
    tg.push_message(GROUP, ALICE, "after")
    await tg.wait_for(lambda: "after" in sink.texts())
    assert sink.events[-1].actor.platform_roles == frozenset({"admin"})


async def test_an_unbound_group_is_named_once_in_the_log(tg, sink, adapter, caplog):
    tg.add_chat(-1009999, title="New group")
    with caplog.at_level(logging.WARNING, logger="adapters.telegram.adapter"):
        tg.push_my_chat_member(-1009999, old="left", new="member", by=MOD)
        tg.push_message(-1009999, ALICE, "hello")
        tg.push_message(GROUP, ALICE, "bound")
        await tg.wait_for(lambda: len(sink.events) == 3)
    assert [r.getMessage() for r in caplog.records] == [
        "Telegram: I am in 'New group' (chat id -1009999), which no community is bound to"
    ]


async def test_edited_message_arrives_as_edit(tg, sink, adapter):
    pushed = tg.push_message(GROUP, ALICE, "I'm fine")
    tg.push_edit(GROUP, pushed, "I'm not fine")
    await tg.wait_for(lambda: len(sink.events) == 2)
    assert isinstance(sink.events[1], MessageEdited)
    assert sink.events[1].text == "I'm not fine"
    assert sink.events[1].message_id == sink.events[0].message_id


async def test_button_press_reaches_the_sink_and_is_answered(tg, sink, adapter):
    card = await perform(adapter, Post(platform="telegram", chat_id=str(MODS), text="alert", buttons=(Button("Ack", payload="ack:1"),)))
    update = tg.push_callback(MOD, int(card), "ack:1", chat=MODS)
    (event,) = await tg.wait_for(lambda: sink.events)
    assert isinstance(event, ButtonPressed)
    assert (event.payload, event.message_id, event.chat_id) == ("ack:1", card, str(MODS))
    query_id = update["callback_query"]["id"]
    await tg.wait_for(lambda: query_id in tg.answered_callbacks)


async def test_ephemeral_reply_to_a_button_becomes_an_alert(tg, make_adapter):
    async def reply_privately(event):
        if isinstance(event, ButtonPressed):
            await adapter.perform(Post(platform="telegram", chat_id=event.chat_id, text="Only you see this",
                                       interaction_id=event.interaction_id, ephemeral=True))  # fmt: skip

    adapter = await make_adapter(the_sink=reply_privately)
    update = tg.push_callback(ALICE, tg.push_message(GROUP, ALICE, "card"), "notme:4")
    query_id = update["callback_query"]["id"]
    answer = await tg.wait_for(lambda: tg.answered_callbacks.get(query_id))
    assert answer["text"] == "Only you see this" and answer["show_alert"] is True
    assert tg.sent_messages(GROUP) == []


async def test_members_and_bot_membership(tg, sink, adapter):
    tg.push_member_joined(GROUP, ALICE)
    tg.push_my_chat_member(GROUP, old="administrator", new="member", by=MOD)
    await tg.wait_for(lambda: len(sink.events) == 2)
    assert isinstance(sink.events[0], MemberJoined) and sink.events[0].actor.user_id == str(ALICE)
    assert isinstance(sink.events[1], BotMembershipChanged) and sink.events[1].status == "member"


async def test_a_failing_sink_is_logged_and_not_fatal(tg, make_adapter, caplog):
    seen = []

    async def flaky(event):
        seen.append(event.text)
        if event.text == "boom":
            raise RuntimeError("core bug")

    await make_adapter(the_sink=flaky)
    with caplog.at_level(logging.ERROR, logger="adapters.telegram.adapter"):
        tg.push_message(GROUP, ALICE, "boom")
        tg.push_message(GROUP, ALICE, "still here")
        await tg.wait_for(lambda: "still here" in seen)
    assert "the core failed" in caplog.text


async def test_updates_of_one_chat_are_handled_in_order(tg, make_adapter):
    gate = asyncio.Event()
    order = []

    async def slow_first(event):
        if event.text == "first":
            await gate.wait()
        order.append(event.text)

    await make_adapter(the_sink=slow_first)
    tg.push_message(GROUP, ALICE, "first")
    tg.push_message(GROUP, ALICE, "second")
    tg.push_message(MODS, MOD, "other chat")
    await tg.wait_for(lambda: order == ["other chat"])  # another chat is not held up
    gate.set()
    await tg.wait_for(lambda: order == ["other chat", "first", "second"])


async def test_restart_loses_nothing_and_answers_nothing_twice(tg):
    seen: list[str] = []
    gate = asyncio.Event()
    running: list[TelegramAdapter] = []

    async def answering_sink(event):
        if event.text == "two":
            await gate.wait()
        seen.append(event.text)
        await running[-1].perform(Post(platform="telegram", chat_id=event.chat_id, text=f"re: {event.text}"))

    async def start() -> TelegramAdapter:
        running.append(TelegramAdapter(make_config(tg)))
        await asyncio.wait_for(running[-1].start(answering_sink), 10)
        return running[-1]

    first = await start()
    try:
        for text in ("one", "two", "three"):
            last = tg.push_message(GROUP, ALICE, text)
        await tg.wait_for(lambda: seen == ["one"])
        stopping = asyncio.create_task(first.stop())  # "two" is in the core, "three" still queued
        await asyncio.sleep(0.2)
        assert tg.pending_updates != []  # nothing is confirmed before it was handled
        gate.set()
        await asyncio.wait_for(stopping, 10)
        assert seen == ["one", "two", "three"]
        assert tg.calls_of("getUpdates")[-1]["offset"] == last["update_id"] + 1
        assert tg.pending_updates == []  # confirmed before the process went away

        tg.push_message(GROUP, ALICE, "four")  # while Haven is down
        second = await start()
        tg.push_message(GROUP, ALICE, "five")
        await tg.wait_for(lambda: len(tg.sent_messages(GROUP)) == 5)
        await asyncio.wait_for(second.stop(), 10)
    finally:
        gate.set()
        for adapter in running:
            await asyncio.wait_for(adapter.stop(), 10)
    assert seen == ["one", "two", "three", "four", "five"]
    assert [m["text"] for m in tg.sent_messages(GROUP)] == ["re: one", "re: two", "re: three", "re: four", "re: five"]


# -- actions out ---------------------------------------------------------------------------------


async def test_post_with_keyboard_and_reply(tg, adapter):
    original = tg.push_message(GROUP, ALICE, "help")["message"]["message_id"]
    buttons = (Button("I'm OK", payload="ack:7"), Button("Get help", url="deeplink:help"), Button("NHS", url="https://nhs.uk"))
    message_id = await perform(adapter, Post(platform="telegram", chat_id=str(GROUP), text="a <b> & c", reply_to=str(original), buttons=buttons))
    (sent,) = tg.sent_messages(GROUP)
    assert message_id == str(sent["_result"]["message_id"])
    assert sent["text"] == "a <b> & c" and "parse_mode" not in sent
    assert sent["reply_parameters"] == {"message_id": original, "allow_sending_without_reply": True}
    assert sent["reply_markup"]["inline_keyboard"] == [
        [{"text": "I'm OK", "callback_data": "ack:7"}],
        [{"text": "Get help", "url": "https://t.me/haven_test_bot?start=help"}],
        [{"text": "NHS", "url": "https://nhs.uk"}],
    ]


async def test_spoiler_is_escaped_html(tg, adapter):
    await perform(adapter, Post(platform="telegram", chat_id=str(MODS), text="Alert: <i>x</i> said: I can't go on", spoiler="I can't go on"))
    (sent,) = tg.sent_messages(MODS)
    assert sent["parse_mode"] == "HTML"
    assert sent["text"] == "Alert: &lt;i&gt;x&lt;/i&gt; said: <tg-spoiler>I can&#x27;t go on</tg-spoiler>"


async def test_direct_message_and_attachment(tg, adapter):
    tg.start_private_chat(ALICE)
    await perform(adapter, DirectMessage(platform="telegram", user_id=str(ALICE), text="Here is help"))
    assert tg.sent_messages(ALICE)[0]["text"] == "Here is help"
    await perform(adapter, DirectMessage(platform="telegram", user_id=str(ALICE), text="Your data", attachment=("data.json", b"{}")))
    assert tg.calls_of("sendDocument")[0]["document"] == {"filename": "data.json", "content": b"{}"}


async def test_direct_message_to_a_stranger_falls_back_to_a_deep_link(tg, adapter):
    action = DirectMessage(
        platform="telegram", user_id=str(ALICE), text="private card",
        fallback_chat_id=str(GROUP), fallback_text="Alice, I sent you something privately. Tap below.",
    )  # fmt: skip
    message_id = await perform(adapter, action)
    assert tg.sent_messages(ALICE) == []
    (sent,) = tg.sent_messages(GROUP)
    assert message_id == str(sent["_result"]["message_id"])
    assert sent["text"] == "Alice, I sent you something privately. Tap below."
    (row,) = sent["reply_markup"]["inline_keyboard"]
    assert row[0]["url"] == "https://t.me/haven_test_bot?start=help"
    with pytest.raises(PermanentDeliveryError):
        await perform(adapter, DirectMessage(platform="telegram", user_id=str(ALICE), text="no fallback"))


async def test_moderation_actions(tg, adapter):
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=24)
    await perform(adapter, Timeout(platform="telegram", chat_id=str(GROUP), user_id=str(ALICE), until=until))
    muted = tg.calls_of("restrictChatMember")[-1]
    assert muted["until_date"] == int(until.timestamp())
    assert not any(muted["permissions"].values())

    await perform(adapter, LiftTimeout(platform="telegram", chat_id=str(GROUP), user_id=str(ALICE)))
    assert all(tg.calls_of("restrictChatMember")[-1]["permissions"].values())

    await perform(adapter, Kick(platform="telegram", chat_id=str(GROUP), user_id=str(ALICE)))
    assert [m for m, _ in tg.calls[-2:]] == ["banChatMember", "unbanChatMember"]
    assert tg.calls[-1][1]["only_if_banned"] is True

    await perform(adapter, Ban(platform="telegram", chat_id=str(GROUP), user_id=str(ALICE), until=until))
    assert tg.calls_of("banChatMember")[-1]["until_date"] == int(until.timestamp())

    msg = tg.push_message(GROUP, ALICE, "phone 07700 900123")["message"]["message_id"]
    await perform(adapter, RemoveMessage(platform="telegram", chat_id=str(GROUP), message_id=str(msg)))
    await perform(adapter, RemoveMessage(platform="telegram", chat_id=str(GROUP), message_id=str(msg)))  # already gone
    assert tg.deleted == [(GROUP, msg)]

    assert await perform(adapter, SetRoomMembership(platform="telegram", chat_id=str(GROUP), user_id="1", community="hearts", member=True)) is None
    # A bot cannot label a member's posts on Telegram: verification shows in /experts only.
    calls = len(tg.calls)
    assert await perform(adapter, SetVerified(platform="telegram", chat_id=str(GROUP), user_id="1", community="hearts", verified=True)) is None
    assert await perform(adapter, LabelPost(platform="telegram", chat_id=str(GROUP), message_id="5", label="verified: nurse")) is None
    assert len(tg.calls) == calls


async def test_unknown_action_is_a_type_error(adapter):
    class Dance(Action):
        pass

    with pytest.raises(TypeError):
        await perform(adapter, Dance(platform="telegram"))


async def test_a_429_is_waited_out_and_sent_once(tg, adapter):
    tg.fail_next("sendMessage", status=429, retry_after=1)
    await perform(adapter, Post(platform="telegram", chat_id=str(GROUP), text="once"))
    assert len(tg.calls_of("sendMessage")) == 2  # refused, then accepted
    assert [m["text"] for m in tg.sent_messages(GROUP)] == ["once"]


async def test_send_limits_come_from_the_config(tg, make_adapter):
    # Waiting out a real per-minute limit would make the test slow; what PTB was given is enough.
    adapter = await make_adapter(make_config(tg, overall_max_rate=500, group_max_rate=90))
    limiter = adapter._bot.rate_limiter
    assert (limiter._base_limiter.max_rate, limiter._base_limiter.time_period) == (500, 1)
    assert (limiter._group_max_rate, limiter._group_time_period) == (90, 60)


async def test_errors_map_to_the_delivery_contract(tg, adapter):
    with pytest.raises(PermanentDeliveryError):
        await perform(adapter, Post(platform="telegram", chat_id="-1009999", text="nobody here"))
    tg.start_outage(500, methods={"sendMessage"})
    with pytest.raises(DeliveryError) as caught:
        await perform(adapter, Post(platform="telegram", chat_id=str(GROUP), text="later"))
    assert not isinstance(caught.value, PermanentDeliveryError)


async def test_commands_per_scope(tg, adapter):
    await adapter.set_commands([("help", "How I can help"), ("resources", "Helplines")], [("mute", "Mute a member")])
    assert [c["command"] for c in tg.commands_for({"type": "default"})] == ["help", "resources"]
    mods = ["help", "resources", "mute"]
    assert [c["command"] for c in tg.commands_for({"type": "all_chat_administrators"})] == mods
    assert [c["command"] for c in tg.commands_for({"type": "chat", "chat_id": MODS})] == mods


# -- start-up ------------------------------------------------------------------------------------


async def test_missing_token_is_a_clear_error(tg):
    config = make_config(tg).model_copy(update={"telegram_token": None})
    with pytest.raises(ConfigError, match="HAVEN_TELEGRAM_TOKEN"):
        TelegramAdapter(config)


async def test_partial_screening_is_announced(tg, make_adapter, caplog):
    tg.set_can_read_all_group_messages(False)
    tg.set_admin(GROUP, tg.bot_user["id"], False)
    with caplog.at_level(logging.WARNING, logger="adapters.telegram.adapter"):
        await make_adapter()
    assert "SCREENING IS PARTIAL" in caplog.text
    (warning,) = tg.sent_messages(MODS)
    assert "Screening is partial" in warning["text"] and str(GROUP) in warning["text"]


async def test_no_warning_when_the_bot_is_admin(tg, make_adapter):
    tg.set_can_read_all_group_messages(False)
    await make_adapter()
    assert tg.sent_messages(MODS) == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_mode_requires_a_secret(tg, sink):
    adapter = TelegramAdapter(make_config(tg, mode="webhook", webhook_url="https://example.org/telegram"))
    with pytest.raises(ConfigError, match="HAVEN_TELEGRAM_WEBHOOK_SECRET"):
        await adapter.start(sink)
    assert tg.calls == []


async def test_webhook_accepts_only_the_secret(tg, sink, make_adapter):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    config = make_config(tg, secret=SECRET, mode="webhook", webhook_port=port, webhook_url=url)
    await make_adapter(config)
    assert (tg.webhook["url"], tg.webhook["secret_token"]) == (url, SECRET)
    assert "chat_member" in tg.webhook["allowed_updates"]

    def update(update_id: int, text: str) -> dict:
        msg = {"message_id": update_id, "date": 1_700_000_000, "chat": tg.chats[GROUP], "from": tg.users[ALICE], "text": text}
        return {"update_id": update_id, "message": msg}

    assert await tg.post_to_webhook(url, update(1, "no secret"), None) == 403
    assert await tg.post_to_webhook(url, update(2, "wrong secret"), "guess") == 403
    assert await tg.post_to_webhook(url, update(3, "genuine"), SECRET) == 200
    await tg.wait_for(lambda: sink.events)
    assert sink.texts() == ["genuine"]
