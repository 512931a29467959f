"""Personal data posted in a public room: phone numbers, e-mail, addresses, cards, bank and ID numbers.

Works on the original text (folding would turn "@" into "a" and digits into letters). Every pattern
is a plain regex without nested repetition, so matching stays linear; the phonenumbers matcher is
slow and only runs when a cheap count finds enough digits for a phone number.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources

import ahocorasick
import phonenumbers
from phonenumbers import Leniency, PhoneMetadata

from moderation.screeners.base import Message, make_flag
from moderation.verdict import Flag, Span

_NOT_DIGITS = re.compile(r"\D+")
_DIGIT = re.compile(r"\d")
_MIN_PHONE_DIGITS = 7

_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})*\.[a-zA-Z]{2,24}\b")
# "jane at example dot com", "jane (at) example (dot) org": spelled out to dodge filters.
# Found from the "at" outwards: scanning every word as a possible user name would cost every message.
SPELLED_AT = re.compile(r"\(at\)|\[at\]|\{at\}|\sat\s|\s@\s", re.IGNORECASE)
_SPELLED_USER = re.compile(r"(?<![\w.+-])[\w.+-]{2,64}\s*$")
_SPELLED_DOMAIN = re.compile(
    # a plain "." only without spaces round it: "at all. It" is a sentence, not a domain
    r"\s*[\w-]{2,63}(?:\s*(?:\(dot\)|\[dot\]|\{dot\})\s*|\sdot\s|\.)"
    r"(?:com|org|net|edu|gov|info|io|me|co|uk|de|fr|es|it|nl|br|mx|pt|ca|au|ie|ch|at|be)\b",
    re.IGNORECASE,
)
# 12 to 19 digits: ISO/IEC 7812 card numbers (see _card_shaped); Luhn decides.
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){11,18}\d(?![\d-])")
# Any case: people type "gb82west..." too, and mod 97 keeps words out.
_IBAN = re.compile(r"\b(?:[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}|[a-z]{2}\d{2}(?: ?[a-z0-9]){11,30})\b")
_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\d-])")
_NHS = re.compile(r"(?<![\d-])\d{3}([- ]?)\d{3}\1\d{4}(?![\d-])")
_NHS_CONTEXT = re.compile(r"\bnhs\b", re.IGNORECASE)
_IPV4 = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.])")
# The number must hold a digit inside the pattern: a lazy gap would otherwise stop at the word
# "number" and never reach the number itself.
_LICENCE = re.compile(
    r"\b(?:driver'?s?|driving)\s+licen[cs]e\b[^\n\d]{0,30}?\b(?=[A-Z-]{0,19}\d)([A-Z0-9][A-Z0-9-]{4,19})\b",
    re.IGNORECASE,
)

# Street words that are nothing else: "4370 sunnyslope dr" is an address however it is typed.
_STREET_WORDS = (
    r"street|st|str|avenue|ave|road|rd|lane|ln|boulevard|blvd|dr|ct|pl|crescent|cres|sq|highway|hwy|"
    r"parkway|pkwy|cir|mews|pike"
)
# Street words that are also everyday words ("3 days in a row", "a 25 minute drive"): they count only
# after a capitalised name ("12 Rotten Row", "8 Mill Walk").
_COMMON_STREET_WORDS = (
    r"drive|court|way|place|terrace|close|square|circle|trail|alley|row|walk|gardens|grove|prairie|"
    r"fort|ferry|heights|park|ridge|view|hill|hills|loop|path"
)
# A word of a street name: never a function word ("2 dogs walking down the street", "4 on the road").
_NAME_WORD = r"(?!(?i:the|a|an|on|in|at|to|of|and|or|up|down|my|your|our|this|that)\b)[a-zA-Z][\w'-]*"
_ADDRESS_PATTERNS = (
    # 221 Baker Street, 11 souterhead road, 3911 Fourth Avenue, 8 Mill Walk
    re.compile(
        rf"\b\d{{1,6}}[a-zA-Z]?,?[ \t]+(?:(?:{_NAME_WORD}[ \t]+){{1,4}}(?i:{_STREET_WORDS})"
        rf"|(?:[A-Z][\w'-]*[ \t]+){{1,4}}(?i:{_COMMON_STREET_WORDS}))\b\.?"
    ),
    # Suite 501, Apt. 864, Flat 2
    re.compile(r"\b(?:apt|apartment|suite|ste|unit|flat)\.?\s*#?\s?\d{1,5}[a-zA-Z]?\b", re.IGNORECASE),
    # military and box addresses: PSC 0413, Box 8144 / APO AA 42323 / P.O. Box 12
    re.compile(r"\b(?:PSC|CMR|Unit)\s+\d{3,5},?\s+Box\s+\d{3,5}\b|\b[AFD]PO\s+A[AEP]\s+\d{5}\b"),
    re.compile(r"\bP\.?\s?O\.?\s+Box\s+\d{1,6}\b", re.IGNORECASE),
    # Wesselényi u. 94.
    re.compile(r"\b\w{2,30}\s+u\.\s+\d{1,4}\.", re.IGNORECASE),
    # Calle Mayor 12, Rue de la Paix 3, Rua Augusta 100, Via Roma 1 / 12 rue de la Paix
    re.compile(
        r"\b(?:calle|avenida|avda\.?|rua|rue|via|viale|piazza|plaza|praça|praca|travessa|strada|"
        r"chemin|allée|camino|carrer|paseo|largo)\s+(?:[\w'.-]+\s+){0,4}\d{1,5}\b"
        r"|\b\d{1,5},?\s+(?:rue|avenue|boulevard|chemin|allée|impasse|calle|avenida|rua|via)\b",
        re.IGNORECASE,
    ),
)


# Søndergade 52, Hauptstraße 5, Kiannonkatu 98: a word with a street ending, then a number. The
# ending is checked in Python on the few "word number" pairs, which keeps the regex trivial.
_WORD_NUMBER = re.compile(r"\b([^\W\d_]{4,40}\.?)\s+\d{1,5}\b")
_STREET_ENDINGS = (
    "strasse", "straße", "str.", "gasse", "weg", "platz", "allee", "gade", "vej", "katu", "kuja",
    "tie", "stien", "veien", "vegen", "gatan", "gata", "vägen", "laan", "straat", "steeg", "utca",
    "ulica", "cesta", "iela", "tee", "vænget", "vaenget", "torget", "brink", "stræti", "útja",
)
_ANY_DIGIT = re.compile(r"\d")

# Addresses without an English street word, in the orders most of the world writes them:
#   "6750 Koskikatu 25", "172 Maneeži 75": a house or postal number, a capitalised name, a number;
#   "Hoge Wei 32 St.", "ul. Miła 53", "C/ Mayor 8": a name and a number with a street marker;
#   "lives at Dalbraut 99", "the corner of Pod Floriánem 1677": a name and a number after words that
#   announce an address.
# Names are checked in Python (capitalised in any script), and a number followed by a unit ("2 Advil
# 3 times", "Week 3 days") is a count, not an address.
# The first number has three digits or more and is not a year ("1969 Apollo 11").
_NUMBER_NAME_NUMBER = re.compile(
    r"\b(?!(?:19|20)\d\d\b)\d{3,6}[ \t]+((?:[^\W\d_][\w'-]*[ \t]+){1,3})\d{1,5}\b(?!\.\d)"
)
_NAME_NUMBER_MARKER = re.compile(
    r"(?:\b(?:ul\.|c/)[ \t]*(?:[^\W\d_][\w'-]*[ \t]+){1,3}\d{1,5}\b"
    r"|\b([^\W\d_][\w'-]*(?:[ \t]+[^\W\d_][\w'-]*){0,3})[ \t]+\d{1,5}\.?[ \t]+(?:st\b\.?|street\b|str\b\.?))",
    re.IGNORECASE,
)
_ADDRESS_CUE = re.compile(
    r"\b(?:lives?|living|address|corner of|located|moved|sent|send it|ship|deliver|drops you off|"
    r"return (?:it )?to|station is|enter)\b(?: (?:at|on|to|is|of|in))?[:\s]+(?:the |north |south |east |west |"
    r"side |of )*((?:[^\W\d_][\w'-]*[ \t]+){1,3})\d{1,5}\b(?!\.\d)",
    re.IGNORECASE,
)
_UNIT_AFTER = re.compile(
    r"\s*(?:%|x\b|times|mg|mcg|ml|units?|iu|hours?|hrs?|h\b|days?|weeks?|months?|years?|yrs?|mins?|"
    r"minutes|am\b|pm\b|kg|lbs?|pounds|points|pts|steps|km|miles|calories|kcal|carbs|g\b)",
    re.IGNORECASE,
)


def _capitalised(words: str) -> bool:
    return all(w[0].isupper() for w in words.split())


def _addresses(text: str):
    """Spans of street addresses written without an English street word."""
    for m in _NUMBER_NAME_NUMBER.finditer(text):
        if _capitalised(m.group(1)) and not _UNIT_AFTER.match(text, m.end()):
            yield m.start(), m.end()
    for m in _NAME_NUMBER_MARKER.finditer(text):
        if m.group(1) is None or m.group(1)[0].isupper():
            yield m.start(), m.end()
    for m in _ADDRESS_CUE.finditer(text):
        if m.group(1)[0].isupper() and not _UNIT_AFTER.match(text, m.end()):
            yield m.start(1), m.end()

# A number the writer says is theirs to call ("Phone: 0490 75 40 81", "call me on 9472 7916"), in a
# format the phonenumbers metadata for the guessed region rejects (a foreign number, a bare local
# one). Seven to fifteen digits in phone punctuation, a phone word just before it; public numbers are
# still excluded.
_PHONE_LIKE = re.compile(r"(?<![\w.+-])\+?\(?\d[\d .()/-]{5,22}\d(?![\w-]|\.\d)")
_PHONE_CONTEXT = re.compile(
    r"\b(?:call|calling|phone|mobile|cell|tel|telephone|fax|desk|whats ?app|text|txt|ring me|"
    r"reach me|answering|contact|number|registered|messages to|llamar|llámame|llamame|teléfono|telefono|"
    r"móvil|movil|celular|numéro|numero|appelle|appelez|portable|anrufen|ruf|handy|nummer|liga|ligue|"
    r"contato)\b[^\d\n]{0,24}$",
    re.IGNORECASE,
)
# "the pharmacy at 5 Main St": where members get their care, not where someone lives.
_PUBLIC_PLACE = re.compile(
    r"\b(?:pharmacy|chemist|clinic|hospital|surgery|gp practice|health cent(?:re|er)|farmacia|farmácia|"
    r"pharmacie|apotheke|clínica|clinica|praxis)\b[^\d\n]{0,12}\b(?:at|on|in|en|à|a|in der|na|no)\s*$",
    re.IGNORECASE,
)
# An organisation's line named as such ("the Diabetes UK helpline 0345 123 2399") is there to be
# called; it is not the writer's number, whatever its format.
_ORGANISATION_LINE = re.compile(
    r"\b(?:helpline|hotline|freephone|support line|advice line|crisis line|línea|linea|ligne|"
    r"telefonseelsorge|linha)\b[^\d\n]{0,24}$",
    re.IGNORECASE,
)
# "+1 415 555 2671" has the shape of an NHS number; the country code says it is a phone.
_COUNTRY_CODE_BEFORE = re.compile(r"\+\d{1,3}[ .-]?$")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}$")


# Most chat with a number holds no personal data ("my sugar was 7.8", "week 3 of pacing"), and the
# dozen patterns above cost far more than proving that none of them can match. `_may_hold_pii` is
# that proof: a necessary condition of every digit pattern, checked in one regex pass anchored on
# the (few) digits, then one automaton pass for the patterns that start with a word. It may say
# yes when nothing is there, never no when something is: a "yes" runs every pattern as before.
# Digit-first patterns, each cut to what its match must contain (number and capitalised name,
# "12 rue ...", house number then capitalised name, "12 St").
_DIGIT_FIRST = re.compile(
    r"\d(?:[a-zA-Z]?,?[ \t]+[A-Z]"
    r"|,?\s+(?i:rue|avenue|boulevard|chemin|allée|impasse|calle|avenida|rua|via)"
    r"|\d\d[ \t]+(?![a-z])[^\W\d_]"
    r"|\.?[ \t]+(?i:st))"
)
# Word-first patterns: the word, then what must follow it, matched on the lower-cased text.
_AFTER_CUE = (
    r"(?: (?:at|on|to|is|of|in))?[:\s]+(?:the |north |south |east |west |side |of )*"
    r"(?:[^\W\d_][\w'-]*[ \t]+){1,3}\d"
)
_WORD_FIRST: tuple[tuple[tuple[str, ...], str], ...] = (
    # "221 Baker Street": a street word after a space is rarer than a digit followed by words
    (tuple(f"{space}{word}" for word in _STREET_WORDS.split("|") for space in " \t"), r"(?!\w)"),
    (("apt", "apartment", "suite", "ste", "unit", "flat"), r"\.?\s*#?\s?\d"),
    (("psc", "cmr", "unit", "box", "u."), r"\s+\d"),
    (("po",), r"\s+a[aep]\s+\d"),
    (("calle", "avenida", "avda", "rua", "rue", "via", "viale", "piazza", "plaza", "praça", "praca",
      "travessa", "strada", "chemin", "allée", "camino", "carrer", "paseo", "largo"),
     r"\.?\s+(?:[\w'.-]+\s+){0,4}\d"),
    (("ul.", "c/"), r"[ \t]*(?:[^\W\d_][\w'-]*[ \t]+){1,3}\d"),
    (("live", "lives", "living", "address", "corner of", "located", "moved", "sent", "send it", "ship",
      "deliver", "drops you off", "station is", "enter"), _AFTER_CUE),
    (("return",), r" (?:it )?to" + _AFTER_CUE),
    (_STREET_ENDINGS, r"\.?\s+\d"),
)


def _word_first_automaton() -> ahocorasick.Automaton:
    follows: dict[str, list] = {}
    for words, follow in _WORD_FIRST:
        match = re.compile(follow).match
        for word in words:
            follows.setdefault(word, []).append(match)
    automaton = ahocorasick.Automaton()
    for word, matches in follows.items():
        automaton.add_word(word, tuple(matches))
    automaton.make_automaton()
    return automaton


_WORD_CUES = _word_first_automaton()
# Lower-casing agrees with the patterns' IGNORECASE matching except for the few characters beyond
# U+00FF that re matches to a Latin-1 letter while lower() gives something else: "İ" and "ı" match
# "i", "ſ" matches "s", "Μ" and "μ" match "µ" (tests/moderation/test_pii.py derives this list).
CASE_TRAPS = "İıſΜμ"
_CASE_TRAP = re.compile(f"[{CASE_TRAPS}]")


def _may_hold_pii(text: str) -> bool:
    """False only if no pattern of the digit block can match `text` (which holds a digit)."""
    if _DIGIT_FIRST.search(text) or len(_DIGIT.findall(text)) >= _MIN_PHONE_DIGITS:
        return True
    if not text.isascii() and _CASE_TRAP.search(text):
        return True
    low = text.lower()
    for end, matches in _WORD_CUES.iter(low):
        for match in matches:
            if match(low, end + 1):
                return True
    return False


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_shaped(digits: str) -> bool:
    """13 to 19 digits, or 12 for Maestro (which starts with 5 or 6); no issuer starts with 0, and
    a run of one digit ("0000000000000") is filler, not a card."""
    if not 12 <= len(digits) <= 19 or digits[0] == "0" or len(set(digits)) == 1:
        return False
    return len(digits) > 12 or digits[0] in "56"


def iban_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def nhs_valid(digits: str) -> bool:
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


@dataclass(frozen=True, slots=True)
class PiiConfig:
    public_numbers: frozenset[str]
    regions: dict[str, str]
    also_try: tuple[str, ...]

    @classmethod
    def from_package(cls) -> PiiConfig:
        raw = json.loads((resources.files("moderation") / "data" / "pii.json").read_text("utf-8"))
        return cls(frozenset(raw["public_numbers"]), dict(raw["regions"]), tuple(raw["also_try"]))

    def regions_for(self, locale: str) -> tuple[str, ...]:
        region = self.regions.get(locale) or self.regions.get(locale.split("-", 1)[0], "US")
        if "-" in locale:
            return (region,)
        # a bare language says nothing about the country: try the usual ones too
        return (region, *(r for r in self.also_try if r != region))


_ORGANISATION_KINDS = ("toll_free", "shared_cost", "premium_rate", "uan")


def _compile_organisation_descs(country_code: int) -> tuple[tuple[re.Pattern, frozenset[int]], ...]:
    descs = []
    for region in phonenumbers.region_codes_for_country_code(country_code):
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
        for kind in _ORGANISATION_KINDS if metadata is not None else ():
            desc = getattr(metadata, kind)
            if desc is not None and desc.national_number_pattern:
                descs.append((re.compile(desc.national_number_pattern), frozenset(desc.possible_length or ())))
    return tuple(descs)


class PiiScreener:
    name = "pii"
    quiet_when_plain = True  # needs "@", a digit or a spelled-out "at ... dot" (see pipeline._plain)

    def __init__(self, config: PiiConfig) -> None:
        self._config = config
        self._organisation_descs: dict[int, tuple[tuple[re.Pattern, frozenset[int]], ...]] = {}

    def screen(self, message: Message) -> list[Flag]:
        text = message.text
        found: dict[str, list[Span]] = {}

        def add(kind: str, start: int, end: int) -> None:
            if kind == "address" and _PUBLIC_PLACE.search(text, max(0, start - 40), start):
                return
            category = f"pii.{kind}"
            found.setdefault(category, []).append(Span(start, end, category))

        if "@" in text:
            for m in _EMAIL.finditer(text):
                add("email", m.start(), m.end())
        folded = message.normalized.text
        if "at" in folded and ("dot" in folded or "." in folded):
            for at in SPELLED_AT.finditer(text):
                user = _SPELLED_USER.search(text, max(0, at.start() - 70), at.start())
                domain = _SPELLED_DOMAIN.match(text, at.end())
                if user and domain:
                    add("email", user.start(), domain.end())
        # every pattern below needs a digit; most chat has none, and most of the rest holds no PII
        if _ANY_DIGIT.search(text) and _may_hold_pii(text):
            for pattern in _ADDRESS_PATTERNS:
                for m in pattern.finditer(text):
                    add("address", m.start(), m.end())
            for start, end in _addresses(text):
                add("address", start, end)
            for m in _WORD_NUMBER.finditer(text):
                if m.group(1).lower().endswith(_STREET_ENDINGS):
                    add("address", m.start(), m.end())
            if len(_DIGIT.findall(text)) >= _MIN_PHONE_DIGITS:
                self._numbers(text, message.locale, add)
        merged = []
        for category, spans in found.items():
            merged.append(make_flag(category, 2, f"{category}: personal data in a public room", spans))
        return merged

    def _numbers(self, text: str, locale: str, add) -> None:
        taken: list[tuple[int, int]] = []

        def claim(kind: str, start: int, end: int) -> None:
            taken.append((start, end))
            add(kind, start, end)

        for m in _IBAN.finditer(text):
            if iban_valid(m.group()):
                claim("iban", m.start(), m.end())
        for m in _SSN.finditer(text):
            claim("ssn", m.start(), m.end())
        for m in _CARD.finditer(text):
            digits = _NOT_DIGITS.sub("", m.group())
            if _card_shaped(digits) and luhn(digits) and not _inside(m, taken):
                claim("card", m.start(), m.end())
        for m in _NHS.finditer(text):
            if _COUNTRY_CODE_BEFORE.search(text, max(0, m.start() - 5), m.start()):
                continue
            formatted = bool(m.group(1))
            nearby = _NHS_CONTEXT.search(text, max(0, m.start() - 40), m.end() + 40)
            if (formatted or nearby) and nhs_valid(_NOT_DIGITS.sub("", m.group())) and not _inside(m, taken):
                claim("nhs", m.start(), m.end())
        for m in _IPV4.finditer(text):
            claim("ip", m.start(), m.end())
        for m in _LICENCE.finditer(text):
            if any(c.isdigit() for c in m.group(1)):
                claim("licence", m.start(1), m.end(1))
        regions = self._config.regions_for(locale)
        for m in _PHONE_LIKE.finditer(text):
            digits = _NOT_DIGITS.sub("", m.group())
            if not 7 <= len(digits) <= 15 or _DATE_TIME.match(m.group()) or _overlaps(m.start(), m.end(), taken):
                continue
            if (_PHONE_CONTEXT.search(text, max(0, m.start() - 40), m.start())
                    and not _ORGANISATION_LINE.search(text, max(0, m.start() - 40), m.start())
                    and not self._public_digits(digits, ("+",) if m.group().startswith("+") else regions)):
                claim("phone", m.start(), m.end())
        for region in regions:
            # asked again for each region: a number the last region found may have claimed the
            # only digits left, and any match of the next region would overlap it
            if not _matcher_may_find(text, taken):
                break
            for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=Leniency.VALID):
                if _overlaps(match.start, match.end, taken):
                    continue
                if self._public(match.number) or _ORGANISATION_LINE.search(text, max(0, match.start - 40), match.start):
                    continue
                claim("phone", match.start, match.end)

    def _public_digits(self, digits: str, regions: tuple[str, ...]) -> bool:
        """A helpline, emergency or toll-free number, however it is punctuated. `regions` is ("+",)
        for a number written with its country code, which says where it belongs by itself."""
        public = self._config.public_numbers
        if digits in public or digits.lstrip("0") in public or ("0" + digits) in public:
            return True
        for region in regions:
            try:
                number = phonenumbers.parse("+" + digits, None) if region == "+" else phonenumbers.parse(digits, region)
            except phonenumbers.NumberParseException:
                continue
            if self._public(number):
                return True
        return False

    def _public(self, number: phonenumbers.PhoneNumber) -> bool:
        national = str(number.national_number)
        full = phonenumbers.national_significant_number(number)
        if national in self._config.public_numbers or full in self._config.public_numbers:
            return True
        if ("0" + full) in self._config.public_numbers or f"{number.country_code}{full}" in self._config.public_numbers:
            return True
        return self._organisation_number(number, full)

    def _organisation_number(self, number: phonenumbers.PhoneNumber, national: str) -> bool:
        """Whether the number is a free, shared-cost, premium or UK 03 "universal access" line in any
        region of its country code: an organisation's line, not a person's. A country code's patterns
        are compiled the first time one of its numbers is seen; phonenumbers' `number_type` would
        find the number's region first and then try ten kinds of line, about 180 µs a number."""
        descs = self._organisation_descs.get(number.country_code)
        if descs is None:
            descs = self._organisation_descs[number.country_code] = _compile_organisation_descs(number.country_code)
        return any((not lengths or len(national) in lengths) and pattern.fullmatch(national)
                   for pattern, lengths in descs)


# The fewest digits of any valid number in the phonenumbers metadata; the matcher (leniency VALID)
# finds nothing shorter. Its candidates are digit blocks with at most four punctuation characters
# between them, so a valid one holds this many digits with at most four other characters between
# neighbours. Written down rather than derived here: deriving it loads the metadata of every region,
# which took longer than starting `screen --jsonl` otherwise; tests/moderation/test_properties.py
# derives it from the installed metadata.
FEWEST_PHONE_DIGITS = 4
_MATCHER_CANDIDATE = re.compile(rf"\d(?:\D{{0,4}}\d){{{FEWEST_PHONE_DIGITS - 1}}}")


def _matcher_may_find(text: str, taken: list[tuple[int, int]]) -> bool:
    """Whether the phonenumbers matcher, the slowest step by far, could add a finding: it needs a
    candidate long enough to be valid, holding a digit that no finding so far has claimed."""
    if not _MATCHER_CANDIDATE.search(text):
        return False
    last = 0
    for start, end in sorted(taken):
        if start > last and _ANY_DIGIT.search(text, last, start):
            return True
        last = max(last, end)
    return _ANY_DIGIT.search(text, last) is not None


def _overlaps(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in taken)


def _inside(m: re.Match, taken: list[tuple[int, int]]) -> bool:
    return any(s <= m.start() and m.end() <= e for s, e in taken)
