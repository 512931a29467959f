"""A small linear text model shipped as data: word and word-pair weights in a JSON file.

Used where phrase lists cannot carry the judgement alone (SMS-style spam, long posts about risk).
The weights come from `moderation/training/train.py`; scoring is a handful of dict look-ups, no
numpy, no download.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from itertools import repeat
from string import ascii_letters, digits

_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+|[£$€!?]|https?://|www\.")
# The same tokens on ASCII text, where the Unicode letter class costs twice the time for nothing.
_ASCII_TOKEN = re.compile(r"[a-zA-Z]+(?:'[a-zA-Z]+)?|\d+|[$!?]|https?://|www\.")


_DIGIT = re.compile(r"\d")
_NUMBER_NAMES = tuple(f"<{n}>" for n in range(13))  # a number's feature: its length, up to 12

# `_ASCII_TOKEN` without a regex match per token, for the scoring path. Every ASCII character that
# is never part of a token becomes a space, "$!?" become tokens of their own and every digit becomes
# "0", so splitting on whitespace gives the same tokens, a number spelled as zeros of its length,
# wherever a word is only letters (with at most one inner apostrophe) or only digits. The model's
# number features are stored under those zeros too (see `_ZEROS`), so no token needs renaming.
# `_ASCII_AWKWARD` finds every other place, and those texts take the regex: an apostrophe not
# between two letters or a second one in a word ("'quote'", "rock'n'roll", "90's"), a digit beside
# a letter ("k1ll") and numbers of thirteen digits or more (all named "<12>"). The search starts
# only on digits and apostrophes, so chat passes quickly.
_ASCII_SPLIT = str.maketrans({
    c: c if c in ascii_letters or c == "'" else "0" if c in digits else f" {c} " if c in "$!?" else " "
    for c in map(chr, range(128))
})
_ASCII_AWKWARD = re.compile(
    r"'(?:(?<![a-zA-Z].)|(?![a-zA-Z])|[a-zA-Z]+')|[0-9](?:(?<=[a-zA-Z].)|(?=[a-zA-Z]|[0-9]{12}))"
)
# A number's feature as the scoring path spells it: "<3>" is "000". Training never produces a
# feature made of digits, so these keys cannot collide with a word.
_ZEROS = {name: "0" * width for width, name in enumerate(_NUMBER_NAMES) if width}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


_FIRST = frozenset({"i", "i'm", "im", "me", "my", "myself", "i've", "ive", "i'd", "id", "i'll", "mine"})
_SECOND = frozenset({"you", "your", "you're", "youre", "u", "ur", "yourself", "you've", "youve"})
# Death, self-harm and hopelessness, for the person features below.
_HARM = re.compile(
    r"\b(?:die|dying|dead|death|suicid\w*|kill\w*|overdos\w*|pills|cut|cutting|hang\w*|gun|rope|"
    r"worthless|hopeless|alone|pain|attempt\w*|end it|give up|gave up)\b"
)
_SENTENCE = re.compile(r"[.!?\n]+")


def person_features(text: str, words: list[str]) -> set[str]:
    """Who the post is about: the share of first- and second-person words, and whether death or
    self-harm shares a sentence with "I" or with "you". A peer talking someone down writes "you"
    next to the same words a person at risk writes next to "I"."""
    n = max(len(words), 1)
    first = sum(w in _FIRST for w in words)
    second = sum(w in _SECOND for w in words)
    feats = {f"#first{min(10 * first // n, 4)}", f"#second{min(10 * second // n, 4)}",
             "#first>second" if first > second else "#second>=first"}
    for sentence in _SENTENCE.split(text):
        if _HARM.search(sentence):
            sentence_words = set(_WORD.findall(sentence))
            if not sentence_words.isdisjoint(_FIRST):
                feats.add("#first+harm")
            if not sentence_words.isdisjoint(_SECOND):
                feats.add("#second+harm")
    return feats


def features(text: str, person: bool = False) -> set[str]:
    """Words, numbers by their length ("<5>" for "87121"), symbols, and adjacent word pairs; with
    `person`, also the person features."""
    tokens = (_ASCII_TOKEN if text.isascii() else _TOKEN).findall(text)
    if _DIGIT.search(text):
        tokens = [t if not t[0].isdigit() else _NUMBER_NAMES[min(len(t), 12)] for t in tokens]
    feats = set(tokens)
    feats.update(map(" ".join, zip(tokens, tokens[1:])))
    if person:
        feats |= person_features(text, [t for t in tokens if t[0].isalpha()])
    return feats


def _ascii_tokens(text: str) -> list[str]:
    """`features`' tokens of an ASCII text, numbers spelled as zeros of their length (see `_ZEROS`)."""
    if _ASCII_AWKWARD.search(text):
        return [t if not t[0].isdigit() else "0" * min(len(t), 12) for t in _ASCII_TOKEN.findall(text)]
    return text.translate(_ASCII_SPLIT).split()


@dataclass(frozen=True, slots=True)
class TextModel:
    bias: float
    weights: dict[str, float]
    threshold: float  # probability at or above which the model flags
    person: bool = False  # whether the model reads the person features too
    # Whether the weight sum is divided by the square root of the text's feature count, so a long
    # post does not score high merely by holding many mildly weighted words (the crisis model).
    length_norm: bool = False
    # The weights split by kind: words alone, and word pairs keyed by the two tokens, so scoring
    # looks a pair up without joining it into a string first; numbers spelled as `_ascii_tokens`
    # spells them.
    _words: dict[str, float] = field(init=False, repr=False, compare=False)
    _pairs: dict[tuple[str, str], float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        words, pairs = {}, {}
        for key, weight in self.weights.items():
            first, space, second = key.partition(" ")
            first = _ZEROS.get(first, first)
            if space:
                pairs[first, _ZEROS.get(second, second)] = weight
            else:
                words[first] = weight
        object.__setattr__(self, "_words", words)
        object.__setattr__(self, "_pairs", pairs)

    @classmethod
    def from_package(cls, name: str) -> TextModel:
        path = resources.files("moderation") / "data" / "models" / f"{name}.json"
        raw = json.loads(path.read_text("utf-8"))
        return cls.build(float(raw["bias"]), {k: float(v) for k, v in raw["weights"].items()},
                         float(raw["threshold"]), bool(raw.get("person", False)),
                         bool(raw.get("length_norm", False)))

    @classmethod
    def build(cls, bias: float, weights: dict[str, float], threshold: float, person: bool = False,
              length_norm: bool = False) -> TextModel:
        return cls(bias, weights, threshold, person, length_norm)

    def flags(self, normalized_text: str) -> float | None:
        """The score if it reaches the threshold, else None. Which messages are worth scoring is the
        screener's call (`eligible` in each screener module), and training measures with the same."""
        score = self.score(normalized_text)
        return score if score >= self.threshold else None

    def score(self, normalized_text: str) -> float:
        if self.length_norm:
            feats = features(normalized_text, self.person)
            z = self.bias + sum(map(self.weights.get, feats, repeat(0.0))) / math.sqrt(max(len(feats), 1))
        elif self.person or not normalized_text.isascii():
            z = self.bias + sum(map(self.weights.get, features(normalized_text, self.person), repeat(0.0)))
        else:
            # the same features as `features`, each distinct word and pair counted once
            tokens = _ascii_tokens(normalized_text)
            z = (self.bias + sum(map(self._words.get, set(tokens), repeat(0.0)))
                 + sum(map(self._pairs.get, set(zip(tokens, tokens[1:])), repeat(0.0))))
        if z < -30:  # exp() would overflow
            return 0.0
        return 1.0 / (1.0 + math.exp(-z)) if z < 30 else 1.0
