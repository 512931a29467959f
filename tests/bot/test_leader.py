"""Scheduler leadership on a real PostgreSQL: one leader, a fast take-over, no leader without a connection."""

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.leader import Leadership

async def wait_until(condition, timeout=10.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)
    return loop.time()


@pytest.mark.postgres
async def test_one_leader_and_a_follower_takes_over_within_five_seconds(pg_url):
    changes = []
    a = Leadership(pg_url, lambda v: changes.append(("a", v)), check_every=0.2)
    b = Leadership(pg_url, lambda v: changes.append(("b", v)), check_every=0.2)
    await a.start()
    await b.start()
    try:
        assert a.is_leader and not b.is_leader
        loop = asyncio.get_running_loop()
        stopped = loop.time()
        await a.stop()
        took_over = await wait_until(lambda: b.is_leader)
        assert took_over - stopped < 5
        assert changes == [("a", True), ("a", False), ("b", True)]
    finally:
        await b.stop()


@pytest.mark.postgres
async def test_a_leader_that_loses_its_connection_stops_leading(pg_url):
    a = Leadership(pg_url, lambda v: None, check_every=0.2)
    await a.start()
    try:
        assert a.is_leader
        admin = create_async_engine(pg_url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as c:
            await c.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = :k"),
                {"k": 0x48617665})
        await admin.dispose()
        await wait_until(lambda: not a.is_leader)
        await wait_until(lambda: a.is_leader)  # and it leads again once it has a connection and the lock
    finally:
        await a.stop()


async def test_sqlite_always_leads(sqlite_url):
    seen = []
    one = Leadership(sqlite_url, seen.append)
    await one.start()
    assert one.is_leader and seen == [True]
    await one.stop()
    assert seen == [True, False]
