"""Moderators' calendar: announcements and recurring group meetings, posted in the community's rooms."""

from __future__ import annotations

from bot.commands.context import CommandContext
from bot.commands.registry import MAX_ID, Param, Registry, Role, UsageError
from bot.commands.wellbeing import parse_number, pick_numbered
from bot.member_features import When, parse_when

MAX_ANNOUNCEMENT = 1500
MAX_TITLE = 200
EXCERPT = 60  # enough to tell announcements apart in a list


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[:EXCERPT - 1].rstrip() + "…"


async def _schedule(ctx: CommandContext, kind: str, when: When, text: str) -> None:
    s = ctx.services
    tz = s.communities[ctx.community].timezone
    await s.store.add_item(kind=kind, community_id=ctx.community, platform=ctx.platform, chat_id=ctx.event.chat_id,
                           text=text, run_at=when.run_at, recurrence=when.recurrence, timezone=tz,
                           created_at=s.clock(), active=True)
    s.wake(when.run_at)
    await s.store.audit(at=s.clock(), platform=ctx.platform, actor=ctx.who, action=kind, community=ctx.community,
                        reason=f"{when.describe(tz)}: {text}")


async def _list_announcements(ctx: CommandContext) -> None:
    # Numbered by their stored id, not their place in the list: two moderators cancelling at once
    # must never hit the wrong one because the list shifted under them.
    items = sorted(await ctx.services.store.active_items("announce", community=ctx.community),
                   key=lambda item: item.run_at)
    if not items:
        ctx.reply("No announcements are waiting to be posted here.")
        return
    lines = ["Announcements waiting to be posted:"]
    for item in items:
        # Each is posted on the platform it was scheduled from; moderators of several see them all.
        where = "" if item.platform == ctx.platform else f" on {item.platform}"
        lines.append(f"#{item.id} {When(item.run_at, item.recurrence).describe(item.timezone)}{where}: "
                     f"{_excerpt(item.text)}")
    lines.append("Cancel one with /announce cancel N.")
    ctx.reply("\n".join(lines))


async def _cancel_announcement(ctx: CommandContext, ref: str | None) -> None:
    s = ctx.services
    n = parse_number(ref, "/announce list")
    item = await s.store.item(n) if 0 < n <= MAX_ID else None
    if item is None or item.kind != "announce":
        raise UsageError(f"there is no announcement #{n}; /announce list shows them")
    if item.community_id != ctx.community:
        raise UsageError(f"announcement #{n} belongs to another community; cancel it there")
    if not await s.store.cancel_item(item.id):
        raise UsageError(f"announcement #{n} was already posted or cancelled")
    await s.store.audit(at=s.clock(), platform=ctx.platform, actor=ctx.who, action="announce.cancel",
                        community=ctx.community, reason=item.text)
    ctx.reply(f"Cancelled announcement #{n}; it will not be posted: {_excerpt(item.text)}")


def register(r: Registry) -> None:
    @r.command("announce", "Post an announcement in this community's rooms: 2h, tomorrow 09:00; 'list', 'cancel N'",
               Param("when"), Param("text", kind="text", optional=True), role=Role.MODERATOR)
    async def announce(ctx: CommandContext) -> None:
        first, rest = ctx.args["when"].lower(), ctx.args["text"]
        if first == "list":
            if rest:
                raise UsageError("/announce list takes nothing after it")
            await _list_announcements(ctx)
            return
        if first == "cancel":
            await _cancel_announcement(ctx, rest)
            return
        tz = ctx.services.communities[ctx.community].timezone
        when, text = parse_when(f"{ctx.args['when']} {rest or ''}", tz, ctx.services.clock())
        if not text:
            raise UsageError("what should I announce? Add it after the time")
        if len(text) > MAX_ANNOUNCEMENT:
            raise UsageError(f"please keep an announcement under {MAX_ANNOUNCEMENT} characters")
        await _schedule(ctx, "announce", when, text)
        ctx.reply(f"I'll post it {when.describe(tz)}.")

    @r.command("meeting", "Schedule a recurring meeting reminder, like 'thu 19:30 Evening circle'; 'cancel N'",
               Param("when"), Param("title", kind="text"), role=Role.MODERATOR)
    async def meeting(ctx: CommandContext) -> None:
        s = ctx.services
        tz = s.communities[ctx.community].timezone
        if ctx.args["when"].lower() == "cancel":
            item = pick_numbered(await s.store.active_items("meeting", community=ctx.community), ctx.args["title"],
                                 "/meetings")
            await s.store.update_item(item.id, active=False)
            await s.store.audit(at=s.clock(), platform=ctx.platform, actor=ctx.who, action="meeting.cancel",
                                community=ctx.community, reason=item.text)
            ctx.reply(f"Cancelled the meeting: {item.text}")
            return
        when, title = parse_when(f"{ctx.args['when']} {ctx.args['title']}", tz, s.clock())
        if when.recurrence is None:
            raise UsageError("a meeting repeats; give days and a time, like 'thu 19:30' or 'daily 08:00'")
        if not title:
            raise UsageError("the meeting needs a title after the time")
        if len(title) > MAX_TITLE:
            raise UsageError(f"please keep the title under {MAX_TITLE} characters")
        await _schedule(ctx, "meeting", when, title)
        ctx.reply(f"Scheduled: {title}, {when.describe(tz)}. I'll post a reminder in the room each time.")

    @r.command("meetings", "This community's regular meetings")
    async def meetings(ctx: CommandContext) -> None:
        tz = ctx.services.communities[ctx.community].timezone
        items = await ctx.services.store.active_items("meeting", community=ctx.community)
        if not items:
            ctx.reply("There are no regular meetings here yet.")
            return
        ctx.reply("\n".join(["Regular meetings:",
                             *(f"{n}. {item.text}, {When(item.run_at, item.recurrence).describe(tz)}"
                               for n, item in enumerate(items, 1))]))
