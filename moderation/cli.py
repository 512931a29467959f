"""`screen` and `eval`, the moderation half of Haven's command line.

`screen --jsonl FILE|-` is a stable contract other tools rely on: one JSON object in per line, one
out per line, same order; a line that cannot be read gets `{"id": ..., "error": ...}` instead of
stopping the run. Lines are streamed, so the input can be any size.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring
from typing import IO

from moderation.pipeline import Pipeline
from moderation.verdict import ALLOW, CRISIS_CATEGORIES, Action, Verdict

_WORDS = {
    Action.ALLOW: "Allowed: nothing in this message needs attention.",
    Action.FLAG: "Flagged: the message stays up and Haven reaches out (care or a trusted source).",
    Action.HOLD: "Held: a moderator looks at the message before anyone else sees it.",
    Action.REMOVE: "Removed: the message is taken down and the author is told why, privately.",
}


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would exit the whole process
        raise _UsageError(message)


def _screen_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="screen", description="Screen messages with Haven's moderation pipeline.")
    parser.add_argument("text", nargs="?", help="a message to explain")
    parser.add_argument("--jsonl", metavar="FILE", help="JSON Lines to screen, '-' for stdin")
    parser.add_argument("--locale", default="en", help="locale for text without one (en, es-MX, en-GB)")
    return parser


def run_screen(argv: list[str], stdin: IO, stdout: IO, pipeline: Pipeline | None = None) -> int:
    try:
        args = _screen_parser().parse_args(argv)
        if (args.text is None) == (args.jsonl is None):
            raise _UsageError("give either a message or --jsonl FILE")
    except _UsageError as err:
        stdout.write(f"screen: {err}\nusage: screen \"some text\" [--locale xx] | screen --jsonl FILE|-\n")
        return 2
    pipeline = pipeline or Pipeline.load()
    if args.text is not None:
        stdout.write(explain(pipeline.screen(args.text, locale=args.locale), args.text))
        stdout.flush()
        return 0
    if args.jsonl == "-":
        _screen_lines(pipeline, _byte_lines(stdin), stdout, args.locale)
    else:
        try:
            source = open(args.jsonl, "rb")  # noqa: SIM115 - closed below, after streaming
        except OSError as err:
            stdout.write(f"screen: cannot read {args.jsonl}: {err.strerror}\n")
            return 1
        with source:
            _screen_lines(pipeline, source, stdout, args.locale)
    stdout.flush()
    return 0


def _byte_lines(stream: IO) -> Iterable[bytes | str]:
    return getattr(stream, "buffer", stream)


# What `json.dumps(..., ensure_ascii=False)` writes, without building a new encoder for every line.
_encode = json.JSONEncoder(ensure_ascii=False).encode
# Most lines are allowed, and an allowed line's JSON is its id followed by this.
_ALLOWED_AFTER_ID = _encode(ALLOW.to_json())[len('{"id": null'):]
# Lines written at once: a write per line cost about as much as screening an everyday message.
# Output to a pipe was never flushed line by line, so no reader could rely on that.
_BATCH = 256


def _screen_lines(pipeline: Pipeline, lines: Iterable[bytes | str], stdout: IO, locale: str) -> None:
    batch: list[str] = []
    for number, raw in enumerate(lines, 1):
        batch.append(_screen_one(pipeline, raw, number, locale))
        if len(batch) == _BATCH:
            stdout.write("".join(batch))
            batch.clear()
    stdout.write("".join(batch))


def _screen_one(pipeline: Pipeline, raw: bytes | str, number: int, locale: str) -> str:
    """The output line for one input line, newline included."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            return _error(None, f"line {number}: not valid UTF-8 (byte {err.start})")
    raw = raw.strip()
    if raw.startswith("\ufeff"):
        raw = raw[1:]
    try:
        item = json.loads(raw)
    except ValueError as err:
        return _error(None, f"line {number}: not JSON: {err}")
    if not isinstance(item, dict):
        return _error(None, f"line {number}: expected a JSON object")
    id_ = item.get("id")
    text = item.get("text")
    if not isinstance(text, str):
        return _error(id_, f"line {number}: \"text\" must be a string")
    line_locale = item.get("locale", locale)
    if not isinstance(line_locale, str):
        return _error(id_, f"line {number}: \"locale\" must be a string")
    verdict = pipeline.screen(text, locale=line_locale)
    if verdict is ALLOW:
        return f'{{"id": {_id_json(id_)}{_ALLOWED_AFTER_ID}\n'
    return _encode(verdict.to_json(id_)) + "\n"


def _id_json(id_: object) -> str:
    """`_encode(id_)`; the encoder sets itself up on each call, which costs more than the rest of an
    allowed line, so the usual ids (an int or a string) are written the way it writes them."""
    if type(id_) is int:
        return int.__repr__(id_)
    if type(id_) is str:
        return encode_basestring(id_)
    return _encode(id_)


def _error(id_: object, message: str) -> str:
    return _encode({"id": id_, "error": message}) + "\n"


def explain(verdict: Verdict, text: str) -> str:
    lines = [_WORDS[verdict.action]]
    if verdict.crisis:
        lines.append("Someone may be at risk: Haven replies with care and local crisis lines, "
                     "and tells the moderators.")
    for reason in verdict.reasons:
        lines.append(f"  - {reason}")
    for span in verdict.spans:
        lines.append(f"  [{span.start}:{span.end}] {span.category}: {text[span.start:span.end]!r}")
    if verdict.categories:
        lines.append(f"Categories: {', '.join(verdict.categories)}; severity {verdict.severity} of 4.")
    return "\n".join(lines) + "\n"


def _family(category: str) -> str:
    head, _, rest = category.partition(".")
    return f"{head}.{rest.split('.', 1)[0]}" if head in ("crisis", "emergency") else head


def _read_eval(path: str) -> Iterator[dict]:
    with open(path, encoding="utf-8") as source:
        for line in source:
            if line.strip():
                yield json.loads(line)


def run_eval(argv: list[str], stdout: IO, pipeline: Pipeline | None = None) -> int:
    parser = _Parser(prog="eval", description="Precision, recall and false positives per category.")
    parser.add_argument("files", nargs="+")
    parser.add_argument("--show-errors", type=int, default=0, metavar="N",
                        help="print up to N misses and N false alarms per category")
    try:
        args = parser.parse_args(argv)
    except _UsageError as err:
        stdout.write(f"eval: {err}\nusage: eval FILE... [--show-errors N]\n")
        return 2
    pipeline = pipeline or Pipeline.load()
    stdout.write(f"{'file':<24} {'category':<18} {'n':>6} {'pos':>6} {'precision':>9} {'recall':>7} {'fp rate':>8}\n")
    for path in args.files:
        try:
            rows = list(_read_eval(path))
        except (OSError, ValueError) as err:
            stdout.write(f"eval: cannot read {path}: {err}\n")
            return 1
        _eval_file(pipeline, path, rows, stdout, args.show_errors)
    stdout.flush()
    return 0


def _eval_file(pipeline: Pipeline, path: str, rows: list[dict], stdout: IO, show: int) -> None:
    rows = [r for r in rows if not r.get("ambiguous")]
    truth = [{_family(c) for c in r.get("labels", [])} for r in rows]
    found = []
    for r in rows:
        verdict = pipeline.screen(r["text"], locale=r.get("locale", "en"))
        found.append({f.family for f in verdict.flags})
    families = sorted({f for t in truth for f in t})
    name = path.rsplit("/", 1)[-1]
    for family in families:
        c = Counter()
        misses, alarms = [], []
        for row, t, p in zip(rows, truth, found):
            key = (family in t, family in p)
            c[key] += 1
            if key == (True, False):
                misses.append(row)
            elif key == (False, True):
                alarms.append(row)
        _write_row(stdout, name, family, c)
        for label, sample in (("missed", misses), ("false alarm", alarms)):
            for row in sample[:show]:
                stdout.write(f"    {label}: {row.get('id')}: {row['text'][:160]!r}\n")
    if any(f in CRISIS_CATEGORIES for f in families):
        safe = [p for t, p in zip(truth, found) if not t]
        flagged = sum(1 for p in safe if p & CRISIS_CATEGORIES)
        rate = flagged / len(safe) if safe else 0.0
        stdout.write(f"{name:<24} {'crisis (any), safe':<18} {len(safe):>6} {'':>6} {'':>9} {'':>7} {rate:>8.3f}\n")


def _write_row(stdout: IO, name: str, family: str, c: Counter) -> None:
    tp, fn, fp, tn = c[(True, True)], c[(True, False)], c[(False, True)], c[(False, False)]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    fpr = fp / (fp + tn) if fp + tn else 0.0
    n = tp + fn + fp + tn
    stdout.write(f"{name:<24} {family:<18} {n:>6} {tp + fn:>6} {precision:>9.3f} {recall:>7.3f} {fpr:>8.3f}\n")
