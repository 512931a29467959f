"""Update-id claims: a redelivery is skipped while the update is handled or once it was, and handled
again when the process that claimed it died before finishing (its lease lapsed)."""

from datetime import timedelta

from bot.storage.database import Database
from bot.storage.repositories import CLAIM_LEASE, Store
from tests.conftest import FakeClock


async def test_a_claim_left_unfinished_is_taken_over_after_its_lease(db_url):
    now = FakeClock().now
    async with Database(db_url) as db:
        dead, other = Store(db.sessions), Store(db.sessions)  # two processes on one database
        assert (await dead.arrive("telegram", "7", None, now))[0] is True
        # `dead` never finishes. Within the lease the claim is someone else's: skip it, don't confirm it.
        assert (await other.arrive("telegram", "7", None, now + CLAIM_LEASE / 2))[0] is False
        assert await other.handled("telegram", "7") is False
        # After the lease the redelivery is handled here, once.
        later = now + CLAIM_LEASE + timedelta(seconds=1)
        assert (await other.arrive("telegram", "7", None, later))[0] is True
        assert await other.handled("telegram", "7") is True
        assert (await Store(db.sessions).arrive("telegram", "7", None, later + timedelta(hours=1)))[0] is False


async def test_a_handled_claim_is_never_taken_again(db_url):
    now = FakeClock().now
    async with Database(db_url) as db:
        one, two = Store(db.sessions), Store(db.sessions)
        assert (await one.arrive("discord", "9", None, now))[0] is True
        assert await one.handled("discord", "9") is True
        assert (await two.arrive("discord", "9", None, now + timedelta(days=1)))[0] is False
        assert await two.handled("discord", "9") is True  # handled before: the platform may forget it
