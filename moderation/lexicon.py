"""Every phrase list in one Aho-Corasick automaton, scanned once per message.

A lexicon file is plain text, one phrase per line, under section headers:

    @rule crisis.self intent 4      phrases that raise a flag: category, rule name, severity
    @rule crisis.self intent 4 self the same, counted only where a screener's context check agrees
    @guard crisis.self crisis.other phrases that cancel the listed families' hits they contain

`*` at either end of a phrase means "any word ending/beginning here" (`insulin*` also matches
`insulins`); otherwise a hit must start and end on a word boundary. Phrases are normalised with the
same function as messages, so lexicons can be written with accents and capitals.

Guards are how idioms stay quiet: "dying to know" contains no rule phrase today, but "please don't
kill yourself" contains the abuse phrase "kill yourself", and the guard cancels it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources

import ahocorasick

from moderation.normalize import normalize
from moderation.verdict import family_of


class LexiconError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Rule:
    category: str
    name: str
    severity: int
    cancels: frozenset[str] = frozenset()  # non-empty for a guard: the families it cancels
    context: str = ""  # a check the owning screener applies before counting a hit

    @property
    def family(self) -> str:
        return family_of(self.category)


@dataclass(frozen=True, slots=True)
class Entry:
    rule: Rule
    phrase: str  # as written in the lexicon, for reasons
    length: int  # of the folded phrase without wildcards
    open_left: bool
    open_right: bool


@dataclass(frozen=True, slots=True)
class Hit:
    start: int  # offsets into the normalised text
    end: int
    entry: Entry


def fold_phrase(phrase: str) -> tuple[str, bool, bool]:
    """Normalise a phrase the way messages are; report and strip its wildcards."""
    raw = phrase.strip()
    open_left, open_right = raw.startswith("*"), raw.endswith("*")
    core = raw.strip("*").strip()
    folded = " ".join(normalize(core).text.split())
    return folded, open_left, open_right


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def parse(lines: Iterable[str], source: str) -> Iterator[tuple[Rule, str]]:
    rule: Rule | None = None
    for number, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("@"):
            head, *args = line[1:].split()
            if head == "rule" and len(args) in (3, 4) and args[2].isdigit():
                rule = Rule(args[0], args[1], int(args[2]), context="".join(args[3:]))
            elif head == "guard" and args:
                rule = Rule("guard", "guard", 0, frozenset(args))
            else:
                raise LexiconError(f"{source}:{number}: bad header {line!r}")
            continue
        if rule is None:
            raise LexiconError(f"{source}:{number}: phrase before any @rule or @guard")
        yield rule, line


class Lexicon:
    """One automaton over many phrases; `scan` returns the hits that survive the guards."""

    def __init__(self, items: Iterable[tuple[Rule, str]]) -> None:
        self._automaton = ahocorasick.Automaton()
        keys: dict[str, list[Entry]] = {}
        count = 0
        for rule, phrase in items:
            folded, open_left, open_right = fold_phrase(phrase)
            if not folded:
                raise LexiconError(f"phrase {phrase!r} is empty once normalised")
            keys.setdefault(folded, []).append(
                Entry(rule, phrase.strip(), len(folded), open_left, open_right)
            )
            count += 1
        for key, entries in keys.items():
            self._automaton.add_word(key, tuple(entries))
        self.size = count
        if keys:
            self._automaton.make_automaton()
        self._empty = not keys

    @classmethod
    def from_package(cls, names: Iterable[str]) -> Lexicon:
        folder = resources.files("moderation") / "data" / "lexicons"
        items: list[tuple[Rule, str]] = []
        for name in names:
            text = (folder / f"{name}.txt").read_text(encoding="utf-8")
            items.extend(parse(text.splitlines(), f"{name}.txt"))
        return cls(items)

    def phrases(self) -> list[str]:
        """Every folded phrase in the automaton, rules and guards alike."""
        return [] if self._empty else list(self._automaton.keys())

    def scan(self, text: str) -> list[Hit]:
        """Rule hits on `text` that no guard covers."""
        hits, guards = self._raw(text)
        if guards and hits:
            hits = [h for h in hits if not any(_covers(g, h) for g in guards)]
        return hits

    def guard_spans(self, text: str) -> list[tuple[int, int]]:
        return [(g.start, g.end) for g in self._raw(text)[1]]

    def _raw(self, text: str) -> tuple[list[Hit], list[Hit]]:
        hits: list[Hit] = []
        guards: list[Hit] = []
        if self._empty:
            return hits, guards
        n = len(text)
        for last, entries in self._automaton.iter(text):
            end = last + 1
            for entry in entries:
                start = end - entry.length
                if not entry.open_left and start > 0 and _is_word(text[start - 1]):
                    continue
                if not entry.open_right and end < n and _is_word(text[end]):
                    continue
                (guards if entry.rule.cancels else hits).append(Hit(start, end, entry))
        return hits, guards


def _covers(guard: Hit, hit: Hit) -> bool:
    return (
        hit.entry.rule.family in guard.entry.rule.cancels
        and guard.start <= hit.start
        and hit.end <= guard.end
    )
