"""The engine takes anything: random events of every kind, commands from the registry with random
arguments, any Unicode, very long texts, rooms and communities it does not know, buttons it never
sent. Nothing raises out of App.handle, nothing is logged as a failure, and every action the
adapter is asked to carry out is one it knows."""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.console import ConsoleAdapter
from bot.actions import ACTION_TYPES, Action
from bot.app import App
from bot.commands import build_registry
from bot.events import (
    Actor,
    BotMembershipChanged,
    ButtonPressed,
    CommandInvoked,
    MemberJoined,
    MemberLeft,
    MessageCreated,
    MessageEdited,
)
from tests.conftest import FakeClock, make_config

COMMANDS = sorted(c.name for c in build_registry().all())
KNOWN_ACTIONS = set(ACTION_TYPES.values())


class RecordingConsole(ConsoleAdapter):
    """The console adapter, noting the type of each action it is asked to carry out."""

    def __init__(self) -> None:
        super().__init__(speaker="alice", community="t1d", stdin=io.BytesIO(b""), stdout=io.StringIO())
        self.performed: list[type] = []

    async def perform(self, action: Action) -> str | None:
        self.performed.append(type(action))
        self.stdout.seek(0)
        self.stdout.truncate()  # what it prints is not the point; keep memory flat
        return await super().perform(action)


class Failures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def haven(tmp_path_factory):
    """One App on SQLite for every example, on a loop of its own so the tests can stay synchronous
    (hypothesis drives them)."""
    from moderation.pipeline import Pipeline

    loop = asyncio.new_event_loop()
    clock = FakeClock()
    console = RecordingConsole()
    db = tmp_path_factory.mktemp("fuzz") / "haven.sqlite3"
    app = App(make_config(f"sqlite+aiosqlite:///{db}"), [console], clock=clock, pipeline=Pipeline.load(),
              run_scheduler=False)
    loop.run_until_complete(app.__aenter__())
    failures = Failures()
    logging.getLogger().addHandler(failures)
    yield loop, app, console, clock, failures
    logging.getLogger().removeHandler(failures)
    loop.run_until_complete(app.__aexit__(None, None, None))
    loop.close()


any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
long_text = st.builds(lambda unit, n: (unit * n)[:100_000], st.text(min_size=1, max_size=20), st.integers(1, 20_000))
texts = st.one_of(any_text, any_text, long_text, st.sampled_from(["I want to end my life", "call me on 07911 123456",
                                                                  "mail me: a.b@example.org", "buy cheap sensors"]))
command_args = st.one_of(any_text, st.sampled_from(["", "@bob", "@mira 10m spam", "1", "#1", "10m", "add idiot*",
                                                    "2h take insulin", "daily 08:00 water", "cancel 1", "99999999999"]))
commands = st.builds(lambda name, args: f"/{name} {args}".rstrip(), st.one_of(st.sampled_from(COMMANDS), any_text),
                     command_args)
actors = st.builds(lambda uid, roles: Actor("console", uid, uid, platform_roles=roles),
                   st.sampled_from(["alice", "bob", "mira", "carol"]) | st.text(min_size=1, max_size=40),
                   st.sampled_from([frozenset(), frozenset({"admin"}), frozenset({"moderator"})]))
# Mostly t1d, where screening and commands happen; sometimes a room no community is bound to.
chats = st.one_of(st.just("t1d"), st.just("t1d"), st.sampled_from(["long-covid", "mods:t1d", "nowhere"]),
                  st.text(max_size=40))
common = {
    "platform": st.just("console"), "chat_id": chats, "actor": actors,
    "at": st.just(datetime(2026, 3, 2, 12, 0, tzinfo=UTC)), "private": st.sampled_from([False, False, False, True]),
    "parent_id": st.none() | st.text(max_size=20), "update_id": st.none() | st.text(min_size=1, max_size=20),
}
message_ids = st.text(min_size=1, max_size=20)
events = st.one_of(
    st.builds(MessageCreated, message_id=message_ids, text=texts, **common),
    st.builds(MessageCreated, message_id=message_ids, text=commands, **common),
    st.builds(MessageCreated, message_id=message_ids, text=commands, **common),
    st.builds(MessageEdited, message_id=message_ids, text=texts | commands, **common),
    st.builds(CommandInvoked, name=st.sampled_from(COMMANDS) | any_text, args=command_args, **common),
    st.builds(ButtonPressed, payload=st.one_of(
        st.builds(lambda kind, n: f"{kind}:{n}", st.sampled_from(["ack", "resolve", "notme", "help", "x"]),
                  st.integers(-5, 10**12)), any_text), **common),
    st.builds(MemberJoined, **common),
    st.builds(MemberLeft, **common),
    st.builds(BotMembershipChanged, status=st.sampled_from(["member", "administrator", "left", "kicked", "?"]),
              **common),
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(events, min_size=1, max_size=4))
def test_any_events_are_handled_without_failure(haven, batch):
    loop, app, console, clock, failures = haven
    for event in batch:
        clock.advance(seconds=7)  # time passes, so per-minute limits come and go
        console.performed.clear()
        loop.run_until_complete(asyncio.wait_for(app.handle(event), timeout=30))
        assert set(console.performed) <= KNOWN_ACTIONS
        assert failures.records == [], [r.getMessage() for r in failures.records]
