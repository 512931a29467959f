"""The one result every screener contributes to: flags in, a single frozen verdict out."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

CATEGORIES = (
    "crisis.self",
    "crisis.other",
    "emergency.medical",
    "pii",
    "abuse",
    "spam",
    "misinformation",
)
CRISIS_CATEGORIES = frozenset({"crisis.self", "crisis.other", "emergency.medical"})


class Action(IntEnum):
    """Ordered by severity so that merging is `max`."""

    ALLOW = 0
    FLAG = 1  # post stays; Haven reacts (crisis care, a trusted source) and records it
    HOLD = 2  # post kept back until a moderator approves it
    REMOVE = 3  # post taken out of the room; the author is told privately

    @property
    def label(self) -> str:
        return self.name.lower()


def family_of(category: str) -> str:
    """`pii.phone` -> `pii`; the crisis families keep their second part: `crisis.self.plan` -> `crisis.self`."""
    head, _, rest = category.partition(".")
    if head in ("crisis", "emergency"):
        return f"{head}.{rest.split('.', 1)[0]}"
    return head


@dataclass(frozen=True, slots=True)
class Span:
    start: int  # offsets into the original, un-normalised text
    end: int
    category: str


@dataclass(frozen=True, slots=True)
class Flag:
    """What one screener found. `category` may carry a subtype: `pii.phone`."""

    category: str
    action: Action
    severity: int  # 0 (none) .. 4 (life at risk)
    reason: str  # which rule fired, readable by a moderator
    spans: tuple[Span, ...] = ()

    @property
    def family(self) -> str:
        return family_of(self.category)


@dataclass(frozen=True, slots=True)
class Verdict:
    action: Action
    categories: tuple[str, ...]
    severity: int
    spans: tuple[Span, ...]
    reasons: tuple[str, ...]
    flags: tuple[Flag, ...] = field(default=(), repr=False)

    @property
    def crisis(self) -> str | None:
        """The most severe crisis family flagged, if any."""
        found = [f for f in self.flags if f.family in CRISIS_CATEGORIES]
        if not found:
            return None
        return max(found, key=lambda f: f.severity).family

    def has(self, family: str) -> bool:
        return any(f.family == family for f in self.flags)

    def to_json(self, id_: object = None) -> dict:
        return {
            "id": id_,
            "action": self.action.label,
            "categories": list(self.categories),
            "severity": self.severity,
            "spans": [{"start": s.start, "end": s.end, "category": s.category} for s in self.spans],
            "reasons": list(self.reasons),
        }


ALLOW = Verdict(Action.ALLOW, (), 0, (), ())


def merge(flags: list[Flag] | tuple[Flag, ...]) -> Verdict:
    """Union of flags: the most severe action wins, every category and reason is kept."""
    if not flags:
        return ALLOW
    categories: list[str] = []
    for f in flags:
        if f.category not in categories:
            categories.append(f.category)
    return Verdict(
        action=max(f.action for f in flags),
        categories=tuple(categories),
        severity=max(f.severity for f in flags),
        spans=tuple(sorted({s for f in flags for s in f.spans}, key=lambda s: (s.start, s.end, s.category))),
        reasons=tuple(dict.fromkeys(f.reason for f in flags)),
        flags=tuple(flags),
    )
