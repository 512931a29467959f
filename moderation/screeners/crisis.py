"""Someone at risk: `crisis.self` for the writer, `crisis.other` for someone they speak about."""

from __future__ import annotations

from moderation.lexicon import Hit
from moderation.model import TextModel
from moderation.screeners.base import Message, flags_from_hits, make_flag
from moderation.verdict import Flag

# For phrases such as "want to die" whose subject decides everything: the nearest of these words
# before the phrase decides ("I really want to die" counts, "do you want to die?" and "I don't want
# to die" do not).
_FIRST_PERSON = frozenset({"i", "i'm", "im", "i've", "ive", "i'd", "me", "myself", "i'll", "ill"})
_NOT_FIRST_PERSON = frozenset({
    "you", "u", "ya", "he", "she", "they", "we", "it", "who", "if", "nobody", "noone", "anyone",
    "everyone", "people", "don't", "dont", "not", "never", "didn't", "didnt", "doesn't", "doesnt",
    "won't", "wont", "no", "why", "whether", "his", "her", "their", "him", "them", "someone", "somebody",
})
_LOOKBACK_WORDS = 4


def first_person(text: str, start: int) -> bool:
    words = text[max(0, start - 48):start].split()
    for word in reversed(words[-_LOOKBACK_WORDS:]):
        word = word.strip("\"()[]*,;:")
        if word in _FIRST_PERSON:
            return True
        if word in _NOT_FIRST_PERSON or word.endswith((".", "!", "?")):
            return False
    return False


# The statistical tier was trained on Reddit posts; it only reads messages of post length, where
# distress is spread over words that no single phrase captures. Short chat lines are judged by the
# phrases alone: one line says too little for word weights learnt from posts.
MODEL_MIN_WORDS = 40


def eligible(text: str) -> bool:
    return text.count(" ") >= MODEL_MIN_WORDS


class CrisisScreener:
    name = "crisis"
    quiet_when_plain = True  # needs a lexicon hit or a message long enough for the model

    def __init__(self, model: TextModel | None = None) -> None:
        self._model = model

    def screen(self, message: Message) -> list[Flag]:
        text = message.normalized.text
        if not message.hits and (self._model is None or not eligible(text)):
            return []  # most chat: nothing to check, skip building the lists below
        hits: list[Hit] = [
            hit
            for hit in (*message.hits_for("crisis.self"), *message.hits_for("crisis.other"))
            if hit.entry.rule.context != "self" or first_person(text, hit.start)
        ]
        flags = flags_from_hits(message, hits)
        if not flags and self._model is not None and eligible(text):
            score = self._model.flags(text)
            if score is not None:
                flags.append(make_flag(
                    "crisis.self", 3, f"crisis.self model: reads like someone struggling to stay safe ({score:.2f})"
                ))
        return flags
