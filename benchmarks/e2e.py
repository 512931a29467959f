"""What the end-to-end benchmarks (telegram_e2e.py, discord_e2e.py) share.

The message mix, the bookkeeping of when each message was pushed, handled and answered, the
database each Haven run uses (SQLite in a temporary folder, or a fresh PostgreSQL database created
and dropped here), and the report, so that both platforms are measured and printed the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import random
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterable
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from bot.app import App
from bot.events import Event, MessageCreated

CHAT = [
    "morning all, how did everyone sleep?", "my cgm keeps falling off after two days, any tips?",
    "anyone tried the new pump update", "had a rough night but feeling a bit better now",
    "thanks so much, that really helped", "lol same", "my sugar was 7.8 after lunch, not bad",
    "doctor appointment tomorrow at 10, wish me luck", "does brain fog get better with rest?",
    "this migraine is killing me today", "these forms are killing me", "ok", "good night everyone",
    "sending hugs 💙", "that's brilliant news!!!", "ran out of test strips again, pharmacy closed",
    "I took my basal late, should I correct?", "my therapist says small steps count",
    "is it normal to feel this tired after covid?", "week 3 of pacing and I can walk to the shop again",
    "who else is watching the match tonight", "soooo tired of waiting rooms", "🙂🙂 thank you",
    "anyone in leeds want to meet up for coffee", "the new sensor is so much quieter",
]
CRISIS = [
    "I want to end my life", "I don't want to live anymore", "I'm going to kill myself tonight",
    "I just want to die, I can't do this any more", "I have the pills ready, nobody would miss me",
]
CHAT_AUTHORS = 5_000  # enough that nobody trips the flood screener by posting many times a second
POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True, slots=True)
class Message:
    where: Hashable  # the group or channel it is posted in
    author: int
    text: str
    crisis: bool


def make_messages(count: int, crisis_share: float, chatters: list[int], in_crisis: list[int],
                  crisis_texts: list[str], rooms: Callable[[random.Random], Hashable], seed: int) -> list[Message]:
    """Everyday chat from `chatters`, and one crisis from each of `in_crisis`, shuffled.

    A card goes to each person once in the cooldown, so every crisis comes from someone new; the
    caller creates `round(count * crisis_share)` of them.
    """
    rng = random.Random(seed)
    assert len(in_crisis) == round(count * crisis_share)
    messages = [Message(rooms(rng), rng.choice(chatters), rng.choice(CHAT), False)
                for _ in range(count - len(in_crisis))]
    messages += [Message(rooms(rng), who, rng.choice(crisis_texts), True) for who in in_crisis]
    rng.shuffle(messages)
    return messages


@dataclass
class Result:
    """One run: when each message (by the key its platform gives it) was pushed and handled."""

    name: str
    elapsed: float = 0.0
    pushed: dict[Hashable, float] = field(default_factory=dict)
    handled: dict[Hashable, float] = field(default_factory=dict)
    crisis_authors: dict[Hashable, int] = field(default_factory=dict)  # message key -> who is in crisis
    finished: bool = True

    def latencies(self) -> list[float]:
        return sorted(self.handled[m] - t for m, t in self.pushed.items() if m in self.handled)

    def crisis_latencies(self, arrival: Callable[[int], float | None]) -> list[float]:
        """Push to the first private message reaching the author, as `arrival(author)` tells."""
        out = []
        for key, author in self.crisis_authors.items():
            arrived = arrival(author)
            if arrived is not None:
                out.append(arrived - self.pushed[key])
        return sorted(out)


class Run:
    """Pushes a run's messages, at most `in_flight` unhandled at a time, and notes when each is done."""

    def __init__(self, result: Result, in_flight: int) -> None:
        self.result = result
        self.in_flight = in_flight
        self._slots = asyncio.Semaphore(in_flight)

    def done(self, key: Hashable) -> None:
        self.result.handled[key] = time.perf_counter()
        self._slots.release()

    async def push_all(self, messages: Iterable[Message], push: Callable[[Message], Awaitable[Hashable]]) -> None:
        result = self.result
        start = time.perf_counter()
        for m in messages:
            await self._slots.acquire()
            pushed = time.perf_counter()
            key = await push(m)
            result.pushed[key] = pushed
            if m.crisis:
                result.crisis_authors[key] = m.author
        for _ in range(self.in_flight):  # every slot back: every message handled
            await self._slots.acquire()
        result.elapsed = time.perf_counter() - start

    async def bounded(self, work: Awaitable[None], deadline: float) -> None:
        start = time.perf_counter()
        try:
            await asyncio.wait_for(work, deadline)
        except TimeoutError:
            self.result.finished = False
            self.result.elapsed = time.perf_counter() - start


class TimedApp(App):
    """The real App; notes when it has finished with each message (`key` names it as pushed)."""

    def __init__(self, *args: Any, done: Callable[[Hashable], None], key: Callable[[MessageCreated], Hashable],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._done = done
        self._key = key

    async def handle(self, event: Event) -> bool:
        try:
            return await super().handle(event)
        finally:  # a message Haven failed on is handled too, or the run would stall on its slot
            if isinstance(event, MessageCreated):
                self._done(self._key(event))


@asynccontextmanager
async def database(kind: str) -> AsyncIterator[str]:
    """A database URL for one Haven run: SQLite in a temporary folder, or a fresh PostgreSQL database."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite+aiosqlite:///{folder}/haven.sqlite3"
        return
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    name = f"haven_e2e_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as c:
            await c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield f"{POSTGRES.rpartition('/')[0]}/{name}"
        finally:
            async with admin.connect() as c:
                await c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@contextmanager
def profiled(path: str | None) -> Iterator[None]:
    if not path:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profiler.dump_stats(path)


def arguments(doc: str, **extra: dict[str, Any]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--crisis-share", type=float, default=0.02)
    parser.add_argument("--in-flight", type=int, default=64, help="messages pushed but not yet handled, at most")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--deadline", type=float, default=75.0, help="seconds each run may take")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite",
                        help=f"Haven's database: SQLite in a temporary folder, or a fresh database at {POSTGRES}")
    parser.add_argument("--profile", help="write a cProfile of the Haven run to this file and print its top")
    for name, options in extra.items():
        parser.add_argument(name, **options)
    return parser.parse_args()


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("nan")


def report(result: Result, arrival: Callable[[int], float | None], answer: str) -> dict[str, float]:
    lat, crisis = result.latencies(), result.crisis_latencies(arrival)
    figures = {
        "rate": len(result.handled) / result.elapsed if result.elapsed else 0.0,
        "p50": pct(lat, 0.50), "p99": pct(lat, 0.99), "crisis_p50": pct(crisis, 0.50), "crisis_p99": pct(crisis, 0.99),
    }  # fmt: skip
    state = "" if result.finished else "  (DEADLINE: did not finish)"
    print(f"{result.name}{state}")
    print(f"  handled {len(result.handled):,} of {len(result.pushed):,} in {result.elapsed:.1f} s: "
          f"{figures['rate']:,.0f} msg/s")
    print(f"  every message, push to handled:      p50 {figures['p50']:.1f} ms   p99 {figures['p99']:.1f} ms")
    print(f"  crisis, push to the {answer} arriving: p50 {figures['crisis_p50']:.1f} ms   "
          f"p99 {figures['crisis_p99']:.1f} ms   ({len(crisis)} of {len(result.crisis_authors)})")
    return figures


def compare(base: dict[str, float], haven: dict[str, float], profile: str | None) -> None:
    print(f"\nHaven / baseline: throughput {haven['rate'] / base['rate']:.2f}x, "
          f"p99 {haven['p99'] / base['p99']:.1f}x, crisis p99 {haven['crisis_p99'] / base['crisis_p99']:.1f}x")
    if profile:
        print(f"\nTop of the Haven run by own time ({profile}):")
        pstats.Stats(profile).sort_stats("tottime").print_stats(20)
