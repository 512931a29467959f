"""Haven in a terminal, driven line by line with the clock under the test's control, and the
fixtures that run Haven on the fake Telegram and Discord servers."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from adapters.console import ConsoleAdapter
from bot.app import App
from tests.adapters.discord.conftest import fake  # noqa: F401  (Haven on the fake Discord)
from tests.adapters.telegram.conftest import haven, tg  # noqa: F401  (Haven on the fake Bot API)
from tests.conftest import make_config


class Terminal:
    """The real App and console adapter; `say` feeds one line and returns what Haven printed for it."""

    def __init__(self, app: App, console: ConsoleAdapter, out: io.StringIO) -> None:
        self.app = app
        self.console = console
        self.out = out

    async def say(self, line: str, speaker: str = "alice") -> list[str]:
        start = self.out.tell()
        await self.console.feed(f"@{speaker}: {line}\n".encode())
        self.out.seek(start)
        printed = self.out.read().splitlines()
        self.out.seek(0, io.SEEK_END)
        return printed


@pytest.fixture
def terminal(sqlite_url, clock, pipeline):
    """`async with terminal() as t`: one App on SQLite for the whole block."""

    @asynccontextmanager
    async def run(db_url: str = sqlite_url) -> AsyncIterator[Terminal]:
        out = io.StringIO()
        console = ConsoleAdapter(speaker="alice", community="t1d", stdin=io.BytesIO(b""), stdout=out)
        async with App(make_config(db_url), [console], clock=clock, pipeline=pipeline, run_scheduler=False) as app:
            yield Terminal(app, console, out)

    return run
