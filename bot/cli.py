"""`python -m bot` / `haven`: run Haven, try it in a terminal, check a config, screen text."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

# `screen` and `eval` need only the moderation package; asyncio and the config (pydantic) are
# imported by the commands that use them, so a `screen --jsonl` run in a pipeline starts quickly.
if TYPE_CHECKING:
    from bot.config import Config

log = logging.getLogger("haven")

USAGE_CONSOLE = "python -m bot console --config config.example.toml --as alice --community t1d"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="haven", description="Haven, a peer-support bot for patient communities.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("console", help="talk to Haven in this terminal (no tokens, no network)")
    c.add_argument("--config", default="config.toml", help="config file (default: config.toml)")
    c.add_argument("--as", dest="speaker", required=True, help="who you are, e.g. alice")
    c.add_argument("--community", help="the room you are in (default: the first community)")
    c.add_argument("--locale", help="your language and country, e.g. en-GB, de-DE, pt-BR")

    r = sub.add_parser("run", help="run every adapter that has a token")
    r.add_argument("--config", default="config.toml")

    k = sub.add_parser("check-config", help="validate a config file")
    k.add_argument("file")

    d = sub.add_parser("db", help="database maintenance")
    d.add_argument("action", choices=["upgrade"])
    d.add_argument("--config", default="config.toml")

    sub.add_parser("screen", help="screen text: screen \"some text\" or screen --jsonl FILE", add_help=False)
    sub.add_parser("eval", help="measure the screeners on labelled JSON Lines files", add_help=False)
    return p


# Libraries whose DEBUG and INFO lines carry what Haven's logs must never hold: httpx logs every
# Bot API URL, and the Telegram token is part of each; python-telegram-bot, discord.py and aiosqlite
# log request bodies, gateway payloads and query parameters, which are members' messages. Their
# warnings and errors still show.
LIBRARY_LOGGERS = ("aiosqlite", "asyncpg", "sqlalchemy", "httpx", "httpcore", "telegram", "discord", "aiohttp")


def quiet_libraries() -> None:
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def _logging(config: Config | None, level: str | None = None) -> None:
    lvl = level or (config.haven.log_level if config else "INFO")
    if config is not None and config.haven.json_logs:
        fmt = '{"at":"%(asctime)s","level":"%(levelname)s","logger":"%(name)s","msg":"%(message)s"}'
    else:
        fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=lvl, format=fmt, stream=sys.stderr, force=True)
    quiet_libraries()


def _load(path: str) -> Config:
    from bot.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        raise SystemExit(1) from None


async def _console(args: argparse.Namespace, config: Config) -> int:
    from adapters.console import ConsoleAdapter
    from bot.app import App
    from bot.config import LOCALE_RE

    community = args.community or next(iter(config.communities))
    if community not in config.communities:
        print(f"--community {community}: no such community; choose one of {', '.join(config.communities)}",
              file=sys.stderr)
        return 2
    bound = config.communities[community].console
    if bound is not None and not bound.enabled:
        print(f"--community {community}: the console is switched off for it in the config", file=sys.stderr)
        return 2
    if args.locale and not LOCALE_RE.match(args.locale):
        print(f"--locale {args.locale}: use a form like en-GB, de-DE or pt-BR", file=sys.stderr)
        return 2
    try:
        console = ConsoleAdapter(speaker=args.speaker, community=community)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    async with App(config, [console]) as app:
        if args.locale:
            language, _, country = args.locale.partition("-")
            me = await app.store.member("console", args.speaker, args.speaker, app.clock())
            await app.store.set_locale(me.id, language=language, country=country or None)
        await console.run()
    return 0


async def _run(config: Config) -> int:
    import asyncio
    import signal

    from bot.app import App

    adapters = []
    if config.telegram_token:
        from adapters.telegram.adapter import TelegramAdapter

        adapters.append(TelegramAdapter(config))
    if config.discord_token:
        from adapters.discord.adapter import DiscordAdapter

        adapters.append(DiscordAdapter(config))
    if not adapters:
        print("No platform token is set (HAVEN_TELEGRAM_TOKEN, HAVEN_DISCORD_TOKEN), so there is nothing to "
              f"connect to.\nTo try Haven in this terminal:\n  {USAGE_CONSOLE}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with App(config, adapters):
        log.info("Haven is running on %s", ", ".join(a.platform for a in adapters))
        await stop.wait()
        log.info("shutting down")
    return 0


async def _db_upgrade(config: Config) -> int:
    from bot.storage.database import Database

    async with Database(config.storage.url):
        pass
    print("database is up to date")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("screen", "eval"):
        from moderation import cli as moderation_cli

        _logging(None, "WARNING")
        if argv[0] == "screen":
            return moderation_cli.run_screen(argv[1:], sys.stdin, sys.stdout)
        return moderation_cli.run_eval(argv[1:], sys.stdout)
    import asyncio

    from bot.config import ConfigError, load_config

    args = _parser().parse_args(argv)
    if args.command == "check-config":
        try:
            load_config(args.file)
        except ConfigError as e:
            print(f"config error: {e}", file=sys.stderr)
            return 1
        print(f"{args.file}: OK")
        return 0
    from bot.storage.database import StorageError

    config = _load(args.config)
    try:
        if args.command == "console":
            _logging(config, "WARNING")
            return asyncio.run(_console(args, config))
        _logging(config)
        if args.command == "run":
            return asyncio.run(_run(config))
        return asyncio.run(_db_upgrade(config))
    except StorageError as e:
        print(f"storage error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
