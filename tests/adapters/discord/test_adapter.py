"""The Discord adapter with the real discord.py client against the fake Discord server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone

import pytest

from adapters.base import PermanentDeliveryError
from adapters.discord.adapter import DiscordAdapter, DiscordStartError
from bot.actions import (
    Action,
    Ban,
    Button,
    DirectMessage,
    Kick,
    LabelPost,
    Post,
    RemoveMessage,
    SetRoomMembership,
    SetVerified,
    Timeout,
    Unban,
)
from bot.config import Config
from bot.events import ButtonPressed, CommandInvoked, Event, MessageCreated, MessageEdited
from tests.fakes.discord_server import EPHEMERAL, FakeDiscord


class Sink:
    """Records events; `react` lets a test answer like the engine does, from inside the sink."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.react: Callable[[Event], Awaitable[None]] | None = None
        self._changed = asyncio.Condition()

    async def __call__(self, event: Event) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()
        if self.react is not None:
            await self.react(event)

    async def wait_for(self, predicate: Callable[[list[Event]], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: predicate(self.events))

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


def make_config(fake: FakeDiscord, token: str | None = "test-token", **binding: object) -> Config:
    return Config.model_validate(
        {
            "adapters": {"discord": {"api_base_url": fake.api_base_url, "gateway_url": fake.gateway_url}},
            "communities": {
                "support": {
                    "name": "Support",
                    "discord": {
                        "guild_id": fake.guild_id,
                        "category_id": fake.category_id,
                        "moderator_channel_id": fake.mods_id,
                        "fallback_channel_id": fake.general_id,
                        "moderator_role_id": fake.moderator_role_id,
                        "member_role_id": fake.member_role_id,
                        "verified_role_id": fake.verified_role_id,
                        **binding,
                    },
                }
            },
            "discord_token": token,
        }
    )


@pytest.fixture
async def sink():
    return Sink()


@pytest.fixture
async def adapter(fake, sink):
    a = DiscordAdapter(make_config(fake), guild_ready_timeout=0.05)
    await asyncio.wait_for(a.start(sink), 10)
    await a.set_commands([("help", "How Haven works")], [("help", "How Haven works"), ("mute", "Mute a member")])
    yield a
    await a.stop()


async def test_message_reaches_the_sink(fake, sink, adapter):
    alice, bob = fake.add_user("alice"), fake.add_user("bob")
    message_id = await fake.push_message(fake.general_id, alice, f"thanks <@{bob}>", mentions=(bob,))
    await sink.wait_for(lambda es: any(isinstance(e, MessageCreated) for e in es))
    (event,) = sink.of(MessageCreated)
    assert event.platform == "discord"
    assert (event.chat_id, event.parent_id, event.message_id) == (str(fake.general_id), str(fake.category_id), str(message_id))
    assert event.text == "thanks @bob" and [m.user_id for m in event.mentions] == [str(bob)]
    assert event.actor.user_id == str(alice) and not event.private


async def test_edit_arrives_as_message_edited(fake, sink, adapter):
    alice = fake.add_user("alice")
    message_id = await fake.push_message(fake.general_id, alice, "hello")
    await fake.push_edit(message_id, "my number is 07700 900123")
    await sink.wait_for(lambda es: any(isinstance(e, MessageEdited) for e in es))
    (edit,) = sink.of(MessageEdited)
    assert edit.message_id == str(message_id) and edit.text == "my number is 07700 900123"


async def test_commands_are_registered_with_moderator_ones_hidden(fake, adapter):
    (commands,) = fake.commands.values()
    by_name = {c["name"]: c for c in commands}
    assert set(by_name) == {"help", "mute"}
    assert by_name["help"]["default_member_permissions"] is None
    assert by_name["mute"]["default_member_permissions"] == str(1 << 13)
    assert {o["name"] for o in by_name["mute"]["options"]} == {"member", "args"}


async def test_slash_command_is_answered_ephemerally(fake, sink, adapter):
    mira = fake.add_user("mira", roles=(fake.moderator_role_id,))
    bob = fake.add_user("bob")

    async def answer(event: Event) -> None:
        if isinstance(event, CommandInvoked):
            await adapter.perform(Post(platform="discord", chat_id=event.chat_id, text="Muted.", interaction_id=event.interaction_id, ephemeral=True))

    sink.react = answer
    interaction_id = await fake.push_slash(mira, fake.general_id, "mute", {"member": bob, "args": "10m spam"})
    await fake.wait_for(lambda: fake.interaction_responses)
    (command,) = sink.of(CommandInvoked)
    assert (command.name, command.args, command.interaction_id) == ("mute", "@bob 10m spam", str(interaction_id))
    assert "moderator" in command.actor.platform_roles
    (response,) = fake.interaction_responses
    assert response["type"] == 4 and response["data"]["content"] == "Muted."
    assert response["data"]["flags"] & EPHEMERAL


async def test_button_press_arrives_and_is_answered(fake, sink, adapter):
    alice = fake.add_user("alice")
    card_id = await adapter.perform(
        Post(platform="discord", chat_id=str(fake.general_id), text="You are not alone.", buttons=(Button("Not me", payload="notme:4"), Button("Help", url="https://example.org/help")))
    )
    (card,) = fake.sent_messages(fake.general_id)
    buttons = card["components"][0]["components"]
    assert [(b.get("custom_id"), b.get("url")) for b in buttons] == [("notme:4", None), (None, "https://example.org/help")]
    await fake.push_button(alice, int(card_id), "notme:4")
    await fake.wait_for(lambda: fake.interaction_responses)
    (press,) = sink.of(ButtonPressed)
    assert (press.payload, press.message_id, press.actor.user_id) == ("notme:4", card_id, str(alice))
    assert fake.interaction_responses[0]["type"] == 6  # acknowledged without a new message


async def test_post_reply_and_spoiler(fake, adapter):
    alice = fake.add_user("alice")
    original = await fake.push_message(fake.general_id, alice, "hi")
    await adapter.perform(Post(platform="discord", chat_id=str(fake.general_id), text="Alert: excerpt follows", spoiler="hard words", reply_to=str(original)))
    (sent,) = fake.sent_messages(fake.general_id)
    assert sent["content"] == "Alert: excerpt follows\n\n||hard words||"
    assert sent["message_reference"]["message_id"] == str(original)


async def test_timeout_sends_communication_disabled_until(fake, adapter):
    bob = fake.add_user("bob")
    until = datetime.now(timezone.utc) + timedelta(hours=24)
    await adapter.perform(Timeout(platform="discord", chat_id=str(fake.general_id), user_id=str(bob), until=until))
    (call,) = fake.calls_to("PATCH", f"/guilds/{fake.guild_id}/members/{bob}")
    assert datetime.fromisoformat(call.json["communication_disabled_until"]) == until


async def test_timeout_beyond_28_days_is_clamped(fake, adapter):
    bob = fake.add_user("bob")
    await adapter.perform(Timeout(platform="discord", chat_id=str(fake.general_id), user_id=str(bob), until=datetime.now(timezone.utc) + timedelta(days=90)))
    (call,) = fake.calls_to("PATCH", f"/guilds/{fake.guild_id}/members/{bob}")
    assert datetime.fromisoformat(call.json["communication_disabled_until"]) < datetime.now(timezone.utc) + timedelta(days=28)


async def test_moderation_actions_reach_discord(fake, adapter):
    bob, carl = fake.add_user("bob"), fake.add_user("carl")
    message_id = await fake.push_message(fake.general_id, bob, "spam")
    chat = str(fake.general_id)
    await adapter.perform(RemoveMessage(platform="discord", chat_id=chat, message_id=str(message_id), reason="spam"))
    await adapter.perform(SetRoomMembership(platform="discord", chat_id=chat, user_id=str(carl), community="support", member=True))
    assert str(fake.member_role_id) in fake.members[carl]["roles"]
    await adapter.perform(SetRoomMembership(platform="discord", chat_id=chat, user_id=str(carl), community="support", member=False))
    assert str(fake.member_role_id) not in fake.members[carl]["roles"]
    await adapter.perform(Kick(platform="discord", chat_id=chat, user_id=str(carl)))
    await adapter.perform(Ban(platform="discord", chat_id=chat, user_id=str(bob)))
    assert bob in fake.bans and carl not in fake.members
    await adapter.perform(Unban(platform="discord", chat_id=chat, user_id=str(bob)))
    assert message_id not in fake.messages and bob not in fake.bans
    with pytest.raises(PermanentDeliveryError):
        await adapter.perform(Unban(platform="discord", chat_id=chat, user_id=str(bob)))


async def test_verification_is_a_role_and_posts_are_not_relabelled(fake, adapter):
    ana = fake.add_user("ana")
    chat = str(fake.general_id)
    await adapter.perform(SetVerified(platform="discord", chat_id=chat, user_id=str(ana), community="support", verified=True))
    assert str(fake.verified_role_id) in fake.members[ana]["roles"]
    (call,) = fake.calls_to("PUT", f"/guilds/{fake.guild_id}/members/{ana}/roles/{fake.verified_role_id}")
    await adapter.perform(SetVerified(platform="discord", chat_id=chat, user_id=str(ana), community="support", verified=False))
    assert str(fake.verified_role_id) not in fake.members[ana]["roles"]
    before = len(fake.calls)
    await adapter.perform(LabelPost(platform="discord", chat_id=chat, message_id="1", label="verified: nurse"))
    assert len(fake.calls) == before


async def test_without_a_verified_role_verification_leaves_discord_alone(fake, sink):
    a = DiscordAdapter(make_config(fake, verified_role_id=None), guild_ready_timeout=0.05)
    await asyncio.wait_for(a.start(sink), 10)
    try:
        ana = fake.add_user("ana")
        await a.perform(SetVerified(platform="discord", chat_id=str(fake.general_id), user_id=str(ana), community="support", verified=True))
        assert not fake.calls_to("PUT", f"/guilds/{fake.guild_id}/members/{ana}/roles/")
        assert fake.members[ana]["roles"] == []
    finally:
        await a.stop()


async def test_a_verified_role_deleted_in_discord_is_a_permanent_error(fake, sink):
    a = DiscordAdapter(make_config(fake, verified_role_id=fake.snowflake()), guild_ready_timeout=0.05)
    await asyncio.wait_for(a.start(sink), 10)
    try:
        ana = fake.add_user("ana")
        with pytest.raises(PermanentDeliveryError, match="Unknown Role"):
            await a.perform(SetVerified(platform="discord", chat_id=str(fake.general_id), user_id=str(ana), community="support", verified=True))
    finally:
        await a.stop()


async def test_direct_message_to_closed_dms_falls_back_to_a_public_post(fake, adapter):
    alice = fake.add_user("alice", dms_open=False)
    await adapter.perform(
        DirectMessage(platform="discord", user_id=str(alice), text="Here is a private note.", fallback_chat_id=str(fake.general_id), fallback_text="I could not message you privately.")
    )
    (post,) = fake.sent_messages(fake.general_id)
    assert post["content"] == "I could not message you privately."
    assert post["components"][0]["components"][0]["custom_id"] == "help"
    assert not fake.sent_messages(fake._dm_channel(alice))


async def test_direct_message_to_closed_dms_in_an_interaction_is_ephemeral(fake, sink, adapter):
    alice = fake.add_user("alice", dms_open=False)

    async def answer(event: Event) -> None:
        if isinstance(event, CommandInvoked):
            await adapter.perform(DirectMessage(platform="discord", user_id=event.actor.user_id, text="Your data export.", interaction_id=event.interaction_id, fallback_chat_id=event.chat_id, fallback_text="public"))

    sink.react = answer
    await fake.push_slash(alice, fake.general_id, "help")
    await fake.wait_for(lambda: fake.interaction_responses)
    (response,) = fake.interaction_responses
    assert response["data"]["content"] == "Your data export." and response["data"]["flags"] & EPHEMERAL
    assert not fake.sent_messages(fake.general_id)


async def test_direct_message_is_sent(fake, adapter):
    alice = fake.add_user("alice")
    message_id = await adapter.perform(DirectMessage(platform="discord", user_id=str(alice), text="Hello privately", attachment=("export.json", b"{}")))
    (dm,) = fake.sent_messages(fake._dm_channel(alice))
    assert dm["id"] == message_id and dm["content"] == "Hello privately"


async def test_reconnect_and_resume_lose_and_repeat_nothing(fake, sink, adapter):
    alice = fake.add_user("alice")
    await fake.push_message(fake.general_id, alice, "one")
    await fake.request_reconnect()
    await fake.push_message(fake.general_id, alice, "two")
    await fake.wait_for(lambda: len(fake.resumes) == 1 and fake.live_sessions == 1)
    await fake.drop_connection()
    await fake.push_message(fake.general_id, alice, "three")
    await fake.wait_for(lambda: len(fake.resumes) == 2 and fake.live_sessions == 1)
    await fake.push_message(fake.general_id, alice, "four")
    await sink.wait_for(lambda es: any(getattr(e, "text", None) == "four" for e in es))
    assert [e.text for e in sink.of(MessageCreated)] == ["one", "two", "three", "four"]
    assert len(fake.identifies) == 1


async def test_unknown_action_is_a_type_error(adapter):
    with pytest.raises(TypeError):
        await adapter.perform(Action(platform="discord"))


async def test_missing_message_content_intent_fails_at_start(fake, sink):
    fake.granted_intents = 1 << 1  # members only
    a = DiscordAdapter(make_config(fake), guild_ready_timeout=0.05)
    with pytest.raises(DiscordStartError, match="Message Content"):
        await asyncio.wait_for(a.start(sink), 10)
    await a.stop()


async def test_missing_token_is_a_clear_error(fake):
    with pytest.raises(DiscordStartError, match="HAVEN_DISCORD_TOKEN"):
        DiscordAdapter(make_config(fake, token=None))


async def test_unanswered_command_is_deferred_and_a_later_post_follows_up(fake, sink, adapter):
    alice = fake.add_user("alice")
    first = await fake.push_slash(alice, fake.general_id, "help")
    await fake.wait_for(lambda: fake.interaction_responses)
    assert fake.interaction_responses[0]["type"] == 5 and fake.interaction_responses[0]["data"]["flags"] & EPHEMERAL
    await adapter.perform(Post(platform="discord", chat_id=str(fake.general_id), text="Only you see this.", interaction_id=str(first), ephemeral=True))
    assert fake.followups[-1]["edit"] == "@original" and fake.followups[-1]["data"]["content"] == "Only you see this."

    second = await fake.push_slash(alice, fake.general_id, "help")
    await fake.wait_for(lambda: len(fake.interaction_responses) == 2)
    await adapter.perform(Post(platform="discord", chat_id=str(fake.general_id), text="Everyone sees this.", interaction_id=str(second)))
    assert [m["content"] for m in fake.sent_messages(fake.general_id)] == ["Everyone sees this."]
    assert fake.calls_to("DELETE", f"/webhooks/{fake.application_id}/")
