"""Logs never hold what members wrote, their personal details, or Haven's secrets, even at DEBUG."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from adapters.discord.adapter import DiscordAdapter
from bot.app import App
from bot.cli import LIBRARY_LOGGERS, quiet_libraries
from tests.adapters.discord.conftest import example_config_on
from tests.adapters.telegram.conftest import GROUP, MODERATOR, MODS

CRISIS = "I want to end my life tonight"
PHONE = "07911 123456"
EMAIL = "alice.private@example.org"
CHAT = "my basal rates finally settled after the new pump"
MUTE_REASON = "shouting at newcomers"
SECRETS_AND_TEXTS = [CRISIS, PHONE, PHONE.replace(" ", ""), EMAIL, CHAT, MUTE_REASON]


class Everything(logging.Handler):
    """Every record at every level, from every logger, with its arguments and what it formats to."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def leaks(self, needles: list[str]) -> list[tuple[str, str]]:
        found = []
        for r in self.records:
            text = "\n".join([self.format(r), repr(r.args), str(r.msg)])
            found += [(r.name, n) for n in needles if n in text]
        return found


@pytest.fixture
def everything():
    """Logging as `haven run` sets it up with log_level = "DEBUG", captured whole."""
    handler = Everything()
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *LIBRARY_LOGGERS)}
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    quiet_libraries()
    yield handler
    root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


async def test_telegram(tg, haven, sqlite_url, everything):
    tg.start_private_chat(501)
    async with haven(sqlite_url):
        tg.push_message(GROUP, 501, CHAT)
        tg.push_message(GROUP, 501, CRISIS)
        tg.push_message(GROUP, 501, f"text me on {PHONE}")
        tg.push_message(GROUP, 502, f"mail me at {EMAIL}")
        tg.push_message(GROUP, MODERATOR, f"/mute @bob 10m {MUTE_REASON}")
        await tg.wait_for_call("restrictChatMember", lambda p: "_result" in p)
        await tg.wait_for(lambda: tg.sent_messages(MODS))
    assert any(r.name.startswith("adapters.telegram") for r in everything.records), "the handler saw the run"
    assert sorted(set(everything.leaks([*SECRETS_AND_TEXTS, tg.token]))) == []


async def test_discord(fake, sqlite_url, pipeline, everything):
    alice, bob = fake.add_user("alice"), fake.add_user("bob")
    mira = fake.add_user("mira", roles=(fake.moderator_role_id,))
    config = example_config_on(fake, sqlite_url)
    async with App(config, [DiscordAdapter(config, guild_ready_timeout=0.05)], pipeline=pipeline,
                   run_scheduler=False):
        await fake.push_message(fake.general_id, alice, CHAT)
        await fake.push_message(fake.general_id, alice, CRISIS)
        await fake.push_message(fake.general_id, alice, f"text me on {PHONE}")
        await fake.push_message(fake.general_id, bob, f"mail me at {EMAIL}")
        await fake.push_slash(mira, fake.general_id, "mute", {"member": bob, "args": f"10m {MUTE_REASON}"})
        await fake.wait_for(lambda: fake.calls_to("PATCH", f"/guilds/{fake.guild_id}/members/{bob}"))
        await fake.wait_for(lambda: fake.sent_messages(fake.mods_id))
    assert any(r.name.startswith("bot.") for r in everything.records), "the handler saw the run"
    assert sorted(set(everything.leaks([*SECRETS_AND_TEXTS, "test-token"]))) == []


async def test_a_telegram_handler_error_is_logged_without_the_update(everything):
    from telegram import Bot, Update

    from adapters.telegram.adapter import TelegramAdapter
    from tests.conftest import make_config

    config = make_config("sqlite+aiosqlite://", env={"HAVEN_TELEGRAM_TOKEN": "123:abc"})
    update = Update.de_json({"update_id": 77, "message": {
        "message_id": 5, "date": 0, "text": CRISIS, "chat": {"id": GROUP, "type": "supergroup"},
        "from": {"id": 501, "is_bot": False, "first_name": "Alice", "username": "alice_private"}}}, Bot("123:abc"))
    await TelegramAdapter(config)._on_error(update, SimpleNamespace(error=RuntimeError("boom")))
    (record,) = [r for r in everything.records if r.name == "adapters.telegram.adapter"]
    assert record.getMessage() == "Telegram: error while handling update 77 (message)"
    assert everything.leaks([CRISIS, "alice_private", "Alice"]) == []
