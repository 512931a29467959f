"""Haven on Discord under load, end to end, against a bare discord.py client on the same wire.

    .venv/bin/python benchmarks/discord_e2e.py [--messages 20000] [--crisis-share 0.02] [--in-flight 64]
                                               [--seed 1] [--database sqlite|postgresql] [--profile haven.prof]

Both runs push the same messages (short everyday chat, a share of people in crisis, each from their
own account) through the fake Discord gateway (tests/fakes/discord_server.py) into the real
discord.py client, at most `--in-flight` unhandled at a time:
  - baseline: a bare client whose on_message does nothing, except answer each crisis message with a
    direct message, the same REST calls Haven's card needs;
  - Haven: the real DiscordAdapter and App (engine, screening, outbox) on SQLite in a temporary
    folder or a fresh PostgreSQL database.
It reports throughput, p50/p99 latency from push to handled for every message, and from push to the
direct message reaching the fake for crisis messages. The fake shares the process and its event loop
(its JSON and zlib work is in both runs), so the ratio to the baseline is the figure to trust.
Stops by itself: a run that does not finish within --deadline seconds is reported as such.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import discord  # noqa: E402

from adapters.discord.adapter import DiscordAdapter  # noqa: E402
from adapters.discord.client import HavenClient  # noqa: E402
from benchmarks.e2e import (  # noqa: E402
    CHAT_AUTHORS, CRISIS, Message, Result, Run, TimedApp, arguments, compare, database, make_messages, profiled,
    report,
)
from bot.config import parse_config  # noqa: E402
from moderation.pipeline import Pipeline  # noqa: E402
from tests.fakes.discord_server import FakeDiscord  # noqa: E402

DISCORD_CRISIS = CRISIS[:3]

CONFIG = """
[adapters.discord]
api_base_url = "{api}"
gateway_url = "{gateway}"

[communities.t1d]
name = "Type 1 Diabetes"
locale = "en-GB"

[communities.t1d.discord]
guild_id = {guild}
channel_ids = [{general}]
moderator_channel_id = {mods}
moderator_role_id = {moderator_role}
"""


def make_load(fake: FakeDiscord, args: argparse.Namespace) -> list[Message]:
    chatters = [fake.add_user(f"member{i}") for i in range(CHAT_AUTHORS)]
    in_crisis = [fake.add_user(f"crisis{i}") for i in range(round(args.messages * args.crisis_share))]
    return make_messages(args.messages, args.crisis_share, chatters, in_crisis, DISCORD_CRISIS,
                         lambda rng: fake.general_id, args.seed)


class TimedFake(FakeDiscord):
    """Notes when the first message Haven sends to each channel arrives."""

    def __init__(self) -> None:
        super().__init__(heartbeat_interval_ms=60_000)
        self.first_arrival: dict[int, float] = {}

    def _store_sent(self, channel_id: int, body: dict, author_id: int | None = None, **extra: Any) -> dict:
        self.first_arrival.setdefault(channel_id, time.perf_counter())
        return super()._store_sent(channel_id, body, author_id, **extra)

    async def push(self, m: Message) -> int:
        return await self.push_message(m.where, m.author, m.text)

    def dm_arrival(self, author: int) -> float | None:
        return self.first_arrival.get(self._dm_channel(author))


class Baseline(HavenClient):
    """discord.py alone: reads each message and answers a crisis with a direct message."""

    def __init__(self, fake: FakeDiscord, done: Callable[[Hashable], None]) -> None:
        intents = discord.Intents(guilds=True, members=True, guild_messages=True, message_content=True)
        super().__init__(intents=intents, api_base_url=fake.api_base_url, gateway_url=fake.gateway_url,
                         chunk_guilds_at_startup=False, guild_ready_timeout=0.05)
        self.ready = asyncio.Event()
        self._done = done
        self._crisis_texts = set(DISCORD_CRISIS)

    async def on_ready(self) -> None:
        self.ready.set()

    async def on_message(self, message: discord.Message) -> None:
        if message.content in self._crisis_texts:
            await message.author.send("You can talk to someone right now: Samaritans, call 116 123.")
        self._done(message.id)


async def run_baseline(args: argparse.Namespace) -> dict[str, float]:
    result = Result("discord.py alone")
    run = Run(result, args.in_flight)
    async with TimedFake() as fake:
        messages = make_load(fake, args)
        client = Baseline(fake, run.done)
        task = asyncio.create_task(client.start("benchmark-token"))
        try:
            async with asyncio.timeout(10):
                await client.ready.wait()
            await run.bounded(run.push_all(messages, fake.push), args.deadline)
        finally:
            await client.close()
            await asyncio.gather(task, return_exceptions=True)
    return report(result, fake.dm_arrival, "DM")


async def run_haven(args: argparse.Namespace, pipeline: Pipeline) -> dict[str, float]:
    result = Result(f"Haven (App + DiscordAdapter, {args.database})")
    run = Run(result, args.in_flight)
    async with TimedFake() as fake, database(args.database) as url:
        messages = make_load(fake, args)
        text = CONFIG.format(api=fake.api_base_url, gateway=fake.gateway_url, guild=fake.guild_id,
                             general=fake.general_id, mods=fake.mods_id, moderator_role=fake.moderator_role_id)
        config = parse_config(text, env={"HAVEN_DISCORD_TOKEN": "benchmark-token", "HAVEN_DATABASE_URL": url})
        adapter = DiscordAdapter(config, guild_ready_timeout=0.05)
        async with TimedApp(config, [adapter], pipeline=pipeline, run_scheduler=False, done=run.done,
                            key=lambda e: int(e.message_id)):
            with profiled(args.profile):
                await run.bounded(run.push_all(messages, fake.push), args.deadline)
    return report(result, fake.dm_arrival, "DM")


async def main() -> int:
    args = arguments(__doc__)
    logging.basicConfig(level=logging.ERROR)
    pipeline = Pipeline.load()
    print(f"{args.messages:,} messages, {args.crisis_share:.0%} crises, at most {args.in_flight} in flight\n")
    base = await run_baseline(args)
    haven = await run_haven(args, pipeline)
    compare(base, haven, args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
