"""`kill -9` of the scheduler leader among two real `python -m bot run` processes on one PostgreSQL.

Both start together on a fresh database (so they also race to migrate it). Each serves /metrics on a
port of its own; `haven_scheduler_leader` says which one leads. The follower must lead within 5 s of
the kill, and reminders that fell due around the kill run exactly once.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.adapters.telegram.conftest import ALICE, GROUP, free_port
from tests.reliability.conftest import haven_process, process_config, wait_until

TAKE_OVER_SECONDS = 5


def observed_config(tg, port: int) -> str:
    config = process_config(tg)
    for old, new in (("enabled = false              # serve /metrics", "enabled = true # serve /metrics"),
                     ("port = 9464", f"port = {port}")):
        assert old in config
        config = config.replace(old, new)
    return config


async def leads(http: aiohttp.ClientSession, port: int) -> bool | None:
    """The process's `haven_scheduler_leader` gauge; None while it does not answer."""
    try:
        async with http.get(f"http://127.0.0.1:{port}/metrics") as r:
            body = await r.text()
    except aiohttp.ClientError:
        return None
    line = next(line for line in body.splitlines() if line.startswith("haven_scheduler_leader "))
    return float(line.split()[1]) == 1


def reminders(tg) -> list[str]:
    return [m["text"] for m in tg.sent_messages(ALICE) if m["text"].startswith("⏰ Reminder:")]


@pytest.mark.postgres
async def test_kill_9_of_the_scheduler_leader_the_follower_leads_within_5_s_and_runs_each_reminder_once(
        tmp_path, tg, pg_url):
    tg.start_private_chat(ALICE)
    ports = {"first": free_port(), "second": free_port()}
    engine = create_async_engine(pg_url)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            with haven_process(tmp_path, tg, pg_url, "first", observed_config(tg, ports["first"])) as first, \
                    haven_process(tmp_path, tg, pg_url, "second", observed_config(tg, ports["second"])) as second:
                states = await wait_until(
                    lambda: both_answer(http, ports), timeout=60, what="both processes serving /metrics")
                assert sorted(states.values()) == [False, True]  # exactly one leader
                leader, follower = ((first, second) if states["first"] else (second, first))
                follower_port = ports["second"] if states["first"] else ports["first"]

                tg.push_message(GROUP, ALICE, "/rules")  # Alice becomes a member with a row to remind
                member_id = await wait_until(lambda: member_of(engine, ALICE), timeout=30, what="Alice stored")
                now = datetime.now(UTC)
                # One reminder due already (the leader learns of rows written behind its back only on its
                # 30 s safety net, so the new leader's catch-up runs it) and one due after the kill.
                await add_reminder(engine, member_id, "due before the kill", now - timedelta(seconds=1))
                await add_reminder(engine, member_id, "due after the kill", now + timedelta(seconds=4))

                loop = asyncio.get_running_loop()
                leader.send_signal(signal.SIGKILL)
                killed_at = loop.time()
                leader.wait(timeout=10)
                await wait_until(lambda: leads(http, follower_port), timeout=10, what="the follower leading")
                took_over = loop.time() - killed_at
                await tg.wait_for(lambda: len(reminders(tg)) >= 2, timeout=20)
                await asyncio.sleep(1.5)  # room for a second run of either, were there one
                assert follower.poll() is None
        async with engine.connect() as c:
            runs = (await c.execute(text("SELECT text, active, last_run_at IS NOT NULL FROM scheduled_items "
                                         "WHERE kind = 'reminder' ORDER BY id"))).all()
            outbox = (await c.execute(text("SELECT status, count(*) FROM outbox GROUP BY status"))).all()
    finally:
        await engine.dispose()

    print(f"the follower led {took_over:.2f} s after the kill; reminders sent {reminders(tg)}")
    assert took_over < TAKE_OVER_SECONDS
    assert sorted(reminders(tg)) == ["⏰ Reminder: due after the kill", "⏰ Reminder: due before the kill"]
    assert [tuple(r) for r in runs] == [("due before the kill", False, True), ("due after the kill", False, True)]
    assert dict(outbox) == {"sent": 2}


async def both_answer(http, ports: dict[str, int]) -> dict[str, bool] | None:
    states = {name: await leads(http, port) for name, port in ports.items()}
    return states if None not in states.values() and any(states.values()) else None


async def member_of(engine, user_id: int) -> int | None:
    async with engine.connect() as c:
        return (await c.execute(text("SELECT id FROM members WHERE platform = 'telegram' AND platform_user_id = :u"),
                                {"u": str(user_id)})).scalar()


async def add_reminder(engine, member_id: int, what: str, run_at: datetime) -> None:
    async with engine.begin() as c:
        await c.execute(text(
            "INSERT INTO scheduled_items (kind, member_id, platform, text, run_at, timezone, created_at, active) "
            "VALUES ('reminder', :m, 'telegram', :t, :at, 'UTC', :at, true)"), {"m": member_id, "t": what, "at": run_at})
