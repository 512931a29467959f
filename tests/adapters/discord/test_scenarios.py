"""Haven on Discord end to end: the real App and DiscordAdapter, the real discord.py client, a real
database, and the fake Discord server. Every assertion is on what reached "Discord" (what a person
would see) or on what Haven stored."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from bot.app import App
from tests.fakes.discord_server import EPHEMERAL, FakeDiscord

# A real mobile number's shape: 07700 900xxx is Ofcom's range for drama, which no phone can have.
PHONE = "call me on 07911 123456"


async def screened(app: App, count: int) -> None:
    """Wait until the engine has screened `count` posts (its counters are flushed only by run_due)."""
    async with asyncio.timeout(5):
        while sum(n for (_, _, kind), n in app.services.counts.items() if kind == "screened") < count:
            await asyncio.sleep(0.01)


async def answer(fake: FakeDiscord, interaction_id: int) -> dict:
    """The interaction response the person saw."""
    return await fake.wait_for(
        lambda: next((r for r in fake.interaction_responses if r["interaction_id"] == str(interaction_id)), None)
    )


def deleted(fake: FakeDiscord) -> list[int]:
    return [int(c.path.rsplit("/", 1)[1]) for c in fake.calls_to("DELETE", "/channels/")]


def buttons(message: dict) -> list[dict]:
    return [b for row in message["components"] for b in row["components"]]


async def test_an_ordinary_post_stays(fake, app):
    alice = fake.add_user("alice")
    await fake.push_message(fake.general_id, alice, "Good day today, numbers steady since the new pump")
    await screened(app, 1)
    assert not deleted(fake)
    assert not fake.sent_messages()


async def test_a_crisis_gets_a_private_card_and_an_alert_with_the_excerpt_hidden(fake, app):
    alice = fake.add_user("alice")
    post = await fake.push_message(fake.general_id, alice, "I want to end my life")
    (card,) = await fake.wait_for(lambda: fake.sent_messages(fake._dm_channel(alice)))
    (alert,) = await fake.wait_for(lambda: fake.sent_messages(fake.mods_id))
    assert "116 123" in card["content"], "Samaritans, for the community's en-GB locale"
    assert "||I want to end my life||" in alert["content"]
    assert [(b["label"], b["custom_id"]) for b in buttons(alert)] == [("Acknowledge", "ack:1"), ("Resolve", "resolve:1")]
    (public,) = await fake.wait_for(lambda: fake.sent_messages(fake.general_id))
    assert public["message_reference"]["message_id"] == str(post)
    assert "I want to end my life" not in public["content"]
    assert post not in deleted(fake), "a cry for help is never removed"


async def test_acknowledge_is_for_moderators(fake, app):
    alice, bob = fake.add_user("alice"), fake.add_user("bob")
    mira = fake.add_user("mira", roles=(fake.moderator_role_id,))
    await fake.push_message(fake.general_id, alice, "I want to end my life")
    (alert,) = await fake.wait_for(lambda: fake.sent_messages(fake.mods_id))

    refused = await answer(fake, await fake.push_button(bob, int(alert["id"]), "ack:1"))
    assert refused["data"]["content"] == "Only moderators can do that."
    assert refused["data"]["flags"] & EPHEMERAL
    assert (await app.store.incident(1)).status == "open"

    taken = await answer(fake, await fake.push_button(mira, int(alert["id"]), "ack:1"))
    assert taken["data"]["content"].startswith("Incident 1 is yours")
    assert (await app.store.incident(1)).status == "acked"


async def test_personal_data_is_removed_and_the_author_told_privately(fake, app):
    alice = fake.add_user("alice")
    post = await fake.push_message(fake.general_id, alice, PHONE)
    await fake.wait_for(lambda: deleted(fake))
    assert deleted(fake) == [post]
    (notice,) = await fake.wait_for(lambda: fake.sent_messages(fake._dm_channel(alice)))
    assert "personal details" in notice["content"]
    assert not fake.sent_messages(fake.general_id), "the notice is private"


async def test_an_edit_that_adds_a_phone_number_is_removed(fake, app):
    alice = fake.add_user("alice")
    post = await fake.push_message(fake.general_id, alice, "Anyone in Leeds want to meet up?")
    await screened(app, 1)
    assert not deleted(fake)
    await fake.push_edit(post, f"Anyone in Leeds want to meet up? {PHONE}")
    await fake.wait_for(lambda: deleted(fake))
    assert deleted(fake) == [post]


async def test_a_member_is_refused_a_moderator_slash_command_privately(fake, app):
    bob = fake.add_user("bob")
    response = await answer(fake, await fake.push_slash(bob, fake.general_id, "ack", {"args": "1"}))
    assert response["data"]["content"] == "/ack is for moderators."
    assert response["data"]["flags"] & EPHEMERAL


async def test_slash_help_is_answered_privately(fake, app):
    alice = fake.add_user("alice")
    response = await answer(fake, await fake.push_slash(alice, fake.general_id, "help"))
    assert "/rules" in response["data"]["content"]
    assert response["data"]["flags"] & EPHEMERAL


async def test_closed_dms_fall_back_to_a_public_post_whose_button_gives_help_privately(fake, app):
    alice = fake.add_user("alice", dms_open=False)
    await fake.push_message(fake.general_id, alice, "I want to end my life")
    fallback = await fake.wait_for(
        lambda: next((m for m in fake.sent_messages(fake.general_id) if "couldn't send you" in m["content"]), None)
    )
    assert not fake.sent_messages(fake._dm_channel(alice))
    assert "116 123" in fallback["content"]
    assert await fake.wait_for(lambda: fake.sent_messages(fake.mods_id)), "the moderators still hear of it"
    (button,) = buttons(fallback)
    card = await answer(fake, await fake.push_button(alice, int(fallback["id"]), button["custom_id"]))
    assert "116 123" in card["data"]["content"] and card["data"]["flags"] & EPHEMERAL


async def test_reconnect_and_resume_mid_stream_handle_every_message_once(fake, app, caplog):
    people = [fake.add_user(name) for name in ("alice", "bob", "carol")]
    phones: list[int] = []

    async def push(i: int) -> None:
        who = people[i % len(people)]
        if i % 2:
            phones.append(await fake.push_message(fake.general_id, who, f"message {i}: {PHONE}"))
        else:
            await fake.push_message(fake.general_id, who, f"message {i}: how is everyone doing today")

    caplog.set_level(logging.INFO, logger="bot.engine")
    for i in range(4):
        await push(i)
    await fake.request_reconnect()
    for i in range(4, 8):
        await push(i)
    await fake.wait_for(lambda: len(fake.resumes) == 1 and fake.live_sessions == 1)
    await fake.drop_connection()
    for i in range(8, 12):
        await push(i)
    await fake.wait_for(lambda: len(fake.resumes) == 2 and fake.live_sessions == 1)
    await screened(app, 12)
    await fake.wait_for(lambda: len(deleted(fake)) >= len(phones))
    assert sorted(deleted(fake)) == sorted(phones), "each post with a phone number removed exactly once"
    assert sum(n for (_, _, kind), n in app.services.counts.items() if kind == "screened") == 12
    assert "handled before" not in caplog.text, "no message reached the core twice"
    assert len(fake.identifies) == 1


async def test_a_moderator_mute_times_the_member_out_on_discord(fake, app):
    mira = fake.add_user("mira", roles=(fake.moderator_role_id,))
    bob = fake.add_user("bob")
    before = app.clock()
    response = await answer(fake, await fake.push_slash(mira, fake.general_id, "mute", {"member": bob, "args": "10m spamming"}))
    after = app.clock()
    assert response["data"]["content"].startswith("Case #1: bob was muted for 10 minutes")
    (call,) = fake.calls_to("PATCH", f"/guilds/{fake.guild_id}/members/{bob}")
    until = datetime.fromisoformat(call.json["communication_disabled_until"])
    assert before + timedelta(minutes=10) <= until <= after + timedelta(minutes=10)
    assert fake.members[bob]["communication_disabled_until"] == call.json["communication_disabled_until"]


async def test_verify_gives_the_verified_role_and_unverify_takes_it(fake, app):
    mira = fake.add_user("mira", roles=(fake.moderator_role_id,))
    ana = fake.add_user("ana")
    response = await answer(fake, await fake.push_slash(mira, fake.general_id, "verify", {"member": ana, "args": "nurse"}))
    assert response["data"]["content"] == "ana is now shown as a verified nurse."
    assert str(fake.verified_role_id) in fake.members[ana]["roles"]
    response = await answer(fake, await fake.push_slash(mira, fake.general_id, "unverify", {"member": ana}))
    assert response["data"]["content"] == "ana is no longer shown as verified."
    assert str(fake.verified_role_id) not in fake.members[ana]["roles"]
    # Erasing their data takes the role that showed the profession away too.
    await answer(fake, await fake.push_slash(mira, fake.general_id, "verify", {"member": ana, "args": "nurse"}))
    await answer(fake, await fake.push_slash(ana, fake.general_id, "forgetme", {"args": "confirm"}))
    await fake.wait_for(lambda: str(fake.verified_role_id) not in fake.members[ana]["roles"], timeout=5)
    # A verified person's post is left as it is: the role is what shows beside their name.
    await answer(fake, await fake.push_slash(mira, fake.general_id, "verify", {"member": ana, "args": "nurse"}))
    await fake.push_message(fake.general_id, ana, "Happy to talk about pump settings")
    await screened(app, 1)
    assert not deleted(fake) and not fake.sent_messages(fake.general_id)
