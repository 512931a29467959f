"""Fixtures for running the real App with the TelegramAdapter against the fake Bot API; the scenario
tests here and the security tests use them."""

from __future__ import annotations

import json
import socket
from contextlib import asynccontextmanager

import pytest

from adapters.telegram.adapter import TelegramAdapter
from bot.app import App
from tests.conftest import EXAMPLE_CONFIG, make_config
from tests.fakes.telegram_server import FakeTelegramServer

GROUP = -1001000000001  # t1d's group
MODS = -1001000000101  # t1d's moderator chat
FALLBACK = -1001000000901
MODERATOR = 100000001  # "telegram:100000001" in t1d's moderators
ALICE = 501
BOB = 502
CRISIS = "I want to end my life"
DEEP_LINK = "https://t.me/haven_test_bot?start=help"
SECRET = "webhook-secret-123"


def telegram_settings(**settings: object) -> str:
    """The example config with [adapters.telegram] keys replaced (TOML refuses a key given twice)."""
    head, header, rest = EXAMPLE_CONFIG.partition("[adapters.telegram]\n")
    section, _, tail = rest.partition("\n[")
    kept = [line for line in section.splitlines() if line.partition("=")[0].strip(" #") not in settings]
    given = [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    return head + header + "\n".join(given + kept) + "\n[" + tail


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def tg():
    async with FakeTelegramServer() as server:
        for chat, title in ((GROUP, "Type 1 Diabetes"), (MODS, "T1D moderators"), (FALLBACK, "T1D on call")):
            server.add_chat(chat, title=title)
            server.set_admin(chat, server.bot_user["id"])  # delete and restrict need it
        server.add_user(ALICE, "Alice", username="alice")
        server.add_user(BOB, "Bob", username="bob")
        server.add_user(MODERATOR, "Mira", username="mira")
        yield server


@pytest.fixture
def haven(tg, pipeline):
    """`async with haven(db_url, **telegram_settings) as app`: Haven on the fake, stopped on exit."""

    @asynccontextmanager
    async def run(db_url: str, secret: str | None = None, clock=None, max_retries: int = 3, **settings: object):
        env = {"HAVEN_TELEGRAM_TOKEN": tg.token}
        if secret is not None:
            env["HAVEN_TELEGRAM_WEBHOOK_SECRET"] = secret
        text = telegram_settings(base_url=tg.base_url, base_file_url=tg.base_file_url, poll_timeout=5, **settings)
        config = make_config(db_url, text_=text, env=env)
        kwargs = {"clock": clock} if clock is not None else {}
        async with App(config, [TelegramAdapter(config, max_retries=max_retries)], pipeline=pipeline, run_scheduler=False, **kwargs) as app:
            yield app

    return run
