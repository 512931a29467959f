"""Moderators' filters stay linear-time whatever a moderator (or someone who took over a moderator's
account) types: no regular expression is ever built from text Haven receives, and the automaton the
filters compile into does work in proportion to the message and its matches."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from moderation.filters import FilterError, compile_filters, validate_pattern

MARK = "qzxqzx"  # in every pattern and message below, and in no regex Haven writes


async def test_no_regular_expression_is_built_from_what_haven_receives(terminal, monkeypatch):
    """Every regex Haven compiles, while a moderator adds filters and members post, comes from the
    source: none contains anything a moderator or a member typed."""
    compiled: list[str] = []
    real = re._compile

    def spy(pattern, flags):
        compiled.append(pattern if isinstance(pattern, str) else pattern.pattern)
        return real(pattern, flags)

    monkeypatch.setattr(re, "_compile", spy)
    async with terminal() as t:
        for pattern in (f"{MARK}*", f"(a+)+${MARK}", f"*{MARK}.*{MARK}", f"[{MARK}]{{1,99}}"):
            await t.say(f"/filter add {pattern}", speaker="mira")
        await t.say(f"/filter test {MARK}(a+)+$", speaker="mira")
        for text in (f"{MARK}s everywhere", f"(a+)+${MARK} aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", f"call {MARK} 07911 123456"):
            await t.say(text)
        assert [f.pattern for f in await t.app.store.filters("t1d")], "the filters were stored"
    assert compiled, "the spy saw Haven's own regexes"
    assert [p for p in compiled if MARK in p] == []


def automaton_work(patterns: list[str], text: str) -> int:
    """Steps the filters' automaton takes on `text`: one per character read, one per match reported.
    Aho-Corasick never goes back in the text, so this is the whole of the matching work."""
    lexicon = compile_filters((p, False) for p in patterns)._lexicon
    return len(text) + sum(len(entries) for _, entries in lexicon._automaton.iter(text))


ADVERSARIAL = {
    # Patterns that make backtracking regex engines take exponential time, or overlap everywhere.
    "nested quantifiers, literally": (["(a+)+$", "(a|aa)+b", "a+a+a+a+a+b"], "a"),
    "every length of one word": (["abc" * k + "*" for k in range(1, 33)], "abc"),
    "overlapping prefixes": (["ab" * k for k in range(2, 50)], "ab"),
    "wildcards at both ends": (["*aba*", "*abab*", "*bab*"], "ab"),
}


def test_matching_work_grows_linearly_with_the_message():
    for name, (patterns, unit) in ADVERSARIAL.items():
        small, large = automaton_work(patterns, unit * 5_000), automaton_work(patterns, unit * 10_000)
        # Twice the text, at most twice the work (plus the matches near the start that a short text lacks).
        assert large <= 2 * small + 100 * len(patterns), (name, small, large)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=150))
def test_validate_pattern_accepts_or_explains(pattern: str):
    try:
        normal = validate_pattern(pattern)
    except FilterError as e:
        assert str(e)
        return
    assert normal == validate_pattern(normal), "what is stored is accepted as it is"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=40), st.booleans()), max_size=8), st.text(max_size=300))
def test_compile_filters_accepts_or_explains_and_matches_any_text(entries, text):
    try:
        filters = compile_filters(entries)
    except FilterError as e:
        assert str(e)
        return
    for pattern in filters.test(text):
        assert pattern in filters.block
