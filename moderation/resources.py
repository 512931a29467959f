"""Crisis lines and emergency numbers by country, read from package data built by
tools/build_helplines.py."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources as package_files

INTERNATIONAL = "ZZ"  # CLDR's code for an unknown region

# A bare language code names a country only where one country is the obvious home of nearly all
# its speakers (and, for "de", because Discord offers only "de" for German). "en", "es", "fr",
# "pt", "zh", "ar" are spoken across many countries: guessing one would send a member to a line
# they cannot dial, so they give None and the international fallback is used instead.
_LANGUAGE_COUNTRY = {
    "da": "DK", "de": "DE", "el": "GR", "fi": "FI", "he": "IL", "hu": "HU", "is": "IS",
    "it": "IT", "ja": "JP", "ko": "KR", "lt": "LT", "nb": "NO", "nl": "NL", "nn": "NO",
    "no": "NO", "pl": "PL", "ro": "RO", "sv": "SE",
}


@dataclass(frozen=True)
class TextInstruction:
    """How to reach a line by SMS: send `keyword` (any message when None) to `number`."""

    number: str
    keyword: str | None = None


@dataclass(frozen=True)
class Line:
    name: str
    number: str | None
    methods: tuple[str, ...]
    text: TextInstruction | None
    chat_url: str | None
    languages: tuple[str, ...]
    hours: str | None
    website: str | None
    source: str
    verified: str

    @property
    def callable(self) -> bool:
        return "call" in self.methods and self.number is not None


@dataclass(frozen=True)
class CountryResources:
    country: str
    emergency: str
    lines: tuple[Line, ...]
    fallback_url: str
    name: str = ""
    emergency_also: tuple[str, ...] = ()

    @property
    def is_international(self) -> bool:
        return self.country == INTERNATIONAL


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _line(raw: dict) -> Line:
    text = raw.get("text")
    return Line(
        name=raw["name"],
        number=raw.get("number"),
        methods=tuple(raw["methods"]),
        text=TextInstruction(text["number"], text.get("keyword")) if text else None,
        chat_url=raw.get("chat_url"),
        languages=tuple(raw.get("languages") or ()),
        hours=raw.get("hours"),
        website=raw.get("website"),
        source=raw["source"],
        verified=raw["verified"],
    )


class Directory:
    def __init__(self, countries: dict[str, CountryResources], international: CountryResources):
        self._countries = countries
        self._international = international
        self._numbers = frozenset(
            _digits(number)
            for entry in (*countries.values(), international)
            for number in (
                entry.emergency,
                *entry.emergency_also,
                *(line.number for line in entry.lines if line.number),
                *(line.text.number for line in entry.lines if line.text),
            )
        )

    @classmethod
    def load(cls) -> Directory:
        raw = json.loads(
            package_files.files("moderation").joinpath("data/helplines.json").read_text("utf-8")
        )
        fallback = raw["fallback"]
        countries = {
            cc: CountryResources(
                country=cc,
                name=entry["name"],
                emergency=entry["emergency"]["number"],
                emergency_also=tuple(entry["emergency"]["also"]),
                lines=tuple(_line(line) for line in entry["lines"]),
                fallback_url=fallback["url"],
            )
            for cc, entry in raw["countries"].items()
        }
        international = CountryResources(
            country=INTERNATIONAL,
            name=fallback["name"],
            emergency=fallback["emergency"],
            lines=(),
            fallback_url=fallback["url"],
        )
        return cls(countries, international)

    @property
    def countries(self) -> tuple[str, ...]:
        return tuple(sorted(self._countries))

    def for_country(self, cc: str | None) -> CountryResources:
        if cc is None:
            return self._international
        return self._countries.get(cc.strip().upper(), self._international)

    def is_helpline_number(self, digits: str) -> bool:
        """True for any crisis line or emergency number Haven ships, however it is punctuated."""
        return _digits(digits) in self._numbers


def country_for_locale(locale: str) -> str | None:
    """The country a locale names: "en-GB" -> "GB", "pt_BR" -> "BR", "de" -> "DE", "en" -> None.

    See _LANGUAGE_COUNTRY for which bare languages name a country.
    """
    parts = re.split(r"[-_]", locale.strip())
    region = next(
        (p for p in parts[1:] if len(p) == 2 and p.isalpha()),
        None,
    )
    if region is not None:
        return region.upper()
    if any(p.isdigit() for p in parts[1:]):
        return None  # a UN M.49 area such as 419 (Latin America) is not one country
    return _LANGUAGE_COUNTRY.get(parts[0].lower())
