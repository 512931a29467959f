"""What every screener shares: the message it reads, the action policy, flags from lexicon hits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from moderation.lexicon import Hit
from moderation.normalize import Normalized
from moderation.verdict import Action, Flag, Span


class Message:
    """One message as every screener sees it; built once per `Pipeline.screen` call and only read
    after that. A plain slotted class rather than a frozen dataclass: a frozen dataclass assigns
    each field through `object.__setattr__`, which cost more than some screeners' whole work."""

    __slots__ = ("text", "locale", "normalized", "hits", "by_family")

    def __init__(self, text: str, locale: str, normalized: Normalized, hits: list[Hit]) -> None:
        self.text = text  # as written
        self.locale = locale
        self.normalized = normalized
        # lexicon hits on the normalised text, guards already applied
        self.hits: tuple[Hit, ...] = tuple(hits)
        by_family: dict[str, list[Hit]] = {}
        for hit in hits:
            by_family.setdefault(hit.entry.rule.family, []).append(hit)
        self.by_family = by_family

    def span(self, start: int, end: int, category: str) -> Span:
        """A span on the normalised text, mapped back to the original offsets."""
        s, e = self.normalized.original_span(start, end)
        return Span(s, e, category)

    def hits_for(self, family: str) -> list[Hit]:
        return self.by_family.get(family, [])


class Screener(Protocol):
    """Optional promises the pipeline uses to skip a call (a screener without them is always
    called): `quiet_when_plain`, nothing to say on a plain message (see `pipeline._plain`);
    `quiet_without_hits`, nothing to say on a message without a lexicon hit."""

    name: str

    def screen(self, message: Message) -> list[Flag]: ...


def action_for(category: str, severity: int) -> Action:
    """Haven's policy: people at risk get help and stay visible; harm to others leaves the room."""
    family = category.split(".", 1)[0]
    if family in ("crisis", "emergency"):
        return Action.FLAG
    if family == "misinformation":
        return Action.HOLD
    if family == "abuse" and severity < 2:
        return Action.HOLD  # an insult between peers: a moderator decides
    return Action.REMOVE


def make_flag(category: str, severity: int, reason: str, spans: Iterable[Span] = ()) -> Flag:
    return Flag(category, action_for(category, severity), severity, reason, tuple(spans))


def flags_from_hits(message: Message, hits: Iterable[Hit]) -> list[Flag]:
    """One flag per rule that fired, naming the phrases, with a span for every hit."""
    if not hits:
        return []
    grouped: dict[tuple[str, str], list[Hit]] = {}
    for hit in hits:
        grouped.setdefault((hit.entry.rule.category, hit.entry.rule.name), []).append(hit)
    flags = []
    for (category, name), group in grouped.items():
        phrases = ", ".join(dict.fromkeys(f'"{h.entry.phrase}"' for h in group))
        flags.append(
            make_flag(
                category,
                max(h.entry.rule.severity for h in group),
                f"{category} {name}: {phrases}",
                (message.span(h.start, h.end, category) for h in group),
            )
        )
    return flags


# Insult words count only when aimed at someone: a second-person word right before them, with at most
# a few fillers between ("you idiot", "you're such a loser", "eres un idiota", "t'es vraiment débile",
# "du bist so dumm", "você é um idiota"). Anything else between ("you're not stupid", "you know what's
# stupid? the waiting list") means the word is not said to anyone.
# Matched on the normalised text, which has lost its accents ("espèce" reads "espece").
_SECOND_PERSON = frozenset({
    "you", "u", "ya", "ur", "you're", "youre", "tu", "eres", "usted", "t'es", "toi", "vous",
    "espece", "du", "bist", "dich", "voce", "vc", "seu", "sua",
})
_FILLERS = frozenset({
    "a", "an", "are", "r", "is", "such", "so", "really", "absolute", "complete", "total", "utter", "big",
    "fucking", "fuckin", "f*cking", "f*ckin", "fking", "effing", "freaking", "bloody", "damn", "stupid",
    "dumb", "little", "un", "una", "muy", "tan", "es", "une", "etes", "vraiment", "trop", "de", "d'",
    "ein", "eine", "echt", "voll", "um", "uma", "e", "muito", "tao",
})
_MAX_FILLERS = 3
# A message that is only the insult ("what a moron", "shut up idiot") is said to someone too, unless
# the writer is talking about themselves ("such an idiot me").
_SHORT = 3
_FIRST = frozenset({"i", "i'm", "im", "me", "my", "myself", "yo", "je", "moi", "ich", "eu"})
_AROUND_A_WORD = "\"()[]*,;:.!?"


def addressed(text: str, start: int, vocative: bool) -> bool:
    before = text[max(0, start - 60):start].split()
    for word in reversed(before[-(_MAX_FILLERS + 1):]):
        word = word.strip(_AROUND_A_WORD)
        if word in _SECOND_PERSON:
            return True
        if word not in _FILLERS:
            break
    if not vocative:
        return False
    words = text.split()
    return len(words) <= _SHORT and _FIRST.isdisjoint(w.strip(_AROUND_A_WORD) for w in words)


class LexiconScreener:
    """A family judged by its phrases alone (misinformation, abuse). A rule may ask for its words to
    be aimed at someone: context `you` (see `addressed`), or `vocative`, which also takes a message
    that is only the insult."""

    quiet_when_plain = True  # nothing to say without a lexicon hit
    quiet_without_hits = True

    def __init__(self, family: str) -> None:
        self.name = family
        self._family = family

    def screen(self, message: Message) -> list[Flag]:
        hits = message.hits_for(self._family)
        if any(h.entry.rule.context for h in hits):
            text = message.normalized.text
            hits = [h for h in hits if not h.entry.rule.context
                    or addressed(text, h.start, h.entry.rule.context == "vocative")]
        return flags_from_hits(message, hits)
