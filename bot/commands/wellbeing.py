"""Check-ins, reminders and time zones: a member's own, always answered privately."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.charts import mood_chart_png
from bot.commands.context import CommandContext
from bot.commands.registry import Param, Registry, UsageError
from bot.member_features import When, member_timezone, parse_when, sparkline
from bot.scheduling import next_occurrence

CHART_DAYS = 14
MAX_REMINDERS = 25
MAX_REMINDER_TEXT = 500
MOOD_HINT = "give a number from 1 (very low) to 5 (very good), or 'daily 20:00' or 'stop'"


def _zone(ctx: CommandContext) -> str:
    return member_timezone(ctx.services, ctx.member, ctx.community)


async def _store_item(ctx: CommandContext, kind: str, when: When, text: str, tz: str) -> None:
    s = ctx.services
    await s.store.add_item(kind=kind, member_id=ctx.member.id, community_id=ctx.community, platform=ctx.platform,
                           chat_id=ctx.actor.user_id, text=text, run_at=when.run_at, recurrence=when.recurrence,
                           timezone=tz, created_at=s.clock(), active=True)
    s.wake(when.run_at)


def register(r: Registry) -> None:
    @r.command("checkin", "Note how you feel from 1 to 5, or get a daily prompt ('daily 20:00', 'stop')",
               Param("mood"), Param("note", kind="text", optional=True), needs_community=False)
    async def checkin(ctx: CommandContext) -> None:
        s = ctx.services
        first, rest = ctx.args["mood"].lower(), ctx.args["note"]
        if first == "stop":
            if rest:
                raise UsageError("/checkin stop takes nothing after it")
            prompts = await s.store.active_items("checkin", member_id=ctx.member.id)
            for item in prompts:
                await s.store.update_item(item.id, active=False)
            ctx.private("Okay, no more daily check-in messages. You can still /checkin any time."
                        if prompts else "You don't have a daily check-in. Start one with /checkin daily 20:00.")
            return
        if first == "daily":
            tz = _zone(ctx)
            when, extra = parse_when(f"daily {rest or ''}", tz, s.clock())
            if extra:
                raise UsageError(f"unexpected '{extra[:40]}' after the time")
            for item in await s.store.active_items("checkin", member_id=ctx.member.id):
                await s.store.update_item(item.id, active=False)  # one daily prompt, at the newest time
            await _store_item(ctx, "checkin", when, "", tz)
            ctx.private(f"I'll check in with you {when.describe(tz)}. /checkin stop ends it; /timezone changes "
                        "your time zone.")
            return
        if first not in ("1", "2", "3", "4", "5"):
            raise UsageError(f"'{first[:20]}' is not a mood; {MOOD_HINT}")
        mood = int(first)
        if rest and len(rest) > MAX_REMINDER_TEXT:
            raise UsageError(f"please keep the note under {MAX_REMINDER_TEXT} characters")
        await s.store.add_checkin(ctx.member.id, mood, rest, s.clock())
        thanks = f"Thanks for checking in. I've noted a {mood}."
        if mood <= 2:
            thanks += (" I'm sorry today is hard. You don't have to carry it alone: the community is here, and "
                       "/resources shows people you can talk to right now.")
        ctx.private(thanks + " /checkins shows your last two weeks.")

    @r.command("checkins", "See your check-ins of the last two weeks", needs_community=False)
    async def checkins(ctx: CommandContext) -> None:
        s = ctx.services
        zone = ZoneInfo(_zone(ctx))
        today = s.clock().astimezone(zone).date()
        days = [today - timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]
        rows = await s.store.checkins(ctx.member.id, s.clock() - timedelta(days=CHART_DAYS))
        if not rows:
            ctx.private("You haven't checked in yet these two weeks. Try /checkin 3, or any number from 1 to 5.")
            return
        by_day: dict = {}
        for row in rows:
            by_day.setdefault(row.at.astimezone(zone).date(), []).append(row.mood)
        # The day's average, rounded: one bar a day however often someone checks in.
        moods = [round(sum(by_day[d]) / len(by_day[d])) if d in by_day else None for d in days]
        latest = rows[-1]
        note = f": {latest.note}" if latest.note else ""
        ctx.private("\n".join([
            f"Your check-ins, {days[0]:%d %b} to {days[-1]:%d %b} (▁ very low … ▅ very good, · no check-in):",
            sparkline(moods),
            f"{len(rows)} check-in{'s' if len(rows) != 1 else ''}, average {sum(r.mood for r in rows) / len(rows):.1f}. "
            f"Latest: {latest.mood} on {latest.at.astimezone(zone):%d %b}{note}",
        ]), attachment=("checkins.png", mood_chart_png(moods)))

    @r.command("timezone", "Set your time zone for reminders and check-ins, like Europe/Berlin",
               Param("zone"), needs_community=False)
    async def timezone(ctx: CommandContext) -> None:
        s = ctx.services
        name = ctx.args["zone"]
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise UsageError(f"I don't know the time zone '{name[:40]}'; use a name like Europe/Berlin, "
                             "America/New_York or Asia/Kolkata") from None
        ctx.member = await s.store.set_member_fields(ctx.member.id, timezone=name)
        now = s.clock()
        # Repeating reminders keep their wall-clock time in the new zone.
        for kind in ("reminder", "checkin"):
            for item in await s.store.active_items(kind, member_id=ctx.member.id):
                if item.recurrence:
                    run_at = next_occurrence(item.recurrence, name, now)
                    await s.store.update_item(item.id, timezone=name, run_at=run_at)
                    s.wake(run_at)
        ctx.private(f"Got it: your time zone is {name}.")

    @r.command("remind", "Get a private reminder: 2h, tomorrow 08:00, daily 08:00, mon,thu 19:30; 'cancel N'",
               Param("when"), Param("text", kind="text"), needs_community=False)
    async def remind(ctx: CommandContext) -> None:
        s = ctx.services
        if ctx.args["when"].lower() == "cancel":
            items = await s.store.active_items("reminder", member_id=ctx.member.id)
            item = pick_numbered(items, ctx.args["text"], "/reminders")
            await s.store.update_item(item.id, active=False)
            ctx.private(f"Cancelled reminder {ctx.args['text'].strip()}: {item.text}")
            return
        tz = _zone(ctx)
        when, text = parse_when(f"{ctx.args['when']} {ctx.args['text']}", tz, s.clock())
        if not text:
            raise UsageError("what should I remind you of? Add it after the time")
        if len(text) > MAX_REMINDER_TEXT:
            raise UsageError(f"please keep a reminder under {MAX_REMINDER_TEXT} characters")
        if len(await s.store.active_items("reminder", member_id=ctx.member.id)) >= MAX_REMINDERS:
            raise UsageError(f"you have {MAX_REMINDERS} reminders already; /remind cancel N makes room")
        await _store_item(ctx, "reminder", when, text, tz)
        ctx.private(f"I'll remind you {when.describe(tz)}: {text}")

    @r.command("reminders", "List your reminders", needs_community=False)
    async def reminders(ctx: CommandContext) -> None:
        s = ctx.services
        tz = _zone(ctx)
        items = await s.store.active_items("reminder", member_id=ctx.member.id)
        if not items:
            ctx.private("You have no reminders. Set one with /remind 2h take your insulin.")
            return
        lines = ["Your reminders:"]
        for n, item in enumerate(items, 1):
            lines.append(f"{n}. {When(item.run_at, item.recurrence).describe(item.timezone or tz)}: {item.text}")
        lines.append("Cancel one with /remind cancel N.")
        ctx.private("\n".join(lines))


def parse_number(ref: str | None, listing: str) -> int:
    """A number as a listing showed it, `3` or `#3`."""
    try:
        return int((ref or "").strip().lstrip("#"))
    except ValueError:
        raise UsageError(f"give the number {listing} shows, like 1") from None


def pick_numbered(items: list, ref: str | None, listing: str):
    """The item a person means by the number a listing showed them."""
    n = parse_number(ref, listing)
    if not 1 <= n <= len(items):
        raise UsageError(f"there is no number {n}; {listing} shows them")
    return items[n - 1]
