"""A member's control over their own data: what is kept, a copy of it, and erasure."""

from __future__ import annotations

import json
from datetime import datetime

from bot.actions import DirectMessage
from bot.commands.context import CommandContext
from bot.commands.experts import shown_as_verified
from bot.commands.registry import Param, Registry, UsageError

EXPORT_NAME = "haven-mydata.json"
CHECKIN_RETENTION_DAYS = 365


def _json_value(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot export {type(value).__name__}")


def register(r: Registry) -> None:
    @r.command("privacy", "What I keep about you, and for how long", needs_community=False)
    async def privacy(ctx: CommandContext) -> None:
        days = ctx.services.config.haven.retention_days
        ctx.private("\n".join([
            "Your privacy matters here. This is what I keep about you:",
            "• Your name on this platform, your communities, and the country, language and time zone you set.",
            f"• The words of a post only when I held it for a moderator or it worried me; those words are deleted "
            f"after {days} days, and only a short record (when, and why) stays.",
            f"• Your check-ins, for {CHECKIN_RETENTION_DAYS} days, and your reminders until they're done.",
            "• Your buddy pairings, and moderation cases about you.",
            "Only Haven and your community's moderators see it, and only to keep the community safe.",
            "/mydata sends you a copy of all of it; /forgetme erases it. More: docs/privacy.md in Haven's source.",
        ]))

    @r.command("mydata", "Get a copy of everything I keep about you", needs_community=False)
    async def mydata(ctx: CommandContext) -> None:
        export = await ctx.services.store.export_member(ctx.member.id)
        content = json.dumps(export, default=_json_value, ensure_ascii=False, indent=2).encode("utf-8")
        ctx.private("Here is everything I keep about you.", attachment=(EXPORT_NAME, content))

    @r.command("forgetme", "Erase what I keep about you ('/forgetme confirm')", Param("confirm", optional=True),
               needs_community=False)
    async def forgetme(ctx: CommandContext) -> None:
        s = ctx.services
        confirm = (ctx.args["confirm"] or "").lower()
        if not confirm:
            ctx.private("If you'd like, I'll erase what I keep about you: your check-ins, reminders, buddy pairings, "
                        "memberships and the words of any post held for review. Moderation records about you stay, "
                        "but without your name. This cannot be undone. To go ahead, send /forgetme confirm.")
            return
        if confirm != "confirm":
            raise UsageError("to erase your data, send exactly /forgetme confirm")
        me = ctx.member
        # A verified role given on the platform goes with the profession it showed. Any community on the
        # platform may have given it (one needs no membership to be verified), and platforms without such
        # a role ignore the action.
        shown_in = [cid for cid in s.communities.ids() if s.communities.rooms(cid, me.platform)] if me.profession else []
        done = await s.store.forget_member(me.id)
        for community in shown_in:
            ctx.actions.append(shown_as_verified(ctx, me, verified=False, community=community))
        for partner_id in done["partners"]:
            other = await s.store.member_by_id(partner_id)
            if other is not None:
                ctx.actions.append(DirectMessage(platform=other.platform, user_id=other.user_id,
                                                 text="Your buddy pairing has ended. Send /buddy in your community "
                                                      "whenever you'd like to find someone new."))
        await s.store.audit(at=s.clock(), platform=ctx.platform, actor="forgotten member", action="member.forget",
                            reason="a member asked to be forgotten")
        kept = done["anonymised_cases"]
        note = (f" {kept} moderation record{'s' if kept != 1 else ''} must be kept for the community's safety, so "
                f"{'they stay' if kept != 1 else 'it stays'}, no longer linked to you.") if kept else ""
        ctx.private(f"Done. I've erased what I kept about you.{note} If you write again, I'll start fresh. "
                    "Take care of yourself.")
