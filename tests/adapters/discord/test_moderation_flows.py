"""The moderators' toolkit on Discord: the same flows as in the console, as slash commands."""

from __future__ import annotations

from contextlib import asynccontextmanager

from adapters.discord.adapter import DiscordAdapter
from bot.app import App
from tests.adapters.discord.conftest import example_config_on
from tests.adapters.discord.test_scenarios import answer, deleted, screened


@asynccontextmanager
async def haven(fake, db_url, pipeline, clock=None):
    config = example_config_on(fake, db_url)
    kwargs = {"clock": clock} if clock is not None else {}
    async with App(config, [DiscordAdapter(config, guild_ready_timeout=0.05)], pipeline=pipeline,
                   run_scheduler=False, **kwargs) as app:
        yield app


async def slash(fake, user, name, options) -> str:
    return (await answer(fake, await fake.push_slash(user, fake.general_id, name, options)))["data"]["content"]


async def test_warn_and_mute_are_on_record_after_a_restart(fake, db_url, pipeline):
    mira = fake.add_user("mira", roles=(fake.moderator_role_id,))
    bob = fake.add_user("bob")
    async with haven(fake, db_url, pipeline) as app:
        await fake.push_message(fake.general_id, bob, "hi all")
        await screened(app, 1)
        assert (await slash(fake, mira, "warn", {"member": bob, "args": "keep it kind"})).startswith("Case #1")
        assert (await slash(fake, mira, "mute", {"member": bob, "args": "10m insults"})).startswith("Case #2")
    async with haven(fake, db_url, pipeline):
        listing = await slash(fake, mira, "cases", {"member": bob})
    assert "#1 warn bob" in listing and "#2 mute bob, 10 minutes (active)" in listing


async def test_a_filter_added_by_a_moderator_removes_a_scam_post(fake, sqlite_url, pipeline):
    mira = fake.add_user("mira", roles=(fake.moderator_role_id,))
    bob = fake.add_user("bob")
    async with haven(fake, sqlite_url, pipeline) as app:
        added = await slash(fake, mira, "filter", {"args": "add glucoshield*"})
        assert added == "Added the filter 'glucoshield*'; it applies now."
        scam = await fake.push_message(fake.general_id, bob, "DM me for GlucoShieldPro, it cured my diabetes")
        await screened(app, 1)
        await fake.wait_for(lambda: scam in deleted(fake))


async def test_a_timed_mute_is_lifted_after_a_restart(fake, sqlite_url, pipeline, clock):
    mira = fake.add_user("mira", roles=(fake.moderator_role_id,))
    bob = fake.add_user("bob")
    async with haven(fake, sqlite_url, pipeline, clock):
        await slash(fake, mira, "mute", {"member": bob, "args": "10m spamming"})
    clock.advance(minutes=11)
    async with haven(fake, sqlite_url, pipeline, clock) as app:
        await app.run_due()
        await fake.wait_for(lambda: fake.members[bob]["communication_disabled_until"] is None)
