"""Build moderation/data/helplines.json, the crisis lines Haven sends to people in distress.

Run from the repository root: `.venv/bin/python tools/build_helplines.py`.

Inputs (read only) live in ../shared/data/helplines/:
- open-helplines/<cc>/helplines.json: CC0, verified 2026-06-02. Numbers are stored in E.164, which
  for short codes is not something anyone can dial ("+44116123" is Samaritans 116 123), so every
  number is turned into the local form people write, and short codes need an explicit written form.
- wikipedia-2021-suicide-crisis-lines.json: CC BY-SA, July 2021. Older, so each number taken from
  it is checked against the sentence it came from, and lines known to have moved are overridden.

Anything not in the shared data is CURATED below, each with the organisation's own page as source.
The build fails rather than ship a number it cannot trace to a source.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import phonenumbers

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(
    # The shared checkout sits next to the repository; an explicit path wins for other layouts.
    sys.argv[1] if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "helplines"
)
OPEN_DIR = SHARED / "open-helplines"
WIKI_FILE = SHARED / "wikipedia-2021-suicide-crisis-lines.json"
OUTPUT = ROOT / "moderation" / "data" / "helplines.json"

WIKI_SOURCE = "https://en.wikipedia.org/wiki/List_of_suicide_crisis_lines (July 2021, CC BY-SA; shared/data/helplines/wikipedia-2021-suicide-crisis-lines.json)"
WIKI_VERIFIED = "2021-07-01"
# Date the curated entries below were last reviewed against the organisations' own pages.
CURATED_VERIFIED = "2026-11-22"

# Short codes cannot be formatted by libphonenumber; each needs the form its operator publishes.
# Keys are the E.164 strings in open-helplines, values what people dial.
SHORT_CODES = {
    "+44116123": "116 123",
    "+4485258": "85258",
    "+1741741": "741741",
    "+55188": "188",
    "+1988": "988",
    "+33333114": "3114",
    "+9114416": "14416",
    "+82109": "109",
    "+6321553": "1553",
    "+62119": "119",
}

# Where libphonenumber's national format differs from what the operator prints.
WRITTEN_FORMS = {
    "+498001110111": "0800 111 0 111",
    "+498001110222": "0800 111 0 222",
    "+78003334434": "8 800 333-44-34",
    "+78002000122": "8 800 2000-122",
    "+919152987821": "91529 87821",
}

FALLBACK = {
    "name": "Find A Helpline",
    "url": "https://findahelpline.com",
    "emergency": "112",
    # 112 is the GSM standard emergency number and reaches emergency services from most mobiles.
    "emergency_source": "https://en.wikipedia.org/wiki/112_(emergency_telephone_number)",
    "source": "https://findahelpline.com",
    "verified": CURATED_VERIFIED,
}


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


class SourceError(Exception):
    pass


class Shared:
    def __init__(self) -> None:
        self.open: dict[str, dict] = {}
        for path in sorted(OPEN_DIR.glob("*/helplines.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            for record in data["records"]:
                record["_file"] = f"open-helplines/{path.parent.name}/helplines.json"
                self.open[record["id"]] = record
        self.wiki: dict[str, dict] = json.loads(WIKI_FILE.read_text(encoding="utf-8"))

    def wiki_mentions(self, country: str, number: str) -> bool:
        wanted = digits(number)
        return any(
            wanted in digits(batch["description"])
            for batch in self.wiki[country]["parsed_batches"]
        )


def local_form(e164: str) -> str:
    if e164 in SHORT_CODES:
        return SHORT_CODES[e164]
    parsed = phonenumbers.parse(e164)
    if not phonenumbers.is_valid_number(parsed):
        raise SourceError(f"{e164} is neither a valid number nor a known short code")
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    written = WRITTEN_FORMS.get(e164)
    if written is None:
        return national
    if not digits(written).endswith(phonenumbers.national_significant_number(parsed)):
        raise SourceError(f"written form {written!r} does not match {e164}")
    return written


def line(
    name: str,
    number: str | None,
    *,
    source: str,
    verified: str,
    call: bool = True,
    text: tuple[str | None, str] | None = None,
    chat_url: str | None = None,
    languages: list[str],
    hours: str | None,
    website: str | None,
) -> dict:
    methods = [m for m, on in (("call", call), ("text", text), ("chat", chat_url)) if on]
    return {
        "name": name,
        "number": number,
        "methods": methods,
        "text": {"keyword": text[0], "number": text[1]} if text else None,
        "chat_url": chat_url,
        "languages": languages,
        "hours": hours,
        "website": website,
        "source": source,
        "verified": verified,
    }


def from_open(shared: Shared, record_id: str, contact: int = 0, **overrides) -> dict:
    """A line from open-helplines; `overrides` correct what the record gets wrong, see the caller."""
    record = shared.open[record_id]
    phone = [c for c in record["contacts"] if c["method"] in ("phone", "text")][contact]
    chat = next((c["url"] for c in record["contacts"] if c["method"] == "chat"), None)
    fields = {
        "name": record["name"],
        "number": local_form(phone["number"]),
        "source": record["source"],
        "verified": record["verified_at"],
        "call": phone["method"] == "phone",
        "chat_url": chat,
        "languages": phone["languages"],
        "hours": phone["hours"],
        "website": record["website"],
    }
    fields.update(overrides)
    if not fields["call"] and "text" not in overrides:
        fields["text"] = (None, fields["number"])
    return line(**fields)


def from_wiki(shared: Shared, country: str, name: str, number: str, *,
              as_listed: str | None = None, **fields) -> dict:
    """`as_listed` is the number as the 2021 list prints it, when that lacks a trunk prefix."""
    if not shared.wiki_mentions(country, as_listed or number):
        raise SourceError(f"{number} not found in the {country} entry of the 2021 list")
    return line(name, number, source=WIKI_SOURCE, verified=WIKI_VERIFIED, **fields)


def curated(name: str, number: str | None, *, source: str, **fields) -> dict:
    return line(name, number, source=source, verified=CURATED_VERIFIED, **fields)


def emergency(shared: Shared, number: str, wiki_country: str | None = None, *,
              also: tuple[str, ...] = (), source: str | None = None) -> dict:
    if source is None:
        for n in (number, *also):
            if not shared.wiki_mentions(wiki_country, n):
                raise SourceError(f"emergency {n} not found in the {wiki_country} entry")
        source, verified = WIKI_SOURCE, WIKI_VERIFIED
    else:
        verified = CURATED_VERIFIED
    return {"number": number, "also": list(also), "source": source, "verified": verified}


def countries(s: Shared) -> dict[str, dict]:
    w = lambda country, name, number, **kw: from_wiki(s, country, name, number, **kw)  # noqa: E731
    eu112 = lambda country, *also: emergency(s, "112", country, also=also)  # noqa: E731
    h24 = "24/7"
    c: dict[str, dict] = {}

    c["GB"] = dict(name="United Kingdom", emergency=emergency(s, "999", "England", also=("112",)), lines=[
        from_open(s, "gb-samaritans"),
        from_open(s, "gb-shout-crisis-text-line", name="Shout", text=("SHOUT", "85258")),
    ])
    c["US"] = dict(name="United States", emergency=emergency(s, "911", "United States"), lines=[
        # The record still carries 1-800-273-8255; 988 replaced it in July 2022 for call, text and
        # chat (https://988lifeline.org/, https://www.fcc.gov/988-lifeline).
        from_open(s, "us-988-lifeline", number="988", text=(None, "988"),
                  chat_url="https://988lifeline.org/chat", source="https://988lifeline.org/",
                  verified=CURATED_VERIFIED),
        from_open(s, "us-crisis-text-line", text=("HOME", "741741")),
    ])
    c["CA"] = dict(name="Canada", emergency=emergency(s, "911", "Canada"), lines=[
        # Call or text since 30 November 2023 (https://988.ca/).
        from_open(s, "ca-988-suicide-crisis-helpline", name="9-8-8 Suicide Crisis Helpline",
                  text=(None, "988"), website="https://988.ca/"),
    ])
    c["IE"] = dict(name="Ireland", emergency=emergency(s, "112", "Ireland", also=("999",)), lines=[
        w("Ireland", "Samaritans", "116 123", languages=["en"], hours=h24,
          website="https://www.samaritans.org/ireland/"),
        w("Ireland", "50808", "50808", call=False, text=("HELLO", "50808"), languages=["en"],
          hours=h24, website="https://text50808.ie/"),
    ])
    c["AU"] = dict(name="Australia", emergency=emergency(s, "000", "Australia"), lines=[
        w("Australia", "Lifeline", "13 11 14", languages=["en"], hours=h24,
          website="https://www.lifeline.org.au/"),
        w("Australia", "Suicide Call Back Service", "1300 659 467", languages=["en"], hours=h24,
          website="https://www.suicidecallbackservice.org.au/"),
        w("Australia", "Beyond Blue", "1300 22 4636", languages=["en"], hours=h24,
          website="https://www.beyondblue.org.au/"),
    ])
    c["NZ"] = dict(name="New Zealand",
                   emergency=emergency(s, "111", source="https://www.police.govt.nz/use-111"), lines=[
        # Not in the 2021 list; national free call-or-text line of Te Whatu Ora (https://1737.org.nz/).
        curated("1737, Need to talk?", "1737", source="https://1737.org.nz/", text=(None, "1737"),
                languages=["en"], hours=h24, website="https://1737.org.nz/"),
        # https://www.lifeline.org.nz/ (Lifeline Aotearoa)
        curated("Lifeline Aotearoa", "0800 543 354", source="https://www.lifeline.org.nz/",
                languages=["en"], hours=h24, website="https://www.lifeline.org.nz/"),
    ])
    c["FR"] = dict(name="France", emergency=eu112("France"), lines=[
        from_open(s, "fr-3114", name="3114, numéro national de prévention du suicide"),
    ])
    c["BE"] = dict(name="Belgium", emergency=eu112("Belgium"), lines=[
        w("Belgium", "Zelfmoordlijn 1813", "1813", languages=["nl"], hours=h24,
          website="https://www.zelfmoord1813.be/"),
        w("Belgium", "Centre de Prévention du Suicide", "0800 32 123", languages=["fr"],
          hours=h24, website="https://www.preventionsuicide.be/"),
    ])
    c["LU"] = dict(name="Luxembourg", emergency=eu112("Luxembourg"), lines=[
        w("Luxembourg", "SOS Détresse", "45 45 45", languages=["fr", "de", "lb"],
          hours="Daily 11:00–23:00, Fri–Sat until 03:00", website="https://454545.lu/"),
    ])
    c["CH"] = dict(name="Switzerland", emergency=eu112("Switzerland"), lines=[
        w("Switzerland", "Die Dargebotene Hand / La Main Tendue", "143",
          languages=["de", "fr", "it"], hours=None, website="https://www.143.ch/"),
    ])
    c["ES"] = dict(name="Spain", emergency=eu112("Spain"), lines=[
        # The 2021 list predates 024, the Ministry of Health's suicide line since May 2022
        # (https://www.sanidad.gob.es/linea024/).
        curated("Línea 024 de atención a la conducta suicida", "024",
                source="https://www.sanidad.gob.es/linea024/", languages=["es"], hours=h24,
                website="https://www.sanidad.gob.es/linea024/"),
        w("Spain", "Teléfono de la Esperanza", "717 003 717", languages=["es"], hours=h24,
          website="https://telefonodelaesperanza.org/"),
    ])
    c["PT"] = dict(name="Portugal", emergency=eu112("Portugal"), lines=[
        # SNS 24 routes option 4 to psychologists around the clock (https://www.sns24.gov.pt/).
        curated("SNS 24 (opção 4, aconselhamento psicológico)", "808 24 24 24",
                source="https://www.sns24.gov.pt/", languages=["pt"], hours=h24,
                website="https://www.sns24.gov.pt/"),
        w("Portugal", "SOS Voz Amiga", "213 544 545", languages=["pt"],
          hours="Daily 16:00–24:00", website="https://www.sosvozamiga.org/"),
    ])
    c["DE"] = dict(name="Germany", emergency=eu112("Germany"), lines=[
        from_open(s, "de-telefonseelsorge", 0, name="TelefonSeelsorge",
                  chat_url="https://online.telefonseelsorge.de/"),
        from_open(s, "de-telefonseelsorge", 1, name="TelefonSeelsorge"),
    ])
    c["AT"] = dict(name="Austria", emergency=eu112("Austria"), lines=[
        w("Austria", "TelefonSeelsorge", "142", languages=["de"], hours=h24,
          website="https://www.telefonseelsorge.at/"),
        w("Austria", "Rat auf Draht (Kinder und Jugendliche)", "147", languages=["de"],
          hours=h24, website="https://www.rataufdraht.at/"),
    ])
    c["IT"] = dict(name="Italy", emergency=eu112("Italy"), lines=[
        # Telefono Amico moved from 199 284 284 to a geographic number in 2021
        # (https://www.telefonoamico.it/).
        curated("Telefono Amico Italia", "02 2327 2327", source="https://www.telefonoamico.it/",
                languages=["it"], hours="Daily 10:00–24:00", website="https://www.telefonoamico.it/"),
        w("Italy", "Samaritans Onlus", "06 77208977", languages=["it"],
          hours="Daily 13:00–22:00", website="https://www.samaritansonlus.org/"),
    ])
    c["NL"] = dict(name="Netherlands", emergency=eu112("Netherlands"), lines=[
        w("Netherlands", "113 Zelfmoordpreventie", "113", languages=["nl"], hours=h24,
          chat_url="https://www.113.nl/", website="https://www.113.nl/"),
        w("Netherlands", "113 Zelfmoordpreventie (gratis)", "0800 0113", languages=["nl"],
          hours=h24, website="https://www.113.nl/"),
    ])
    c["DK"] = dict(name="Denmark", emergency=eu112("Denmark"), lines=[
        w("Denmark", "Livslinien", "70 201 201", languages=["da"], hours="Daily 11:00–04:00",
          website="https://www.livslinien.dk/"),
    ])
    c["NO"] = dict(name="Norway", emergency=emergency(s, "113", "Norway", also=("112",)), lines=[
        w("Norway", "Mental Helse Hjelpetelefonen", "116 123", languages=["no"], hours=h24,
          website="https://mentalhelse.no/"),
        w("Norway", "Kirkens SOS", "22 40 00 40", languages=["no"], hours=h24,
          website="https://www.kirkens-sos.no/"),
    ])
    c["SE"] = dict(name="Sweden", emergency=eu112("Sweden"), lines=[
        # The 2021 list names the line without its number (https://mind.se/hitta-hjalp/sjalvmordslinjen/).
        curated("Självmordslinjen (Mind)", "90101",
                source="https://mind.se/hitta-hjalp/sjalvmordslinjen/", languages=["sv"],
                hours=h24, chat_url="https://mind.se/hitta-hjalp/sjalvmordslinjen/",
                website="https://mind.se/"),
    ])
    c["FI"] = dict(name="Finland", emergency=eu112("Finland"), lines=[
        # MIELI's crisis line replaced 010 195 202 (https://mieli.fi/en/support-and-help/crisis-helpline/).
        curated("MIELI Crisis Helpline", "09 2525 0111",
                source="https://mieli.fi/en/support-and-help/crisis-helpline/", languages=["fi"],
                hours=h24, website="https://mieli.fi/"),
    ])
    c["IS"] = dict(name="Iceland", emergency=eu112("Iceland"), lines=[
        w("Iceland", "Hjálparsími Rauða krossins", "1717", languages=["is"], hours=None,
          website="https://www.raudikrossinn.is/"),
    ])
    c["PL"] = dict(name="Poland", emergency=eu112("Poland"), lines=[
        # National adult crisis line since 2023 (https://centrumwsparcia.pl/).
        curated("Centrum Wsparcia dla Osób Dorosłych w Kryzysie Psychicznym", "800 70 2222",
                source="https://centrumwsparcia.pl/", languages=["pl"], hours=h24,
                website="https://centrumwsparcia.pl/"),
        w("Poland", "Telefon Zaufania dla Dzieci i Młodzieży", "116 111", languages=["pl"],
          hours=h24, website="https://116111.pl/"),
    ])
    c["HU"] = dict(name="Hungary", emergency=eu112("Hungary"), lines=[
        w("Hungary", "LESZ Lelki Elsősegély", "116-123", languages=["hu"], hours=h24,
          website="https://sos116-123.hu/"),
    ])
    c["LT"] = dict(name="Lithuania", emergency=emergency(s, "112", source="https://112.lt/"), lines=[
        w("Lithuania", "Vilties linija", "116 123", languages=["lt"], hours=h24,
          website="https://www.viltieslinija.lt/"),
        w("Lithuania", "Jaunimo linija", "8 800 28888", languages=["lt"], hours=h24,
          website="https://www.jaunimolinija.lt/"),
    ])
    c["RO"] = dict(name="Romania", emergency=eu112("Romania"), lines=[
        w("Romania", "Alianța Română de Prevenție a Suicidului", "0800 801 200",
          languages=["ro"], hours="Daily 19:00–07:00", website="https://www.antisuicid.com/"),
    ])
    c["GR"] = dict(name="Greece", emergency=eu112("Greece", "166"), lines=[
        w("Greece", "Klimaka Suicide Prevention Line", "1018", languages=["el"], hours=None,
          website="https://www.suicide-help.gr/"),
    ])
    c["CY"] = dict(name="Cyprus", emergency=emergency(s, "112", "Cyprus", also=("199",)), lines=[
        w("Cyprus", "Cyprus Samaritans", "8000 7773", languages=["el", "en"],
          hours="Daily 16:00–24:00", website="https://www.cyprussamaritans.org/"),
    ])
    c["MT"] = dict(name="Malta", emergency=eu112("Malta"), lines=[
        w("Malta", "Appoġġ Supportline", "179", languages=["mt", "en"], hours=None,
          website="https://fsws.gov.mt/"),
    ])
    c["BR"] = dict(name="Brazil", emergency=emergency(s, "192", "Brazil", also=("190",)), lines=[
        # The 2021 list still gives 141; the CVV record (verified 2026) has 188.
        from_open(s, "br-cvv-188", name="CVV, Centro de Valorização da Vida"),
    ])
    c["MX"] = dict(name="Mexico", emergency=emergency(s, "911", "Mexico"), lines=[
        # National government line (https://www.gob.mx/salud/conadic/acciones-y-programas/centro-de-atencion-ciudadana-contra-las-adicciones-134381).
        curated("Línea de la Vida", "800 911 2000",
                source="https://www.gob.mx/salud/conadic/acciones-y-programas/centro-de-atencion-ciudadana-contra-las-adicciones-134381",
                languages=["es"], hours=h24, website="https://www.gob.mx/salud/conadic"),
        from_open(s, "mx-saptel", name="SAPTEL"),
    ])
    c["AR"] = dict(name="Argentina", emergency=emergency(s, "911", "Argentina"), lines=[
        w("Argentina", "Centro de Asistencia al Suicida", "135", languages=["es"], hours=None,
          website="https://www.asistenciaalsuicida.org.ar/"),
        w("Argentina", "Centro de Asistencia al Suicida (resto del país)", "(011) 5275-1135",
          as_listed="5275-1135", languages=["es"], hours=None, website="https://www.asistenciaalsuicida.org.ar/"),
    ])
    c["IN"] = dict(name="India", emergency=emergency(s, "112", "India"), lines=[
        from_open(s, "in-tele-manas"),
        from_open(s, "in-icall"),
    ])
    c["BD"] = dict(name="Bangladesh", emergency=emergency(s, "999", "Bangladesh"), lines=[
        from_open(s, "bd-kaan-pete-roi"),
    ])
    c["JP"] = dict(name="Japan", emergency=emergency(s, "119", "Japan", also=("110",)), lines=[
        from_open(s, "jp-yorisoi-hotline"),
        from_open(s, "jp-inochi-no-denwa"),
        from_open(s, "jp-tell-lifeline"),
    ])
    c["KR"] = dict(name="South Korea", emergency=emergency(s, "119", "Korea", also=("112",)), lines=[
        from_open(s, "kr-109-suicide-crisis"),
    ])
    c["CN"] = dict(name="China", emergency=emergency(
        s, "120", also=("110",), source="https://en.wikipedia.org/wiki/List_of_emergency_telephone_numbers"),
        lines=[from_open(s, "cn-beijing-crisis-hotline")])
    c["TW"] = dict(name="Taiwan", emergency=emergency(
        s, "119", also=("110",), source="https://en.wikipedia.org/wiki/List_of_emergency_telephone_numbers"),
        lines=[
            w("Taiwan", "MOHW Suicide Prevention Line", "1925", languages=["zh"], hours=None,
              website="https://www.mohw.gov.tw/"),
            w("Taiwan", "Lifeline Taiwan", "1995", languages=["zh"], hours=None,
              website="http://www.life1995.org.tw/"),
        ])
    c["PH"] = dict(name="Philippines", emergency=emergency(s, "911", "Philippines"), lines=[
        from_open(s, "ph-ncmh-crisis-hotline", 0),
        from_open(s, "ph-ncmh-crisis-hotline", 1),
    ])
    c["RU"] = dict(name="Russia", emergency=emergency(s, "112", "Russia"), lines=[
        from_open(s, "ru-national-psychological-helpline"),
        from_open(s, "ru-childrens-crisis-hotline"),
    ])
    c["IL"] = dict(name="Israel", emergency=emergency(s, "101", "Israel", also=("100",)), lines=[
        w("Israel", "ERAN", "1201", languages=["he", "ar", "ru", "en"], hours=h24,
          website="https://www.eran.org.il/"),
    ])
    c["SG"] = dict(name="Singapore", emergency=emergency(s, "995", "Singapore", also=("999",)), lines=[
        # The 2021 list names SOS without a number; 1767 is its 24-hour hotline (https://www.sos.org.sg/).
        curated("Samaritans of Singapore", "1767", source="https://www.sos.org.sg/",
                languages=["en"], hours=h24, website="https://www.sos.org.sg/"),
    ])
    c["ZA"] = dict(name="South Africa", emergency=emergency(
        s, "10177", also=("112",), source="https://www.gov.za/services/services-residents/emergency-services"),
        lines=[
            # Not in the 2021 list (https://www.sadag.org/).
            curated("SADAG Suicide Crisis Helpline", "0800 567 567", source="https://www.sadag.org/",
                    languages=["en"], hours=h24, website="https://www.sadag.org/"),
        ])
    return c


def main() -> None:
    shared = Shared()
    data = {
        "_comment": "Generated by tools/build_helplines.py; edit the script, not this file.",
        "fallback": FALLBACK,
        "countries": dict(sorted(countries(shared).items())),
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(data['countries'])} countries to {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
