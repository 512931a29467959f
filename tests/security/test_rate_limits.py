"""Per-member limits on commands: a general one per minute in the engine, and the daily ones of the
commands that reach other people (/report, /concern) or store work for later (/remind)."""

from __future__ import annotations

from bot.commands.reports import REPORTS_PER_DAY
from bot.commands.wellbeing import MAX_REMINDERS
from bot.engine import COMMANDS_PER_MINUTE

SLOW_DOWN = "faster than I can keep up"


async def refusals(app, reason: str) -> list:
    return [e for e in await app.store.audit_entries() if e.outcome == "refused" and e.reason == reason]


async def test_a_member_sending_too_many_commands_is_told_once_and_audited_once(terminal, clock):
    async with terminal() as t:
        for _ in range(COMMANDS_PER_MINUTE):
            assert not any(SLOW_DOWN in line for line in await t.say("/rules"))
        told = await t.say("/rules")
        assert any(SLOW_DOWN in line for line in told) and not any("Rules of" in line for line in told)
        assert await t.say("/rules") == [], "after the first refusal the rest of the minute is quiet"
        assert len(await refusals(t.app, "rate limit")) == 1

        assert any("Rules of" in line for line in await t.say("/rules", speaker="bob")), "others are not limited"
        clock.advance(minutes=1)
        assert any("Rules of" in line for line in await t.say("/rules")), "a new minute, a new allowance"


async def test_moderators_are_not_limited_in_their_community(terminal):
    async with terminal() as t:
        for _ in range(COMMANDS_PER_MINUTE + 5):
            printed = await t.say("/rules", speaker="mira")
            assert any("Rules of" in line for line in printed)


async def test_a_crisis_after_the_limit_still_gets_help(terminal):
    async with terminal() as t:
        for _ in range(COMMANDS_PER_MINUTE + 1):
            await t.say("/rules")
        printed = await t.say("/report @bob I want to end my life")
    assert any(line.startswith("[dm @alice]") and "116 123" in line for line in printed)


async def test_report_is_limited_per_day(terminal):
    async with terminal() as t:
        await t.say("hello everyone", speaker="bob")
        for _ in range(REPORTS_PER_DAY):
            assert any("The moderators will look at it" in line for line in await t.say("/report @bob rude"))
        assert any("a lot of reports today" in line for line in await t.say("/report @bob rude"))


async def test_concern_is_limited_per_reporter_and_per_target(terminal):
    async with terminal() as t:
        limits = t.app.config.crisis
        for name in ("bob", "carol", "dave", "erin"):
            await t.say("hello", speaker=name)
        for name in ("bob", "carol", "dave")[: limits.concern_per_reporter_per_day]:
            assert any("I'll check on" in line for line in await t.say(f"/concern @{name}"))
        assert any("Someone has already asked" in line for line in await t.say("/concern @erin"))
        for asker in ("frank", "gina", "hank")[: limits.concern_per_target_per_day]:
            await t.say("/concern @erin", speaker=asker)
        assert any("Someone has already asked" in line for line in await t.say("/concern @erin", speaker="ivy"))
        assert len(await refusals(t.app, "rate limit")) == 2


async def test_remind_is_capped_per_member(terminal, clock):
    async with terminal() as t:
        for i in range(MAX_REMINDERS):
            if i and i % COMMANDS_PER_MINUTE == 0:
                clock.advance(minutes=1)  # stay under the per-minute limit: this is about the cap
            assert any("I'll remind you" in line for line in await t.say(f"/remind 2h drink water {i}"))
        clock.advance(minutes=1)
        assert any(f"you have {MAX_REMINDERS} reminders already" in line for line in await t.say("/remind 2h one more"))
