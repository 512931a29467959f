"""The core: one event in, the actions to take out. No platform is known here."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.actions import Action, DirectMessage, LabelPost, Post, RemoveMessage
from bot.commands.context import CommandContext
from bot.commands.registry import Registry, Role, UsageError, split_args
from bot.communities import Communities
from bot.config import Config
from bot.events import (
    BotMembershipChanged,
    ButtonPressed,
    CommandInvoked,
    Event,
    MemberJoined,
    MemberLeft,
    MessageCreated,
    MessageEdited,
)
from bot.observability import Metrics
from bot.storage.models import ScheduledItem
from bot.storage.repositories import MemberInfo, Store, day_key
from moderation.filters import CompiledFilters, compile_filters
from moderation.screeners.flood import FloodTracker
from moderation.verdict import Action as Verdict_
from moderation.verdict import Flag, Verdict, merge

if TYPE_CHECKING:
    from bot.crisis import CrisisCare
    from bot.sanctions import Sanctions
    from moderation.i18n import Catalogue
    from moderation.pipeline import Pipeline
    from moderation.resources import Directory

log = logging.getLogger(__name__)

ScheduledHandler = Callable[[ScheduledItem], Awaitable[list[Action]]]

MAX_TEXT = 20_000  # longer posts are screened on their first part and held: nobody writes that much by hand
# A person typing commands rarely sends more than a few a minute; a script sending more would make
# every one a database write and a reply. Moderators in their community are not limited: a raid
# can need many /ban in a row.
COMMANDS_PER_MINUTE = 20


@dataclass
class Services:
    """What the composition root built, handed to the engine and to command handlers."""

    config: Config
    communities: Communities
    store: Store
    pipeline: Pipeline
    directory: Directory
    catalogue: Catalogue
    registry: Registry
    clock: Callable[[], datetime]
    crisis: CrisisCare | None = None
    sanctions: Sanctions | None = None
    # Messages screened and flags per (day, community, category), written to the database in batches.
    counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    filters: dict[str, CompiledFilters] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)
    # (platform, message id) whose card went out without the database; not sent again on redelivery.
    cards_without_storage: set[tuple[str, str | None]] = field(default_factory=set)
    # What to do when a scheduled item of each kind comes due; features register theirs.
    scheduled: dict[str, ScheduledHandler] = field(default_factory=dict)
    # Asks the scheduler to run what is due at a time, for commands that store a new scheduled item.
    wake: Callable[[datetime], None] = lambda at: None

    async def flush_counts(self) -> None:
        counts, self.counts = self.counts, Counter()
        await self.store.add_counts(dict(counts))

    async def reload_filters(self, cid: str) -> None:
        rows = await self.store.filters(cid)
        self.filters[cid] = compile_filters((r.pattern, r.allow) for r in rows)


REMOVAL_NOTICES = {
    "pii": "it contained personal details (like a phone number, e-mail or address). "
    "Please share those only in private messages.",
    "abuse": "it was hurtful towards someone. Please keep this a kind place.",
    "spam": "it looked like spam or selling.",
    "filter": "it matched a word this community's moderators filter.",
    "misinformation": "it made a health claim that could hurt someone.",
    "flood": "you posted many messages very quickly.",
}


class Engine:
    def __init__(self, services: Services) -> None:
        self.s = services
        self.flood = FloodTracker()
        self._last_post: dict[tuple[str, int], datetime] = {}
        # Commands per (platform, user) in the current clock minute; cleared when the minute turns,
        # so it holds only the people active in the last minute.
        self._command_minute: datetime | None = None
        self._commands_sent: Counter[tuple[str, str]] = Counter()

    # --- entry point -----------------------------------------------------------------------------

    async def handle(self, event: Event) -> list[Action]:
        if event.actor.is_bot:
            return []
        event = _without_nul(event)
        now = self.s.clock()
        community = self.s.communities.find(event.platform, event.chat_id, event.parent_id)
        posting = (isinstance(event, MessageCreated) and not event.private and community is not None
                   and not event.text.startswith("/")
                   and not self.s.communities.is_moderator_room(community, event.platform, event.chat_id))
        first, member = await self.s.store.arrive(
            event.platform, event.update_id, (event.actor.user_id, event.actor.name, community if posting else None),
            now)
        if not first:
            log.info("skipping update %s/%s, handled before", event.platform, event.update_id)
            return []
        match event:
            case MessageEdited():
                # An edit is screened like a new post, but never runs a command a second time.
                if event.private or community is None:
                    return []
                return await self.message(event, community, member, now)
            case MessageCreated(text=text) if text.startswith("/") and not text.startswith("//"):
                name, _, args = text[1:].partition(" ")
                return await self.command(event, community, member, name, args)
            case MessageCreated():
                if event.private:
                    return await self.private_message(event, member, now)
                if community is None:
                    return []
                return await self.message(event, community, member, now)
            case CommandInvoked():
                return await self.command(event, community, member, event.name, event.args)
            case ButtonPressed():
                return await self.button(event, community, member)
            case MemberJoined() if community is not None:
                await self.s.store.join(member.id, community, now)
                return []
            case MemberLeft() if community is not None:
                await self.s.store.leave(member.id, community)
                return []
            case BotMembershipChanged():
                await self.s.store.audit(at=now, platform=event.platform, actor="haven", action="bot.membership",
                                         community=community, target=event.chat_id, reason=event.status)
                return []
        return []

    def last_resort(self, event: Event) -> list[Action]:
        """When handling failed (the database is down, a bug): a crisis still gets its card."""
        if not isinstance(event, MessageCreated) or self.s.crisis is None or event.actor.is_bot:
            return []
        community = self.s.communities.find(event.platform, event.chat_id, event.parent_id)
        locale = self.s.communities[community].locale if community else "en"
        try:
            verdict = self.screen(event.text, locale, community)
        except Exception:
            log.exception("screening failed in the last-resort path")
            return []
        if verdict.crisis is None:
            return []
        return self.s.crisis.without_storage(event, community, verdict)

    # --- screening -------------------------------------------------------------------------------

    def locale_for(self, member: MemberInfo, community: str | None) -> str:
        if member.language:
            return member.language + (f"-{member.country}" if member.country else "")
        if community is not None:
            return self.s.communities[community].locale
        return "en"

    def screen(self, text: str, locale: str, community: str | None) -> Verdict:
        filters = self.s.filters.get(community) if community else None
        return self.s.pipeline.screen(text[:MAX_TEXT], locale=locale, filters=filters)

    async def message(self, event: MessageCreated, cid: str, member: MemberInfo, now: datetime) -> list[Action]:
        s = self.s
        is_mod = s.communities.is_moderator(cid, event.platform, event.actor.user_id, event.actor.platform_roles)
        if s.communities.is_moderator_room(cid, event.platform, event.chat_id):
            return []  # moderators discuss flagged posts there; screening them would only echo the flags
        started = time.perf_counter()
        verdict = self.screen(event.text, self.locale_for(member, cid), cid)
        s.metrics.screening_seconds.observe(time.perf_counter() - started)
        flood = self.flood.observe(f"{cid}:{member.id}", event.text, now.timestamp())
        if flood is not None and not is_mod:
            verdict = merge([*verdict.flags, flood])
        if len(event.text) > MAX_TEXT:
            verdict = merge([*verdict.flags, _oversized()])
        self._count(now, cid, verdict)

        actions: list[Action] = []
        crisis = verdict.crisis
        # Asked before the crisis is noted: nothing may fail between storing a card and sending it, or
        # the last-resort card would go out as well as the stored one.
        blocked = None if is_mod else await self._blocked(cid, member, now, event)
        if crisis is not None and s.crisis is not None:
            # Whatever else is true of the post, the person gets help and the moderators know.
            actions += await s.crisis.respond(event=event, community=cid, member=member, verdict=verdict)

        if blocked is not None:
            actions.append(self._remove(event, cid, member, reason=blocked[0]))
            actions.append(self._notice(event, member, blocked[1]))
            return actions
        if crisis is not None:
            # A cry for help is never removed and never counts against anyone.
            return actions + self._label(event, member)
        if verdict.action == Verdict_.REMOVE:
            why = _family(verdict)
            actions.append(self._remove(event, cid, member, reason=", ".join(verdict.categories)))
            actions.append(self._notice(event, member, f"I removed your message in {s.communities[cid].name} "
                                                       f"because {REMOVAL_NOTICES.get(why, 'it broke the rules.')}"))
            await s.store.audit(at=now, platform=event.platform, actor="haven", action="auto.remove", community=cid,
                                target=member.handle, reason="; ".join(verdict.reasons))
        elif verdict.action == Verdict_.HOLD:
            held_id = await s.store.hold(
                community_id=cid, member_id=member.id, kind="held", platform=event.platform, chat_id=event.chat_id,
                message_id=event.message_id, text=event.text, categories=list(verdict.categories),
                reasons=list(verdict.reasons), status="pending", created_at=now,
            )
            actions.append(self._remove(event, cid, member, reason=", ".join(verdict.categories) or "review",
                                        held=True))
            actions.append(self._notice(event, member, f"Your message in {s.communities[cid].name} is waiting for a "
                                                       "moderator to look at it. Thanks for your patience."))
            room = s.communities.alert_room(cid, event.platform)
            if room is not None:
                actions.append(Post(platform=room.platform, chat_id=room.chat_id, kind="mods", community=cid,
                                    text=f"Held post #{held_id} from {member.name} for review "
                                         f"({'; '.join(verdict.reasons) or 'screening'}). /queue to see it."))
            await s.store.audit(at=now, platform=event.platform, actor="haven", action="auto.hold", community=cid,
                                target=member.handle, reason="; ".join(verdict.reasons))
        else:
            actions += self._label(event, member)
        if verdict.has("misinformation"):
            actions.append(self._trusted_sources(event, cid))
        return actions

    async def private_message(self, event: MessageCreated, member: MemberInfo, now: datetime) -> list[Action]:
        communities = await self.s.store.memberships(member.id)
        home = communities[0] if communities else None
        verdict = self.screen(event.text, self.locale_for(member, home), None)
        if self.s.crisis is not None:
            # "Reply here" on the card is a promise: a reply while an incident is open reaches a human.
            actions = await self.s.crisis.private_reply(event, member)
            if verdict.crisis is not None:
                # Listed first, as they are stored first (with the incident): a chat's outbox items go
                # out in the order they were stored.
                actions = await self.s.crisis.respond(event=event, community=home, member=member,
                                                      verdict=verdict) + actions
            if actions:
                return actions
        return [DirectMessage(platform=event.platform, user_id=event.actor.user_id,
                              text="Hi, I'm Haven. Send /help to see what I can do, or /resources for support lines.")]

    async def _blocked(self, cid: str, member: MemberInfo, now: datetime, event: MessageCreated) -> tuple[str, str] | None:
        """A reason the post may not stand whatever it says: a mute, a lockdown, slow mode."""
        s = self.s
        sanction = await s.store.active_sanction(member.id, cid, ("mute", "ban"), now)
        if sanction is not None:
            until = f" until {sanction.expires_at:%Y-%m-%d %H:%M} UTC" if sanction.expires_at else ""
            return ("muted", f"You are muted in {s.communities[cid].name}{until}, so your message was not posted.")
        state = await s.store.room_state(cid)
        if state is not None and state.locked and (state.lockdown_until is None or state.lockdown_until > now):
            return ("lockdown", f"{s.communities[cid].name} is locked for now; only moderators can post.")
        if state is not None and state.slowmode_seconds:
            key = (cid, member.id)
            last = self._last_post.get(key)
            if last is not None and now - last < timedelta(seconds=state.slowmode_seconds):
                return ("slowmode", f"Slow mode is on in {s.communities[cid].name}: one message every "
                                    f"{state.slowmode_seconds} seconds.")
            self._last_post[key] = now
        return None

    @staticmethod
    def _label(event: MessageCreated, member: MemberInfo) -> list[Action]:
        """A verified professional's post shows their profession beside their name, where it can."""
        if member.profession is None:
            return []
        return [LabelPost(platform=event.platform, chat_id=event.chat_id, message_id=event.message_id,
                          label=f"verified: {member.profession}")]

    def _remove(self, event: MessageCreated, cid: str, member: MemberInfo, *, reason: str, held: bool = False):
        return RemoveMessage(platform=event.platform, chat_id=event.chat_id, message_id=event.message_id,
                             community=cid, author=member.name, reason=reason, held=held)

    def _notice(self, event: MessageCreated, member: MemberInfo, text: str) -> DirectMessage:
        return DirectMessage(platform=event.platform, user_id=event.actor.user_id, text=text,
                             fallback_chat_id=event.chat_id, fallback_text=f"{member.name}: {text}")

    def _trusted_sources(self, event: MessageCreated, cid: str) -> Post:
        c = self.s.communities[cid]
        links = "\n".join(f"- {r.name}: {r.url}" for r in c.resources) or "- WHO: https://www.who.int"
        return Post(platform=event.platform, chat_id=event.chat_id, community=cid, reply_to=event.message_id,
                    text="Health claims like this can put people at risk. Please check with your care team and "
                         f"trusted sources:\n{links}")

    def _count(self, now: datetime, cid: str, verdict: Verdict) -> None:
        day = day_key(now)
        counts = self.s.counts
        counts[(day, cid, "screened")] += 1
        self.s.metrics.screened.labels(cid, "screened").inc()
        for family in {f.family for f in verdict.flags}:
            counts[(day, cid, family)] += 1
            self.s.metrics.screened.labels(cid, family).inc()

    # --- commands --------------------------------------------------------------------------------

    async def command(self, event: Event, cid: str | None, member: MemberInfo, name: str, args: str) -> list[Action]:
        s = self.s
        name = name.split("@", 1)[0].lower()  # Telegram appends @botname in groups
        ctx = CommandContext(services=s, event=event, community=cid, member=member, role=Role.MEMBER, args={},
                             message_id=getattr(event, "message_id", None), mentions=getattr(event, "mentions", ()),
                             reply_to_author=getattr(event, "reply_to_author", None),
                             reply_to_message=getattr(event, "reply_to", None))
        if not (cid is not None and s.communities.is_moderator(cid, event.platform, event.actor.user_id,
                                                               event.actor.platform_roles)):
            sent = self._count_command(event)
            if sent > COMMANDS_PER_MINUTE:
                if sent == COMMANDS_PER_MINUTE + 1:  # say it, and audit it, once a minute, not per command
                    ctx.reply("You're sending commands faster than I can keep up with. "
                              "Please wait a minute and try again.")
                    await s.store.audit(at=s.clock(), platform=event.platform, actor=ctx.who,
                                        action=f"command.{name[:32]}", community=cid, reason="rate limit",
                                        outcome="refused")
                # Refused or not, a cry for help in the arguments still gets help.
                return ctx.actions + await self._crisis_in_args(event, cid, member, args)
        cmd = s.registry.get(name)
        if cmd is None:
            ctx.reply(f"I don't know the command /{name[:32]}. Send /help to see what I can do.")
            return ctx.actions
        if cmd.needs_community and cid is None:
            joined = await s.store.memberships(member.id)
            if len(joined) == 1:
                cid = ctx.community = joined[0]
            else:
                ctx.reply(f"/{cmd.name} works inside a community. Use it there"
                          + (", or /join one first." if not joined else "."))
                return ctx.actions
        if cid is not None and s.communities.is_moderator(cid, event.platform, event.actor.user_id,
                                                          event.actor.platform_roles):
            ctx.role = Role.MODERATOR
        if cmd.role > ctx.role:
            ctx.reply(f"/{cmd.name} is for moderators.")
            await s.store.audit(at=s.clock(), platform=event.platform, actor=ctx.who, action=f"command.{cmd.name}",
                                community=cid, reason="not a moderator", outcome="refused")
            return ctx.actions
        ctx.command = cmd.name
        if (cmd.params and cmd.params[0].kind == "member" and ctx.reply_to_author is not None
                and not args.lstrip().startswith(("@", "<@"))):
            # Replying to someone's post with `/mute 10m reason` aims the command at that person.
            args = f"@{ctx.reply_to_author.name} {args}"
            ctx.mentions = (*ctx.mentions, ctx.reply_to_author)
        try:
            ctx.args = split_args(cmd.params, args)
            await cmd.handler(ctx)
        except UsageError as e:
            ctx.actions.clear()
            ctx.reply(f"{e}.\nUsage: {cmd.usage}")
        if ctx.role == Role.MEMBER:
            ctx.actions += await self._crisis_in_args(event, cid, member, args)
        return ctx.actions

    async def _crisis_in_args(self, event: Event, cid: str | None, member: MemberInfo, args: str) -> list[Action]:
        """A member's words after a command are screened for a crisis like any post."""
        if not args or self.s.crisis is None or not isinstance(event, MessageCreated):
            return []
        verdict = self.screen(args, self.locale_for(member, cid), cid)
        if verdict.crisis is None:
            return []
        return await self.s.crisis.respond(event=event, community=cid, member=member, verdict=verdict)

    def _count_command(self, event: Event) -> int:
        """How many commands this person has sent in the current minute, this one included."""
        minute = self.s.clock().replace(second=0, microsecond=0)
        if minute != self._command_minute:
            self._command_minute = minute
            self._commands_sent.clear()
        key = (event.platform, event.actor.user_id)
        self._commands_sent[key] += 1
        return self._commands_sent[key]

    async def button(self, event: ButtonPressed, cid: str | None, member: MemberInfo) -> list[Action]:
        if self.s.crisis is None:
            return []
        return await self.s.crisis.button(event, cid, member)


def _without_nul(event: Event) -> Event:
    """PostgreSQL cannot store U+0000 in text; no person types it, so it becomes U+FFFD on the way in."""
    changes = {}
    if "\x00" in event.actor.name:
        changes["actor"] = replace(event.actor, name=event.actor.name.replace("\x00", "\ufffd"))
    for name in ("text", "args", "payload"):
        value = getattr(event, name, None)
        if isinstance(value, str) and "\x00" in value:
            changes[name] = value.replace("\x00", "\ufffd")
    return replace(event, **changes) if changes else event


def _family(verdict: Verdict) -> str:
    """The family the member is told about: the flag that decided the action."""
    top = max(verdict.flags, key=lambda f: (f.action, f.severity))
    if top.reason.startswith("filter"):
        return "filter"
    if top.reason.startswith("flood") or top.category.startswith("spam.flood"):
        return "flood"
    return top.family


def _oversized() -> Flag:
    return Flag(category="spam.oversized", action=Verdict_.HOLD, severity=1,
                reason=f"longer than {MAX_TEXT} characters")
