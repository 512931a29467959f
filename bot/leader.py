"""Exactly one holder of a role per database: the scheduler leader, the Telegram poller.

On PostgreSQL the holder holds a session-level advisory lock (`pg_try_advisory_lock`) on a dedicated
connection, one lock key per role. Followers try again every second, so one takes over within a
couple of seconds of the holder's death (PostgreSQL drops the lock with the connection). A holder that
cannot reach its connection gives the role up at once. SQLite runs one process, which always holds it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# One key per role, chosen so that nothing else using advisory locks in the database collides.
SCHEDULER_KEY = 0x48617665  # "Have"
TELEGRAM_POLLER_KEY = 0x48615450  # "HaTP"


class Leadership:
    def __init__(self, url: str, on_change: Callable[[bool], None], *, key: int = SCHEDULER_KEY,
                 role: str = "scheduler leader", check_every: float = 1.0) -> None:
        self.url = url
        self.key = key
        self.role = role
        self.on_change = on_change
        self.check_every = check_every
        self.is_leader = False
        self._task: asyncio.Task | None = None
        self._engine = None
        self._conn: AsyncConnection | None = None

    async def start(self) -> None:
        if not self.url.startswith("postgresql"):
            self._set(True)
            return
        self._engine = create_async_engine(self.url, poolclass=NullPool)
        await self._check()
        self._task = asyncio.create_task(self._loop(), name=f"haven-{self.role}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self._drop_connection()
        if self._engine is not None:
            await self._engine.dispose()
        self._set(False)

    def _set(self, leader: bool) -> None:
        if leader != self.is_leader:
            self.is_leader = leader
            log.info("this process %s the %s", "is now" if leader else "is no longer", self.role)
            self.on_change(leader)

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()  # closing the session releases the advisory lock
            except Exception:  # noqa: BLE001 - the connection is already gone
                pass

    async def _check(self) -> None:
        try:
            if self._conn is None:
                self._conn = await self._engine.connect()
            if self.is_leader:
                await self._conn.execute(text("SELECT 1"))
            else:
                got = (await self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})).scalar()
                if got:
                    self._set(True)
            await self._conn.commit()
        except Exception as e:  # noqa: BLE001 - any failure of the connection ends leadership
            log.warning("the %s's lock connection failed: %s", self.role, e.__class__.__name__)
            self._set(False)
            await self._drop_connection()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.check_every)
            await self._check()
