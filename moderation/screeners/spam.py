"""Selling, scams, invite links, shorteners and mass mentions."""

from __future__ import annotations

import re
from importlib import resources

from moderation.screeners.base import Message, flags_from_hits, make_flag
from moderation.verdict import Action, Flag, Span

# "@name" in chat and "<@123>" as Discord sends mentions; "@everyone"/"@here" ping a whole server.
_MENTION = re.compile(r"<@[!&]?\d+>|(?<![\w.])@\w{2,32}")
_PING_ALL = re.compile(r"@(?:everyone|here)\b")
MASS_MENTIONS = 5
# The model reads only messages with something a spammer needs: a number to text or call, a price,
# a link, or shouting (two words in capitals). Chat without any of them is not scored; the held-out
# figures in the training report are measured with this same gate.
_MODEL_CUE = re.compile(r"[\d£$€]|://|www\.|\.(?:com|net|org|ly|gg|io)\b", re.IGNORECASE)
_SHOUT = re.compile(r"\b[A-Z]{3,}\b")


# Every domain name has a dot with a letter after it; "7.8" and "ok. then" do not. (Starting on the
# dot lets the engine skip to it.)
_DOTTED_NAME = re.compile(r"\.[a-z]", re.IGNORECASE)
_NUMBER = re.compile(r"\d[\d .-]*\d|\d")
_NOT_DIGIT = re.compile(r"\D")


def eligible(text: str) -> bool:
    if _MODEL_CUE.search(text):
        return True
    first = _SHOUT.search(text)
    return first is not None and _SHOUT.search(text, first.end()) is not None


def trusted_domains() -> frozenset[str]:
    path = resources.files("moderation") / "data" / "trusted_domains.txt"
    lines = (line.split("#", 1)[0].strip().lower() for line in path.read_text("utf-8").splitlines())
    return frozenset(line for line in lines if line)


class SpamScreener:
    name = "spam"
    quiet_when_plain = True  # needs a lexicon hit, "@", or the model's cues (see `eligible`)

    def __init__(self, model=None, public_numbers: frozenset[str] = frozenset(),
                 trusted: frozenset[str] | None = None) -> None:
        self._model = model
        self._public = public_numbers
        self._trusted = trusted_domains() if trusted is None else trusted

    def _is_trusted_link(self, word: str) -> bool:
        host = word.partition("://")[2] or word
        parts = host.partition("/")[0].strip("()<>[]{},.;:!?\"'").lower().removeprefix("www.").split(".")
        return any(".".join(parts[i:]) in self._trusted for i in range(len(parts) - 1))

    def _without_trusted_links(self, text: str) -> str:
        """The text as the model should read it: a link to a health authority or a journal says
        nothing about spam, and alongside the numbers of a study it tipped the model over. The
        same text, unchanged, when there is no such link (most messages: a word-by-word look is
        far cheaper than a link pattern tried at every position)."""
        if not _DOTTED_NAME.search(text):
            return text
        words = text.split()
        kept = [w for w in words if "." not in w or not self._is_trusted_link(w)]
        return text if len(kept) == len(words) else " ".join(kept)

    def _names_a_helpline(self, text: str) -> bool:
        # "call 988", "Samaritans 116 123": short numbers in a message read like a premium-rate
        # scam to a model learnt from SMS, and a message pointing to a crisis line must stay up
        return any(_NOT_DIGIT.sub("", m.group()) in self._public for m in _NUMBER.finditer(text))

    def screen(self, message: Message) -> list[Flag]:
        flags = flags_from_hits(message, message.hits_for("spam"))
        text = message.text
        if "@" in text:
            ping = _PING_ALL.search(text)
            mentions = _MENTION.findall(text) if not ping else ()
            if ping or len(mentions) >= MASS_MENTIONS:
                spans = [m.span() for m in (_PING_ALL if ping else _MENTION).finditer(text)]
                flags.append(make_flag(
                    "spam.mentions", 1, "spam.mentions: pings many people at once",
                    [Span(s, e, "spam.mentions") for s, e in spans],
                ))
        if not flags and self._model is not None and eligible(text):
            readable = self._without_trusted_links(text)
            if readable is text:
                score = self._model.flags(message.normalized.text)
            else:
                text = readable
                score = self._model.flags(self._without_trusted_links(message.normalized.text)) if eligible(text) else None
            # only the few messages that score high need the helpline check
            if score is not None and not self._names_a_helpline(text):
                # a statistical guess learnt from SMS: a moderator decides, the post is not removed
                # ("text 741741" reads like a premium-rate scam to it, and it is a crisis line)
                flags.append(Flag("spam.model", Action.HOLD, 1, f"spam.model: reads like spam ({score:.2f})"))
        return flags
