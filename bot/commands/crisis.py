"""Commands around crisis care: moderators take and close incidents; peers can voice a concern."""

from __future__ import annotations

from datetime import timedelta

from bot.actions import DirectMessage
from bot.commands.context import CommandContext
from bot.commands.registry import Param, Registry, Role


def register(r: Registry) -> None:
    @r.command("ack", "Take a crisis incident", Param("incident", "int"), role=Role.MODERATOR)
    async def ack(ctx: CommandContext) -> None:
        ctx.reply(await ctx.services.crisis.acknowledge(ctx.args["incident"], ctx.who, ctx.community),
                  ephemeral=False)

    @r.command("resolve", "Close a crisis incident with its outcome", Param("incident", "int"),
               Param("outcome", "text"), role=Role.MODERATOR)
    async def resolve(ctx: CommandContext) -> None:
        ctx.reply(await ctx.services.crisis.resolve(ctx.args["incident"], ctx.who, ctx.community,
                                                    ctx.args["outcome"]), ephemeral=False)

    @r.command("reply", "Answer the member of a crisis incident privately, through Haven",
               Param("incident", "int"), Param("text", "text"), role=Role.MODERATOR)
    async def reply(ctx: CommandContext) -> None:
        message, actions = await ctx.services.crisis.moderator_reply(ctx.args["incident"], ctx.who, ctx.community,
                                                                     ctx.args["text"])
        ctx.actions += actions
        ctx.reply(message)

    @r.command("concern", "Ask me to check privately on someone (they won't know it was you)",
               Param("member", "member"))
    async def concern(ctx: CommandContext) -> None:
        s = ctx.services
        target = await ctx.resolve_member(ctx.args["member"])
        if target.id == ctx.member.id:
            ctx.private("If you're struggling, you don't have to wait: " + s.crisis.lines_text(ctx.member,
                                                                                               ctx.community))
            return
        now = s.clock()
        day = now - timedelta(days=1)
        limits = s.config.crisis
        if (await s.store.count_concerns(reporter=ctx.who, since=day) >= limits.concern_per_reporter_per_day
                or await s.store.count_concerns(target_id=target.id, since=day) >= limits.concern_per_target_per_day):
            await s.store.audit(at=now, platform=ctx.platform, actor=ctx.who, action="concern", community=ctx.community,
                                target=f"member:{target.id}", outcome="refused", reason="rate limit")
            ctx.private("Thank you for caring. Someone has already asked me to check on them today; "
                        "if you're worried right now, please tell a moderator.")
            return
        lang = s.crisis.language(target, ctx.community)
        lines = s.catalogue.render_lines(s.directory.for_country(s.crisis.country(target, ctx.community)), lang,
                                         limit=2)
        ctx.actions.append(DirectMessage(platform=ctx.platform, user_id=target.user_id, durable=True,
                                         dedupe_key=f"concern:{ctx.platform}:{ctx.event.chat_id}:{ctx.message_id}",
                                         text=s.catalogue.text("concern.dm", lang, lines=lines)))
        await s.store.audit(at=now, platform=ctx.platform, actor=ctx.who, action="concern", community=ctx.community,
                            target=f"member:{target.id}")
        ctx.private(f"Thank you. I'll check on {target.name} privately; they won't know it was you.")
