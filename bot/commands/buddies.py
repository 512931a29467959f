"""Buddies: two members of a community who both agreed to walk alongside each other.

Each side only ever learns the other's name; what they share beyond that is up to them.
"""

from __future__ import annotations

from bot.actions import DirectMessage
from bot.commands.context import CommandContext
from bot.commands.registry import Param, Registry, UsageError

MAX_DETAIL = 64


async def _tell(ctx: CommandContext, member_id: int, text: str) -> None:
    """A private message to the other member of a pair, on their own platform."""
    other = await ctx.services.store.member_by_id(member_id)
    if other is not None:
        ctx.actions.append(DirectMessage(platform=other.platform, user_id=other.user_id, text=text))


async def _name(ctx: CommandContext, member_id: int | None) -> str:
    other = await ctx.services.store.member_by_id(member_id) if member_id is not None else None
    return other.name if other is not None else "someone"


def register(r: Registry) -> None:
    @r.command("buddy", "Find a buddy here, optionally by a detail like 'pump'; then /buddy accept or /buddy end",
               Param("detail", kind="text", optional=True))
    async def buddy(ctx: CommandContext) -> None:
        s = ctx.services
        cid = ctx.community
        name = s.communities[cid].name
        arg = (ctx.args["detail"] or "").strip()
        current = await s.store.buddy(ctx.member.id, cid)
        if arg.lower() == "accept":
            state, partner = await s.store.buddy_accept(ctx.member.id, cid)
            if state == "none":
                raise UsageError("there is no buddy suggestion to accept yet; /buddy shows where you are")
            partner_name = await _name(ctx, partner)
            if state == "accepted":
                ctx.private(f"Thanks! I'll let you know when {partner_name} accepts too.")
                await _tell(ctx, partner, f"{ctx.member.name} would like to be your buddy in {name}. "
                                          "Send /buddy accept there to say yes, or /buddy end to say no thanks.")
                return
            ctx.private(f"You and {partner_name} are buddies in {name} now. Say hello with a private message.")
            await _tell(ctx, partner, f"You and {ctx.member.name} are buddies in {name} now. "
                                      "Say hello with a private message.")
            return
        if arg.lower() == "end":
            ended, partner = await s.store.buddy_end(ctx.member.id, cid)
            if not ended:
                raise UsageError("you have no buddy here to end; /buddy finds one")
            done = f"Done. You're no longer looking for or paired with a buddy in {name}."
            ctx.private(done if partner is None else f"{done} I won't suggest {await _name(ctx, partner)} to you again.")
            if partner is not None:
                await _tell(ctx, partner, f"Your buddy pairing with {ctx.member.name} in {name} has ended. "
                                          "Send /buddy there whenever you'd like to find someone new.")
            return
        if current is not None:
            if arg:
                raise UsageError("you're already in the buddy list here; /buddy end first to start again")
            partner_name = await _name(ctx, current.partner_id)
            ctx.private({
                "waiting": f"You're on the buddy list in {name}. I'll tell you as soon as I find someone.",
                "proposed": f"I suggested {partner_name} as your buddy in {name}. "
                            + ("You've accepted; waiting for them." if current.accepted
                               else "Send /buddy accept to say yes, or /buddy end to say no thanks."),
                "active": f"Your buddy in {name} is {partner_name}. /buddy end ends the pairing.",
            }[current.status])
            return
        detail = arg.lower() or None
        if detail is not None and len(detail) > MAX_DETAIL:
            raise UsageError(f"please keep the detail under {MAX_DETAIL} characters")
        partner = await s.store.buddy_opt_in(ctx.member.id, cid, detail, s.clock())
        if partner is None:
            wish = f" who also said '{detail}'" if detail else ""
            ctx.private(f"You're on the buddy list in {name}. I'll tell you privately when I find someone{wish}.")
            return
        partner_name = await _name(ctx, partner)
        ask = "Send /buddy accept to say yes, or /buddy end to say no thanks."
        ctx.private(f"I found a buddy for you in {name}: {partner_name}. {ask}")
        await _tell(ctx, partner, f"I found a buddy for you in {name}: {ctx.member.name}. {ask}")
