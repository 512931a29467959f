"""Every message through every screener, one verdict out.

Built once by the composition root with `Pipeline.load()`; `screen` is pure and thread-safe (the
pipeline holds no per-message state). A screener that raises does not let the message through: the
verdict holds it for a moderator and names the screener, while the flags the other screeners found
(a crisis above all) still count.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from string import ascii_lowercase

import ahocorasick

from moderation.filters import FILTER_CATEGORY, CompiledFilters
from moderation.lexicon import Hit, Lexicon
from moderation.model import TextModel
from moderation.normalize import MAYBE_LEET, SPACED_HINT, Normalized, normalize, spaced_reading
from moderation.screeners.base import LexiconScreener, Message, Screener, make_flag
from moderation.screeners import crisis
from moderation.screeners.crisis import CrisisScreener
from moderation.screeners.emergency import EmergencyScreener
from moderation.screeners.pii import SPELLED_AT, PiiConfig, PiiScreener
from moderation.screeners.spam import SpamScreener
from moderation.verdict import ALLOW, Action, Flag, Verdict, merge

logger = logging.getLogger(__name__)

LEXICONS = ("crisis", "emergency", "abuse", "spam", "misinformation")
MODELS = ("crisis", "spam")
# Families a community's allow-list can silence; crisis and medical help can never be switched off.
ALLOWABLE = frozenset({"abuse", "spam"})

# What any built-in screener looks at besides lexicon hits: digits (phone, card, address, readings,
# spam numbers), "@" (e-mail, mentions), currency, links, words in capitals (shouting spam). A
# message with none of these, no lexicon hit, no spelled-out e-mail and too short for the crisis
# model is "plain": every built-in screener returns nothing for it (`quiet_when_plain`), so the
# pipeline answers without calling them. Most chat is plain. One regex for all of them would be
# tried at every position of the text; the parts start on a character the engine skips to, or are
# plain substring tests, and the two rarer ones run only after their literal is found.
_CUE_CHAR = re.compile(r"[\d@£$€]")
_DOMAIN = re.compile(r"\.(?:com|net|org|ly|gg|io)\b", re.IGNORECASE)
_CAPITALS = re.compile(r"\b[A-Z]{3,}\b")

# Most chat is ASCII, and ASCII text folds to its lower case unless it holds a leetspeak character
# beside a letter, a run of three letters or spaced-out letters. The literal signs of those, the
# literal cues above and every lexicon phrase go into one automaton, each key tagged with what it
# stands for, so one pass over the lower-cased text shows whether the message can skip folding and
# the phrase scan, and whether it is plain; the rest get one cheap regex each. Every check is a
# necessary condition of what it stands for (a phrase without its word boundaries, three capitals
# anywhere), so a shortcut can only send a message the long way, never skip something that counts.
_PHRASE, _RUN, _LEET, _CUE, _SPELLED = 1, 2, 4, 8, 16
_ASCII_SPACES = [c for c in map(chr, range(128)) if re.match(r"\s", c)]
_ASCII_KEYS = (
    *((c, _CUE | _LEET) for c in "0123456789@$"), *((c, _LEET) for c in "|+"),
    # "!" changes a word only before a letter ("k!ll"); "great!!!" folds to itself
    *((f"!{c}", _LEET) for c in ascii_lowercase),
    *((c * 3, _RUN) for c in ascii_lowercase),
    *((c, _CUE) for c in ("://", "www.", ".com", ".net", ".org", ".ly", ".gg", ".io")),
    # every string `SPELLED_AT` matches in lower-case ASCII, so the automaton answers for it
    *((c, _SPELLED) for c in ("(at)", "[at]", "{at}")),
    *((f"{a}{at}{b}", _SPELLED) for at in ("at", "@") for a in _ASCII_SPACES for b in _ASCII_SPACES),
)
_SHOUT = re.compile(r"[A-Z][A-Z][A-Z]")


def _ascii_automaton(phrases: list[str]) -> ahocorasick.Automaton:
    kinds: dict[str, int] = dict.fromkeys(phrases, _PHRASE)
    for key, kind in _ASCII_KEYS:
        kinds[key] = kinds.get(key, 0) | kind
    automaton = ahocorasick.Automaton()
    for key, kind in kinds.items():
        automaton.add_word(key, kind)
    automaton.make_automaton()
    return automaton


class Pipeline:
    def __init__(self, lexicon: Lexicon, screeners: list[Screener], *, shortcuts: bool = True) -> None:
        """`shortcuts=False` screens every message the long way, for tests that compare the two."""
        self.lexicon = lexicon
        self.screeners = tuple(screeners)
        self._shortcuts = shortcuts
        # a screener that does not promise silence on plain messages is always called
        self._plain_shortcut = shortcuts and all(getattr(s, "quiet_when_plain", False) for s in self.screeners)
        # the screeners with something to say about a message without a lexicon hit
        self._hitless = tuple(
            s for s in self.screeners if not (shortcuts and getattr(s, "quiet_without_hits", False))
        )
        self._ascii_keys = _ascii_automaton(lexicon.phrases()).iter

    @classmethod
    def load(cls, *, models: Mapping[str, TextModel | None] | None = None) -> Pipeline:
        """Read lexicons and models from the package data; no network.

        `models` replaces shipped models by name (None switches one off); training uses it to
        measure a model on data it was not trained on.
        """
        models = dict(models or {})
        for name in MODELS:
            if name not in models:
                models[name] = TextModel.from_package(name)
        pii = PiiConfig.from_package()
        return cls(
            Lexicon.from_package(LEXICONS),
            [
                CrisisScreener(models["crisis"]),
                EmergencyScreener(),
                PiiScreener(pii),
                LexiconScreener("abuse"),
                SpamScreener(models["spam"], pii.public_numbers),
                LexiconScreener("misinformation"),
            ],
        )

    def screen(self, text: str, *, locale: str = "en", filters: CompiledFilters | None = None) -> Verdict:
        flags: list[Flag] = []
        try:
            quick = False
            if not filters and self._shortcuts and text.isascii():
                low = text.lower()
                found = 0
                for _, kind in self._ascii_keys(low):
                    found |= kind
                quick = not (
                    found & (_PHRASE | _RUN) or SPACED_HINT.search(low) or (found & _LEET and MAYBE_LEET.search(low))
                )
            if quick:
                # the folded text is `low` and no phrase occurs in it: no hits, no offsets to map
                if self._plain_shortcut and not (
                    found & _CUE or _SHOUT.search(text) or crisis.eligible(low)
                    or (found & _SPELLED and ("." in low or "dot" in low))
                ):
                    return ALLOW
                message = Message(text, locale, Normalized(text, low, []), [])
            else:
                message = self._message(text, locale, filters, flags)
                if message is None:
                    return ALLOW
        except Exception as err:  # noqa: BLE001 - fail safe: hold the message, keep screening
            logger.exception("screener lexicon failed")
            flags.append(_failure("lexicon", err))
            message = Message(text, locale, Normalized(text, text.lower(), []), [])
        for screener in self.screeners if message.hits else self._hitless:
            try:
                flags.extend(screener.screen(message))
            except Exception as err:  # noqa: BLE001 - one broken screener must not let a post through
                logger.exception("screener %s failed", screener.name)
                flags.append(_failure(screener.name, err))
        return merge(flags)

    def _message(self, text: str, locale: str, filters: CompiledFilters | None, flags: list[Flag]) -> Message | None:
        """Fold, scan and build the message; None if it is plain. Filter hits go into `flags`."""
        normalized = normalize(text)
        hits = self.lexicon.scan(normalized.text)
        spaced = spaced_reading(text)
        if spaced is not None:
            alternative = normalize(spaced)
            alternative_hits = self.lexicon.scan(alternative.text)
            if len(alternative_hits) > len(hits):
                normalized = Normalized(text, alternative.text, alternative.layers)
                hits = alternative_hits
        if not hits and not filters and self._plain_shortcut and _plain(text, normalized.text):
            return None
        if not filters:
            return Message(text, locale, normalized, hits)
        hits, filter_hits = _apply_filters(filters, normalized.text, hits)
        message = Message(text, locale, normalized, hits)
        flags.extend(
            make_flag(FILTER_CATEGORY, 1, f"filter: {hit.entry.phrase}",
                      [message.span(hit.start, hit.end, FILTER_CATEGORY)])
            for hit in filter_hits
        )
        return message


def _plain(text: str, folded: str) -> bool:
    if (_CUE_CHAR.search(text) or "://" in text or "www." in text or ("." in text and _DOMAIN.search(text))
            or (_SHOUT.search(text) and _CAPITALS.search(text)) or crisis.eligible(folded)):
        return False
    return not (("dot" in folded or "." in folded) and SPELLED_AT.search(folded))


def _apply_filters(filters: CompiledFilters, text: str, hits: list[Hit]) -> tuple[list[Hit], list[Hit]]:
    allowed = filters.allowed(text)
    if allowed:
        hits = [
            h for h in hits
            if h.entry.rule.family not in ALLOWABLE or not any(s <= h.start and h.end <= e for s, e in allowed)
        ]
    return hits, filters.hits(text)


def _failure(name: str, err: Exception) -> Flag:
    # "error.<screener>" is outside every family on purpose: an error asks a moderator to look, it
    # does not claim that someone is at risk or that the post holds personal data.
    return Flag(f"error.{name}", Action.HOLD, 0, f"screener {name} failed: {type(err).__name__}: {err}")
