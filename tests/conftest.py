"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured), a clock tests move."""

from __future__ import annotations

import io
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import Config, parse_config

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = (ROOT / "config.example.toml").read_text(encoding="utf-8")
PG_URL = os.environ.get("HAVEN_TEST_DATABASE_URL")


@dataclass
class FakeClock:
    now: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> datetime:
        self.now += timedelta(**kw)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def pipeline():
    from moderation.pipeline import Pipeline

    return Pipeline.load()


async def _fresh_pg_database() -> tuple[str, str]:
    """A database of its own for one test, so tests never see each other's rows."""
    name = f"haven_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as c:
        await c.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    base, _, _ = PG_URL.rpartition("/")
    return f"{base}/{name}", name


async def _drop_pg_database(name: str) -> None:
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as c:
        await c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def db_url(request, tmp_path):
    """Every storage-backed test runs on SQLite, and on PostgreSQL when HAVEN_TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'haven.sqlite3'}"
        return
    if not PG_URL:
        pytest.skip("HAVEN_TEST_DATABASE_URL is not set")
    url, name = await _fresh_pg_database()
    yield url
    await _drop_pg_database(name)


@pytest.fixture
async def pg_url():
    """A fresh PostgreSQL database, for what only PostgreSQL can show (locks across processes)."""
    if not PG_URL:
        pytest.skip("HAVEN_TEST_DATABASE_URL is not set")
    url, name = await _fresh_pg_database()
    yield url
    await _drop_pg_database(name)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'haven.sqlite3'}"


def make_config(db_url: str, extra: str = "", text_: str = EXAMPLE_CONFIG, env: dict | None = None) -> Config:
    return parse_config(text_ + "\n" + extra, env={"HAVEN_DATABASE_URL": db_url, **(env or {})})


class ConsoleSession:
    """Drives the real console adapter and App, the way a person at a terminal would."""

    def __init__(self, db_url: str, clock: FakeClock, pipeline, config: Config | None = None) -> None:
        self.config = config or make_config(db_url)
        self.clock = clock
        self.pipeline = pipeline

    async def run(self, lines: list[str] | bytes, *, speaker: str = "alice", community: str = "t1d",
                  locale: str | None = None, after=None) -> list[str]:
        from adapters.console import ConsoleAdapter
        from bot.app import App

        raw = lines if isinstance(lines, bytes) else "".join(f"{line}\n" for line in lines).encode("utf-8")
        out = io.StringIO()
        console = ConsoleAdapter(speaker=speaker, community=community, stdin=io.BytesIO(raw), stdout=out)
        async with App(self.config, [console], clock=self.clock, pipeline=self.pipeline,
                       run_scheduler=False) as app:
            if locale:
                language, _, country = locale.partition("-")
                me = await app.store.member("console", speaker, speaker, self.clock())
                await app.store.set_locale(me.id, language=language, country=country or None)
            await console.run()
            if after is not None:
                await after(app)
        return out.getvalue().splitlines()


@pytest.fixture
def console(db_url, clock, pipeline) -> ConsoleSession:
    return ConsoleSession(db_url, clock, pipeline)
