from moderation.screeners.flood import FloodTracker


def test_flooding_is_flagged_after_the_limit() -> None:
    t = FloodTracker(max_messages=3, per_seconds=10)
    results = [t.observe("room:ann", f"msg {i}", at=i) for i in range(5)]
    assert results[:3] == [None, None, None]
    assert results[3].category == "spam.flood"


def test_pace_below_the_limit_is_fine() -> None:
    t = FloodTracker(max_messages=3, per_seconds=10)
    assert all(t.observe("k", f"msg {i}", at=i * 5.0) is None for i in range(20))


def test_repeats_are_compared_after_normalising() -> None:
    t = FloodTracker(max_repeats=2, repeat_window=60)
    texts = ["Buy now", "BUY  NOW", "ｂｕｙ now", "Buy now"]
    results = [t.observe("k", x, at=i * 20.0) for i, x in enumerate(texts)]
    assert results[2].category == "spam.repeat"


def test_authors_are_separate_and_memory_is_bounded() -> None:
    t = FloodTracker(max_messages=1, max_keys=100)
    for i in range(1000):
        assert t.observe(f"author{i}", "hi", at=0.0) is None
    assert len(t) == 100
