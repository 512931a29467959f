import pytest

from moderation.language import detect_language


@pytest.mark.parametrize(("text", "lang"), [
    ("I don't want to live anymore", "en"),
    ("I can't do this anymore", "en"),
    ("my sugar is really low today", "en"),
    ("ich möchte einfach nur sterben", "de"),
    ("mein Blutzucker ist heute zu hoch", "de"),
    ("ich kann nicht mehr", "de"),
    ("je vais me tuer ce soir", "fr"),
    ("je suis tellement fatiguée", "fr"),
    ("no quiero seguir viviendo", "es"),
    ("mi glucosa está muy alta hoy", "es"),
    ("não quero mais viver", "pt"),
    ("eu não aguento mais", "pt"),
    ("I’m so tired", "en"),  # typographic apostrophe from phone keyboards
])
def test_short_chat_messages(text, lang):
    assert detect_language(text) == lang


@pytest.mark.parametrize("text", [
    "", "ok", "hello", "lol", "😢😢", "988", "https://example.org", "mais", "no", "a que",
])
def test_unsure_gives_none(text):
    assert detect_language(text) is None


def test_words_shared_between_languages_do_not_vote():
    # "para" and "nada" are both Spanish and Portuguese
    assert detect_language("para nada") is None
