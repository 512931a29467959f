"""Discord shards split across two Havens on one PostgreSQL (`shard_count = 2`, `shard_ids` [0] and [1]).

The fake gateway routes as Discord does: a guild's events go to shard `(guild_id >> 22) % shard_count`,
direct messages to shard 0. The fake's guild id comes from the clock, so either shard may own it.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

import pytest

from adapters.discord.adapter import DiscordAdapter
from bot.app import App
from tests.adapters.discord.conftest import example_config_on
from tests.fakes.discord_server import FakeDiscord
from tests.reliability.conftest import wait_until

POSTS = 20
DMS = 5


def handled(app: App) -> int:
    """Events this process handled: the sample count of its handling-time histogram."""
    return int(sum(sample.value for metric in app.services.metrics.handling_seconds.collect()
                   for sample in metric.samples if sample.name.endswith("_count")))


def all_handled(apps: list[App]):
    async def done() -> bool:
        return sum(map(handled, apps)) >= POSTS + DMS + 1

    return done


@pytest.mark.postgres
async def test_two_processes_each_identify_with_their_shard_and_handle_only_its_messages(pg_url, pipeline):
    async with FakeDiscord() as fake, AsyncExitStack() as stack:
        apps = []
        for shard in (0, 1):
            config = example_config_on(fake, pg_url, shard_count=2, shard_ids=[shard])
            apps.append(await stack.enter_async_context(App(
                config, [DiscordAdapter(config, guild_ready_timeout=0.05)], pipeline=pipeline, run_scheduler=False)))
        await fake.wait_for(lambda: len(fake.identifies) == 2, timeout=10)  # a shard without guilds is ready later
        assert sorted(i["shard"] for i in fake.identifies) == [[0, 2], [1, 2]]
        owner = (fake.guild_id >> 22) % 2

        members = [fake.add_user(f"member{i}") for i in range(POSTS)]
        for person in members:
            await fake.push_message(fake.general_id, person, "Good day today, numbers steady")
        for person in members[:DMS]:
            await fake.push_dm(person, "is anyone around tonight?")
        # Someone who wrote no private message: the Discord adapter keeps no order across channels, so a DM
        # from the same person could be handled after the crisis and rightly relayed to the moderators too.
        in_crisis = members[-1]
        await fake.push_message(fake.general_id, in_crisis, "I want to end my life")
        await fake.wait_for(lambda: fake.sent_messages(fake.mods_id), timeout=10)
        await wait_until(all_handled(apps), timeout=10, what="every event handled")
        counts = [handled(app) for app in apps]

    print(f"guild on shard {owner}; handled per process (shard 0, shard 1): {counts}")
    expected = [0, 0]
    expected[owner] += POSTS + 1  # the guild's posts, the crisis among them, on its shard's process only
    expected[0] += DMS  # direct messages arrive on shard 0
    assert counts == expected
    alerts = fake.sent_messages(fake.mods_id)
    assert len(alerts) == 1  # one alert for the crisis: handled once
    assert f"member{POSTS - 1}" in alerts[0]["content"]
