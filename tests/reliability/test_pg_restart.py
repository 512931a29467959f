"""PostgreSQL restarted while messages flow: Haven reconnects and loses nothing.

Restarting the server affects everything using it, so the test runs only when HAVEN_TEST_PG_RESTART=1
says this machine's PostgreSQL may be restarted (CI sets it: the suite runs alone there, serially) and
pg_ctlcluster can do it. The server is running again when the test ends, pass or fail.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.adapters.telegram.conftest import CRISIS, GROUP, MODS
from tests.reliability.test_outage import claims_handled

CLUSTER = Path("/etc/postgresql")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(os.environ.get("HAVEN_TEST_PG_RESTART") != "1",
                       reason="set HAVEN_TEST_PG_RESTART=1 where this machine's PostgreSQL may be restarted"),
    pytest.mark.skipif(shutil.which("pg_ctlcluster") is None or not CLUSTER.is_dir(),
                       reason="pg_ctlcluster is not available here"),
]
PEOPLE = [701, 702, 703]  # each in crisis once: one before, one during, one after the restart


def restart_postgresql() -> None:
    version = sorted(p.name for p in CLUSTER.iterdir())[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True,
                   timeout=120, capture_output=True)
    subprocess.run(["pg_isready", "-h", "127.0.0.1", "-t", "60"], check=True, timeout=90, capture_output=True)


async def test_a_postgresql_restart_mid_load_loses_nothing(tg, haven, pg_url):
    for person in PEOPLE:
        tg.add_user(person, f"Member{person}")
        tg.start_private_chat(person)
    chatters = [800 + i for i in range(60)]  # one message each: nobody trips the flood screener
    for chatter in chatters:
        tg.add_user(chatter, f"Chatter{chatter}")
    pushed = 0

    def push(n: int, crisis_from: int) -> None:
        nonlocal pushed
        for i in range(n):
            tg.push_message(GROUP, chatters.pop(), f"how is everyone doing today, part {pushed + i}")
        tg.push_message(GROUP, crisis_from, CRISIS)
        pushed += n + 1

    try:
        async with haven(pg_url) as app:
            push(20, PEOPLE[0])
            await tg.wait_for(lambda: not tg.pending_updates, timeout=15)
            restart = asyncio.get_running_loop().run_in_executor(None, restart_postgresql)
            push(20, PEOPLE[1])  # arrives while the server goes down and comes back
            await restart
            push(20, PEOPLE[2])
            async with asyncio.timeout(90):
                while await claims_handled(pg_url) < pushed or tg.pending_updates:
                    await asyncio.sleep(0.2)
            await app.run_due()  # whatever the outbox kept during the restart goes out now
    finally:
        restart_postgresql()  # never leave the server down for the tests after this one

    assert await claims_handled(pg_url) == pushed == 63, "every message handled exactly once"
    for person in PEOPLE:
        cards = [m for m in tg.sent_messages(person) if "116 123" in m["text"]]
        assert len(cards) == 1, f"{person} got {len(cards)} cards"
    alerts = [m for m in tg.sent_messages(MODS) if "Support needed" in m["text"]]
    assert len(alerts) == len(PEOPLE), "the moderators heard of every crisis, once"
