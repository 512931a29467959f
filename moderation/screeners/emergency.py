"""A medical emergency happening now: heart attack, stroke, anaphylaxis, severe hypo, overdose."""

from __future__ import annotations

import re

from moderation.screeners.base import Message, flags_from_hits, make_flag
from moderation.verdict import Flag

CATEGORY = "emergency.medical"

# "my sugar is 1.9", "bg 38", "glucose at 2,4": a reading within a few words of its name.
_READING = re.compile(
    r"\b(?:blood sugars?|sugars?|glucose|bg|bgl|bs|levels?|reading|numbers?|glucosa|glucemia|"
    r"glicemia|glicose|glycemie|blutzucker|zucker|azucar|acucar)\b\D{0,16}?"
    r"(?<![\d.,])(\d{1,3}(?:[.,]\d{1,2})?)(?![\d.,]*\d)"
)
_MMOL_SEVERE = 3.0  # below 3.0 mmol/L is a level 2 (serious) hypo
_MGDL_SEVERE = (20, 54)  # the same threshold in mg/dL; lower numbers are mmol/L readings


# "ketones are 3.5": blood ketones of 3.0 mmol/L or more with vomiting is how diabetic ketoacidosis
# shows, and it needs a hospital the same day.
_KETONES = re.compile(r"\bketones?\b\D{0,16}?(?<![\d.,])(\d{1,2}(?:[.,]\d{1,2})?)(?![\d.,]*\d)")
_KETONES_SEVERE = 3.0


def low_reading(text: str) -> re.Match | None:
    for m in _READING.finditer(text):
        value = float(m.group(1).replace(",", "."))
        if value < _MMOL_SEVERE and value > 0 or _MGDL_SEVERE[0] <= value < _MGDL_SEVERE[1]:
            return m
    return None


def dangerous_reading(text: str) -> tuple[str, re.Match] | None:
    """A low glucose or a high ketone reading, with how a moderator should read it."""
    low = low_reading(text)
    if low is not None:
        return "low reading", low
    for m in _KETONES.finditer(text):
        if float(m.group(1).replace(",", ".")) >= _KETONES_SEVERE:
            return "high ketones", m
    return None


class EmergencyScreener:
    name = "emergency"
    quiet_when_plain = True  # anchors and signs are lexicon hits; a reading alone never flags
    quiet_without_hits = True

    def screen(self, message: Message) -> list[Flag]:
        hits = message.hits_for(CATEGORY)
        direct = [h for h in hits if h.entry.rule.severity > 0]
        flags = flags_from_hits(message, direct)
        anchors = {h.entry.phrase: h for h in hits if h.entry.rule.name == "anchor"}
        signs = {h.entry.phrase: h for h in hits if h.entry.rule.name == "sign"}
        reading = None
        if anchors or signs:
            reading = dangerous_reading(message.normalized.text)
        if (anchors or reading) and len(anchors) + len(signs) + (reading is not None) >= 2:
            spans = [message.span(h.start, h.end, CATEGORY) for h in (*anchors.values(), *signs.values())]
            names = [*anchors, *signs]
            if reading:
                kind, m = reading
                spans.append(message.span(m.start(1), m.end(1), CATEGORY))
                names.insert(0, f"{kind} {m.group(1)}")
            flags.append(make_flag(CATEGORY, 4, f"{CATEGORY} signs together: {', '.join(names)}", spans))
        return flags
