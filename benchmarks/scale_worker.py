"""One Haven process for benchmarks/scale.py: the real App and TelegramAdapter in webhook mode.

    .venv/bin/python benchmarks/scale_worker.py CONFIG_FILE

Tokens and the database come from the environment, as with `python -m bot run`. Prints `ready` once
it takes updates, and stops when its standard input closes (the benchmark holds the other end), so
it never outlives the benchmark.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.telegram.adapter import TelegramAdapter  # noqa: E402
from bot.app import App  # noqa: E402
from bot.cli import quiet_libraries  # noqa: E402
from bot.config import load_config  # noqa: E402


async def main(config_file: str) -> None:
    quiet_libraries()
    config = load_config(config_file)
    async with App(config, [TelegramAdapter(config)]):
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
