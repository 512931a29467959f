"""How fast Haven screens chat, against the filter most bot cogs use.

    .venv/bin/python benchmarks/screening.py [--messages 20000] [--seed 1] [--skip-cli] [--cli-messages N]

Pinned to one core. Generates a deterministic mix of chat-length messages (mostly everyday talk,
some in es/fr/de/pt, some with numbers, links, personal data, insults, spam and people in crisis),
then times, on the same messages:
  - the full pipeline in process (`Pipeline.screen`, every screener),
  - the baseline: one Python `re` alternation with `\\b` word boundaries over as many patterns as
    the lexicons hold (what a typical cog does with its word list),
  - `python -m bot screen --jsonl` in a subprocess, end to end (start-up included), on the same
    messages or, with --cli-messages, on that many from the same generator (start-up weighs less
    on more lines),
and the memory the loaded pipeline holds (tracemalloc).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moderation.lexicon import LexiconError, fold_phrase, parse  # noqa: E402
from moderation.pipeline import LEXICONS, Pipeline  # noqa: E402

EVERYDAY = [
    "morning all, how did everyone sleep?", "my cgm keeps falling off after two days, any tips?",
    "anyone tried the new pump update", "had a rough night but feeling a bit better now",
    "thanks so much, that really helped", "lol same", "my sugar was 7.8 after lunch, not bad",
    "doctor appointment tomorrow at 10, wish me luck", "does brain fog get better with rest?",
    "this migraine is killing me today", "I'm dying to know how the trial went",
    "these forms are killing me", "how do I kill a python process that hangs?",
    "happy 2 years sober to me!", "week 3 of pacing and I can walk to the shop again",
    "please don't give up, call 988 if it gets too much, we're here", "suicide awareness month starts friday",
    "who else is watching the match tonight", "ok", "good night everyone", "🙂🙂 thank you",
    "my therapist says small steps count", "is it normal to feel this tired after covid?",
    "ran out of test strips again, pharmacy closed", "I took my basal late, should I correct?",
    "sending hugs 💙", "that's brilliant news!!!", "soooo tired of waiting rooms",
    "the insulin price thing makes me so angry", "anyone in london want to meet up for coffee",
]
OTHER_LANGUAGES = [
    "¿alguien más con niebla mental después del covid?", "gracias a todos por el apoyo 💙",
    "je me sens un peu mieux aujourd'hui", "quelqu'un a essayé la nouvelle pompe ?",
    "ich bin heute so müde, aber es geht", "hat jemand Erfahrung mit dem neuen Sensor?",
    "bom dia pessoal, como vocês estão?", "minha glicose estava 110 hoje de manhã",
    "estoy muerto de risa con ese meme", "ça me tue ces formulaires",
]
RISKY = [
    "I want to die", "i dont want to live anymore", "k1ll mys3lf tonight", "my friend says he wants to kill himself",
    "sudden chest pain spreading to my jaw and I'm sweating", "my sugar is 1.9 and I'm shaking and confused",
    "ich möchte einfach nur sterben", "je vais me tuer ce soir", "quero me matar",
    "call me on +44 7911 123456", "mail me at jane.doe@example.com", "join discord.gg/freecrypto now",
    "guaranteed returns on crypto, dm me for details", "you stupid bitch", "vaccines cause autism, stop your insulin",
    "WINNER!! claim your prize now, txt WIN to 80086", "my address is 221 Baker Street",
]


def make_messages(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        roll = rng.random()
        pool = EVERYDAY if roll < 0.8 else OTHER_LANGUAGES if roll < 0.93 else RISKY
        text = rng.choice(pool)
        if rng.random() < 0.3:  # real chat strings thoughts together
            text = f"{text} {rng.choice(EVERYDAY)}"
        if rng.random() < 0.1:
            text = f"{text} {rng.randint(1, 999)}"
        out.append(text)
    return out


def baseline_regex() -> tuple[re.Pattern, int]:
    """The cog filter: every lexicon phrase in one case-insensitive alternation with \\b."""
    phrases = []
    for name in LEXICONS:
        text = (ROOT / "moderation" / "data" / "lexicons" / f"{name}.txt").read_text("utf-8")
        try:
            phrases.extend(fold_phrase(p)[0] for _, p in parse(text.splitlines(), name))
        except LexiconError as err:
            raise SystemExit(f"lexicon error: {err}") from None
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")\b", re.IGNORECASE)
    return pattern, len(phrases)


def best_rates(fns, messages: list[str], rounds: int = 5) -> list[float]:
    """The best of `rounds` timings of each function, taking turns: on a shared machine the load
    changes from second to second, and alternating lets both sides of the ratio see the same load."""
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn(messages)
            best[i] = min(best[i], time.perf_counter() - start)
    return [len(messages) / b for b in best]


def run_cli(messages: list[str]) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        for i, m in enumerate(messages):
            f.write(json.dumps({"id": i, "text": m}, ensure_ascii=False) + "\n")
        path = f.name
    try:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "bot", "screen", "--jsonl", path],
            cwd=ROOT, capture_output=True, check=True,
        )
        elapsed = time.perf_counter() - start
    finally:
        os.unlink(path)
    lines = done.stdout.count(b"\n")
    if lines != len(messages):
        raise SystemExit(f"screen --jsonl wrote {lines} lines for {len(messages)} messages")
    return len(messages) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--cli-messages", type=int, help="lines for screen --jsonl (default: --messages)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    pipeline = Pipeline.load()
    memory = (tracemalloc.get_traced_memory()[0] - before) / 2**20
    tracemalloc.stop()

    messages = make_messages(args.messages, args.seed)
    pattern, patterns = baseline_regex()
    search = pattern.search
    screen = pipeline.screen

    def run_pipeline(batch):
        for m in batch:
            screen(m)

    def run_baseline(batch):
        for m in batch:
            search(m)

    run_pipeline(messages[:2000])  # warm caches the way a running bot has them
    pipe_rate, base_rate = best_rates([run_pipeline, run_baseline], messages)
    flagged = sum(1 for m in messages if screen(m).categories)
    avg_len = sum(map(len, messages)) / len(messages)
    print(f"messages: {len(messages)} (seed {args.seed}, mean {avg_len:.0f} chars, {flagged} flagged)")
    print(f"pipeline, in process:      {pipe_rate:>10,.0f} msg/s")
    print(f"baseline re alternation:   {base_rate:>10,.0f} msg/s ({patterns} patterns)")
    print(f"ratio pipeline/baseline:   {pipe_rate / base_rate:>10.1f}x")
    if not args.skip_cli:
        cli_messages = messages if args.cli_messages is None else make_messages(args.cli_messages, args.seed)
        cli_rate = run_cli(cli_messages)
        print(f"screen --jsonl subprocess: {cli_rate:>10,.0f} msg/s (start-up included, {len(cli_messages)} lines)")
        print(f"ratio screen --jsonl/baseline: {cli_rate / base_rate:>6.1f}x")
    print(f"loaded pipeline memory:    {memory:>10.1f} MB (tracemalloc)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
