"""The member's side of moderation: reporting a post, seeing one's own record, appealing."""

from __future__ import annotations

from datetime import timedelta

from bot.actions import Post, RemoveMessage
from bot.commands.context import CommandContext
from bot.commands.registry import Param, Registry, UsageError
from bot.sanctions import describe_duration

REPORTS_PER_DAY = 10


def _tell_moderators(ctx: CommandContext, cid: str, text: str) -> None:
    room = ctx.services.communities.alert_room(cid, ctx.platform)
    if room is not None:
        ctx.actions.append(Post(platform=room.platform, chat_id=room.chat_id, kind="mods", community=cid, text=text))


def _hide_command(ctx: CommandContext) -> None:
    """Take the command itself out of the room, so nobody sees who reported."""
    if not ctx.event.private and ctx.message_id is not None and ctx.interaction_id is None:
        ctx.actions.append(RemoveMessage(platform=ctx.platform, chat_id=ctx.event.chat_id,
                                         message_id=ctx.message_id, community=ctx.community,
                                         author=ctx.member.name, reason="kept private"))


def register(r: Registry) -> None:
    @r.command("report", "Tell the moderators about a post (reply to it); they won't say it was you",
               Param("member", "member"), Param("reason", "text"))
    async def report(ctx: CommandContext) -> None:
        s = ctx.services
        _hide_command(ctx)
        now = s.clock()
        if await s.store.count_audit(actor=ctx.who, action="report", since=now - timedelta(days=1)) >= REPORTS_PER_DAY:
            ctx.private("You've sent a lot of reports today. If something is urgent, please message a moderator.")
            return
        target = await ctx.resolve_member(ctx.args["member"])
        held_id = await s.store.hold(community_id=ctx.community, member_id=target.id, reporter_id=ctx.member.id,
                                     kind="report", platform=ctx.platform, chat_id=ctx.event.chat_id,
                                     message_id=ctx.reply_to_message, text=ctx.args["reason"], categories=[],
                                     reasons=["member report"], status="pending", created_at=now)
        await s.store.audit(at=now, platform=ctx.platform, actor=ctx.who, action="report", community=ctx.community,
                            target=target.handle)
        _tell_moderators(ctx, ctx.community, f"New report #{held_id} about {target.name}: {ctx.args['reason']}\n"
                                             "/queue to review it.")
        ctx.private("Thank you. The moderators will look at it; they won't tell anyone it was you.")

    @r.command("mywarnings", "See your own record: warnings, mutes and bans", needs_community=False)
    async def mywarnings(ctx: CommandContext) -> None:
        cases = await ctx.services.store.cases(None, ctx.member.id, include_notes=False)
        if not cases:
            ctx.private("You have a clean record. Thank you for being part of this.")
            return
        lines = ["Your record:"]
        for c in cases:
            name = ctx.services.communities[c.community_id].name if c.community_id in ctx.services.communities \
                else c.community_id
            span = (f", {describe_duration(int((c.expires_at - c.created_at).total_seconds()))}"
                    if c.expires_at else "")
            lines.append(f"#{c.id} {c.kind}{span} in {name} on {c.created_at:%Y-%m-%d}: {c.reason}")
        lines.append("To appeal one: /appeal <number> <what you'd like the moderators to know>")
        ctx.private("\n".join(lines))

    @r.command("appeal", "Ask the moderators to look at one of your cases again", Param("case", "int"),
               Param("text", "text"), needs_community=False)
    async def appeal(ctx: CommandContext) -> None:
        s = ctx.services
        case = await s.store.case(ctx.args["case"])
        if case is None or case.member_id != ctx.member.id or case.kind == "note":
            raise UsageError(f"case #{ctx.args['case']} is not one of yours; /mywarnings lists them")
        now = s.clock()
        held_id = await s.store.hold(community_id=case.community_id, member_id=ctx.member.id, kind="appeal",
                                     platform=ctx.platform, chat_id=ctx.event.chat_id, message_id=None,
                                     text=ctx.args["text"], categories=[], reasons=[f"appeal of case #{case.id}"],
                                     status="pending", created_at=now)
        await s.store.audit(at=now, platform=ctx.platform, actor=ctx.who, action="appeal",
                            community=case.community_id, target=f"case:{case.id}")
        _tell_moderators(ctx, case.community_id, f"Appeal #{held_id} of case #{case.id} from {ctx.member.name}: "
                                                 f"{ctx.args['text']}\n/queue to review it.")
        ctx.private(f"Your appeal of case #{case.id} is with the moderators. You'll hear back here.")
