import re

import pytest

from moderation.resources import Directory, country_for_locale


@pytest.fixture(scope="module")
def directory() -> Directory:
    return Directory.load()


# Each row is a number a person in that country must be given; a wrong or outdated one here is
# someone in crisis dialling a dead line.
KNOWN_LINES = [
    ("GB", "116 123"),  # Samaritans; open data stores it as "+44116123", which nobody can dial
    ("GB", "85258"),  # Shout, by text
    ("US", "988"),  # open data still carries 1-800-273-8255, replaced in 2022
    ("CA", "988"),
    ("FR", "3114"),  # open data stores "+33333114"
    ("ES", "024"),  # not in the 2021 list at all
    ("DE", "0800 111 0 111"),  # as TelefonSeelsorge prints it, not libphonenumber's "0800 1110111"
    ("DE", "0800 111 0 222"),
    ("BR", "188"),  # the 2021 list still says 141
    ("AU", "13 11 14"),
    ("IE", "116 123"),
    ("NZ", "1737"),
    ("IT", "02 2327 2327"),
    ("NL", "113"),
    ("AT", "142"),
    ("CH", "143"),
    ("KR", "109"),  # replaced 1393 in 2024
    ("IN", "14416"),
    ("JP", "0120-279-338"),
]

KNOWN_EMERGENCY = [
    ("GB", "999"), ("US", "911"), ("CA", "911"), ("FR", "112"), ("DE", "112"), ("ES", "112"),
    ("AU", "000"), ("BR", "192"), ("IN", "112"), ("JP", "119"), ("NZ", "111"), ("IE", "112"),
]


@pytest.mark.parametrize(("cc", "number"), KNOWN_LINES)
def test_known_line_is_shipped_in_dialable_form(directory, cc, number):
    assert number in [line.number for line in directory.for_country(cc).lines]


@pytest.mark.parametrize(("cc", "number"), KNOWN_EMERGENCY)
def test_known_emergency_number(directory, cc, number):
    assert directory.for_country(cc).emergency == number


@pytest.mark.parametrize(("cc", "first"), [
    ("GB", "116 123"), ("US", "988"), ("CA", "988"), ("FR", "3114"), ("ES", "024"),
    ("DE", "0800 111 0 111"), ("BR", "188"), ("AU", "13 11 14"), ("IE", "116 123"),
])
def test_best_line_comes_first(directory, cc, first):
    assert directory.for_country(cc).lines[0].number == first


def test_us_and_canada_988_can_be_texted(directory):
    for cc in ("US", "CA"):
        best = directory.for_country(cc).lines[0]
        assert best.text is not None and best.text.number == "988"
        assert {"call", "text"} <= set(best.methods)


def test_shout_is_text_only_with_its_keyword(directory):
    shout = next(line for line in directory.for_country("GB").lines if line.name == "Shout")
    assert shout.methods == ("text",)
    assert (shout.text.keyword, shout.text.number) == ("SHOUT", "85258")


def test_no_outdated_number_is_shipped(directory):
    numbers = {line.number for cc in directory.countries for line in directory.for_country(cc).lines}
    assert not numbers & {"1-800-273-8255", "(800) 273-8255", "141", "+44116123", "1393"}


def test_no_number_is_stored_in_e164(directory):
    for cc in directory.countries:
        for line in directory.for_country(cc).lines:
            assert line.number is None or not line.number.startswith("+"), (cc, line.number)


@pytest.mark.parametrize("cc", [None, "XX", "", "zz"])
def test_unknown_country_gets_the_international_fallback(directory, cc):
    fallback = directory.for_country(cc)
    assert fallback.is_international
    assert fallback.fallback_url == "https://findahelpline.com"
    assert fallback.lines == ()


def test_country_code_is_case_insensitive(directory):
    assert directory.for_country("gb").lines[0].number == "116 123"


def test_at_least_25_countries_each_with_emergency_and_a_line(directory):
    assert len(directory.countries) >= 25
    for cc in directory.countries:
        entry = directory.for_country(cc)
        assert entry.country == cc
        assert entry.emergency
        assert 1 <= len(entry.lines) <= 3, cc


def test_every_line_names_its_source_and_verified_date(directory):
    for cc in directory.countries:
        for line in directory.for_country(cc).lines:
            assert line.source.startswith(("https://", "http://")), (cc, line.name)
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", line.verified), (cc, line.name)


@pytest.mark.parametrize("written", [
    "116 123", "116123", "988", "0800 111 0 111", "08001110111", "13 11 14", "999", "911", "112",
    "85258", "3114", "024",
])
def test_shipped_numbers_are_recognised_however_written(directory, written):
    assert directory.is_helpline_number(written)


@pytest.mark.parametrize("other", ["07700 900123", "555 0199", "12345", "0800 111 0 112", ""])
def test_other_numbers_are_not_helplines(directory, other):
    assert not directory.is_helpline_number(other)


@pytest.mark.parametrize(("locale", "country"), [
    ("en-GB", "GB"), ("en_US", "US"), ("pt-BR", "BR"), ("pt-br", "BR"), ("fr-CA", "CA"),
    ("de", "DE"), ("ja", "JP"), ("en", None), ("es", None), ("fr", None), ("pt", None),
    ("es-419", None), ("zh-Hant-TW", "TW"), ("", None),
])
def test_country_for_locale(locale, country):
    assert country_for_locale(locale) == country
