"""Every verdict of a large fixed set of messages, to prove that a speed change changes none.

    .venv/bin/python -m tests.moderation.golden write /tmp/golden.jsonl   # before a change
    .venv/bin/python -m tests.moderation.golden check /tmp/golden.jsonl   # after it

The set is rebuilt each run rather than stored: the benchmark's chat mix, every text of the dev
sets in /work/shared/eval/dev (skipped if absent), the rows of the test tables, and seeded random
strings built from the pieces the fast paths branch on (digits, "@", capitals, invisible and
non-ASCII characters, leetspeak, spelled-out e-mail). Each text is screened with several locales,
and a part of them again with community filters, so every branch of `Pipeline.screen` is covered.
The output holds action, categories, severity, spans and reasons of each verdict.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEV = Path("/work/shared/eval/dev")
LOCALES = ("en", "en-GB", "es-MX", "fr", "de", "pt-BR", "xx")

_PIECES = [
    "i", "I", "want", "to", "die", "kill", "myself", "k1ll", "mys3lf", "d1e!!!", "call", "me", "on",
    "+44", "7911", "123456", "555-0100", "4111 1111 1111 1111", "GB82 WEST 1234 5698 7654 32", "@x",
    "@everyone", "jane", "at", "example", "dot", "com", "jane.doe@example.com", "WIN", "NOW", "FREE",
    "£100", "$5", "€", "http://x.ly/a", "www.x.com", "discord.gg/abc", "bit.ly", "sugar", "1.9",
    "chest", "pain", "sweating", "221", "Baker", "Street", "lives", "Hauptstraße", "5", "soooo",
    "s u i c i d e", "\u200b", "ｋｉｌｌ", "kіll", "é", "ß", "💙", "!", "?", ".", ",", "\n", "\t", "\x00",
    "vaccines", "cause", "autism", "stop", "insulin", "you", "stupid", "bitch", "dm", "crypto", "988",
    "116 123", "nhs", "943 476 5919", "078-05-1120", "192.168.0.1", "quiero", "matarme", "sterben",
    "ok", "lol", "the", "shop", "idiot", "scunthorpe", "spammy", "Calle", "Mayor", "12",
]


def _random_texts(count: int, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(count):
        words = rng.choices(_PIECES, k=rng.randint(0, 30))
        text = rng.choice((" ", " ", "", "  ")).join(words)
        if rng.random() < 0.2:
            text = "".join(chr(rng.randint(1, 0x2FFF)) for _ in range(rng.randint(0, 40))) + text
        yield text


def _dev_texts() -> Iterator[tuple[str, str]]:
    for path in sorted(DEV.glob("*.jsonl")):
        with open(path, encoding="utf-8") as source:
            for line in source:
                if line.strip():
                    row = json.loads(line)
                    yield row["text"], row.get("locale", "en")


def cases() -> Iterator[tuple[str, str, bool]]:
    """(text, locale, with filters), in a fixed order."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.screening import EVERYDAY, OTHER_LANGUAGES, RISKY, make_messages
    from tests.moderation.test_pipeline import ROWS

    texts: list[tuple[str, str]] = [(t, loc) for t, loc, _, _ in ROWS]
    texts += [(t, "en") for t in (*EVERYDAY, *OTHER_LANGUAGES, *RISKY)]
    texts += [(t, "en") for t in make_messages(20_000, 1)]
    texts += list(_dev_texts())
    texts += [(t, "en") for t in _random_texts(20_000, 7)]
    for i, (text, locale) in enumerate(texts):
        yield text, locale, False
        if i % 5 == 0:
            yield text, LOCALES[i % len(LOCALES)], False
        if i % 7 == 0:
            yield text, locale, True


def record(pipeline=None) -> Iterator[dict]:
    from moderation.filters import compile_filters
    from moderation.pipeline import Pipeline

    pipeline = pipeline or Pipeline.load()
    filters = compile_filters([("spammy", False), ("idiot*", False), ("*shop", False),
                               ("scunthorpe", True), ("stupid", True)])
    for text, locale, filtered in cases():
        verdict = pipeline.screen(text, locale=locale, filters=filters if filtered else None)
        yield {"text": text, "locale": locale, "filters": filtered, **verdict.to_json()}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("write", "check"):
        print(__doc__)
        return 2
    mode, path = argv
    if mode == "write":
        with open(path, "w", encoding="utf-8") as out:
            count = 0
            for row in record():
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
        print(f"{count} verdicts written to {path}")
        return 0
    with open(path, encoding="utf-8") as source:
        expected = [json.loads(line) for line in source]
    got = list(record())
    differences = [(e, g) for e, g in zip(expected, got) if e != g]
    for e, g in differences[:20]:
        print(f"DIFF {e['text'][:100]!r} [{e['locale']}{', filters' if e['filters'] else ''}]\n"
              f"  was {e}\n  now {g}")
    if len(expected) != len(got):
        print(f"count differs: {len(expected)} recorded, {len(got)} now")
    print(f"{len(got)} verdicts, {len(differences)} differences")
    return 1 if differences or len(expected) != len(got) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
