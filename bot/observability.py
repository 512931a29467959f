"""Prometheus metrics, /healthz and /readyz. Metrics never carry message text or who wrote it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    """One registry per App, so two Apps in one test process never share counters."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.screened = Counter("haven_messages_screened", "Messages screened, by community and flag category",
                                ["community", "category"], registry=r)
        self.screening_seconds = Histogram("haven_screening_seconds", "Time to screen one message",
                                           buckets=LATENCY_BUCKETS, registry=r)
        self.handling_seconds = Histogram("haven_handling_seconds",
                                          "Time from an event reaching Haven to its actions carried out",
                                          ["kind"], buckets=LATENCY_BUCKETS, registry=r)
        self.outbox_depth = Gauge("haven_outbox_pending", "Durable actions not yet delivered", registry=r)
        self.incidents_open = Gauge("haven_incidents_open", "Crisis incidents not yet resolved", registry=r)
        self.incidents_unacked = Gauge("haven_incidents_unacknowledged", "Open incidents nobody has taken",
                                       registry=r)
        self.oldest_unacked = Gauge("haven_incident_oldest_unacknowledged_seconds",
                                    "Age of the oldest incident nobody has taken", registry=r)
        self.leader = Gauge("haven_scheduler_leader", "1 if this process runs the scheduler", registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class HealthServer:
    """A small HTTP server: /metrics, /healthz (the process answers) and /readyz (it can do its job)."""

    def __init__(self, metrics: Metrics, *, refresh: Callable[[], Awaitable[None]],
                 ready: Callable[[], Awaitable[bool]], listen: str, port: int) -> None:
        self.metrics = metrics
        self.refresh = refresh
        self.ready = ready
        self.listen = listen
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.listen, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("metrics and health on http://%s:%s", self.listen, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _metrics(self, _request: web.Request) -> web.Response:
        try:
            await self.refresh()
        except Exception:  # noqa: BLE001 - stale gauges beat no metrics at all
            log.exception("refreshing metrics failed")
        return web.Response(body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _readyz(self, _request: web.Request) -> web.Response:
        try:
            ok = await self.ready()
        except Exception:  # noqa: BLE001 - not ready is the answer, whatever the cause
            ok = False
        return web.json_response({"status": "ready" if ok else "not ready"}, status=200 if ok else 503)


def age_seconds(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0
