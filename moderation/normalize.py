"""One normal form for every screener, with a way back to the original offsets.

People write "k1ll mys3lf", "s u i c i d e", "ｋｉｌｌ", "kіll" (Cyrillic i) or hide zero-width
characters between letters, on purpose or not. Every lexicon is written in the folded form this
module produces, so the screeners never see those variations.

Most chat is ASCII: that path uses only C-speed string methods and regexes. Steps that change the
length record *edits* (replaced regions) rather than a per-character map; mapping a span back walks
those few edits, so a message that matched nothing never pays for the map.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

# Characters that render as nothing or only change direction; used to split words invisibly.
_INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u200b\u200c\u200d\u200e"
    "\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069"
    "\u206a\u206b\u206c\u206d\u206e\u206f\u3164\ufe00\ufe01\ufe02\ufe03\ufe04\ufe05\ufe06\ufe07"
    "\ufe08\ufe09\ufe0a\ufe0b\ufe0c\ufe0d\ufe0e\ufe0f\ufeff\uffa0"
)

# Letters from other scripts that look like Latin ones (after NFKC and casefold). Only the ones
# that pass for Latin letters in running text: folding real Greek or Cyrillic words is harmless,
# because no lexicon is written in those scripts.
_CONFUSABLES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "һ": "h",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ɡ": "g",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ς": "s", "σ": "o",
    # Latin look-alikes that NFKC keeps
    "ı": "i", "ȷ": "j", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŧ": "t", "ß": "ss", "æ": "ae",
    "œ": "oe", "þ": "th", "ð": "d", "ſ": "s",
    # typographic quotes, so "I’m" reads like "I'm"
    "‘": "'", "’": "'", "ʼ": "'", "“": '"', "”": '"',
}

# Leetspeak, applied only inside words that mix letters with these characters ("k1ll", "$uicide"),
# so prices, dates, glucose readings and phone numbers stay as they are.
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                       "$": "s", "!": "i", "|": "l", "8": "b", "+": "t"})
_LEET_WORD = re.compile(r"[a-z0134578@$!|+]*[a-z][a-z0134578@$!|+]*")
_LEET_CHARS = frozenset("0134578@$!|+")
# A leetspeak character beside a letter: the only place `_LEET_WORD` changes anything. A "!" counts
# only before a letter or another leetspeak character ("k!ll", "k!1l"): after a word it ends a
# sentence ("thank you!"), which `_unleet_word` leaves alone. Written character first, so the regex
# engine skips straight to the few candidates.
MAYBE_LEET = re.compile(r"[0134578@$|+](?:(?<=[a-z].)|(?=[a-z]))|!(?=[a-z0134578@$|+])")

# Four or more single letters separated by one space, dot, dash or underscore: "s u i c i d e".
_SPACED = re.compile(r"(?<![a-z])(?:[a-z][ ._\-*]){3,}[a-z](?![a-z])")
# Three or more of the same letter: "soooo" becomes "soo" (two keeps "good" and "too" intact).
# Digits are left alone: "1000" is a number, not emphasis.
_RUNS = re.compile(r"([^\W\d_])\1\1+")
# Cheap necessary conditions of the two patterns above, searched first because they start on a
# character the regex engine can skip to and rarely match chat: the middle of every spaced-out word,
# any character three times.
SPACED_HINT = re.compile(r"[ ._\-*][a-z][ ._\-*][a-z][ ._\-*]")
_TRIPLE = re.compile(r"(.)\1\1", re.DOTALL)


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    if ch in _INVISIBLE:
        return ""
    out = []
    for c in unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", ch)):
        if unicodedata.combining(c):
            continue  # accents: "suicídio" and "suicidio" are the same word in chat
        cat = unicodedata.category(c)
        if cat == "Cf" or (cat == "Cc" and c not in "\n\t"):
            continue
        c = c.casefold()
        out.append("".join(_CONFUSABLES.get(x, x) for x in c))
    return "".join(out)


@dataclass(frozen=True, slots=True)
class _Edit:
    """A region of the previous text (old_start:old_end) replaced by new_start:new_end."""

    new_start: int
    new_end: int
    old_start: int
    old_end: int


def _back(edits: list[_Edit], starts: list[int], pos: int, is_end: bool) -> int:
    i = bisect_right(starts, pos) - 1
    if i < 0:
        return pos
    e = edits[i]
    if pos < e.new_end or (is_end and pos == e.new_end):
        return e.old_end if is_end and pos > e.new_start else e.old_start
    return pos - e.new_end + e.old_end


class Normalized:
    """The folded text of one message; `original_span` maps folded offsets back."""

    __slots__ = ("original", "text", "_layers")

    def __init__(self, original: str, text: str, layers: list[list[_Edit]]) -> None:
        self.original = original
        self.text = text
        self._layers = layers  # one list of edits per length-changing step, oldest first

    @property
    def layers(self) -> list[list[_Edit]]:
        return self._layers

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        for edits in reversed(self._layers):
            starts = [e.new_start for e in edits]
            start, end = _back(edits, starts, start, False), _back(edits, starts, end, True)
        n = len(self.original)
        start = min(max(start, 0), n)
        return start, min(max(end, start), n)


def _delete(text: str, ranges: list[tuple[int, int]]) -> tuple[str, list[_Edit]]:
    """Drop the given sorted, disjoint ranges; each becomes an empty edit so offsets stay exact."""
    parts: list[str] = []
    edits: list[_Edit] = []
    last = removed = 0
    for start, end in ranges:
        parts.append(text[last:start])
        edits.append(_Edit(start - removed, start - removed, start, end))
        removed += end - start
        last = end
    parts.append(text[last:])
    return "".join(parts), edits


def _spaced_separators(text: str) -> list[tuple[int, int]]:
    return [(i, i + 1) for m in _SPACED.finditer(text) for i in range(m.start() + 1, m.end(), 2)]


def _run_tails(text: str) -> list[tuple[int, int]]:
    return [(m.start() + 2, m.end()) for m in _RUNS.finditer(text)]


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _fold_unicode(text: str) -> tuple[str, list[_Edit]]:
    """Lower-case ASCII at C speed; fold only the non-ASCII characters one by one."""
    parts: list[str] = []
    edits: list[_Edit] = []
    last = 0
    shift = 0
    for m in _NON_ASCII.finditer(text):
        i = m.start()
        parts.append(text[last:i].lower())
        folded = _fold_char(m.group())
        parts.append(folded)
        if len(folded) != 1:
            edits.append(_Edit(i + shift, i + shift + len(folded), i, i + 1))
            shift += len(folded) - 1
        last = i + 1
    parts.append(text[last:].lower())
    return "".join(parts), edits


def _unleet_word(m: re.Match) -> str:
    word = m.group()
    if word.isalpha():
        return word
    core = word.rstrip("!")  # "die!!!" ends a sentence, it does not spell "dieiii"
    return core.translate(_LEET) + word[len(core):]


_INVISIBLE_RUN = re.compile("[" + "".join(sorted(_INVISIBLE)) + "]+")


def spaced_reading(text: str) -> str | None:
    """The text with each invisible character as a space, or None if it holds none.

    An invisible character either splits a word ("ki\u200bll", which `normalize` joins back) or
    stands between two words ("kill\u200bmyself", which joining hides). Nothing tells the two apart,
    so the pipeline reads both and keeps the reading that matches more phrases. A run becomes one
    space per character, so offsets stay those of the original text.
    """
    if text.isascii() or not _INVISIBLE_RUN.search(text):
        return None
    return _INVISIBLE_RUN.sub(lambda m: " " * len(m.group()), text)


def normalize(text: str) -> Normalized:
    layers: list[list[_Edit]] = []
    if text.isascii():
        folded = text.lower()
    else:
        folded, edits = _fold_unicode(text)
        if edits:
            layers.append(edits)
    if MAYBE_LEET.search(folded):
        # length-preserving, so no edits to record
        folded = _LEET_WORD.sub(_unleet_word, folded)
    for hint, pattern, removals in ((SPACED_HINT, _SPACED, _spaced_separators), (_TRIPLE, _RUNS, _run_tails)):
        if hint.search(folded) and pattern.search(folded):
            folded, edits = _delete(folded, removals(folded))
            layers.append(edits)
    return Normalized(text, folded, layers)
