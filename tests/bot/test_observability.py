"""Metrics, health and readiness as an operator's monitoring would read them."""

import io

import aiohttp

from adapters.console import ConsoleAdapter
from bot.app import App
from tests.conftest import EXAMPLE_CONFIG, make_config


async def test_metrics_health_and_readiness(sqlite_url, clock, pipeline):
    text = EXAMPLE_CONFIG.replace("[observability]\nenabled = false", "[observability]\nenabled = true")
    config = make_config(sqlite_url, text_=text.replace("port = 9464", "port = 0"))
    assert config.observability.enabled
    out = io.StringIO()
    console = ConsoleAdapter(speaker="alice", community="mind", stdin=io.BytesIO(b"hello\nI want to die\n"),
                             stdout=out)
    async with App(config, [console], clock=clock, pipeline=pipeline) as app:
        await console.run()
        base = f"http://127.0.0.1:{app.health.port}"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/healthz") as r:
                assert r.status == 200
            async with http.get(f"{base}/readyz") as r:
                assert r.status == 200 and (await r.json())["status"] == "ready"
            async with http.get(f"{base}/metrics") as r:
                assert r.status == 200
                body = await r.text()
    assert 'haven_messages_screened_total{category="screened",community="mind"} 2.0' in body
    assert 'haven_messages_screened_total{category="crisis.self",community="mind"} 1.0' in body
    assert "haven_incidents_unacknowledged 1.0" in body
    assert "haven_outbox_pending 0.0" in body
    assert "haven_scheduler_leader 1.0" in body
    assert 'haven_handling_seconds_count{kind="crisis"} 1.0' in body
    assert "I want to die" not in body and "alice" not in body
