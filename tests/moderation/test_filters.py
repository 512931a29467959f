import re

import pytest

from moderation.filters import FilterError, compile_filters, validate_pattern
from moderation.pipeline import Pipeline


@pytest.mark.parametrize("pattern,error", [
    ("", "empty"),
    ("   ", "empty"),
    ("ab", "at least"),
    ("*", "only"),
    ("***", "only"),
    ("a" * 101, "at most"),
    ("ki*ll", "start or the end"),
    ("**spam", "single"),
    ("bad\nword", "control"),
])
def test_invalid_patterns_are_explained(pattern: str, error: str) -> None:
    with pytest.raises(FilterError, match=error):
        validate_pattern(pattern)


def test_patterns_are_folded_like_messages() -> None:
    assert validate_pattern("  ＳＰＡＭ* ") == "spam*"


def test_wildcards_match_word_prefixes_and_suffixes() -> None:
    f = compile_filters([("idiot*", False), ("*phobe", False), ("bad word", False)])
    assert f.test("what idiots") == ["idiot*"]
    assert f.test("such a homophobe") == ["*phobe"]
    assert f.test("a b4d w0rd here") == ["bad word"]
    assert f.test("badwords and idio") == []


def test_allow_list_cancels_filters_and_builtin_lexicons() -> None:
    f = compile_filters([("*cunt*", False), ("scunthorpe", True), ("bitch", True)])
    assert f.test("off to scunthorpe") == []
    assert f.test("cunt") == ["*cunt*"]
    pipeline = Pipeline.load()
    assert not pipeline.screen("life's a bitch", filters=f).has("abuse")
    assert pipeline.screen("life's a bitch").has("abuse")


def test_filter_flag_removes_and_names_the_pattern() -> None:
    f = compile_filters([("miracle tea", False)])
    verdict = Pipeline.load().screen("try my Miracle Tea!", filters=f)
    assert verdict.action.label == "remove"
    assert "filter: miracle tea" in verdict.reasons


def test_allow_list_never_silences_crisis() -> None:
    f = compile_filters([("want to die", True)])
    assert Pipeline.load().screen("I want to die", filters=f).crisis == "crisis.self"


def test_compile_names_the_bad_pattern() -> None:
    with pytest.raises(FilterError, match="'x'"):
        compile_filters([("fine", False), ("x", False)])


def test_no_regex_is_built_from_user_patterns(monkeypatch) -> None:
    """Linear time by construction: patterns go into the automaton, never into `re`."""
    def refuse(*args, **kwargs):
        raise AssertionError("user pattern compiled as a regex")

    monkeypatch.setattr(re, "compile", refuse)
    f = compile_filters([("(a+)+$", False), ("ab" * 50, False), ("*aba*", False)])
    hits = f.hits("ab" * 2500)
    # one hit per automaton output: bounded by text length times distinct patterns, not exponential
    assert len(hits) <= 5000 * 3
