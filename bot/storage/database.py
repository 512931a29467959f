"""Opening the database: engine, SQLite pragmas, Alembic migrations."""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_KEY = 0x4861444D  # "HaDM": the advisory lock held while migrating (bot/leader.py has the others)


class StorageError(Exception):
    """The database cannot be opened or written; worded for an operator."""


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers go on while Haven writes; the busy timeout rides out a short lock instead of
    # failing the message.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        # One connection: SQLite takes one writer at a time, and connections competing for its lock
        # spend their time in the busy handler's sleeps. Queued on one connection they never wait.
        engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=60)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for an in-memory database."""
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    return Path(database) if database and database != ":memory:" else None


class Database:
    """Owns the engine and session factory; `async with Database(url) as db` migrates on entry."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self._migrate = migrate
        self.engine: AsyncEngine | None = None
        self.sessions: async_sessionmaker | None = None
        self._lock_fd: int | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def _lock_sqlite(self) -> None:
        """SQLite is for one process: a second Haven on the same file would answer every message twice."""
        path = sqlite_path(self.url)
        if path is None:
            return
        lock = path.with_name(path.name + ".lock")
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            raise StorageError(f"cannot prepare the database at {path}: {e}") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StorageError(
                f"another Haven process is already using {path}. On SQLite Haven runs as one process; "
                "stop the other one, or use PostgreSQL to run several (docs/deployment.md)."
            ) from None
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing releases the flock
            self._lock_fd = None

    async def __aenter__(self) -> Database:
        if self.is_sqlite:
            self._lock_sqlite()
        self.engine = make_engine(self.url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        if self._migrate:
            try:
                await self.upgrade()
            except Exception as e:
                await self.engine.dispose()
                self._unlock()
                raise StorageError(f"cannot prepare the database at {_safe(self.url)}: {storage_reason(e)}") from e
        return self

    async def __aexit__(self, *exc) -> None:
        if self.engine is not None:
            await self.engine.dispose()
        self._unlock()

    async def upgrade(self, revision: str = "head") -> None:
        async with self.engine.begin() as conn:
            if not self.is_sqlite:
                # Processes of a fleet started together would race to create the same tables; the first
                # migrates while the others wait for its commit here, then find nothing left to do.
                await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_KEY})
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), revision))
        log.info("database is at migration %s", revision)


def _safe(url: str) -> str:
    """The URL without a password, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable URL)"


# What asyncpg raises unwrapped while opening a connection to a server that is starting or stopping.
_SERVER_UNAVAILABLE = (asyncpg.exceptions.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError)


def storage_reason(e: Exception) -> str:
    """The driver's own words on one line (e.g. "database is locked"), without SQLAlchemy's SQL dump."""
    cause = getattr(e, "orig", None) or e
    return " ".join(str(cause).split())[:200] or type(cause).__name__


def is_storage_failure(e: BaseException) -> bool:
    """The database could not be reached or written (locked, full, restarting), as opposed to a bug.

    SQLAlchemy wraps the driver's error, which may wrap asyncpg's own: the whole chain is looked at.
    """
    seen: set[int] = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, (OperationalError, InterfaceError, OSError, ConnectionError, *_SERVER_UNAVAILABLE)):
            return True
        if isinstance(e, DBAPIError) and e.connection_invalidated:
            return True
        e = getattr(e, "orig", None) or e.__cause__ or e.__context__
    return False
