"""Flooding and repeated messages, per author in a community: the one screener with memory.

Not part of `Pipeline.screen` (which is pure); the engine keeps one `FloodTracker` and calls
`observe` with a key such as f"{community}:{author}". Memory is bounded: at most `max_keys` authors
are remembered (least recently seen forgotten first), each with a short, bounded history.
"""

from __future__ import annotations

from collections import OrderedDict, deque

from moderation.normalize import normalize
from moderation.screeners.base import make_flag
from moderation.verdict import Flag


class FloodTracker:
    def __init__(self, max_messages: int = 6, per_seconds: float = 10.0, max_repeats: int = 3,
                 repeat_window: float = 120.0, max_keys: int = 50_000) -> None:
        if max_messages < 1 or max_repeats < 1 or per_seconds <= 0 or repeat_window <= 0 or max_keys < 1:
            raise ValueError("flood limits must be positive")
        self.max_messages = max_messages
        self.per_seconds = per_seconds
        self.max_repeats = max_repeats
        self.repeat_window = repeat_window
        self.max_keys = max_keys
        # key -> recent (time, folded text), oldest first
        self._seen: OrderedDict[str, deque[tuple[float, str]]] = OrderedDict()

    def observe(self, key: str, text: str, at: float) -> Flag | None:
        """Record one message; a spam flag if this author floods or repeats themselves."""
        history = self._seen.pop(key, None)
        if history is None:
            history = deque(maxlen=max(self.max_messages, self.max_repeats) * 4)
        self._seen[key] = history
        while len(self._seen) > self.max_keys:
            self._seen.popitem(last=False)
        horizon = at - max(self.per_seconds, self.repeat_window)
        while history and history[0][0] < horizon:
            history.popleft()
        folded = " ".join(normalize(text).text.split())
        history.append((at, folded))
        recent = sum(1 for t, _ in history if t > at - self.per_seconds)
        if recent > self.max_messages:
            return make_flag("spam.flood", 1, f"spam.flood: more than {self.max_messages} messages "
                                              f"in {self.per_seconds:g} seconds")
        if folded:
            repeats = sum(1 for t, f in history if f == folded and t > at - self.repeat_window)
            if repeats > self.max_repeats:
                return make_flag("spam.repeat", 1, f"spam.repeat: the same message more than "
                                                   f"{self.max_repeats} times in {self.repeat_window:g} seconds")
        return None

    def __len__(self) -> int:
        return len(self._seen)
