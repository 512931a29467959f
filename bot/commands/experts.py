"""Verified health professionals: a moderator vouches for a member's profession, members can find them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.actions import SetVerified
from bot.commands.context import CommandContext
from bot.commands.registry import Param, Registry, Role, UsageError

if TYPE_CHECKING:
    from bot.storage.repositories import MemberInfo

MAX_PROFESSION = 60


def shown_as_verified(ctx: CommandContext, target: MemberInfo, *, verified: bool,
                      community: str | None = None) -> SetVerified:
    """Platforms that mark verified people themselves (a Discord role) follow Haven; others ignore it."""
    return SetVerified(platform=target.platform, chat_id=ctx.event.chat_id, user_id=target.user_id,
                       community=community or ctx.community, verified=verified)


def register(r: Registry) -> None:
    @r.command("verify", "Mark a member as a verified health professional, like 'nurse'",
               Param("member", "member"), Param("profession", kind="text"), role=Role.MODERATOR)
    async def verify(ctx: CommandContext) -> None:
        s = ctx.services
        target = await ctx.resolve_member(ctx.args["member"])
        profession = " ".join(ctx.args["profession"].split())
        if len(profession) > MAX_PROFESSION:
            raise UsageError(f"please keep the profession under {MAX_PROFESSION} characters")
        await s.store.set_member_fields(target.id, profession=profession)
        await s.store.audit(at=s.clock(), platform=ctx.platform, actor=ctx.who, action="verify",
                            community=ctx.community, target=target.handle, reason=profession)
        ctx.actions.append(shown_as_verified(ctx, target, verified=True))
        ctx.reply(f"{target.name} is now shown as a verified {profession}.")

    @r.command("unverify", "Remove a member's verified profession", Param("member", "member"), role=Role.MODERATOR)
    async def unverify(ctx: CommandContext) -> None:
        s = ctx.services
        target = await ctx.resolve_member(ctx.args["member"])
        if target.profession is None:
            raise UsageError(f"{target.name} is not verified")
        await s.store.set_member_fields(target.id, profession=None)
        await s.store.audit(at=s.clock(), platform=ctx.platform, actor=ctx.who, action="unverify",
                            community=ctx.community, target=target.handle, reason=target.profession)
        ctx.actions.append(shown_as_verified(ctx, target, verified=False))
        ctx.reply(f"{target.name} is no longer shown as verified.")

    @r.command("experts", "Verified health professionals in this community")
    async def experts(ctx: CommandContext) -> None:
        people = await ctx.services.store.experts(ctx.community)
        if not people:
            ctx.reply("No one here is verified as a health professional yet.")
            return
        ctx.reply("\n".join(["Verified health professionals here (peers, not your own care team):",
                             *(f"- {m.name} ({m.profession})" for m in people)]))
