"""Guess the language of a short chat message, so a crisis card reaches a member in their own
language when they have not chosen one. Only a fallback: a wrong guess costs more than None,
which leaves the community default in place."""

from __future__ import annotations

import re
from collections import Counter

# Function words frequent in chat and rare in the other four languages. Words shared between
# languages ("a", "que", "de", "no", "me", "se", "en", "la", "die"...) would only add noise.
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "i i'm im you the and is are was to of it this that my me don't dont can't cant want "
        "what with have just not be so but feel like anymore any more about do am it's really "
        "they we he she how why today tonight".split()
    ),
    "es": frozenset(
        "yo el los las una es estoy quiero ya mi muy pero por para con del lo nada ser tengo "
        "puedo más mas también esto eso hoy noche seguir vivir quiero cómo como porque estar "
        "siento nadie".split()
    ),
    "fr": frozenset(
        "je j'ai tu il elle les des est suis pas plus ne veux mon ma mes et avec pour dans ce "
        "c'est ça moi vais être rien ce soir aujourd'hui très mais qui".split()
    ),
    "de": frozenset(
        "ich du er sie es das der die und ist bin nicht mehr will möchte einfach nur mein meine "
        "mich mir auch aber mit auf zu kann heute nacht sterben leben wie warum was".split()
    ),
    "pt": frozenset(
        "eu você voce não nao estou quero mais meu minha muito com para uma isso hoje noite "
        "nada ninguém ninguem também tambem sou tô to mim viver morrer".split()
    ),
}
# Overlaps ("to", "mais", "como") are removed so a word shared by two languages never votes.
_SHARED = {w for w, n in Counter(w for ws in _STOPWORDS.values() for w in ws).items() if n > 1}
_SIGNALS = {lang: words - _SHARED for lang, words in _STOPWORDS.items()}

_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
MIN_SIGNALS = 2


def detect_language(text: str) -> str | None:
    """One of "en", "es", "fr", "de", "pt"; None when fewer than two words point the same way or two
    languages tie."""
    scores = dict.fromkeys(_SIGNALS, 0)
    for token in _TOKEN.findall(text.lower().replace("’", "'")):
        for lang, words in _SIGNALS.items():
            if token in words:
                scores[lang] += 1
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < MIN_SIGNALS or top == second:
        return None
    return best
