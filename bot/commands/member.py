"""Commands every member can use."""

from __future__ import annotations

from bot.actions import SetRoomMembership
from bot.commands.context import CommandContext
from bot.commands.registry import Param, Registry, Role, UsageError

COUNTRY_NAMES_HINT = "a two-letter country code, like GB, US, DE, FR, ES or BR"


def _membership(ctx: CommandContext, cid: str, *, member: bool) -> SetRoomMembership:
    """Platforms that model membership themselves (a Discord role) follow Haven's; others ignore it."""
    return SetRoomMembership(platform=ctx.platform, chat_id=ctx.event.chat_id, user_id=ctx.actor.user_id,
                             community=cid, member=member)


def register(r: Registry) -> None:
    @r.command("help", "Show what I can do", needs_community=False)
    async def help_(ctx: CommandContext) -> None:
        lines = ["Here is what I can do:"]
        for cmd in ctx.services.registry.for_role(Role.MEMBER):
            lines.append(f"{cmd.usage} — {cmd.summary}")
        if ctx.role == Role.MODERATOR:
            lines.append("")
            lines.append("For moderators:")
            lines += [f"{c.usage} — {c.summary}" for c in ctx.services.registry.all() if c.role == Role.MODERATOR]
        lines.append("")
        lines.append("If you are struggling, /resources shows people you can talk to right now.")
        ctx.reply("\n".join(lines))

    @r.command("start", "Open a private conversation with me", Param("payload", optional=True),
               needs_community=False)
    async def start(ctx: CommandContext) -> None:
        if ctx.args["payload"] == "help" and ctx.services.crisis is not None:
            ctx.actions += await ctx.services.crisis.private_help(ctx.event, ctx.member)
            return
        ctx.reply("Hi, I'm Haven. I help run peer-support communities. Send /help to see what I can do.")

    @r.command("rules", "Show this community's rules")
    async def rules(ctx: CommandContext) -> None:
        c = ctx.services.communities[ctx.community]
        if not c.rules:
            ctx.reply(f"{c.name} has no written rules yet. Be kind.")
            return
        ctx.reply("\n".join([f"Rules of {c.name}:", *(f"{i}. {rule}" for i, rule in enumerate(c.rules, 1))]))

    @r.command("communities", "List the communities you can join", needs_community=False)
    async def communities(ctx: CommandContext) -> None:
        counts = await ctx.services.store.member_counts()
        joined = set(await ctx.services.store.memberships(ctx.member.id))
        lines = ["Communities:"]
        for cid in ctx.services.communities.ids():
            c = ctx.services.communities[cid]
            mark = " (you're a member)" if cid in joined else ""
            n = counts.get(cid, 0)
            lines.append(f"- {cid}: {c.name}{mark}, {n} member{'s' if n != 1 else ''}. {c.description}".rstrip())
        lines.append("Join one with /join <id>.")
        ctx.reply("\n".join(lines))

    @r.command("join", "Join a community", Param("community"), needs_community=False)
    async def join(ctx: CommandContext) -> None:
        cid = ctx.args["community"].lower()
        if cid not in ctx.services.communities:
            raise UsageError(f"there is no community '{cid[:32]}'; /communities lists them")
        c = ctx.services.communities[cid]
        if not await ctx.services.store.join(ctx.member.id, cid, ctx.services.clock()):
            ctx.reply(f"You're already a member of {c.name}.")
            return
        ctx.actions.append(_membership(ctx, cid, member=True))
        rules = " Please read the rules with /rules." if c.rules else ""
        ctx.reply(f"Welcome to {c.name}, {ctx.member.name}!{rules}")

    @r.command("leave", "Leave a community", Param("community"), needs_community=False)
    async def leave(ctx: CommandContext) -> None:
        cid = ctx.args["community"].lower()
        if cid not in ctx.services.communities:
            raise UsageError(f"there is no community '{cid[:32]}'; /communities lists them")
        c = ctx.services.communities[cid]
        if not await ctx.services.store.leave(ctx.member.id, cid):
            ctx.reply(f"You're not a member of {c.name}.")
            return
        ctx.actions.append(_membership(ctx, cid, member=False))
        ctx.reply(f"You've left {c.name}. You're welcome back any time.")

    @r.command("resources", "Trusted information and people to talk to", needs_community=False)
    async def resources(ctx: CommandContext) -> None:
        s = ctx.services
        lines = []
        if ctx.community is not None:
            c = s.communities[ctx.community]
            if c.resources:
                lines.append(f"Trusted information for {c.name}:")
                lines += [f"- {r.name}: {r.url}" for r in c.resources]
                lines.append("")
        if s.crisis is not None:
            lines.append(s.crisis.lines_text(ctx.member, ctx.community))
        ctx.reply("\n".join(lines).strip())

    @r.command("country", "Set your country, for the right support lines", Param("code"), needs_community=False)
    async def country(ctx: CommandContext) -> None:
        code = ctx.args["code"].upper()
        if len(code) != 2 or not code.isalpha():
            raise UsageError(f"give {COUNTRY_NAMES_HINT}")
        ctx.member = await ctx.services.store.set_locale(ctx.member.id, country=code)
        known = ctx.services.directory.for_country(code)
        extra = "" if known.country == code else " I don't have local lines for it yet, so I'll show international ones."
        ctx.private(f"Got it: your country is {code}.{extra}")

    @r.command("language", "Set the language I use with you", Param("code", choices=("en", "es", "fr", "de", "pt")),
               needs_community=False)
    async def language(ctx: CommandContext) -> None:
        ctx.member = await ctx.services.store.set_locale(ctx.member.id, language=ctx.args["code"])
        ctx.private(f"Got it: I'll write to you in {ctx.args['code']}.")
