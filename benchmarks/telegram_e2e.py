"""Haven on Telegram under load, end to end, against a bare python-telegram-bot Application on the same wire.

    .venv/bin/python benchmarks/telegram_e2e.py [--messages 20000] [--crisis-share 0.02] [--groups 10]
                                                [--in-flight 64] [--seed 1] [--database sqlite|postgresql]
                                                [--profile haven.prof]

Both runs push the same messages (short everyday chat spread over `--groups` community groups, a share
of people in crisis, each from their own account and each having started the bot) into the fake Bot
API (tests/fakes/telegram_server.py), which the real library long-polls, at most `--in-flight`
unhandled at a time:
  - baseline: a bare PTB Application whose handler does nothing, except answer each crisis message
    with a private message, the same sendMessage Haven's card needs;
  - Haven: the real TelegramAdapter and App (engine, screening, outbox, moderator alerts) on SQLite in
    a temporary folder or a fresh PostgreSQL database, with the send limits raised for the fake.
It reports throughput, p50/p99 latency from push to handled for every message, and from push to the
private card reaching the fake for crisis messages. The fake shares the process and its event loop
(its HTTP and JSON work is in both runs), so the ratio to the baseline is the figure to trust.
Stops by itself: a run that does not finish within --deadline seconds is reported as such.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402
from telegram.ext import ApplicationBuilder, ContextTypes, TypeHandler  # noqa: E402

from adapters.telegram.adapter import TelegramAdapter  # noqa: E402
from benchmarks.e2e import (  # noqa: E402
    CHAT_AUTHORS, CRISIS, Message, Result, Run, TimedApp, arguments, compare, database, make_messages, profiled,
    report,
)
from bot.config import parse_config  # noqa: E402
from moderation.pipeline import Pipeline  # noqa: E402
from tests.fakes.telegram_server import FakeTelegramServer  # noqa: E402

GROUP_BASE = -1002000000000
MODS_BASE = -1003000000000
TOKEN = "123456:BENCHMARK"

COMMUNITY = """
[communities.c{i}]
name = "Community {i}"
locale = "en-GB"
[communities.c{i}.telegram]
chat_ids = [{group}]
moderator_chat_id = {mods}
"""


def make_load(fake: FakeTelegramServer, args: argparse.Namespace) -> list[Message]:
    for i in range(args.groups):
        for chat in (GROUP_BASE - i, MODS_BASE - i):
            fake.add_chat(chat)
            fake.set_admin(chat, fake.bot_user["id"])
    chatters = [fake.add_user(10_000 + i)["id"] for i in range(CHAT_AUTHORS)]
    in_crisis = [fake.add_user(100_000 + i)["id"] for i in range(round(args.messages * args.crisis_share))]
    for user in in_crisis:
        fake.start_private_chat(user)
    return make_messages(args.messages, args.crisis_share, chatters, in_crisis, CRISIS,
                         lambda rng: GROUP_BASE - rng.randrange(args.groups), args.seed)


class TimedFake(FakeTelegramServer):
    """Notes when the first message the bot sends to each chat arrives."""

    def __init__(self) -> None:
        super().__init__(TOKEN)
        self.first_arrival: dict[int, float] = {}

    async def _api_sendmessage(self, p: dict) -> dict:
        self.first_arrival.setdefault(int(p["chat_id"]), time.perf_counter())
        return await super()._api_sendmessage(p)

    async def push(self, m: Message) -> tuple[int, int]:
        return m.where, self.push_message(m.where, m.author, m.text)["message"]["message_id"]


async def run_baseline(args: argparse.Namespace) -> dict[str, float]:
    result = Result("python-telegram-bot alone")
    run = Run(result, args.in_flight)
    crisis_texts = set(CRISIS)
    async with TimedFake() as fake:
        messages = make_load(fake, args)

        async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            message = update.message
            if message.text in crisis_texts:
                await context.bot.send_message(message.from_user.id, "You can talk to someone now: Samaritans, 116 123.")
            run.done((message.chat.id, message.message_id))

        app = (ApplicationBuilder().token(TOKEN).base_url(fake.base_url).concurrent_updates(True)
               .job_queue(None).build())  # fmt: skip
        app.add_handler(TypeHandler(Update, on_update))
        async with app:
            await app.start()
            await app.updater.start_polling(timeout=1)
            await run.bounded(run.push_all(messages, fake.push), args.deadline)
            await app.updater.stop()
            await app.stop()
    return report(result, fake.first_arrival.get, "card")


async def run_haven(args: argparse.Namespace, pipeline: Pipeline) -> dict[str, float]:
    result = Result(f"Haven (App + TelegramAdapter, {args.database})")
    run = Run(result, args.in_flight)
    async with TimedFake() as fake, database(args.database) as url:
        messages = make_load(fake, args)
        # The fake has no flood limits; Telegram's own (30/s, 20/min a group) would be all we measured.
        text = f"""
[adapters.telegram]
base_url = "{fake.base_url}"
base_file_url = "{fake.base_file_url}"
poll_timeout = 1
overall_max_rate = 1000000
group_max_rate = 1000000000
""" + "".join(COMMUNITY.format(i=i, group=GROUP_BASE - i, mods=MODS_BASE - i) for i in range(args.groups))
        config = parse_config(text, env={"HAVEN_TELEGRAM_TOKEN": TOKEN, "HAVEN_DATABASE_URL": url})
        async with TimedApp(config, [TelegramAdapter(config)], pipeline=pipeline, run_scheduler=False,
                            done=run.done, key=lambda e: (int(e.chat_id), int(e.message_id))):
            with profiled(args.profile):
                await run.bounded(run.push_all(messages, fake.push), args.deadline)
    return report(result, fake.first_arrival.get, "card")


async def main() -> int:
    args = arguments(__doc__, **{"--groups": dict(type=int, default=10, help="community groups the chat is spread over")})
    logging.basicConfig(level=logging.ERROR)
    pipeline = Pipeline.load()
    print(f"{args.messages:,} messages in {args.groups} groups, {args.crisis_share:.0%} crises, "
          f"at most {args.in_flight} in flight\n")
    base = await run_baseline(args)
    haven = await run_haven(args, pipeline)
    compare(base, haven, args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
