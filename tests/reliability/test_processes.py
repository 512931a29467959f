"""Several Haven processes on one database: one Telegram poller, and SQLite refusing a second process."""

from __future__ import annotations

import asyncio
import select
import subprocess
from contextlib import AsyncExitStack

import pytest

from tests.adapters.telegram.conftest import GROUP, MODERATOR
from tests.conftest import ROOT
from tests.reliability.conftest import sqlite_console

RULES = "Rules of"


def rules_answers(tg) -> int:
    return sum(m["text"].startswith(RULES) for m in tg.sent_messages(GROUP))


@pytest.mark.postgres
async def test_one_process_polls_telegram_and_another_takes_over(tg, haven, pg_url):
    async with AsyncExitStack() as stack:
        apps = [await stack.enter_async_context(haven(pg_url)) for _ in range(2)]
        polling = [a.adapters[0] for a in apps if a.adapters[0]._poller.is_leader]
        assert len(polling) == 1  # the other waits: Telegram allows one getUpdates at a time
        tg.push_message(GROUP, MODERATOR, "/rules")
        await tg.wait_for(lambda: rules_answers(tg) == 1)

        leader = next(a for a in apps if a.adapters[0] is polling[0])
        follower = next(a for a in apps if a is not leader)
        await leader.adapters[0].stop()  # the poller goes away; its advisory lock with it
        await tg.wait_for(lambda: follower.adapters[0]._poller.is_leader, timeout=10)
        tg.push_message(GROUP, MODERATOR, "/rules")
        await tg.wait_for(lambda: rules_answers(tg) == 2, timeout=10)
    assert rules_answers(tg) == 2  # each update answered once
    assert tg.pending_updates == []


def test_a_second_process_on_one_sqlite_file_exits_with_a_clear_message(tmp_path):
    console, env = sqlite_console(tmp_path)
    first = subprocess.Popen(console, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env, cwd=ROOT, text=True)
    try:
        first.stdin.write("/rules\n")
        first.stdin.flush()
        assert select.select([first.stdout], [], [], 60)[0], "the first console never answered"
        assert "Rules of" in first.stdout.readline()  # the first one is up and holds the file
        second = subprocess.run(console, input="/rules\n", capture_output=True, env=env, cwd=ROOT, text=True,
                                timeout=60)
        assert second.returncode == 1
        assert "another Haven process is already using" in second.stderr
        assert "use PostgreSQL to run several" in second.stderr
        assert second.stdout == ""  # it answered nothing
    finally:
        first.stdin.close()
        try:
            first.wait(timeout=30)
        except subprocess.TimeoutExpired:
            first.kill()
            first.wait()
    assert first.returncode == 0
