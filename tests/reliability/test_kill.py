"""`kill -9` of a real `python -m bot run` process while messages flow, then a restart.

The fake Bot API lives in this test process; Haven runs as a subprocess pointed at it by its config
(`base_url`) and at a fresh PostgreSQL database. HAVEN_RELIABILITY_MESSAGES sets how many messages
flow (500 by default for CI time; docs/deployment.md records a 5,000 run).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.adapters.telegram.conftest import CRISIS, GROUP, MODS
from tests.reliability.conftest import haven_process

N = int(os.environ.get("HAVEN_RELIABILITY_MESSAGES", "500"))
CRISES = 10  # members each in crisis once: one card and one alert each
PII = "text me on 07700 900123 anytime"  # taken down: one deleteMessage per such post


async def handled_count(engine) -> int:
    async with engine.connect() as c:
        return (await c.execute(text("SELECT count(*) FROM processed_updates WHERE lease_until IS NULL"))).scalar()


async def wait_db(engine, proc, predicate, timeout: float) -> int:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            count = await handled_count(engine)
        except Exception:  # noqa: BLE001 - the schema appears when the process has migrated
            count = -1
        if predicate(count):
            return count
        assert proc.poll() is None, f"Haven exited with {proc.returncode}; see its log in the test's tmp_path"
        if loop.time() > deadline:
            raise AssertionError(f"only {count} updates handled after {timeout}s")
        await asyncio.sleep(0.2)


@pytest.mark.postgres
async def test_kill_9_mid_stream_then_restart_screens_each_message_once(tmp_path, tg, pg_url):
    crisis_members = list(range(900_000, 900_000 + CRISES))
    members = list(range(800_000, 800_000 + N // 3 + 1))  # three posts each at most: no flood rule fires
    for person in crisis_members + members:
        tg.add_user(person, f"M{person}")
    for person in crisis_members:
        tg.start_private_chat(person)
    posts: list[tuple[int, str]] = []
    for i in range(N - CRISES):
        posts.append((members[i // 3], PII if i % 10 == 0 else f"day {i // 7}: kept my levels steady"))
    for k, person in enumerate(crisis_members):  # spread over the stream, half of them before the kill
        posts.insert((k * len(posts)) // CRISES, (person, CRISIS))
    assert len(posts) == N
    half = N // 2

    engine = create_async_engine(pg_url)
    try:
        with haven_process(tmp_path, tg, pg_url, "first") as first:
            for who, what in posts[:half]:
                tg.push_message(GROUP, who, what)
            # Kill it mid-stream: some of the first half handled, the rest fetched or waiting.
            killed_at = await wait_db(engine, first, lambda c: c >= half // 4, timeout=60)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
        for who, what in posts[half:]:
            tg.push_message(GROUP, who, what)
        with haven_process(tmp_path, tg, pg_url, "second") as second:
            await wait_db(engine, second, lambda c: c >= N, timeout=120)
            await tg.wait_for(lambda: not tg.pending_updates, timeout=30)
            await tg.wait_for(lambda: len(tg.sent_messages(MODS)) >= CRISES, timeout=30)
        async with engine.connect() as c:
            claims = (await c.execute(text(
                "SELECT count(*), count(DISTINCT update_id), count(lease_until) FROM processed_updates"))).one()
            outbox = (await c.execute(text("SELECT status, count(*) FROM outbox GROUP BY status"))).all()
    finally:
        await engine.dispose()

    print(f"kill -9 with {killed_at} of {N} handled; after restart {claims[0]} claims, outbox {dict(outbox)}")
    assert 0 < killed_at < N
    assert tuple(claims) == (N, N, 0)  # every update claimed once and handled, none left mid-way
    assert dict(outbox) == {"sent": 2 * CRISES}  # one card and one alert per crisis, all delivered
    cards = Counter(m["chat_id"] for m in tg.sent_messages() if m["chat_id"] in crisis_members
                    and "116 123" in m["text"])
    assert cards == Counter({person: 1 for person in crisis_members})  # every card exactly once
    assert len(tg.sent_messages(MODS)) == CRISES  # every alert exactly once
    removed = Counter(tg.deleted)
    pii_posts = sum(what == PII for _, what in posts)
    assert len(removed) == pii_posts and set(removed.values()) == {1}  # each screened once, removed once
