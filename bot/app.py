"""The composition root: the one place that builds the database, scheduler, engine and adapters."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

from adapters.base import Adapter
from bot.commands import build_registry
from bot.commands.privacy import CHECKIN_RETENTION_DAYS
from bot.commands.registry import Role
from bot.communities import Communities
from bot.config import Config
from bot.crisis import CrisisCare
from bot.dispatch import Dispatcher
from bot.engine import Engine, Services
from bot.leader import Leadership
from bot.observability import HealthServer, age_seconds
from bot.events import Event
from bot.member_features import MemberFeatures
from bot.sanctions import Sanctions
from bot.scheduling import Scheduler, next_occurrence
from bot.storage.database import Database, is_storage_failure, storage_reason
from bot.storage.repositories import Store
from moderation.i18n import Catalogue
from moderation.pipeline import Pipeline
from moderation.resources import Directory

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class App:
    """`async with App(config, adapters) as app`: everything is open inside, closed in order after."""

    def __init__(
        self,
        config: Config,
        adapters: Sequence[Adapter] = (),
        *,
        clock: Callable[[], datetime] = utcnow,
        pipeline: Pipeline | None = None,
        run_scheduler: bool = True,
    ) -> None:
        self.config = config
        self.adapters = list(adapters)
        self.clock = clock
        self._pipeline = pipeline
        self._run_scheduler = run_scheduler
        self._stack = AsyncExitStack()
        self._due_lock = asyncio.Lock()
        self._last_purge: datetime | None = None
        self._lead_task: asyncio.Task | None = None
        self._started = False
        self.health: HealthServer | None = None

    async def __aenter__(self) -> App:
        try:
            await self._open()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def _open(self) -> None:
        config = self.config
        self.db = await self._stack.enter_async_context(Database(config.storage.url))
        self.store = Store(self.db.sessions)
        # Handled marks still queued are written before the database closes.
        self._stack.push_async_callback(self.store.marks_written)
        self.scheduler = Scheduler(self.run_due)
        self.services = Services(
            config=config,
            communities=Communities(config),
            store=self.store,
            pipeline=self._pipeline or Pipeline.load(),
            directory=Directory.load(),
            catalogue=Catalogue.load(),
            registry=build_registry(),
            clock=self.clock,
        )
        self.services.crisis = CrisisCare(self.services, wake=self.scheduler.wake)
        self.services.scheduled["followup"] = self.services.crisis.followup
        self.services.sanctions = Sanctions(self.services, wake=self.scheduler.wake)
        self.services.wake = self.scheduler.wake
        features = MemberFeatures(self.services, platforms=[a.platform for a in self.adapters])
        self.services.scheduled.update(features.handlers())
        await features.sync_awareness_days(self.clock())
        for cid in config.communities:
            await self.services.reload_filters(cid)
        self.engine = Engine(self.services)
        self.dispatcher = Dispatcher({a.platform: a for a in self.adapters}, self.store, self.clock)
        self.leadership: Leadership | None = None
        if self._run_scheduler:
            # Paused until this process leads: with several processes only one runs what is due.
            self.scheduler.start(paused=True)
            self._stack.callback(self.scheduler.shutdown)
            self.leadership = Leadership(config.storage.url, self._leadership_changed)
        self._stack.push_async_callback(self.services.flush_counts)
        registry = self.services.registry
        member_cmds = [(c.name, c.summary) for c in registry.for_role(Role.MEMBER)]
        mod_cmds = [(c.name, c.summary) for c in registry.all()]
        obs = config.observability
        if obs.enabled:
            self.health = HealthServer(self.services.metrics, refresh=self._refresh_metrics, ready=self._ready,
                                       listen=obs.listen, port=obs.port)
            await self.health.start()
            self._stack.push_async_callback(self.health.stop)
        for adapter in self.adapters:
            await adapter.start(self.handle, self.store.marks_written)
            self._stack.push_async_callback(adapter.stop)
            await adapter.set_commands(member_cmds, mod_cmds)
        self._started = True
        if self.leadership is not None:
            await self.leadership.start()
            self._stack.push_async_callback(self.leadership.stop)
            self._stack.push_async_callback(self._settle_lead)
        else:
            # Whatever a previous run stored but could not send goes out now.
            await self.run_due()

    async def __aexit__(self, *exc) -> None:
        await self._stack.aclose()

    async def handle(self, event: Event) -> bool:
        """The sink every adapter feeds: screen and decide, then carry the actions out.

        Returns False when another process is handling the same update right now: the adapter should
        not confirm it to the platform yet, so that it comes back if that process dies. Returns before
        the handled mark is written (it goes with the next arrivals' transaction, so the chat's next
        update does not wait for it); an adapter confirms updates only after `store.marks_written`.
        """
        started = time.perf_counter()
        try:
            actions = await self.engine.handle(event)
        except Exception as e:
            return await self._handling_failed(event, e)
        await self.dispatcher.execute(actions)
        # Marked only now: a process killed before the mark is written leaves the claim to lapse, and
        # the redelivered update is handled again (its cards deduplicated by the outbox).
        settled, _ = self.store.handled_soon(event.platform, event.update_id)
        kind = "crisis" if any(a.durable for a in actions) else "message"
        self.services.metrics.handling_seconds.labels(kind).observe(time.perf_counter() - started)
        return settled

    async def _handling_failed(self, event: Event, error: Exception) -> bool:
        """Handling raised: a crisis still gets its card at once, and the update is left unconfirmed.

        With the database gone (locked, full, restarting) the operator gets one clear line instead of a
        traceback per message, and a platform that redelivers (Telegram) brings the update back to be
        handled properly once the database answers; its card is not sent a second time then.
        """
        if is_storage_failure(error):
            log.error("the database is unavailable (%s); a %s from %s waits to be handled again",
                      storage_reason(error), type(event).__name__, event.platform)
        else:
            log.exception("handling a %s from %s failed", type(event).__name__, event.platform)
        key = (event.platform, getattr(event, "message_id", None) or event.update_id)
        if key not in self.services.cards_without_storage:
            actions = self.engine.last_resort(event)
            if actions:
                self.services.cards_without_storage.add(key)
            await self.dispatcher.execute(actions)
        return False

    async def _refresh_metrics(self) -> None:
        m = self.services.metrics
        m.outbox_depth.set(await self.store.outbox_pending_count())
        open_, unacked, oldest = await self.store.incident_gauges()
        m.incidents_open.set(open_)
        m.incidents_unacked.set(unacked)
        m.oldest_unacked.set(age_seconds(self.clock(), oldest))
        m.leader.set(1 if self.leadership is None or self.leadership.is_leader else 0)

    async def _ready(self) -> bool:
        return self._started and await self.store.ping()

    def _leadership_changed(self, leader: bool) -> None:
        if leader:
            self.scheduler.resume()
            self._lead_task = asyncio.create_task(self._take_the_lead())
        else:
            self.scheduler.pause()

    async def _take_the_lead(self) -> None:
        """A new leader rebuilds the wake-ups from the database and runs what fell due meanwhile."""
        try:
            await self.rebuild_schedule()
            await self.run_due()
        except Exception:
            log.exception("taking over the schedule failed; the safety-net run will try again")

    async def _settle_lead(self) -> None:
        if self._lead_task is not None:
            await asyncio.gather(self._lead_task, return_exceptions=True)

    async def rebuild_schedule(self) -> None:
        """Wake-ups come from the database, so a restart forgets none."""
        for inc in await self.store.pending_escalations():
            self.scheduler.wake(inc.next_escalation_at)
        for at in await self.store.next_item_times():
            self.scheduler.wake(at)
        for at in await self.store.sanction_expiries():
            self.scheduler.wake(at)

    async def run_due(self) -> None:
        """Everything whose time has come: escalations, scheduled items, retention, then the outbox."""
        async with self._due_lock:
            await self.dispatcher.execute(await self.services.crisis.escalate_due())
            await self.dispatcher.execute(await self.services.sanctions.expire_due())
            await self._run_items()
            await self._retention()
            await self.dispatcher.drain()
            await self.services.flush_counts()

    async def _run_items(self) -> None:
        now = self.clock()
        for item in await self.store.due_items(now):
            handler = self.services.scheduled.get(item.kind)
            if handler is None:
                log.error("no handler for scheduled %s item %s; it stays in the database", item.kind, item.id)
                continue
            next_run = None
            if item.recurrence:
                next_run = next_occurrence(item.recurrence, item.timezone, max(now, item.run_at))
            if not await self.store.claim_item(item, now, next_run):
                continue  # another run took it
            if next_run is not None:
                self.scheduler.wake(next_run)
            try:
                await self.dispatcher.execute(await handler(item))
            except Exception:
                log.exception("scheduled %s item %s failed", item.kind, item.id)

    async def _retention(self) -> None:
        """Purge stored message text past the retention window, at most once an hour."""
        now = self.clock()
        if self._last_purge is not None and now - self._last_purge < timedelta(hours=1):
            return
        self._last_purge = now
        window = now - timedelta(days=self.config.haven.retention_days)
        purged = await self.store.purge_text(window)
        purged += await self.store.purge_member_data(
            checkins_before=now - timedelta(days=CHECKIN_RETENTION_DAYS), items_before=window)
        if purged:
            log.info("retention: purged the text of %s records", purged)
