import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moderation.normalize import normalize


@pytest.mark.parametrize("raw,folded,why", [
    ("KILL", "kill", "case"),
    ("ｋｉｌｌ", "kill", "fullwidth letters"),
    ("kіll", "kill", "Cyrillic i"),
    ("κill", "kill", "Greek kappa"),
    ("ki\u200bll", "kill", "zero-width space"),
    ("ki\u202ell", "kill", "bidi control"),
    ("k1ll", "kill", "leet digit"),
    ("$uicide", "suicide", "leet dollar"),
    ("s u i c i d e", "suicide", "spaced out"),
    ("s.u.i.c.i.d.e", "suicide", "dotted out"),
    ("sooooo", "soo", "long run"),
    ("möchte", "mochte", "accent folded"),
    ("I’m", "i'm", "typographic apostrophe"),
    ("die!!!", "die!!!", "trailing ! is punctuation, not a leet i"),
    ("sugar 1.9 at 1000", "sugar 1.9 at 1000", "numbers left alone"),
])
def test_folding(raw: str, folded: str, why: str) -> None:
    assert normalize(raw).text == folded, why


def test_span_maps_back_through_every_step() -> None:
    raw = "oh ｓ u i c i d e sooooo"
    n = normalize(raw)
    start = n.text.index("suicide")
    s, e = n.original_span(start, start + len("suicide"))
    assert raw[s:e] == "ｓ u i c i d e"
    start = n.text.index("soo")
    s, e = n.original_span(start, start + 3)
    assert raw[s:e].startswith("soo")


@settings(max_examples=200, deadline=None)
@given(st.text(), st.integers(0, 200), st.integers(0, 200))
def test_spans_stay_within_the_original(raw: str, a: int, b: int) -> None:
    n = normalize(raw)
    start, end = sorted((min(a, len(n.text)), min(b, len(n.text))))
    s, e = n.original_span(start, end)
    assert 0 <= s <= e <= len(raw)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_normalising_twice_changes_nothing_more_for_ascii_letters(raw: str) -> None:
    once = normalize(raw).text
    assert normalize(once).text == normalize(normalize(once).text).text


_FOLDABLE = st.text(alphabet=st.sampled_from("abkz0134578@$!|+ ._-*\n9é"), max_size=60)


@settings(max_examples=300, deadline=None)
@given(_FOLDABLE)
def test_prechecks_stand_for_the_patterns_they_skip(text: str) -> None:
    """Each cheap search normalize runs first must find something wherever its pattern would change
    the text."""
    from moderation import normalize as n

    assert n._LEET_WORD.sub(n._unleet_word, text) == text or n.MAYBE_LEET.search(text)
    assert not n._SPACED.search(text) or n.SPACED_HINT.search(text)
    assert not n._RUNS.search(text) or n._TRIPLE.search(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x7f), max_size=80))
def test_ascii_tokens_are_the_unicode_tokens(text: str) -> None:
    from moderation import model

    assert model._ASCII_TOKEN.findall(text) == model._TOKEN.findall(text)


# Words the spam model weighs and the characters where splitting and the regex could disagree.
_SCORED = st.lists(st.sampled_from([*"ab'19 $!?.-Z\n\"", "call", "txt", "free", "to", "12345", "0800", "123456789012"]),
                   max_size=40).map("".join)


@settings(max_examples=500, deadline=None)
@given(_SCORED)
def test_split_tokens_are_the_regex_tokens(text: str) -> None:
    """The scoring path's tokens (split, numbers as zeros of their length) are those `features`
    reads."""
    from moderation import model

    tokens = model._ASCII_TOKEN.findall(text)
    named = [t if not t[0].isdigit() else model._NUMBER_NAMES[min(len(t), 12)] for t in tokens]
    zeros = {v: k for k, v in model._ZEROS.items()}
    assert [zeros.get(t, t) for t in model._ascii_tokens(text)] == named


@settings(max_examples=200, deadline=None)
@given(_SCORED)
def test_model_score_is_the_sum_over_features(text: str) -> None:
    import math

    from moderation.model import TextModel, features

    model = TextModel.from_package("spam")
    z = model.bias + sum(model.weights.get(f, 0.0) for f in features(text))
    assert math.isclose(model.score(text), 1.0 / (1.0 + math.exp(-z)), rel_tol=1e-9, abs_tol=1e-12)
