"""Carrying out the engine's actions: at once where possible, through the outbox where it matters.

Durable actions (crisis cards, moderator alerts) are stored before the first attempt and retried with
backoff until the platform takes them, so a failing platform or a restart in between loses nothing.
A dedupe key makes a second store of the same card a no-op, so nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from adapters.base import Adapter, DeliveryError, PermanentDeliveryError
from bot.actions import Action, chat_key, decode, outbox_item
from bot.storage.repositories import Store

log = logging.getLogger(__name__)

BACKOFF_SECONDS = (1, 2, 5, 10, 30, 60, 120, 300)
# How long a process owns an item it is sending; after that another process may take it over.
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 200  # about 16 hours at the longest backoff; then a human must look


class Dispatcher:
    def __init__(self, adapters: dict[str, Adapter], store: Store, clock: Callable[[], datetime]) -> None:
        self.adapters = adapters
        self.store = store
        self.clock = clock
        self._drain_lock = asyncio.Lock()

    async def execute(self, actions: list[Action]) -> None:
        # Per durable action: its outbox id, and whether older items of its chat are in the outbox
        # (then it is stored due, for the drain to send behind them).
        stored = {id(a): a.stored for a in actions if a.stored is not None}
        durable = [a for a in actions if a.durable and a.stored is None]
        failed: set[str] = set()  # chats whose item failed just now: the rest of theirs waits behind it
        if durable:
            # All of one event's cards and alerts are stored together: the person waits for one write.
            ids, waiting = await self.store.outbox_add(
                [outbox_item(a) for a in durable], self.clock(), LEASE,
                own=[item_id for item_id, waits in stored.values() if item_id is not None and not waits])
            stored.update({id(a): (item_id, chat_key(a) in waiting) for a, item_id in zip(durable, ids, strict=True)})
        sent: list[int] = []
        for action in actions:
            if not action.durable:
                await self._perform_once(action)
                continue
            item_id, waits = stored[id(action)]
            if item_id is None:
                log.info("outbox already holds %s; not sending it twice", action.dedupe_key)
            elif waits:
                log.info("outbox item %s waits behind older items of its chat", item_id)
            elif chat_key(action) in failed:
                await self.store.outbox_release(item_id, self.clock())  # due now, behind the failed one
            elif await self._attempt(item_id, action, attempts=0):
                sent.append(item_id)
            else:
                failed.add(chat_key(action))
        if sent:
            await self.store.outbox_sent(sent, self.clock())

    async def _perform_once(self, action: Action) -> None:
        adapter = self.adapters.get(action.platform)
        if adapter is None:
            log.error("no adapter for platform %s; %s dropped", action.platform, type(action).__name__)
            return
        try:
            await adapter.perform(action)
        except DeliveryError as e:
            log.warning("%s on %s failed: %s", type(action).__name__, action.platform, e)

    async def _attempt(self, item_id: int, action: Action, attempts: int) -> bool:
        """One try at sending; a failure is recorded for the retry. The caller marks what was sent."""
        adapter = self.adapters.get(action.platform)
        try:
            if adapter is None:
                raise DeliveryError(f"the {action.platform} adapter is not running")
            await adapter.perform(action)
        except PermanentDeliveryError as e:
            log.error("outbox item %s cannot be delivered: %s", item_id, e)
            await self.store.outbox_retry(item_id, error=str(e), next_at=self.clock(), dead=True)
            return False
        except Exception as e:  # noqa: BLE001 - any failure is retried; the item stays safe in the outbox
            delay = BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS) - 1)]
            log.warning("outbox item %s failed (attempt %s), retrying in %ss: %s", item_id, attempts + 1, delay, e)
            await self.store.outbox_retry(item_id, error=str(e), next_at=self.clock() + timedelta(seconds=delay),
                                          dead=attempts + 1 >= MAX_ATTEMPTS)
            return False
        return True

    async def drain(self) -> int:
        """Send what is due, oldest first; a chat whose item failed waits, so its order holds."""
        async with self._drain_lock:
            sent = 0
            blocked: set[str] = set()
            for item in await self.store.claim_outbox(self.clock(), LEASE):
                if item.chat_key in blocked:
                    # Hand it back at once, behind the failed one, so this chat's order holds.
                    await self.store.outbox_release(item.id, self.clock())
                    continue
                if await self._attempt(item.id, decode(item.payload), item.attempts):
                    await self.store.outbox_sent([item.id], self.clock())
                    sent += 1
                else:
                    blocked.add(item.chat_key)
            return sent
