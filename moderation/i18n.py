"""The texts Haven sends around a crisis, in every language it speaks, with English as fallback.

Catalogues are flat JSON files in moderation/data/messages/<lang>.json; placeholders use
str.format syntax ("{lines}"). Every language must carry the same keys with the same
placeholders; tests enforce it so no card can fail to render in one language only.
"""

from __future__ import annotations

import json
import string
from importlib import resources as package_files

from moderation.resources import CountryResources, Line

DEFAULT_LANGUAGE = "en"


def placeholders(template: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


class Catalogue:
    def __init__(self, messages: dict[str, dict[str, str]]):
        if DEFAULT_LANGUAGE not in messages:
            raise ValueError("the English catalogue is the fallback and must exist")
        self._messages = messages

    @classmethod
    def load(cls) -> Catalogue:
        folder = package_files.files("moderation").joinpath("data/messages")
        messages = {
            entry.name.removesuffix(".json"): json.loads(entry.read_text("utf-8"))
            for entry in folder.iterdir()
            if entry.name.endswith(".json")
        }
        return cls(messages)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self._messages))

    def keys(self, lang: str = DEFAULT_LANGUAGE) -> frozenset[str]:
        return frozenset(self._messages[lang])

    def resolve(self, lang: str | None) -> str:
        """The catalogue language used for `lang`: "pt-BR" -> "pt", "it" -> "en"."""
        base = (lang or "").replace("_", "-").split("-")[0].lower()
        return base if base in self._messages else DEFAULT_LANGUAGE

    def template(self, key: str, lang: str | None) -> str:
        messages = self._messages[self.resolve(lang)]
        if key in messages:
            return messages[key]
        return self._messages[DEFAULT_LANGUAGE][key]

    def text(self, key: str, lang: str | None, **params: object) -> str:
        """Raises KeyError for an unknown key or a missing placeholder value."""
        return self.template(key, lang).format(**params)

    def _ways(self, line: Line, lang: str | None) -> str:
        ways = []
        text = line.text
        if line.callable and text and text.keyword is None and text.number == line.number:
            ways.append(self.text("lines.call_or_text", lang, number=line.number))
            text = None
        elif line.callable:
            ways.append(self.text("lines.call", lang, number=line.number))
        if text and text.keyword:
            ways.append(self.text("lines.text_keyword", lang, keyword=text.keyword,
                                   number=text.number))
        elif text:
            ways.append(self.text("lines.text", lang, number=text.number))
        if line.chat_url:
            ways.append(self.text("lines.chat", lang, url=line.chat_url))
        return ", ".join(ways)

    def render_lines(
        self, resources: CountryResources, lang: str | None, limit: int | None = None
    ) -> str:
        """One line per crisis line, best first, numbers exactly as they are dialled.

        Ends with the international directory, so a member outside the listed country still has a
        way forward; for an unknown country that directory is all there is.
        """
        items = []
        for line in resources.lines[:limit]:
            hours = line.hours
            if hours == "24/7":
                hours = self.text("lines.always_open", lang)
            key = "lines.item_hours" if hours else "lines.item"
            items.append(self.text(key, lang, name=line.name, ways=self._ways(line, lang),
                                   hours=hours))
        key = "lines.find" if resources.is_international else "lines.international"
        items.append(self.text(key, lang, url=resources.fallback_url))
        return "\n".join(items)
