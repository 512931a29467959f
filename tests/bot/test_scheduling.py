"""When things happen: recurrences, what members type for a time, and the real scheduler waking up."""

import asyncio
import io
from datetime import UTC, datetime, timedelta

import pytest

from bot.commands.registry import UsageError
from bot.member_features import parse_when
from bot.scheduling import RecurrenceError, next_occurrence
from tests.conftest import make_config

MON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(("recurrence", "tz", "after", "expected"), [
    # London goes to summer time on 29 March 2026: 08:00 local is 08:00 UTC before, 07:00 UTC after.
    ("daily 08:00", "Europe/London", datetime(2026, 3, 28, 9, 0, tzinfo=UTC), datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),
    ("daily 08:00", "Europe/London", datetime(2026, 3, 27, 9, 0, tzinfo=UTC), datetime(2026, 3, 28, 8, 0, tzinfo=UTC)),
    # ... and back on 25 October.
    ("daily 08:00", "Europe/London", datetime(2026, 10, 24, 8, 0, tzinfo=UTC), datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),
    ("mon,thu 19:30", "UTC", MON, datetime(2026, 3, 2, 19, 30, tzinfo=UTC)),
    ("mon,thu 19:30", "UTC", datetime(2026, 3, 2, 19, 30, tzinfo=UTC), datetime(2026, 3, 5, 19, 30, tzinfo=UTC)),
    ("mon,thu 19:30", "UTC", datetime(2026, 3, 5, 20, 0, tzinfo=UTC), datetime(2026, 3, 9, 19, 30, tzinfo=UTC)),
    ("sun 10:00", "Europe/Berlin", MON, datetime(2026, 3, 8, 9, 0, tzinfo=UTC)),
    ("yearly 11-14 09:00", "Europe/London", MON, datetime(2026, 11, 14, 9, 0, tzinfo=UTC)),
    ("yearly 02-29 09:00", "UTC", MON, datetime(2028, 2, 29, 9, 0, tzinfo=UTC)),
    ("yearly 02-29 09:00", "UTC", datetime(2024, 3, 1, tzinfo=UTC), datetime(2028, 2, 29, 9, 0, tzinfo=UTC)),
    ("yearly 02-29 09:00", "UTC", datetime(2096, 3, 1, tzinfo=UTC), datetime(2104, 2, 29, 9, 0, tzinfo=UTC)),
])
def test_next_occurrence(recurrence, tz, after, expected):
    assert next_occurrence(recurrence, tz, after) == expected


@pytest.mark.parametrize("recurrence", ["daily", "funday 10:00", "daily 8", "yearly 02-30 09:00", ""])
def test_next_occurrence_refuses_what_never_happens(recurrence):
    with pytest.raises(RecurrenceError):
        next_occurrence(recurrence, "UTC", MON)


@pytest.mark.parametrize(("text", "tz", "run_at", "recurrence", "rest"), [
    ("2h take long-acting insulin", "UTC", MON + timedelta(hours=2), None, "take long-acting insulin"),
    ("30m stretch", "Europe/Berlin", MON + timedelta(minutes=30), None, "stretch"),
    ("tomorrow 08:00 bloods", "Europe/Berlin", datetime(2026, 3, 3, 7, 0, tzinfo=UTC), None, "bloods"),
    ("daily 8:05 basal", "Europe/London", datetime(2026, 3, 3, 8, 5, tzinfo=UTC), "daily 08:05", "basal"),
    ("Mon,Thu 19:30 group", "UTC", datetime(2026, 3, 2, 19, 30, tzinfo=UTC), "mon,thu 19:30", "group"),
])
def test_parse_when(text, tz, run_at, recurrence, rest):
    when, left = parse_when(text, tz, MON)
    assert (when.run_at, when.recurrence, left) == (run_at, recurrence, rest)


@pytest.mark.parametrize(("text", "says"), [
    ("soon do it", "'soon' is not a time I understand; try 2h"),
    ("tomorrow 8 do it", "'8' is not a time of day"),
    ("tomorrow 24:00 do it", "'24:00' is not a time of day"),
    ("funday,mon 10:00 x", "'funday,mon' is not a time I understand"),
    ("0h nothing", "'0h' is not a duration"),
    ("2y later", "'2y' is not a duration"),
    ("", "when is missing"),
])
def test_parse_when_explains_bad_input(text, says):
    with pytest.raises(UsageError, match=says):
        parse_when(text, "UTC", MON)


async def test_the_real_scheduler_wakes_up_for_a_reminder(sqlite_url, pipeline):
    """No fake clock: APScheduler itself must run the reminder, well before its 30 s safety net."""
    from adapters.console import ConsoleAdapter
    from bot.app import App

    out = io.StringIO()
    console = ConsoleAdapter(speaker="alice", community="t1d", stdin=io.BytesIO(b""), stdout=out)
    async with App(make_config(sqlite_url), [console], pipeline=pipeline, run_scheduler=True):
        await console.feed(b"/remind 1s take your insulin\n")
        assert "[dm @alice] I'll remind you" in out.getvalue()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while "[dm @alice] ⏰ Reminder: take your insulin" not in out.getvalue():
            assert loop.time() < deadline, "the scheduler did not deliver the reminder"
            await asyncio.sleep(0.05)
    assert out.getvalue().count("⏰ Reminder: take your insulin") == 1
