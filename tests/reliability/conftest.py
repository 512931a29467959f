"""The fake Telegram server and Haven on it, in process (shared with the adapter scenario tests) and as
real `python -m bot run` subprocesses."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from contextlib import contextmanager

from tests.adapters.telegram.conftest import haven, telegram_settings, tg  # noqa: F401 - fixtures
from tests.conftest import EXAMPLE_CONFIG, ROOT


def process_config(tg, **settings: object) -> str:
    """The example config on the fake Bot API, polling fast and never rate-limited by Haven itself."""
    return telegram_settings(base_url=tg.base_url, base_file_url=tg.base_file_url, poll_timeout=1,
                             overall_max_rate=100_000, group_max_rate=100_000, **settings)


def sqlite_console(tmp_path) -> tuple[list[str], dict[str, str]]:
    """The command and environment of `python -m bot console` on a SQLite file in `tmp_path`."""
    config = tmp_path / "haven.toml"
    config.write_text(EXAMPLE_CONFIG.replace('url = "sqlite+aiosqlite:///haven.sqlite3"',
                                             f'url = "sqlite+aiosqlite:///{tmp_path / "haven.sqlite3"}"'))
    assert str(tmp_path) in config.read_text()  # never the repository's own haven.sqlite3
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("HAVEN_DATABASE_URL", None)
    return [sys.executable, "-m", "bot", "console", "--config", str(config), "--as", "alice"], env


@contextmanager
def haven_process(tmp_path, tg, db_url: str, name: str, config: str | None = None):
    """`python -m bot run` against the fake; killed (never left running) when the block ends.

    Its log is `tmp_path/<name>.log`.
    """
    path = tmp_path / f"{name}.toml"
    path.write_text(config if config is not None else process_config(tg))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HAVEN_TELEGRAM_TOKEN": tg.token, "HAVEN_DATABASE_URL": db_url}
    with open(tmp_path / f"{name}.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "run", "--config", str(path)],
                                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)


async def wait_until(condition, timeout: float, what: str, interval: float = 0.05):
    """Awaits `condition()` (a coroutine function) until it returns something true; its value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await condition()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        await asyncio.sleep(interval)
