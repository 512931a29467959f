"""Fixtures shared by the Discord adapter tests, and by the security tests that run Haven on Discord."""

import json

import pytest

from adapters.discord.adapter import DiscordAdapter
from bot.app import App
from tests.conftest import EXAMPLE_CONFIG, make_config
from tests.fakes.discord_server import FakeDiscord


@pytest.fixture
async def fake():
    async with FakeDiscord() as server:
        yield server


def example_config_on(fake: FakeDiscord, db_url: str, **settings: object):
    """The shipped example config, with its t1d community bound to the fake's guild and `settings`
    added to [adapters.discord]."""
    ids = {
        "300000000000000001": fake.guild_id,
        "300000000000000011": fake.general_id,
        "300000000000000021": fake.mods_id,
        "300000000000000031": fake.moderator_role_id,
        "300000000000000041": fake.member_role_id,
        "300000000000000051": fake.verified_role_id,
    }
    text = EXAMPLE_CONFIG
    for old, new in ids.items():
        text = text.replace(old, str(new))
    text = text.replace(
        "[adapters.discord]\n",
        f'[adapters.discord]\napi_base_url = "{fake.api_base_url}"\ngateway_url = "{fake.gateway_url}"\n'
        + "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items()),
    )
    return make_config(db_url, text_=text, env={"HAVEN_DISCORD_TOKEN": "test-token"})


@pytest.fixture
async def app(fake, db_url, pipeline):
    config = example_config_on(fake, db_url)
    async with App(config, [DiscordAdapter(config, guild_ready_timeout=0.05)], pipeline=pipeline,
                   run_scheduler=False) as haven:
        yield haven
