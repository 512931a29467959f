"""Random events through the whole engine: no exception, no failure logged, memory flat.

    .venv/bin/python benchmarks/fuzz.py [--events 100000] [--seed 9] [--max-seconds 900]

The real App with the console adapter on SQLite in a temporary directory. Events of every kind:
messages and edits with random Unicode (control characters included), texts up to 100 KB, commands
from the registry with random arguments, slash commands, buttons with payloads Haven never sent,
joins and leaves, rooms and communities nobody configured, hundreds of members. The clock moves a
second per event. Counts exceptions out of App.handle and records logged at ERROR (both must be 0),
and the resident memory at the start, the middle and the end. Stops at --max-seconds whatever the
count, and says so.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.console import ConsoleAdapter  # noqa: E402
from bot.actions import ACTION_TYPES  # noqa: E402
from bot.app import App  # noqa: E402
from bot.commands import build_registry  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.events import (  # noqa: E402
    Actor,
    BotMembershipChanged,
    ButtonPressed,
    CommandInvoked,
    MemberJoined,
    MemberLeft,
    MessageCreated,
    MessageEdited,
)

WORDS = ["I", "want", "to", "end", "my", "life", "call", "me", "07911", "123456", "a.b@example.org", "pump",
         "insulin", "idiot", "buy", "cheap", "@bob", "@mira", "10m", "2h", "daily", "08:00", "cancel", "#3",
         "add", "allow", "spam*", "ｓｐａｍ", "k1ll", "\u200b", "\u202e", "\x00", "\x1b[2J", "🙂", "مرحبا", "日本語"]
ARGS = ["", "@bob", "@mira 10m spam", "1", "#1", "10m", "add idiot*", "2h take insulin", "daily 08:00 water",
        "cancel 1", "99999999999", "-1", "list", "test buy cheap", "7d"]
CHATS = ["t1d", "t1d", "t1d", "long-covid", "mind", "mods:t1d", "nowhere", ""]
PAYLOADS = ["ack", "resolve", "notme", "help", "buddy", "x", ""]


class Fuzzer:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.commands = [c.name for c in build_registry().all()]
        self.n = 0

    def char(self) -> str:
        r = self.rng.random()
        if r < 0.6:
            return chr(self.rng.randint(32, 126))
        if r < 0.7:
            return chr(self.rng.randint(0, 31))
        cp = self.rng.randint(0x80, 0x10FFFF)
        return "?" if 0xD800 <= cp <= 0xDFFF else chr(cp)  # surrogates cannot be encoded, so never arrive

    def text(self) -> str:
        r = self.rng.random()
        if r < 0.01:
            unit = " ".join(self.rng.choices(WORDS, k=8)) + " "
            return (unit * (100_000 // len(unit) + 1))[: self.rng.randint(20_000, 100_000)]
        if r < 0.5:
            return " ".join(self.rng.choices(WORDS, k=self.rng.randint(1, 30)))
        return "".join(self.char() for _ in range(self.rng.randint(0, 300)))

    def args(self) -> str:
        return self.rng.choice(ARGS) if self.rng.random() < 0.6 else self.text()[:3000]

    def command(self) -> str:
        name = self.rng.choice(self.commands) if self.rng.random() < 0.9 else self.text()[:40]
        return f"/{name} {self.args()}".rstrip()

    def event(self, at: datetime):
        self.n += 1
        rng = self.rng
        who = rng.choice(["mira", "bob"]) if rng.random() < 0.2 else f"m{rng.randint(1, 500)}"
        common = dict(
            platform="console", at=at, private=rng.random() < 0.1,
            chat_id=rng.choice(CHATS) if rng.random() < 0.95 else self.text()[:50],
            actor=Actor("console", who, who), parent_id=None,
            update_id=f"u{self.n}" if rng.random() < 0.5 else None,
        )
        kind = rng.random()
        if kind < 0.45:
            return MessageCreated(message_id=f"m{self.n}", text=self.text(), **common)
        if kind < 0.70:
            return MessageCreated(message_id=f"m{self.n}", text=self.command(), **common)
        if kind < 0.78:
            return CommandInvoked(name=self.command()[1:].partition(" ")[0], args=self.args(), **common)
        if kind < 0.84:
            return MessageEdited(message_id=f"m{rng.randint(1, self.n)}", text=self.text(), **common)
        if kind < 0.92:
            payload = f"{rng.choice(PAYLOADS)}:{rng.randint(-3, 10**12)}" if rng.random() < 0.8 else self.text()[:80]
            return ButtonPressed(payload=payload, message_id=f"m{rng.randint(1, self.n)}", **common)
        if kind < 0.96:
            return (MemberJoined if rng.random() < 0.5 else MemberLeft)(**common)
        return BotMembershipChanged(status=rng.choice(["member", "administrator", "left", "kicked"]), **common)


class Failures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.first) < 5:
            self.first.append(f"{record.name}: {record.getMessage()}")


class Console(ConsoleAdapter):
    """Prints nowhere; counts the actions it is asked to carry out, refusing none it knows."""

    def __init__(self) -> None:
        super().__init__(speaker="fuzz", community="t1d", stdin=io.BytesIO(b""), stdout=io.StringIO())
        self.actions = 0

    async def perform(self, action):
        self.actions += 1
        if type(action) not in ACTION_TYPES.values():
            raise TypeError(f"unknown action {type(action).__name__}")
        self.stdout.seek(0)
        self.stdout.truncate()
        return await super().perform(action)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run(events: int, seed: int, max_seconds: float) -> int:
    failures = Failures()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger().addHandler(failures)
    fuzzer = Fuzzer(seed)
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    clock = lambda: now  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(str(ROOT / "config.example.toml"),
                             env={"HAVEN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/fuzz.sqlite3"})
        console = Console()
        exceptions: dict[str, int] = {}
        rss: list[tuple[int, float]] = []
        async with App(config, [console], clock=clock, run_scheduler=False) as app:
            started = time.perf_counter()
            rss.append((0, rss_mb()))
            done = 0
            for done in range(1, events + 1):
                now += timedelta(seconds=1)
                try:
                    await asyncio.wait_for(app.handle(fuzzer.event(now)), timeout=30)
                except Exception as e:  # the count is the point: every one is a finding
                    exceptions[type(e).__name__] = exceptions.get(type(e).__name__, 0) + 1
                if done == events // 2:
                    rss.append((done, rss_mb()))
                if done % 10_000 == 0:
                    print(f"  {done:>7} events, {time.perf_counter() - started:6.0f} s, RSS {rss_mb():.0f} MB",
                          flush=True)
                if time.perf_counter() - started > max_seconds:
                    print(f"stopped at --max-seconds {max_seconds:.0f}")
                    break
            elapsed = time.perf_counter() - started
            rss.append((done, rss_mb()))
    print(f"events: {done} (seed {seed}) in {elapsed:.0f} s, {done / elapsed:.0f} events/s; "
          f"actions carried out: {console.actions}")
    print(f"exceptions out of App.handle: {sum(exceptions.values())} {exceptions or ''}")
    print(f"records logged at ERROR: {failures.count} {failures.first or ''}")
    print("RSS: " + ", ".join(f"{mb:.0f} MB after {n} events" for n, mb in rss))
    return 1 if exceptions or failures.count or done < events else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=9)
    p.add_argument("--max-seconds", type=float, default=900)
    a = p.parse_args()
    return asyncio.run(run(a.events, a.seed, a.max_seconds))


if __name__ == "__main__":
    raise SystemExit(main())
