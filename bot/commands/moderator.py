"""The moderators' toolkit: sanctions, records, the review queue, filters, room controls, statistics."""

from __future__ import annotations

import statistics
from datetime import timedelta

from bot.actions import DirectMessage, Post
from bot.commands.context import CommandContext
from bot.commands.registry import Param, Registry, Role, UsageError
from bot.sanctions import PAST, describe_duration
from bot.storage.models import Case, HeldMessage
from bot.storage.repositories import MemberInfo
from moderation.filters import FilterError, compile_filters, validate_pattern

MEMBER = Param("member", "member")
REASON = Param("reason", "text")
MOD = Role.MODERATOR


def _case_line(case: Case, names: dict[int, str]) -> str:
    who = names.get(case.member_id, "a forgotten member") if case.member_id else "a forgotten member"
    span = ""
    if case.expires_at is not None:
        span = f", {describe_duration(int((case.expires_at - case.created_at).total_seconds()))}"
    state = " (active)" if case.active and case.kind in ("mute", "ban") else ""
    by = case.moderator.split(":", 1)[-1]
    return f"#{case.id} {case.kind} {who}{span}{state} by {by} on {case.created_at:%Y-%m-%d %H:%M}: {case.reason}"


async def _target(ctx: CommandContext) -> MemberInfo:
    """The member a sanction is aimed at, refused if it is Haven or a moderator."""
    target = await ctx.resolve_member(ctx.args["member"])
    s = ctx.services
    actor = next((a for a in ctx.mentions if a.user_id == target.user_id), None)
    if ctx.reply_to_author is not None and ctx.reply_to_author.user_id == target.user_id:
        actor = ctx.reply_to_author
    if actor is not None and actor.is_bot:
        raise UsageError("Haven cannot be sanctioned")
    roles = actor.platform_roles if actor is not None else frozenset()
    if s.communities.is_moderator(ctx.community, ctx.platform, target.user_id, roles):
        await s.store.audit(at=s.clock(), platform=ctx.platform, actor=ctx.who, action=f"command.{ctx.command}",
                            community=ctx.community, target=target.handle, reason="target is a moderator",
                            outcome="refused")
        raise UsageError(f"{target.name} is a moderator; moderators cannot sanction each other")
    return target


def register(r: Registry) -> None:
    async def sanction(ctx: CommandContext, kind: str, seconds: int | None = None) -> None:
        target = await _target(ctx)
        case, actions = await ctx.services.sanctions.apply(
            cid=ctx.community, platform=ctx.platform, target=target, kind=kind, reason=ctx.args["reason"],
            moderator=ctx.who, seconds=seconds)
        ctx.actions += actions
        span = f" for {describe_duration(seconds)}" if seconds else ""
        ctx.reply(f"Case #{case.id}: {target.name} {'was ' if kind != 'warn' else ''}{PAST[kind]}{span}. "
                  f"Reason: {case.reason}", ephemeral=False)

    @r.command("warn", "Warn a member (counts towards automatic mutes and bans)", MEMBER, REASON, role=MOD)
    async def warn(ctx: CommandContext) -> None:
        await sanction(ctx, "warn")

    @r.command("mute", "Mute a member for a while: 30m, 2h, 1d, 1w", MEMBER, Param("duration", "duration"), REASON,
               role=MOD)
    async def mute(ctx: CommandContext) -> None:
        await sanction(ctx, "mute", ctx.args["duration"])

    @r.command("kick", "Remove a member from the room (they can come back)", MEMBER, REASON, role=MOD)
    async def kick(ctx: CommandContext) -> None:
        await sanction(ctx, "kick")

    @r.command("ban", "Ban a member, for a while or for good", MEMBER, Param("duration", "duration", optional=True),
               REASON, role=MOD)
    async def ban(ctx: CommandContext) -> None:
        await sanction(ctx, "ban", ctx.args["duration"])

    async def lift(ctx: CommandContext, kind: str) -> None:
        target = await ctx.resolve_member(ctx.args["member"])
        case, actions = await ctx.services.sanctions.lift(cid=ctx.community, platform=ctx.platform, target=target,
                                                          kind=kind, reason=ctx.args["reason"] or "lifted early",
                                                          moderator=ctx.who)
        if case is None:
            ctx.reply(f"{target.name} is not {'muted' if kind == 'unmute' else 'banned'} here.")
            return
        ctx.actions += actions
        ctx.reply(f"Case #{case.id}: {target.name} was {kind}d.", ephemeral=False)

    @r.command("unmute", "Lift a member's mute", MEMBER, Param("reason", "text", optional=True), role=MOD)
    async def unmute(ctx: CommandContext) -> None:
        await lift(ctx, "unmute")

    @r.command("unban", "Lift a member's ban", MEMBER, Param("reason", "text", optional=True), role=MOD)
    async def unban(ctx: CommandContext) -> None:
        await lift(ctx, "unban")

    @r.command("note", "Add a staff-only note about a member", MEMBER, Param("text", "text"), role=MOD)
    async def note(ctx: CommandContext) -> None:
        target = await ctx.resolve_member(ctx.args["member"])
        s = ctx.services
        case = await s.store.add_case(community_id=ctx.community, member_id=target.id, platform=ctx.platform,
                                      chat_id=None, kind="note", moderator=ctx.who, reason=ctx.args["text"],
                                      created_at=s.clock(), active=False)
        await s.store.audit(at=s.clock(), platform=ctx.platform, actor=ctx.who, action="note",
                            community=ctx.community, target=target.handle)
        ctx.reply(f"Note #{case.id} added for {target.name}. Only moderators can see it.")

    @r.command("case", "Show one case", Param("number", "int"), role=MOD)
    async def case(ctx: CommandContext) -> None:
        found = await ctx.services.store.case(ctx.args["number"])
        if found is None or found.community_id != ctx.community:
            ctx.reply(f"There is no case #{ctx.args['number']} here.")
            return
        member = await ctx.services.store.member_by_id(found.member_id) if found.member_id else None
        ctx.reply(_case_line(found, {member.id: member.name} if member else {}))

    @r.command("cases", "List a member's cases and notes", MEMBER, role=MOD)
    async def cases(ctx: CommandContext) -> None:
        target = await ctx.resolve_member(ctx.args["member"])
        rows = await ctx.services.store.cases(ctx.community, target.id, include_notes=True)
        if not rows:
            ctx.reply(f"{target.name} has no cases here.")
            return
        ctx.reply("\n".join([f"Cases for {target.name}:", *(_case_line(c, {target.id: target.name}) for c in rows)]))

    @r.command("queue", "Posts waiting for review: held posts, reports and appeals", role=MOD)
    async def queue(ctx: CommandContext) -> None:
        rows = await ctx.services.store.queue(ctx.community)
        if not rows:
            ctx.reply("The review queue is empty.")
            return
        lines = ["Waiting for review:"]
        for h in rows:
            author = await ctx.services.store.member_by_id(h.member_id) if h.member_id else None
            why = "; ".join(h.reasons) or h.kind
            lines.append(f"#{h.id} {h.kind} from {author.name if author else 'someone'}: "
                         f"\"{(h.text or '')[:200]}\" ({why})")
        lines.append("/approve N to post a held message, /reject N [reason] to turn it down.")
        ctx.reply("\n".join(lines))

    async def decide(ctx: CommandContext, status: str) -> HeldMessage | None:
        """Record a decision on a queue item; None (with a reply) if another moderator decided first."""
        s = ctx.services
        held = await s.store.held(ctx.args["number"])
        if held is None or held.community_id != ctx.community:
            raise UsageError(f"there is no queue item #{ctx.args['number']} here")
        if not await s.store.decide(held.id, status, ctx.who, s.clock()):
            ctx.reply(f"#{held.id} was already decided.")
            return None
        return held

    @r.command("approve", "Post a held message, or accept a report or appeal", Param("number", "int"), role=MOD)
    async def approve(ctx: CommandContext) -> None:
        s = ctx.services
        held = await decide(ctx, "approved")
        if held is None:
            return
        author = await s.store.member_by_id(held.member_id) if held.member_id else None
        await s.store.audit(at=s.clock(), platform=ctx.platform, actor=ctx.who, action="queue.approve",
                            community=ctx.community, target=f"held:{held.id}")
        if held.kind == "held" and held.text:
            name = author.name if author else "A member"
            ctx.actions.append(Post(platform=held.platform, chat_id=held.chat_id, community=ctx.community,
                                    text=f"{name} wrote (approved by a moderator): {held.text}"))
            if author is not None:
                ctx.actions.append(DirectMessage(platform=author.platform, user_id=author.user_id,
                                                 text="A moderator approved your message; it is now posted."))
        ctx.reply(f"#{held.id} approved.")

    @r.command("reject", "Turn down a held message, report or appeal", Param("number", "int"),
               Param("reason", "text", optional=True), role=MOD)
    async def reject(ctx: CommandContext) -> None:
        s = ctx.services
        held = await decide(ctx, "rejected")
        if held is None:
            return
        reason = ctx.args["reason"] or "it doesn't fit this community's rules"
        await s.store.audit(at=s.clock(), platform=ctx.platform, actor=ctx.who, action="queue.reject",
                            community=ctx.community, target=f"held:{held.id}", reason=reason)
        author = await s.store.member_by_id(held.member_id) if held.member_id else None
        if author is not None and held.kind in ("held", "appeal"):
            what = "your message was not posted" if held.kind == "held" else "your appeal was turned down"
            ctx.actions.append(DirectMessage(platform=author.platform, user_id=author.user_id,
                                             text=f"A moderator looked at it: {what}. Reason: {reason}"))
        ctx.reply(f"#{held.id} rejected.")

    @r.command("filter", "Manage this community's word filters: add, allow, remove, list, test",
               Param("action", choices=("add", "allow", "remove", "list", "test")),
               Param("pattern", "text", optional=True), role=MOD)
    async def filter_(ctx: CommandContext) -> None:
        s = ctx.services
        action, pattern = ctx.args["action"], ctx.args["pattern"]
        if action == "list":
            rows = await s.store.filters(ctx.community)
            if not rows:
                ctx.reply("No filters yet. Add one with /filter add <word or phrase, * for any ending>.")
                return
            ctx.reply("\n".join(["Filters:", *(f"{'allow' if f.allow else 'block'}: {f.pattern}" for f in rows)]))
            return
        if not pattern:
            raise UsageError(f"/filter {action} needs a word or phrase")
        if action == "test":
            hits = (s.filters.get(ctx.community) or compile_filters(())).test(pattern)
            ctx.reply(f"That would be caught by: {', '.join(hits)}." if hits else "No filter catches that.")
            return
        try:
            normal = validate_pattern(pattern)
        except FilterError as e:
            raise UsageError(str(e)) from None
        now = s.clock()
        if action == "remove":
            done = await s.store.remove_filter(ctx.community, normal)
            message = f"Removed the filter '{normal}'." if done else f"There is no filter '{normal}'."
        else:
            done = await s.store.add_filter(ctx.community, normal, action == "allow", ctx.who, now)
            kind = "allow-list entry" if action == "allow" else "filter"
            message = f"Added the {kind} '{normal}'; it applies now." if done else f"'{normal}' is already there."
        if done:
            await s.reload_filters(ctx.community)
            await s.store.audit(at=now, platform=ctx.platform, actor=ctx.who, action=f"filter.{action}",
                                community=ctx.community, target=normal)
        ctx.reply(message)

    @r.command("lockdown", "Only moderators may post, for a while or until /unlock",
               Param("duration", "duration", optional=True), role=MOD)
    async def lockdown(ctx: CommandContext) -> None:
        s = ctx.services
        seconds = ctx.args["duration"]
        until = s.clock() + timedelta(seconds=seconds) if seconds else None
        await s.store.set_room_state(ctx.community, locked=True, lockdown_until=until)
        await s.store.audit(at=s.clock(), platform=ctx.platform, actor=ctx.who, action="lockdown",
                            community=ctx.community, reason=describe_duration(seconds) if seconds else "until unlocked")
        span = f" for {describe_duration(seconds)}" if seconds else " until a moderator unlocks it"
        for room in s.communities.rooms(ctx.community, ctx.platform):
            ctx.actions.append(Post(platform=ctx.platform, chat_id=room.chat_id, community=ctx.community,
                                    text=f"The moderators have paused this room{span}. Only moderators can post."))
        ctx.reply(f"Locked{span}.")

    @r.command("unlock", "End a lockdown", role=MOD)
    async def unlock(ctx: CommandContext) -> None:
        s = ctx.services
        await s.store.set_room_state(ctx.community, locked=False, lockdown_until=None)
        await s.store.audit(at=s.clock(), platform=ctx.platform, actor=ctx.who, action="unlock",
                            community=ctx.community)
        for room in s.communities.rooms(ctx.community, ctx.platform):
            ctx.actions.append(Post(platform=ctx.platform, chat_id=room.chat_id, community=ctx.community,
                                    text="The room is open again. Thanks for your patience."))
        ctx.reply("Unlocked.")

    @r.command("slowmode", "Limit each member to one post per N seconds (0 turns it off)",
               Param("seconds", "int"), role=MOD)
    async def slowmode(ctx: CommandContext) -> None:
        seconds = ctx.args["seconds"]
        if not 0 <= seconds <= 21600:
            raise UsageError("seconds must be between 0 and 21600 (6 hours)")
        s = ctx.services
        await s.store.set_room_state(ctx.community, slowmode_seconds=seconds)
        await s.store.audit(at=s.clock(), platform=ctx.platform, actor=ctx.who, action="slowmode",
                            community=ctx.community, reason=str(seconds))
        ctx.reply(f"Slow mode: one post every {seconds} seconds." if seconds else "Slow mode is off.")

    @r.command("stats", "What Haven saw and did: 7d or 30d", Param("period", choices=("7d", "30d"), optional=True),
               role=MOD)
    async def stats(ctx: CommandContext) -> None:
        s = ctx.services
        await s.flush_counts()
        days = 30 if ctx.args["period"] == "30d" else 7
        data = await s.store.stats(ctx.community, s.clock() - timedelta(days=days))
        counts = data["counts"]
        flags = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "screened") or "none"
        waits = [(acked - opened).total_seconds() for opened, acked in data["incidents"] if acked is not None]
        median = f"{statistics.median(waits) / 60:.1f} min" if waits else "n/a"
        sanctions = ", ".join(f"{k} {v}" for k, v in sorted(data["sanctions"].items()) if k != "note") or "none"
        ctx.reply("\n".join([
            f"Last {days} days in {s.communities[ctx.community].name}:",
            f"Messages screened: {counts.get('screened', 0)}",
            f"Flags: {flags}",
            f"Crisis incidents opened: {len(data['incidents'])}; median time to acknowledge: {median}",
            f"Sanctions: {sanctions}",
        ]))

    @r.command("audit", "The latest entries of the audit log", role=MOD)
    async def audit(ctx: CommandContext) -> None:
        rows = await ctx.services.store.audit_entries(ctx.community, limit=15)
        lines = ["Audit log, newest first:"]
        for e in rows:
            target = f" {e.target}" if e.target else ""
            why = f": {e.reason}" if e.reason else ""
            mark = "" if e.outcome == "done" else f" [{e.outcome}]"
            lines.append(f"{e.at:%m-%d %H:%M} {e.platform} {e.actor} {e.action}{target}{why}{mark}")
        ctx.reply("\n".join(lines))
