"""Words and phrases a community's moderators block or allow, on top of the built-in lexicons.

Patterns are literal text with an optional `*` at either end ("idiot*" also catches "idiots").
They compile into one Aho-Corasick automaton, so matching time grows with the message and the
matches, never with how a pattern is written: there is no user-supplied regex to backtrack.
Allow-list terms ("scunthorpe") cancel every block, built-in abuse or spam hit they contain.
"""

from __future__ import annotations

from collections.abc import Iterable

from moderation.lexicon import Hit, Lexicon, Rule, fold_phrase
from moderation.normalize import normalize

MIN_LENGTH = 3
MAX_LENGTH = 100
FILTER_CATEGORY = "spam.filter"
_BLOCK = Rule(FILTER_CATEGORY, "filter", 1)
_ALLOW = Rule("guard", "allow", 0, frozenset({"abuse", "spam"}))


class FilterError(ValueError):
    """A pattern a moderator cannot use, with a message meant for that moderator."""


def validate_pattern(pattern: str) -> str:
    """The pattern as it will be matched (folded like messages), or FilterError saying why not."""
    if not isinstance(pattern, str):
        raise FilterError("A filter must be text.")
    raw = pattern.strip()
    if not raw:
        raise FilterError("A filter cannot be empty.")
    if len(raw) > MAX_LENGTH:
        raise FilterError(f"A filter can be at most {MAX_LENGTH} characters long.")
    if any(ord(c) < 32 or c == "\x7f" for c in raw):
        raise FilterError("A filter cannot contain control characters or line breaks.")
    core = raw.strip("*")
    if not core.strip():
        raise FilterError("A filter needs some words, not only '*'.")
    if "*" in core:
        raise FilterError("'*' can only stand at the start or the end of a filter, as in 'spam*'.")
    if raw.startswith("**") or raw.endswith("**"):
        raise FilterError("Use a single '*' at each end.")
    folded, open_left, open_right = fold_phrase(raw)
    if len(folded.replace(" ", "")) < MIN_LENGTH:
        raise FilterError(f"A filter needs at least {MIN_LENGTH} letters or digits.")
    return ("*" if open_left else "") + folded + ("*" if open_right else "")


class CompiledFilters:
    """One community's filters, ready to match; immutable once built."""

    def __init__(self, block: tuple[str, ...], allow: tuple[str, ...]) -> None:
        self.block = block
        self.allow = allow
        self._lexicon = Lexicon(
            [(_BLOCK, p) for p in block] + [(_ALLOW, p) for p in allow]
        )
        self._allow_only = Lexicon([(_ALLOW, p) for p in allow])

    def __bool__(self) -> bool:
        return bool(self.block or self.allow)

    def hits(self, normalized_text: str) -> list[Hit]:
        """Block hits that no allow-list term covers."""
        return self._lexicon.scan(normalized_text)

    def allowed(self, normalized_text: str) -> list[tuple[int, int]]:
        """Where allow-list terms match: built-in abuse and spam hits inside them do not count."""
        return self._allow_only.guard_spans(normalized_text) if self.allow else []

    def test(self, text: str) -> list[str]:
        """The block patterns that would fire on `text`, for a moderator trying a filter out."""
        return list(dict.fromkeys(h.entry.phrase for h in self.hits(normalize(text).text)))


def compile_filters(entries: Iterable[tuple[str, bool]]) -> CompiledFilters:
    """`entries` are (pattern, allow); raises FilterError naming the first unusable pattern."""
    block: list[str] = []
    allow: list[str] = []
    for pattern, is_allow in entries:
        try:
            normalised = validate_pattern(pattern)
        except FilterError as err:
            raise FilterError(f"{pattern!r}: {err}") from None
        target = allow if is_allow else block
        if normalised not in target:
            target.append(normalised)
    return CompiledFilters(tuple(block), tuple(allow))
