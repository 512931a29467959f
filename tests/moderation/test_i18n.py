import pytest

from moderation.i18n import Catalogue, placeholders
from moderation.resources import Directory

LANGUAGES = ("en", "es", "fr", "de", "pt")
REQUIRED_KEYS = {
    "crisis.self.card": {"lines", "emergency"},
    "crisis.self.public": set(),
    "crisis.other.reply": {"lines", "emergency"},
    "emergency.medical.reply": {"emergency", "lines"},
    "crisis.fallback.public": {"member", "lines"},
    "button.private_help": set(),
    "button.not_me": set(),
    "button.check_tomorrow": set(),
    "button.ack": set(),
    "button.resolve": set(),
    "feedback.thanks": set(),
    "alert.moderators": {"severity", "member", "link", "excerpt", "incident"},
    "alert.reescalate": {"oncall", "incident", "severity", "member", "minutes", "link"},
    "concern.dm": {"lines"},
    "followup.dm": {"lines"},
}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.load()


@pytest.fixture(scope="module")
def directory() -> Directory:
    return Directory.load()


def card(catalogue, directory, cc, lang):
    resources = directory.for_country(cc)
    return catalogue.text("crisis.self.card", lang, emergency=resources.emergency,
                          lines=catalogue.render_lines(resources, lang, limit=2))


def test_all_five_languages_are_shipped(catalogue):
    assert set(LANGUAGES) <= set(catalogue.languages)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_required_key_exists_with_its_placeholders(catalogue, lang):
    for key, expected in REQUIRED_KEYS.items():
        assert key in catalogue.keys(lang), (lang, key)
        assert placeholders(catalogue.template(key, lang)) == expected, (lang, key)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_matches_english_key_for_key(catalogue, lang):
    assert catalogue.keys(lang) == catalogue.keys("en")
    for key in catalogue.keys("en"):
        assert placeholders(catalogue.template(key, lang)) == placeholders(
            catalogue.template(key, "en")), (lang, key)


@pytest.mark.parametrize("lang", ("es", "fr", "de", "pt"))
def test_texts_are_translated_not_copied(catalogue, lang):
    for key in REQUIRED_KEYS:
        assert catalogue.template(key, lang) != catalogue.template(key, "en"), (lang, key)


@pytest.mark.parametrize(("cc", "lang", "number", "words"), [
    ("GB", "en", "116 123", "You don't have to face this alone"),
    ("US", "en", "988", "call or text 988"),
    ("DE", "de", "0800 111 0 111", "Du musst da nicht allein durch"),
    ("FR", "fr", "3114", "appelle le 3114"),
    ("ES", "es", "024", "llama al 024"),
    ("BR", "pt", "188", "ligue 188"),
])
def test_card_shows_the_countrys_line_in_the_members_language(catalogue, directory, cc, lang,
                                                              number, words):
    text = card(catalogue, directory, cc, lang)
    assert number in text
    assert words in text


def test_card_offers_moderator_and_reply(catalogue, directory):
    text = card(catalogue, directory, "GB", "en")
    assert "reply here" in text and "moderator" in text


def test_card_has_no_diagnosis_or_clinical_words(catalogue, directory):
    for lang in LANGUAGES:
        text = card(catalogue, directory, "GB", lang).lower()
        for word in ("depress", "disorder", "suicidal", "diagnos", "patient", "symptom"):
            assert word not in text, (lang, word)


def test_card_shows_at_most_two_lines(catalogue, directory):
    text = card(catalogue, directory, "JP", "en")
    assert "0120-279-338" in text and "0120-783-556" in text
    assert "0800-300-8355" not in text


def test_text_only_line_says_how_to_text(catalogue, directory):
    lines = catalogue.render_lines(directory.for_country("GB"), "en")
    assert "Shout: text SHOUT to 85258" in lines
    assert "call 85258" not in lines


def test_text_keyword_is_localised(catalogue, directory):
    assert "envía SHOUT por SMS al 85258" in catalogue.render_lines(
        directory.for_country("GB"), "es")


def test_unknown_country_points_to_the_international_directory(catalogue, directory):
    lines = catalogue.render_lines(directory.for_country(None), "fr")
    assert lines == "Trouve une ligne d'écoute près de chez toi : https://findahelpline.com"


def test_emergency_number_comes_first(catalogue, directory):
    resources = directory.for_country("GB")
    text = catalogue.text("emergency.medical.reply", "en", emergency=resources.emergency,
                          lines=catalogue.render_lines(resources, "en"))
    assert text.startswith("Please call 999 now.")


@pytest.mark.parametrize(("lang", "expected"), [
    ("pt-BR", "Receber ajuda em privado"), ("de_AT", "Privat Hilfe bekommen"),
    ("it", "Get private help"), (None, "Get private help"), ("FR", "Recevoir de l'aide en privé"),
])
def test_language_resolution_falls_back_to_english(catalogue, lang, expected):
    assert catalogue.text("button.private_help", lang) == expected


def test_missing_key_in_a_language_falls_back_to_english():
    catalogue = Catalogue({"en": {"feedback.thanks": "Thanks"}, "es": {}})
    assert catalogue.text("feedback.thanks", "es") == "Thanks"


def test_missing_placeholder_value_raises(catalogue):
    with pytest.raises(KeyError):
        catalogue.text("crisis.self.card", "en", lines="x")


def test_concern_never_reveals_the_reporter(catalogue):
    for lang in LANGUAGES:
        assert "reporter" not in placeholders(catalogue.template("concern.dm", lang))
        assert "member" not in placeholders(catalogue.template("concern.dm", lang))
