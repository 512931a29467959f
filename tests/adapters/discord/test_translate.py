"""Translation from discord.py objects, built from raw payloads with the library's own constructors."""

from __future__ import annotations

from datetime import datetime, timezone

import discord
import pytest

from adapters.discord import translate
from bot.config import DiscordBinding
from bot.events import ButtonPressed, CommandInvoked, MessageCreated, MessageEdited
from tests.fakes.discord_server import FakeDiscord


@pytest.fixture
def fake():
    return FakeDiscord()


@pytest.fixture
def state(fake):
    state = discord.Client(intents=discord.Intents.all())._connection
    state.user = discord.ClientUser(state=state, data=fake.users[fake.bot_id])
    return state


def guild_of(fake, state) -> discord.Guild:
    guild = discord.Guild(data=fake.guild_payload(), state=state)
    state._add_guild(guild)
    return guild


@pytest.fixture
def binding(fake):
    return DiscordBinding(
        guild_id=fake.guild_id,
        category_id=fake.category_id,
        moderator_role_id=fake.moderator_role_id,
        member_role_id=fake.member_role_id,
    )


def message(fake, state, payload) -> discord.Message:
    guild = state._get_guild(int(payload["guild_id"])) if "guild_id" in payload else None
    channel = guild.get_channel(int(payload["channel_id"])) if guild else discord.DMChannel(
        me=state.user, state=state, data={"id": payload["channel_id"], "type": 1, "recipients": [payload["author"]]}
    )
    return discord.Message(state=state, channel=channel, data=payload)


def test_guild_message(fake, state, binding):
    alice, bob = fake.add_user("alice"), fake.add_user("bob")
    original = fake._message(fake.general_id, bob, "how do you cope?")
    payload = fake._message(
        fake.general_id,
        alice,
        f"<@{bob}> same here",
        mentions=[fake._mention(bob)],
        message_reference={"message_id": original["id"], "channel_id": str(fake.general_id)},
        referenced_message=original,
        type=19,
    )
    guild_of(fake, state)
    event = translate.message_created(message(fake, state, payload), binding)
    assert isinstance(event, MessageCreated)
    assert event.chat_id == str(fake.general_id)
    assert event.parent_id == str(fake.category_id)
    assert event.private is False
    assert event.message_id == payload["id"]
    assert event.text == "@bob same here"
    assert [m.user_id for m in event.mentions] == [str(bob)]
    assert event.reply_to == original["id"]
    assert event.reply_to_author is not None and event.reply_to_author.user_id == str(bob)
    assert event.link == f"https://discord.com/channels/{fake.guild_id}/{fake.general_id}/{payload['id']}"
    assert event.actor.name == "alice" and event.actor.platform_roles == frozenset()
    assert event.update_id == f"message:{payload['id']}"


@pytest.mark.parametrize(
    ("roles", "moderator_permissions", "expected"),
    [
        ("moderator_role", (), True),
        ("none", (), False),
        ("moderator_role_perms_only", ("manage_messages",), True),  # role not configured, permission is
        ("none", ("manage_messages",), False),
    ],
)
def test_moderator_by_role_or_permission(fake, state, roles, moderator_permissions, expected):
    role_ids = () if roles == "none" else (fake.moderator_role_id,)
    mira = fake.add_user("mira", roles=role_ids)
    binding = DiscordBinding(
        guild_id=fake.guild_id,
        moderator_role_id=fake.moderator_role_id if roles == "moderator_role" else None,
        moderator_permissions=moderator_permissions,
    )
    guild_of(fake, state)
    event = translate.message_created(message(fake, state, fake._message(fake.general_id, mira, "hi")), binding)
    assert ("moderator" in event.actor.platform_roles) is expected


def test_direct_message_is_private(fake, state):
    alice = fake.add_user("alice")
    payload = fake._message(fake._dm_channel(alice), alice, "can we talk")
    event = translate.message_created(message(fake, state, payload))
    assert event.private is True and event.parent_id is None
    assert event.chat_id == str(fake._dm_channel(alice))


def test_edit_with_new_text_is_message_edited(fake, state, binding):
    alice = fake.add_user("alice")
    guild_of(fake, state)
    before = fake._message(fake.general_id, alice, "fine")
    after = {**before, "content": "call me on 07700 900123", "edited_timestamp": datetime.now(timezone.utc).isoformat()}
    event = translate.message_edited(message(fake, state, after), message(fake, state, before), binding)
    assert isinstance(event, MessageEdited)
    assert event.text == "call me on 07700 900123" and event.message_id == before["id"]


def test_update_without_new_text_is_not_an_edit(fake, state, binding):
    alice = fake.add_user("alice")
    guild_of(fake, state)
    before = fake._message(fake.general_id, alice, "see https://example.org")
    after = {**before, "embeds": [{"type": "link", "url": "https://example.org"}]}
    assert translate.message_edited(message(fake, state, after), message(fake, state, before), binding) is None


def test_slash_command_args_render_members_as_usernames(fake, state, binding):
    mira = fake.add_user("mira", roles=(fake.moderator_role_id,))
    bob = fake.add_user("bob")
    guild_of(fake, state)
    fake.commands[None] = [{"id": "1", "name": "mute"}]
    payload = fake._interaction(
        2,
        mira,
        fake.general_id,
        {
            "id": "1",
            "name": "mute",
            "type": 1,
            "options": [
                {"name": "member", "type": 6, "value": str(bob)},
                {"name": "args", "type": 3, "value": "10m spamming links"},
            ],
            "resolved": {
                "users": {str(bob): fake.users[bob]},
                "members": {str(bob): {**fake.members[bob], "permissions": str(fake.permissions_of(bob))}},
            },
        },
    )
    event = translate.command_invoked(discord.Interaction(data=payload, state=state), binding)
    assert isinstance(event, CommandInvoked)
    assert event.name == "mute"
    assert event.args == "@bob 10m spamming links"
    assert [(m.user_id, m.name) for m in event.mentions] == [(str(bob), "bob")]
    assert event.interaction_id == payload["id"]
    assert event.actor.platform_roles == frozenset({"moderator"})
    assert event.chat_id == str(fake.general_id) and event.parent_id == str(fake.category_id)


def test_slash_command_without_options(fake, state, binding):
    alice = fake.add_user("alice")
    guild_of(fake, state)
    payload = fake._interaction(2, alice, fake.general_id, {"id": "2", "name": "help", "type": 1})
    event = translate.command_invoked(discord.Interaction(data=payload, state=state), binding)
    assert (event.name, event.args, event.mentions) == ("help", "", ())
    assert event.actor.platform_roles == frozenset()


def test_button_press_carries_its_payload(fake, state, binding):
    alice = fake.add_user("alice")
    guild_of(fake, state)
    card = fake._message(fake.general_id, fake.bot_id, "You are not alone")
    payload = fake._interaction(3, alice, fake.general_id, {"custom_id": "notme:4", "component_type": 2}, message=card)
    event = translate.button_pressed(discord.Interaction(data=payload, state=state), binding)
    assert isinstance(event, ButtonPressed)
    assert (event.payload, event.message_id, event.interaction_id) == ("notme:4", card["id"], payload["id"])


def test_member_join_and_leave_land_in_the_community(fake, state, binding):
    alice = fake.add_user("alice")
    guild = guild_of(fake, state)
    member = guild.get_member(alice)
    joined = translate.member_joined(member, binding)
    assert (joined.chat_id, joined.parent_id, joined.actor.user_id) == (
        str(fake.category_id),
        str(fake.category_id),
        str(alice),
    )
    left = translate.member_left(member, binding, datetime.now(timezone.utc))
    assert left.chat_id == str(fake.category_id) and left.actor.name == "alice"


def test_channel_bound_community_uses_its_first_channel(fake):
    binding = DiscordBinding(guild_id=fake.guild_id, channel_ids=(fake.general_id, fake.mods_id))
    assert translate.community_place(binding) == {"chat_id": str(fake.general_id), "parent_id": None}
