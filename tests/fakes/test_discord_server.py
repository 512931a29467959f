"""The fake Discord server, driven by the real discord.py client."""

from __future__ import annotations

import asyncio

import discord
import pytest

from adapters.discord.client import HavenClient
from tests.fakes.discord_server import MESSAGE_CONTENT, FakeDiscord


class Recorder(HavenClient):
    def __init__(self, fake: FakeDiscord) -> None:
        intents = discord.Intents(guilds=True, members=True, guild_messages=True, message_content=True)
        super().__init__(
            intents=intents,
            api_base_url=fake.api_base_url,
            gateway_url=fake.gateway_url,
            chunk_guilds_at_startup=False,
            guild_ready_timeout=0.05,
        )
        self.seen: list[str] = []
        self.ready = asyncio.Event()
        self.resumed = asyncio.Event()

    async def on_ready(self) -> None:
        self.ready.set()

    async def on_message(self, message: discord.Message) -> None:
        self.seen.append(message.content)

    async def on_resumed(self) -> None:
        self.resumed.set()


@pytest.fixture
async def fake():
    async with FakeDiscord(heartbeat_interval_ms=60_000) as server:
        yield server


@pytest.fixture
async def client(fake):
    c = Recorder(fake)
    task = asyncio.create_task(c.start("test-token"))
    async with asyncio.timeout(5):
        await c.ready.wait()
    yield c
    await c.close()
    await asyncio.wait_for(task, 5)


async def test_client_connects_and_sees_the_guild(fake, client):
    guild = client.get_guild(fake.guild_id)
    assert guild is not None and not guild.unavailable
    assert guild.get_channel(fake.general_id).category_id == fake.category_id
    assert client.user.id == fake.bot_id
    assert fake.identifies[0]["intents"] & MESSAGE_CONTENT
    assert fake.identifies[0]["shard"] == [0, 1]
    assert fake.calls_to("GET", "/users/@me")


async def test_on_message_fires(fake, client):
    alice = fake.add_user("alice")
    await fake.push_message(fake.general_id, alice, "hello there")
    async with asyncio.timeout(5):
        while client.seen != ["hello there"]:
            await asyncio.sleep(0.01)


async def test_heartbeats_are_acknowledged(fake, client):
    await fake.wait_for(lambda: fake.heartbeat_acks >= 1)
    assert client.latency != float("inf")


async def test_reconnect_then_resume_replays_missed_events_once(fake, client):
    alice = fake.add_user("alice")
    await fake.push_message(fake.general_id, alice, "before")
    await fake.drop_connection()
    # Sent while no connection is open: only RESUME can deliver these.
    await fake.push_message(fake.general_id, alice, "missed 1")
    await fake.push_message(fake.general_id, alice, "missed 2")
    async with asyncio.timeout(5):
        await client.resumed.wait()
    client.resumed.clear()
    await fake.request_reconnect()
    await fake.push_message(fake.general_id, alice, "during op 7")
    async with asyncio.timeout(5):
        await client.resumed.wait()
    await fake.push_message(fake.general_id, alice, "after")
    async with asyncio.timeout(5):
        while "after" not in client.seen:
            await asyncio.sleep(0.01)
    assert client.seen == ["before", "missed 1", "missed 2", "during op 7", "after"]
    assert len(fake.identifies) == 1 and len(fake.resumes) == 2


async def test_privileged_intent_not_granted_closes_with_4014(fake):
    fake.granted_intents = 0
    c = Recorder(fake)
    with pytest.raises(discord.PrivilegedIntentsRequired):
        await asyncio.wait_for(c.start("test-token"), 5)
    await c.close()
