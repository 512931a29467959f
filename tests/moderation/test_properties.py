from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moderation.verdict import Action

_ANY = st.text(alphabet=st.characters(), max_size=400)
_CHATTY = st.lists(st.sampled_from(["I", "want", "to", "die", "k1ll", "call", "+44", "7911", "123456",
                                    "@x", "\u200b", "ｓ", "5", " ", "at", "dot", "com", "!!!", "\x00"]),
                   max_size=60).map(" ".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(_ANY, _CHATTY), st.sampled_from(["en", "en-GB", "es-MX", "fr", "xx", ""]))
def test_no_input_crashes_and_spans_stay_inside(pipeline, text: str, locale: str) -> None:
    verdict = pipeline.screen(text, locale=locale)
    assert not any(r.startswith("screener") for r in verdict.reasons), verdict.reasons
    for span in verdict.spans:
        assert 0 <= span.start <= span.end <= len(text)


def test_hundred_kilobyte_message(pipeline) -> None:
    text = ("ok so I want to die 4111 1111 1111 1111 \u200b k i l l " * 2000)[:100_000]
    verdict = pipeline.screen(text)
    assert verdict.crisis == "crisis.self"
    assert verdict.action == Action.REMOVE
    assert all(0 <= s.start <= s.end <= len(text) for s in verdict.spans)


def test_control_characters(pipeline) -> None:
    text = "".join(chr(i) for i in range(32)) + "I want to die" + "\x7f\x85\u2028"
    assert pipeline.screen(text).crisis == "crisis.self"


class _AlwaysCalled:
    """A screener without `quiet_when_plain`: the pipeline must call every screener for it."""

    name = "noop"

    def screen(self, message):
        return []


_WORDS = st.lists(st.sampled_from(["i", "want", "to", "die", "at", "dot", "com", "call", "me", "the", "shop",
                                   "sugar", "ok", "WIN", "NOW", "free", "kill", "myself", "gone", "see", "you",
                                   ".", ",", "é", "\u200b", "k!ll", "d|e", "diiie", "s u i c i d e",
                                   "k-i-l-l", "x.COM", "WWW.x", "(at)", "$", "+"]), max_size=50).map(" ".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(_WORDS, st.text(alphabet=st.characters(max_codepoint=0x2100), max_size=120),
                 st.text(alphabet=st.characters(max_codepoint=0x7f), max_size=120)))
def test_plain_shortcut_gives_the_verdict_of_running_every_screener(pipeline, text: str) -> None:
    from moderation.pipeline import Pipeline

    every = Pipeline(pipeline.lexicon, [*pipeline.screeners, _AlwaysCalled()])
    long_way = Pipeline(pipeline.lexicon, pipeline.screeners, shortcuts=False)
    assert pipeline.screen(text) == every.screen(text) == long_way.screen(text)


_ADDRESSY = st.lists(st.sampled_from([
    "12", "221", "4370", "5", "7", "+44", "7911 123456", "4111 1111 1111 1111", "943 476 5919", "078-05-1120",
    "192.168.0.1", "GB82 WEST 1234 5698 7654 32", "Baker", "Street", "st", "St.", "rd", "Mill", "Walk", "way",
    "Apt", "apt.", "Suite", "#", "Flat", "PSC", "Box", "P.O.", "APO", "AE", "Unit", "u.", "Calle", "rue",
    "Rua", "avda.", "ul.", "Miła", "c/", "Mayor", "lives", "at", "on", "moved", "to", "the", "return", "it",
    "Hauptstraße", "Hauptstr.", "Kiannonkatu", "Søndergade", "ſuite", "KATU", "ı", "lİves", "İ", "💙", "driver's", "licence",
    "nhs", "call", "me", "my", "sugar", "week", "of", ",", ".", "\n", "\t", "1969", "Apollo", "2", "Advil",
    "0800 1111", "+290 22222", "116 123", "(555)", "x", "-", "/",
]), max_size=25).map(" ".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(_ADDRESSY, st.text(alphabet=st.characters(max_codepoint=0x2200), max_size=80)),
       st.sampled_from(["en", "en-GB", "de"]))
def test_pii_shortcuts_never_hide_personal_data(pipeline, text: str, locale: str) -> None:
    from unittest import mock

    from moderation.normalize import normalize
    from moderation.screeners import pii
    from moderation.screeners.base import Message

    screener = next(s for s in pipeline.screeners if s.name == "pii")
    message = Message(text, locale, normalize(text), [])
    with (mock.patch.object(pii, "_may_hold_pii", lambda _text: True),
          mock.patch.object(pii, "_matcher_may_find", lambda _text, _taken: True)):
        every_pattern = screener.screen(message)
    assert screener.screen(message) == every_pattern


def test_case_traps_are_every_character_lower_case_misses() -> None:
    """The PII shortcut matches word cues on lower-cased text; that agrees with the patterns'
    IGNORECASE except for the characters listed in `pii.CASE_TRAPS`, derived here from re itself:
    every character beyond U+00FF that re matches to a Latin-1 character whose lower case differs."""
    import re

    from moderation.screeners import pii

    beyond = "".join(chr(c) for c in range(0x100, 0x110000) if not 0xD800 <= c <= 0xDFFF)
    traps = {
        c
        for x in map(chr, range(0x100))
        for c in re.compile("(?i)" + re.escape(x)).findall(beyond)
        if c.lower() != x.lower()
    }
    assert traps == set(pii.CASE_TRAPS)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["at", "@", "(", ")", "[", "]", "{", "}", " ", "\t", "\n", "\x1f", "a", "t", "."]),
                max_size=20).map("".join))
def test_automaton_keys_stand_for_spelled_at(text: str) -> None:
    """The pipeline's automaton finds a spelled-out "at" exactly where `SPELLED_AT` does."""
    from moderation import pipeline as pl
    from moderation.screeners.pii import SPELLED_AT

    automaton = pl._ascii_automaton([])
    found = 0
    for _, kind in automaton.iter(text):
        found |= kind
    assert bool(found & pl._SPELLED) == bool(SPELLED_AT.search(text))


def test_fewest_phone_digits_is_that_of_the_metadata() -> None:
    """The PII screener skips the phonenumbers matcher on text with fewer digits in a row than the
    shortest valid number anywhere; the figure is written down, so check it against the metadata."""
    from phonenumbers import PhoneMetadata
    from phonenumbers.phonenumberutil import COUNTRY_CODES_FOR_NON_GEO_REGIONS, SUPPORTED_REGIONS

    from moderation.screeners import pii

    fewest = min(
        min(metadata.general_desc.possible_length)
        for metadata in (
            *(PhoneMetadata.metadata_for_region(r) for r in SUPPORTED_REGIONS),
            *(PhoneMetadata.metadata_for_nongeo_region(c) for c in COUNTRY_CODES_FOR_NON_GEO_REGIONS),
        )
    )
    assert pii.FEWEST_PHONE_DIGITS == fewest
