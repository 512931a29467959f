"""The platform refuses sends for a while (500, then 429): cards and alerts wait in the outbox and go
out afterwards, in order per chat, each exactly once.

A FakeClock stands in for the minutes of backoff: `run_due()` after advancing it is the retry the
scheduler would make, so the test waits for no real backoff.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.adapters.telegram.conftest import CRISIS, GROUP, MODS
from tests.conftest import FakeClock

PEOPLE = [610, 611, 612, 613, 614, 615]  # each in crisis once


async def claims_handled(url: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as c:
            return (await c.execute(text("SELECT count(*) FROM processed_updates WHERE lease_until IS NULL"))).scalar()
    finally:
        await engine.dispose()


def received(tg) -> dict[int, list[str]]:
    """What each chat was sent, in the order it arrived."""
    chats: dict[int, list[str]] = defaultdict(list)
    for m in tg.sent_messages():
        chats[int(m["chat_id"])].append(m["text"])
    return chats


@pytest.mark.postgres
async def test_a_500_then_429_outage_drains_afterwards_in_order_per_chat(tg, haven, pg_url):
    for person in PEOPLE:
        tg.add_user(person, f"Member{person}")
        tg.start_private_chat(person)
    clock = FakeClock()
    # max_retries=0: each 429 reaches Haven at once, as when an outage outlasts the rate limiter's own
    # retries; the test then needs no real waits for them.
    async with haven(pg_url, clock=clock, max_retries=0) as app:
        tg.start_outage(500, methods={"sendMessage"})
        for person in PEOPLE[:2]:
            tg.push_message(GROUP, person, CRISIS)
        await tg.wait_for(lambda: not tg.pending_updates, timeout=10)
        for _ in range(6):  # a minute of 500s: every retry refused, nothing lost
            clock.advance(seconds=10)
            await app.run_due()
        refused_500 = sum(p.get("_error") == 500 for p in tg.calls_of("sendMessage"))

        tg.start_outage(429, methods={"sendMessage"}, retry_after=5)
        for person in PEOPLE[2:4]:
            tg.push_message(GROUP, person, CRISIS)
        await tg.wait_for(lambda: not tg.pending_updates, timeout=10)
        for _ in range(6):  # a minute of 429s
            clock.advance(seconds=10)
            await app.run_due()
        refused_429 = sum(p.get("_error") == 429 for p in tg.calls_of("sendMessage"))
        assert tg.sent_messages() == []
        waiting = await app.store.outbox_pending_count()

        # The platform is back, and two more crises arrive before the scheduler's next retry: their
        # cards and alerts must queue behind the waiting ones in the chats they share.
        tg.end_outage()
        for person in PEOPLE[4:]:
            tg.push_message(GROUP, person, CRISIS)
        await tg.wait_for(lambda: not tg.pending_updates, timeout=10)
        for _ in range(40):  # the longest backoff is 5 min
            if await app.store.outbox_pending_count() == 0:
                break
            clock.advance(seconds=30)
            await app.run_due()
        assert await app.store.outbox_pending_count() == 0
    handled = await claims_handled(pg_url)

    chats = received(tg)
    print(f"{refused_500} sends refused with 500 and {refused_429} with 429; {waiting} items waited; "
          f"delivered {sum(map(len, chats.values()))}")
    assert handled == len(PEOPLE)  # every message handled once
    assert refused_500 >= 2 * 2 and refused_429 >= 2 * 2  # each waiting chat was retried and refused
    assert waiting == 4 * 2  # a card and an alert for each of the four crises during the outage
    # Each person's card exactly once; the moderators' alerts exactly once each, in the order of the crises.
    for person in PEOPLE:
        assert len(chats.pop(person)) == 1 and tg.sent_messages(person)[0]["text"].startswith("I'm really glad")
    alerts = chats.pop(MODS)
    assert [a.split(" may need help")[0].rsplit(" ", 1)[1] for a in alerts] == [f"Member{p}" for p in PEOPLE]
    # The public pointer to the card is no durable action: the two after the outage, nothing else.
    assert len(chats.pop(GROUP)) == 2 and chats == {}
