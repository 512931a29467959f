"""Storage on real databases: SQLite always, PostgreSQL when HAVEN_TEST_DATABASE_URL is set."""

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.storage.database import Database, StorageError
from bot.storage.models import Base
from bot.storage.repositories import Store

NOW = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)


async def test_migrations_build_exactly_the_models(db_url):
    async with Database(db_url) as db:
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    assert diff == []


async def test_upgrade_twice_is_harmless(db_url):
    async with Database(db_url):
        pass
    async with Database(db_url) as db:
        store = Store(db.sessions)
        m = await store.member("console", "alice", "alice", NOW)
        assert m.id >= 1


async def test_members_and_memberships(db_url):
    async with Database(db_url) as db:
        store = Store(db.sessions)
        alice = await store.member("telegram", "42", "alice", NOW)
        again = await store.member("telegram", "42", "alice", NOW)
        assert again == alice
        renamed = await store.member("telegram", "42", "Alice B", NOW)
        assert renamed.id == alice.id and renamed.name == "Alice B"
        assert (await store.find_member("telegram", "@alice b")).id == alice.id
        assert (await store.find_member("telegram", "42")).id == alice.id
        assert await store.find_member("discord", "42") is None
        assert await store.join(alice.id, "t1d", NOW) is True
        assert await store.join(alice.id, "t1d", NOW) is False
        assert await store.memberships(alice.id) == ["t1d"]
        assert await store.member_counts() == {"t1d": 1}
        assert await store.leave(alice.id, "t1d") is True
        assert await store.leave(alice.id, "t1d") is False


async def test_times_come_back_aware_and_in_utc(db_url):
    async with Database(db_url) as db:
        store = Store(db.sessions)
        local = NOW.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
        m = await store.member("console", "bob", "bob", local)
        noted = await store.note_crisis(
            member_id=m.id, community="t1d", now=local, cooldown=timedelta(hours=6), category="crisis.self",
            severity=4, audit_platform="console", audit_target=m.handle,
            new_incident={"platform": "console", "chat_id": "t1d", "next_escalation_at": local + timedelta(minutes=10)},
            outbox=lambda noted: [], lease=timedelta(seconds=60))
        back = await store.incident(noted.incident_id)
        assert noted.new and noted.card_due
        assert back.opened_at == NOW and back.opened_at.tzinfo is not None
        assert [i.id for i in await store.incidents_due(NOW + timedelta(minutes=11))] == [noted.incident_id]
        assert await store.incidents_due(NOW + timedelta(minutes=9)) == []


async def test_outbox_keeps_one_item_per_dedupe_key_and_leases_claims(db_url):
    lease = timedelta(seconds=60)
    async with Database(db_url) as db:
        store = Store(db.sessions)
        item = {"platform": "console", "chat_key": "console:alice", "payload": {"a": 1}, "dedupe_key": "card:1"}
        (first, again, undeduped), waiting = await store.outbox_add(
            [item, item, {**item, "dedupe_key": None}], NOW, lease)
        assert first is not None and again is None and undeduped is not None and waiting == set()
        (second,), waiting = await store.outbox_add([item], NOW, lease)
        assert second is None and waiting == {"console:alice"}
        assert await store.claim_outbox(NOW, lease) == [], "the sender holds its lease"
        later = NOW + lease
        assert [i.id for i in await store.claim_outbox(later, lease)] == [first, undeduped]
        assert await store.claim_outbox(later, lease) == [], "a claimed item is not claimed twice"
        await store.outbox_sent([first, undeduped], later)
        assert await store.claim_outbox(later + 2 * lease, lease) == []
        (mine,), _ = await store.outbox_add([{**item, "dedupe_key": "card:2"}], later, lease)
        (after,), waiting = await store.outbox_add([{**item, "dedupe_key": "card:3"}], later, lease, own=[mine])
        assert after is not None and waiting == set(), "the caller sends its own earlier item itself, first"


async def test_updates_are_deduplicated(db_url):
    async with Database(db_url) as db:
        store = Store(db.sessions)
        assert (await store.arrive("telegram", "1001", None, NOW))[0] is True
        assert (await store.arrive("telegram", "1001", None, NOW))[0] is False
        assert (await store.arrive("discord", "1001", None, NOW))[0] is True


async def test_an_unusable_database_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match="cannot prepare the database"):
        async with Database(f"sqlite+aiosqlite:///{blocker}/haven.sqlite3"):
            pass


async def test_a_second_process_on_the_same_sqlite_file_is_refused(sqlite_url):
    async with Database(sqlite_url):
        with pytest.raises(StorageError, match="another Haven process is already using"):
            async with Database(sqlite_url):
                pass
    async with Database(sqlite_url):  # the lock goes with the process that held it
        pass


async def test_counts_from_two_flushes_add_up(db_url):
    async with Database(db_url) as db:
        store = Store(db.sessions)
        await store.add_counts({("2026-05-01", "t1d", "screened"): 3})
        await store.add_counts({("2026-05-01", "t1d", "screened"): 4, ("2026-05-01", "t1d", "pii"): 1})
        stats = await store.stats("t1d", NOW - timedelta(days=1))
    assert stats["counts"] == {"screened": 7, "pii": 1}
