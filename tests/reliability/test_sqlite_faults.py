"""SQLite held by another writer.

At start-up `python -m bot` exits 1 with one storage-error line: no traceback and no half-created
schema; under systemd `RestartSec=5` with `StartLimitBurst=5` in `StartLimitIntervalSec=300`
(docs/deployment.md) then stops retrying instead of looping. While running, a message that cannot be
stored still gets its crisis card at once, the operator sees one clear line, nothing half-written is
left, and the update is handled properly when it comes again, without a second card.
"""

from __future__ import annotations

import sqlite3
import subprocess
import time

from tests.conftest import ROOT
from tests.reliability.conftest import sqlite_console

BUSY_TIMEOUT_SECONDS = 5  # PRAGMA busy_timeout in bot/storage/database.py


def test_a_database_locked_by_another_writer_at_start_exits_1_with_one_line(tmp_path):
    console, env = sqlite_console(tmp_path)
    other = sqlite3.connect(tmp_path / "haven.sqlite3", isolation_level=None)  # another program writing to the file
    try:
        other.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        run = subprocess.run(console, input="/rules\n", capture_output=True, env=env, cwd=ROOT, text=True,
                             timeout=60)
        took = time.monotonic() - started
    finally:
        other.rollback()
        other.close()
    print(f"exit {run.returncode} after {took:.1f} s: {run.stderr.strip()}")
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("storage error: cannot prepare the database at ")
    assert run.stderr.strip().endswith("database is locked")
    assert "Traceback" not in run.stderr and run.stdout == ""
    assert BUSY_TIMEOUT_SECONDS <= took < BUSY_TIMEOUT_SECONDS + 20  # it waited out the lock once, then gave up
    tables = sqlite3.connect(tmp_path / "haven.sqlite3").execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    assert tables == 0  # nothing half-written


async def test_a_database_locked_while_running_still_sends_the_card_once(sqlite_url, clock, pipeline, caplog):
    import io
    import logging
    from datetime import UTC, datetime

    from adapters.console import ConsoleAdapter
    from bot.app import App
    from bot.events import Actor, MessageCreated
    from tests.conftest import make_config

    out = io.StringIO()
    console = ConsoleAdapter(speaker="alice", community="mind", stdin=io.BytesIO(b""), stdout=out)
    cry = MessageCreated(platform="console", chat_id="mind", actor=Actor("console", "alice", "alice"),
                         at=datetime.now(UTC), update_id="u1", message_id="m1", text="I want to die")
    async with App(make_config(sqlite_url), [console], clock=clock, pipeline=pipeline, run_scheduler=False) as app:
        other = sqlite3.connect(sqlite_url.removeprefix("sqlite+aiosqlite:///"), isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            with caplog.at_level(logging.ERROR):
                settled = await app.handle(cry)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert settled is False, "left unconfirmed, so a redelivering platform brings it back"
        assert out.getvalue().count("I'm really glad you told us") == 1
        (line,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert line.getMessage().startswith("the database is unavailable (database is locked)")
        assert line.exc_info is None, "one line for the operator, not a traceback per message"
        assert await app.store.incident(1) is None, "nothing half-written"

        assert await app.handle(cry) is True  # the platform delivers it again; the database answers now
        incident = await app.store.incident(1)
        assert incident is not None and incident.card_sent_at is not None
    text = out.getvalue()
    assert text.count("I'm really glad you told us") == 1, "the card is not sent a second time"
    assert text.count("[mods #mind] Support needed") == 1


async def test_a_card_that_could_not_be_stored_is_sent_when_the_update_comes_back_after_a_restart(
        sqlite_url, clock, pipeline):
    import io
    from datetime import UTC, datetime

    from adapters.console import ConsoleAdapter
    from bot.app import App
    from bot.events import Actor, MessageCreated
    from tests.conftest import make_config

    path = sqlite_url.removeprefix("sqlite+aiosqlite:///")
    cry = MessageCreated(platform="console", chat_id="mind", actor=Actor("console", "alice", "alice"),
                         at=datetime.now(UTC), update_id="u1", message_id="m1", text="I want to die")
    first = io.StringIO()
    console = ConsoleAdapter(speaker="alice", community="mind", stdin=io.BytesIO(b""), stdout=first)
    async with App(make_config(sqlite_url), [console], clock=clock, pipeline=pipeline, run_scheduler=False) as app:
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("CREATE TRIGGER refuse BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'refused'); END")
        assert await app.handle(cry) is False, "left unconfirmed, so a redelivering platform brings it back"
        db.execute("DROP TRIGGER refuse")
        db.close()
    assert first.getvalue().count("I'm really glad you told us") == 1, "help first, without the record"

    # The process dies (forgetting the card it sent without storage); the update comes back after
    # its claim lapsed. An incident recorded as carded without its card stored would block the card.
    clock.advance(minutes=1)
    again = io.StringIO()
    console = ConsoleAdapter(speaker="alice", community="mind", stdin=io.BytesIO(b""), stdout=again)
    async with App(make_config(sqlite_url), [console], clock=clock, pipeline=pipeline, run_scheduler=False) as app:
        assert await app.handle(cry) is True
        incident = await app.store.incident(1)
        assert incident is not None and incident.card_sent_at is not None
    assert again.getvalue().count("I'm really glad you told us") == 1
    assert again.getvalue().count("[mods #mind] Support needed") == 1
