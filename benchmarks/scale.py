"""Haven as one process, then two, on one PostgreSQL, at the highest message rate it sustains.

    .venv/bin/python benchmarks/scale.py [--members 100000] [--processes 1 2] [--duration 20]
                                         [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test]

Each run gets a fresh database (created here, dropped after) with --members Telegram members already
stored, a fake Bot API (tests/fakes/telegram_server.py) in this process, and N worker processes
(benchmarks/scale_worker.py: the real App and TelegramAdapter in webhook mode, scheduler leader
election on), each on its own port. Messages go round-robin to the workers as Telegram's webhook POSTs
with the secret, at a steady offered rate (an open loop: a message is posted when its time comes,
whether or not the earlier ones were answered), taken in order from one seeded mix of 50,000:
everyday chat, people in crisis (each their first time), phone numbers and e-mails, and /rules.

A run first warms up for --step seconds at the lowest rate, then ramps: --step seconds at each of
--rates, stopping at the first rate it does not keep up with (an effect of a step's messages still
missing --settle seconds after its last post, or their median above --max-p50). Then it runs
--duration seconds at the highest rate it kept up with (and, if that run falls behind, once more at
the next lower one), and posts /rules from a moderator last in every group; a group's updates are
handled in order, so when those are answered every message has been handled.
Reported for the last run: throughput (messages / time from the first POST to the last effect), p50/p99
latency from POST to what the bot did at the fake (the /rules reply, the deletion of the post with
personal data, the crisis card in private), RSS of each worker at the end and its peak, and the ratio
of two processes' sustained rate to one's. Every wait is bounded, so the benchmark stops by itself
(about four minutes with the defaults).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp import ClientSession  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bot.storage.database import Database  # noqa: E402
from bot.storage.models import Member, Membership  # noqa: E402
from tests.fakes.telegram_server import FakeTelegramServer  # noqa: E402

TOKEN = "123456:SCALE"
SECRET = "scale-secret"
GROUPS = 3
GROUP_BASE = -1004000000000
MODS_BASE = -1005000000000
MESSAGES = 50_000  # the mix the ramp and the run take their messages from, in order
MODERATOR = 9_999_999  # sends the /rules that close each run; moderators are not rate limited
CHAT = [
    "morning all, how did everyone sleep?", "my cgm keeps falling off after two days, any tips?",
    "anyone tried the new pump update", "had a rough night but feeling a bit better now",
    "thanks so much, that really helped", "lol same", "my sugar was 7.8 after lunch, not bad",
    "doctor appointment tomorrow at 10, wish me luck", "does brain fog get better with rest?",
    "this migraine is killing me today", "sending hugs 💙", "week 3 of pacing and I can walk to the shop again",
]
CRISIS = ["I want to end my life", "I don't want to live anymore", "I'm going to kill myself tonight"]
PII = ["call me on 07911 {n:06d}", "text me, 07700 {n:06d}", "mail me at member{n}@example.org"]


@dataclass
class Message:
    group: int
    author: int
    text: str
    kind: str  # chat, crisis, pii, command


def make_messages(count: int, members: int, seed: int) -> list[Message]:
    rng = random.Random(seed)
    out = []
    crisis_authors = iter(rng.sample(range(1, members + 1), k=count // 50 + 1))
    for _ in range(count):
        group = GROUP_BASE - rng.randrange(GROUPS)
        author = rng.randint(1, members)
        r = rng.random()
        if r < 0.02:
            out.append(Message(group, next(crisis_authors), rng.choice(CRISIS), "crisis"))
        elif r < 0.07:
            out.append(Message(group, author, rng.choice(PII).format(n=rng.randrange(10**6)), "pii"))
        elif r < 0.12:
            out.append(Message(group, author, "/rules", "command"))
        else:
            out.append(Message(group, author, rng.choice(CHAT), "chat"))
    return out


class TimedFake(FakeTelegramServer):
    """Notes when each effect of a message reaches Telegram."""

    def __init__(self) -> None:
        super().__init__(TOKEN)
        self.arrived: dict[tuple, float] = {}

    async def _api_sendmessage(self, p: dict) -> dict:
        now = time.perf_counter()
        reply_to = (p.get("reply_parameters") or {}).get("message_id")
        if int(p["chat_id"]) > 0:
            self.arrived.setdefault(("card", int(p["chat_id"])), now)
        elif reply_to is not None:
            self.arrived.setdefault(("reply", int(p["chat_id"]), int(reply_to)), now)
        return await super()._api_sendmessage(p)

    async def _api_deletemessage(self, p: dict) -> bool:
        self.arrived.setdefault(("deleted", int(p["chat_id"]), int(p["message_id"])), time.perf_counter())
        return await super()._api_deletemessage(p)


@dataclass
class Run:
    processes: int
    rate: float = 0.0  # the highest offered rate the ramp kept up with
    messages: int = 0  # posted in the run at that rate
    elapsed: float = 0.0
    finished: bool = True
    latencies: dict[str, list[float]] = field(default_factory=dict)
    rss: list[tuple[float, float]] = field(default_factory=list)  # (now, peak) MB per worker


def config_text(fake: FakeTelegramServer, port: int) -> str:
    communities = "".join(f"""
[communities.c{i}]
name = "Community {i}"
locale = "en-GB"
moderators = ["telegram:{MODERATOR}"]
[communities.c{i}.telegram]
chat_ids = [{GROUP_BASE - i}]
moderator_chat_id = {MODS_BASE - i}
""" for i in range(GROUPS))
    # The fake has no flood limits; Telegram's (30/s, 20/min a group) would be all this measured.
    return f"""
[haven]
log_level = "WARNING"
[adapters.telegram]
base_url = "{fake.base_url}"
base_file_url = "{fake.base_file_url}"
mode = "webhook"
webhook_listen = "127.0.0.1"
webhook_port = {port}
webhook_path = "/telegram"
webhook_url = "http://127.0.0.1:{port}/telegram"
overall_max_rate = 1000000
group_max_rate = 1000000000
""" + communities


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_mb(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def fresh_database(admin_url: str, members: int) -> tuple[str, str]:
    name = f"haven_scale_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as c:
        await c.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    url = f"{admin_url.rpartition('/')[0]}/{name}"
    now = datetime.now(UTC)
    async with Database(url) as db, db.sessions.begin() as s:  # migrates on entry
        for start in range(1, members + 1, 10_000):
            ids = range(start, min(start + 10_000, members + 1))
            await s.execute(insert(Member.__table__), [
                {"id": i, "platform": "telegram", "platform_user_id": str(i), "name": f"Member{i}", "consents": {},
                 "created_at": now, "last_seen_at": now} for i in ids])
            await s.execute(insert(Membership.__table__), [
                {"member_id": i, "community_id": f"c{i % GROUPS}", "joined_at": now} for i in ids])
        await s.execute(text(f"SELECT setval('members_id_seq', {members})"))
    return url, name


async def drop_database(admin_url: str, name: str) -> None:
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as c:
        await c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


async def start_workers(fake: FakeTelegramServer, count: int, db_url: str, folder: str) -> list:
    workers = []
    for n in range(count):
        port = free_port()
        config = Path(folder) / f"worker{n}.toml"
        config.write_text(config_text(fake, port), encoding="utf-8")
        env = {**os.environ, "HAVEN_TELEGRAM_TOKEN": TOKEN, "HAVEN_TELEGRAM_WEBHOOK_SECRET": SECRET,
               "HAVEN_DATABASE_URL": db_url}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "benchmarks" / "scale_worker.py"), str(config), env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        workers.append((proc, f"http://127.0.0.1:{port}/telegram"))
    for proc, _ in workers:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if line.strip() != b"ready":
            raise RuntimeError(f"a worker did not start: {line!r}")
    return workers


async def stop_workers(workers: list) -> None:
    for proc, _ in workers:
        if proc.returncode is None:
            proc.stdin.close()
    for proc, _ in workers:
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def one_run(args: argparse.Namespace, processes: int, messages: list[Message]) -> Run:
    run = Run(processes)
    url, name = await fresh_database(args.database_url, args.members)
    try:
        async with TimedFake() as fake:
            for i in range(GROUPS):
                for chat in (GROUP_BASE - i, MODS_BASE - i):
                    fake.add_chat(chat)
                    fake.set_admin(chat, fake.bot_user["id"])
            fake.add_user(MODERATOR, "Mira")
            authors = {m.author for m in messages}
            for author in authors:
                fake.add_user(author, f"Member{author}")
            for m in messages:
                if m.kind == "crisis":
                    fake.start_private_chat(m.author)
            with tempfile.TemporaryDirectory() as folder:
                workers = await start_workers(fake, processes, url, folder)
                try:
                    await drive(fake, workers, messages, run, args)
                    run.rss = [memory_mb(proc.pid) for proc, _ in workers]
                finally:
                    await stop_workers(workers)
    finally:
        await drop_database(args.database_url, name)
    return run


@dataclass
class Phase:
    messages: int
    elapsed: float  # from the first POST to the last effect (or to giving up on the missing ones)
    kept_up: bool  # every effect arrived within the settle time
    latencies: dict[str, list[float]]


async def phase(fake: TimedFake, session: ClientSession, workers: list, messages: list[Message], rate: float,
                settle: float) -> Phase:
    """Posts `messages` at `rate` a second, then waits up to `settle` seconds for their effects."""
    expected: list[tuple[str, tuple, float]] = []  # (kind, what arrives at the fake, when posted)

    async def post(url: str, m: Message) -> None:
        update = fake.push_message(m.group, m.author, m.text)
        message_id = update["message"]["message_id"]
        key = {"command": ("reply", m.group, message_id), "pii": ("deleted", m.group, message_id),
               "crisis": ("card", m.author)}.get(m.kind)
        posted = time.perf_counter()
        if key is not None:
            expected.append((m.kind, key, posted))
        async with session.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as resp:
            if resp.status != 200:
                raise RuntimeError(f"webhook answered {resp.status}")

    start = time.perf_counter()
    tasks = []
    for i, m in enumerate(messages):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(post(workers[i % len(workers)][1], m)))
    await asyncio.gather(*tasks)
    give_up = time.perf_counter() + settle
    while not all(e[1] in fake.arrived for e in expected) and time.perf_counter() < give_up:
        await asyncio.sleep(0.02)
    latencies: dict[str, list[float]] = {}
    last = start
    for kind, key, posted in expected:
        if key in fake.arrived:
            latencies.setdefault(kind, []).append(fake.arrived[key] - posted)
            last = max(last, fake.arrived[key])
    kept_up = all(e[1] in fake.arrived for e in expected)
    return Phase(len(messages), (last if kept_up else time.perf_counter()) - start, kept_up, latencies)


async def drive(fake: TimedFake, workers: list, messages: list[Message], run: Run, args: argparse.Namespace) -> None:
    left = iter(messages)
    async with ClientSession() as session:
        # Connections, caches and the first members' rows warm up before anything is judged.
        await phase(fake, session, workers, list(itertools.islice(left, int(args.rates[0] * args.step))),
                    args.rates[0], args.settle)
        await asyncio.sleep(args.settle)
        passed: list[float] = []
        for rate in args.rates:
            step = await phase(fake, session, workers, list(itertools.islice(left, int(rate * args.step))), rate,
                               args.settle)
            effects = [v for values in step.latencies.values() for v in values]
            p50 = pct(effects, 0.5)
            print(f"  ramp {rate:5,.0f} msg/s: p50 {p50:7.1f} ms, p99 {pct(effects, 0.99):7.1f} ms, "
                  f"{'kept up' if step.kept_up else 'fell behind'}")
            if not step.kept_up or p50 > args.max_p50:
                break
            passed.append(rate)
        sentinels = [Message(GROUP_BASE - g, MODERATOR, "/rules", "command") for g in range(GROUPS)]
        # A short step can pass at a rate whose queue grows too slowly to show in it; a run that falls
        # behind is reported and followed by one at the next lower rate, its queue drained first.
        for rate in passed[::-1][:2]:
            await asyncio.sleep(args.settle)
            main = list(itertools.islice(left, int(rate * args.duration))) + sentinels * len(workers)
            result = await phase(fake, session, workers, main, rate, args.deadline)
            run.rate, run.messages, run.elapsed, run.finished = rate, result.messages, result.elapsed, result.kept_up
            run.latencies = result.latencies
            throughput = result.messages / result.elapsed
            print(f"  run at {rate:,.0f} msg/s offered: {result.messages:,} messages in {result.elapsed:.1f} s, "
                  f"{throughput:,.0f} msg/s" + ("" if throughput >= 0.95 * rate else ", fell behind"))
            if throughput >= 0.95 * rate:
                break


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("nan")


async def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--members", type=int, default=100_000)
    p.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    p.add_argument("--rates", type=float, nargs="+", default=[100, 150, 200, 250, 300, 400, 600, 800],
                   help="offered rates the ramp tries, in order (messages a second)")
    p.add_argument("--step", type=float, default=4, help="seconds at each ramp rate")
    p.add_argument("--settle", type=float, default=2, help="seconds a step's effects may lag its last post")
    # A step has a hundred or so effects, so its p99 is one outlier; a queue that grows moves the median.
    p.add_argument("--max-p50", type=float, default=100, help="ms; a ramp step above this did not keep up")
    p.add_argument("--duration", type=float, default=20, help="seconds of the run at the rate found")
    p.add_argument("--deadline", type=float, default=30, help="seconds the run's effects may lag its last post")
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--database-url", default=os.environ.get("HAVEN_TEST_DATABASE_URL",
                                                            "postgresql+asyncpg://postgres@127.0.0.1:5432/test"))
    args = p.parse_args()
    messages = make_messages(MESSAGES, args.members, args.seed)
    kinds = {k: sum(m.kind == k for m in messages) for k in ("chat", "crisis", "pii", "command")}
    print(f"a mix of {MESSAGES:,} messages {kinds}, {args.members:,} members stored, {GROUPS} groups")
    rates = {}
    for n in args.processes:
        print(f"{n} process{'es' if n > 1 else ''}:")
        run = await one_run(args, n, messages)
        if run.rate == 0:
            print("  did not keep up with the lowest rate tried")
            continue
        rates[n] = run.messages / run.elapsed
        if not run.finished:
            print(f"  (effects still missing {args.deadline:.0f} s after the last post)")
        print(f"  the last run at {run.rate:,.0f} msg/s:")
        for kind, values in sorted(run.latencies.items()):
            print(f"  {kind:8} p50 {pct(values, 0.5):7.1f} ms  p99 {pct(values, 0.99):7.1f} ms  ({len(values)})")
        for i, (now, peak) in enumerate(run.rss):
            print(f"  worker {i}: RSS {now:.0f} MB at the end, peak {peak:.0f} MB")
    if 1 in rates and 2 in rates:
        print(f"sustained throughput, 2 processes / 1 process: {rates[2] / rates[1]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
