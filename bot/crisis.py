"""Crisis care: a private, warm card with local lines, a moderator alert, and nothing ever lost.

Cards and alerts are durable actions: the dispatcher writes them to the outbox before sending and
retries until the platform takes them. Incidents live in the database, so escalation timers are
rebuilt from there after a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.actions import Action, Button, DirectMessage, Post, chat_key, outbox_item
from bot.dispatch import LEASE
from bot.events import ButtonPressed, Event, MessageCreated
from bot.storage.models import Incident, ScheduledItem
from bot.storage.repositories import MemberInfo, NotedCrisis
from moderation.language import detect_language
from moderation.resources import country_for_locale
from moderation.verdict import CRISIS_CATEGORIES, Verdict

if TYPE_CHECKING:
    from bot.engine import Services

log = logging.getLogger(__name__)

EXCERPT_CHARS = 280
SEVERITY_LABEL = {4: "urgent", 3: "high", 2: "medium", 1: "low", 0: "low"}
DEEPLINK_HELP = "deeplink:help"


class CrisisCare:
    def __init__(self, services: Services, wake: Callable[[datetime], None] = lambda at: None) -> None:
        self.s = services
        # Asks the scheduler to run escalations at a given time; the database stays the truth.
        self.wake = wake

    # --- where the member is -----------------------------------------------------------------

    def language(self, member: MemberInfo, community: str | None, text: str = "") -> str:
        if member.language:
            return member.language
        if community is not None:
            return self.s.communities[community].locale.split("-")[0]
        return detect_language(text) or "en"

    def country(self, member: MemberInfo, community: str | None) -> str | None:
        if member.country:
            return member.country
        if community is not None:
            return country_for_locale(self.s.communities[community].locale)
        return None

    def lines_text(self, member: MemberInfo, community: str | None, limit: int | None = 2) -> str:
        lang = self.language(member, community)
        res = self.s.directory.for_country(self.country(member, community))
        return self.s.catalogue.render_lines(res, lang, limit=limit)

    # --- responding to a post ----------------------------------------------------------------

    async def respond(self, *, event: MessageCreated, community: str | None, member: MemberInfo,
                      verdict: Verdict) -> list[Action]:
        s = self.s
        now = s.clock()
        flags = [f for f in verdict.flags if f.family in CRISIS_CATEGORIES]
        top = max(flags, key=lambda f: f.severity)
        category, severity = top.family, top.severity
        lang = self.language(member, community, event.text)
        res = s.directory.for_country(self.country(member, community))
        lines = s.catalogue.render_lines(res, lang, limit=2)

        window = self._ack_window(community)
        already = (event.platform, event.message_id) in s.cards_without_storage
        actions: list[Action] = []

        def decided(noted: NotedCrisis) -> list[dict]:
            # The card and the alert name the incident, and are stored in its transaction: the person
            # waits for one write, not two.
            if noted.card_due and not already:
                actions.extend(self._card(event, community, member, noted.incident_id, category, lang,
                                          res.emergency, lines, now))
            if noted.new or noted.rose:
                actions.extend(self._alert(event, community, member, noted.incident_id, category, severity, lang,
                                           now))
            return [outbox_item(a) for a in actions if a.durable]

        noted = await s.store.note_crisis(
            member_id=member.id, community=community, now=now,
            cooldown=timedelta(hours=s.config.crisis.card_cooldown_hours), category=category, severity=severity,
            audit_platform=event.platform, audit_target=member.handle,
            new_incident=dict(platform=event.platform, chat_id=event.chat_id, message_id=event.message_id,
                              link=event.link, excerpt=event.text[:EXCERPT_CHARS], source="screen",
                              next_escalation_at=now + window),
            outbox=decided, lease=LEASE,
        )
        if noted.new:
            self.wake(now + window)
        ids = iter(noted.outbox)
        return [replace(a, stored=(next(ids), chat_key(a) in noted.waiting)) if a.durable else a for a in actions]

    def without_storage(self, event: MessageCreated, community: str | None, verdict: Verdict) -> list[Action]:
        """The card when the database cannot be reached: sent at once, with no incident and no outbox.

        Help for the person comes before the record of it.
        """
        member = MemberInfo(id=0, platform=event.platform, user_id=event.actor.user_id, name=event.actor.name)
        top = max((f for f in verdict.flags if f.family in CRISIS_CATEGORIES), key=lambda f: f.severity)
        lang = self.language(member, community, event.text)
        res = self.s.directory.for_country(self.country(member, community))
        lines = self.s.catalogue.render_lines(res, lang, limit=2)
        card = self._card(event, community, member, 0, top.family, lang, res.emergency, lines, self.s.clock())
        return [replace(a, durable=False, dedupe_key=None,
                        buttons=tuple(b for b in getattr(a, "buttons", ()) if b.payload is None)) for a in card]

    def _ack_window(self, community: str | None) -> timedelta:
        minutes = self.s.config.crisis.ack_window_minutes
        if community is not None and self.s.communities[community].ack_window_minutes:
            minutes = self.s.communities[community].ack_window_minutes
        return timedelta(minutes=minutes)

    def _card(self, event: MessageCreated, community: str | None, member: MemberInfo, incident_id: int,
              category: str, lang: str, emergency: str, lines: str, now: datetime) -> list[Action]:
        cat = self.s.catalogue
        key = f"{incident_id}:{event.message_id}"
        fallback = cat.text("crisis.fallback.public", lang, member=member.name, lines=lines)
        help_button = Button(cat.text("button.private_help", lang), url=DEEPLINK_HELP)
        if category == "emergency.medical":
            text = cat.text("emergency.medical.reply", lang, emergency=emergency, lines=lines)
            if event.private:
                return [DirectMessage(platform=event.platform, user_id=event.actor.user_id, text=text, durable=True,
                                      dedupe_key=f"card:{key}")]
            # An emergency is answered where it was said, at once: others in the room can act too.
            return [Post(platform=event.platform, chat_id=event.chat_id, text=text, reply_to=event.message_id,
                         community=community, durable=True, dedupe_key=f"card:{key}")]
        if category == "crisis.other":
            text = cat.text("crisis.other.reply", lang, emergency=emergency, lines=lines)
            buttons: tuple[Button, ...] = ()
        else:
            text = cat.text("crisis.self.card", lang, emergency=emergency, lines=lines)
            buttons = (Button(cat.text("button.check_tomorrow", lang), payload=f"tomorrow:{incident_id}"),
                       Button(cat.text("button.not_me", lang), payload=f"notme:{incident_id}"))
        actions: list[Action] = [DirectMessage(
            platform=event.platform, user_id=event.actor.user_id, text=text, buttons=buttons, durable=True,
            dedupe_key=f"card:{key}", fallback_chat_id=None if event.private else event.chat_id,
            fallback_text=fallback, fallback_reply_to=event.message_id,
        )]
        if (category == "crisis.self" and not event.private and community is not None
                and self.s.communities[community].public_crisis_reply):
            actions.append(Post(platform=event.platform, chat_id=event.chat_id, reply_to=event.message_id,
                                community=community, text=cat.text("crisis.self.public", lang),
                                buttons=(help_button,)))
        return actions

    def _alert(self, event: Event, community: str | None, member: MemberInfo, incident_id: int, category: str,
               severity: int, lang: str, now: datetime, text_key: str = "alert.moderators") -> list[Action]:
        if community is None:
            return []
        room = self.s.communities.alert_room(community, event.platform)
        if room is None:
            log.error("community %s has no moderator room; incident %s cannot be alerted", community, incident_id)
            return []
        excerpt = (getattr(event, "text", "") or "")[:EXCERPT_CHARS]
        link = getattr(event, "link", None) or f"#{community}"
        label = f"{SEVERITY_LABEL.get(severity, 'high')}, {category}"
        text = self.s.catalogue.text("alert.moderators", "en", severity=label, member=member.name, link=link,
                                     excerpt=excerpt, incident=incident_id)
        return [Post(platform=room.platform, chat_id=room.chat_id, kind="mods", community=community, text=text,
                     spoiler=excerpt or None, durable=True, dedupe_key=f"alert:{incident_id}:{severity}",
                     buttons=(Button("Acknowledge", payload=f"ack:{incident_id}"),
                              Button("Resolve", payload=f"resolve:{incident_id}")))]

    async def private_reply(self, event: MessageCreated, member: MemberInfo) -> list[Action]:
        """A private message from someone with an open incident goes to that incident's moderators."""
        inc = await self.s.store.open_incident_of(member.id)
        if inc is None or inc.community_id is None:
            return []
        room = self.s.communities.alert_room(inc.community_id, event.platform)
        if room is None:
            return []
        excerpt = event.text[:EXCERPT_CHARS]
        lang = self.language(member, inc.community_id, event.text)
        emergency = self.s.directory.for_country(self.country(member, inc.community_id)).emergency
        return [
            Post(platform=room.platform, chat_id=room.chat_id, kind="mods", community=inc.community_id,
                 text=f"Incident {inc.id}: {member.name} wrote privately: {excerpt}\n"
                      f"/reply {inc.id} <text> answers them privately through Haven.",
                 spoiler=excerpt, durable=True, dedupe_key=f"reply:{event.platform}:{event.message_id}"),
            DirectMessage(platform=event.platform, user_id=event.actor.user_id,
                          text=self.s.catalogue.text("reply.forwarded", lang, emergency=emergency)),
        ]

    async def moderator_reply(self, incident_id: int, who: str, community: str, text: str) -> tuple[str, list[Action]]:
        """A moderator's answer, sent privately by Haven so the moderator's own account stays private."""
        s = self.s
        inc = await s.store.incident(incident_id)
        if inc is None or inc.community_id != community or inc.member_id is None:
            return f"There is no incident {incident_id} here.", []
        member = await s.store.member_by_id(inc.member_id)
        if member is None:
            return f"The member of incident {incident_id} asked to be forgotten.", []
        lang = self.language(member, community)
        now = s.clock()
        await s.store.audit(at=now, platform=who.split(":")[0], actor=who, action="incident.reply",
                            community=community, target=f"incident:{incident_id}")
        dm = DirectMessage(platform=member.platform, user_id=member.user_id, durable=True,
                           dedupe_key=f"modreply:{incident_id}:{now.isoformat()}",
                           text=s.catalogue.text("reply.from_moderator", lang, community=s.communities[community].name,
                                                 text=text))
        return f"Sent to {member.name} privately.", [dm]

    # --- moderators ----------------------------------------------------------------------------

    async def acknowledge(self, incident_id: int, who: str, community: str | None) -> str:
        s = self.s
        inc = await s.store.incident(incident_id)
        if inc is None or (community is not None and inc.community_id != community):
            return f"There is no incident {incident_id} here."
        if inc.status == "resolved":
            return f"Incident {incident_id} is already resolved."
        if not await s.store.transition_incident(incident_id, ("open",), status="acked", acked_at=s.clock(),
                                                 acked_by=who, next_escalation_at=None):
            return f"Incident {incident_id} was already taken by {inc.acked_by or 'someone'}."
        await s.store.audit(at=s.clock(), platform=who.split(":")[0], actor=who, action="incident.ack",
                            community=inc.community_id, target=f"incident:{incident_id}")
        return f"Incident {incident_id} is yours, {who.split(':', 1)[1]}. Thank you."

    async def resolve(self, incident_id: int, who: str, community: str | None, outcome: str) -> str:
        s = self.s
        inc = await s.store.incident(incident_id)
        if inc is None or (community is not None and inc.community_id != community):
            return f"There is no incident {incident_id} here."
        now = s.clock()
        if not await s.store.transition_incident(incident_id, ("open", "acked"), status="resolved", resolved_at=now,
                                                 outcome=outcome, next_escalation_at=None,
                                                 acked_at=inc.acked_at or now, acked_by=inc.acked_by or who):
            return f"Incident {incident_id} is already resolved."
        await s.store.audit(at=now, platform=who.split(":")[0], actor=who, action="incident.resolve",
                            community=inc.community_id, target=f"incident:{incident_id}", reason=outcome)
        return f"Incident {incident_id} is resolved: {outcome}"

    async def escalate_due(self) -> list[Action]:
        """Re-alert incidents nobody took in time: first with the on-call people, then in the fallback room."""
        s = self.s
        now = s.clock()
        actions: list[Action] = []
        for inc in await s.store.incidents_due(now):
            if inc.community_id is None:
                continue
            level = inc.escalation_level + 1
            window = self._ack_window(inc.community_id)
            next_at = now + window if level < 2 else None
            if not await s.store.transition_incident(inc.id, ("open",), escalation_level=level,
                                                     next_escalation_at=next_at):
                continue
            if next_at is not None:
                self.wake(next_at)
            actions += self._reescalation(inc, level, now)
            await s.store.audit(at=now, platform=inc.platform, actor="haven", action="incident.escalate",
                                community=inc.community_id, target=f"incident:{inc.id}", reason=f"level {level}")
        return actions

    def _reescalation(self, inc: Incident, level: int, now: datetime) -> list[Action]:
        c = self.s.communities[inc.community_id]
        room = (self.s.communities.alert_room(inc.community_id, inc.platform) if level == 1
                else self.s.communities.fallback_room(inc.community_id, inc.platform)
                or self.s.communities.alert_room(inc.community_id, inc.platform))
        if room is None:
            return []
        oncall = " ".join(f"@{p.split(':', 1)[1]}" for p in c.on_call if p.startswith(room.platform + ":"))
        minutes = int((now - inc.opened_at).total_seconds() // 60)
        text = self.s.catalogue.text("alert.reescalate", "en", oncall=oncall or "Moderators:", incident=inc.id,
                                     severity=SEVERITY_LABEL.get(inc.severity, "high"), member=f"member {inc.member_id}",
                                     minutes=minutes, link=inc.link or f"#{inc.community_id}")
        return [Post(platform=room.platform, chat_id=room.chat_id, kind="mods", community=inc.community_id,
                     text=text.strip(), durable=True, dedupe_key=f"escalate:{inc.id}:{level}",
                     buttons=(Button("Acknowledge", payload=f"ack:{inc.id}"),))]

    # --- buttons and private help ------------------------------------------------------------

    async def button(self, event: ButtonPressed, community: str | None, member: MemberInfo) -> list[Action]:
        s = self.s
        kind, _, arg = event.payload.partition(":")
        who = f"{event.platform}:{event.actor.user_id}"
        reply = lambda text: Post(platform=event.platform, chat_id=event.chat_id, text=text, kind="reply",  # noqa: E731
                                  interaction_id=event.interaction_id, ephemeral=True, community=community)
        if kind == "help":
            return await self.private_help(event, member)
        if not arg.isdigit():
            return [reply("That button has expired.")]
        incident_id = int(arg)
        inc = await s.store.incident(incident_id)
        if inc is None:
            return [reply("That button has expired.")]
        lang = self.language(member, inc.community_id)
        if kind in ("ack", "resolve"):
            cid = inc.community_id
            if cid is None or not s.communities.is_moderator(cid, event.platform, event.actor.user_id,
                                                             event.actor.platform_roles):
                await s.store.audit(at=s.clock(), platform=event.platform, actor=who, action=f"incident.{kind}",
                                    community=cid, target=f"incident:{incident_id}", outcome="refused")
                return [reply("Only moderators can do that.")]
            if kind == "ack":
                return [reply(await self.acknowledge(incident_id, who, cid))]
            return [reply(await self.resolve(incident_id, who, cid, "resolved from the alert"))]
        if inc.member_id != member.id:
            return [reply("That button is for someone else.")]
        if kind == "notme":
            await s.store.update_incident(incident_id, not_me=True)
            await s.store.audit(at=s.clock(), platform=event.platform, actor=who, action="crisis.not_me",
                                community=inc.community_id, target=f"incident:{incident_id}")
            return [reply(s.catalogue.text("feedback.thanks", lang))]
        if kind == "tomorrow":
            await self.schedule_followup(member, inc, event.platform)
            return [reply(s.catalogue.text("followup.scheduled", lang))]
        return [reply("That button has expired.")]

    async def schedule_followup(self, member: MemberInfo, inc: Incident, platform: str) -> None:
        now = self.s.clock()
        run_at = now + timedelta(days=1)
        await self.s.store.add_item(kind="followup", member_id=member.id, community_id=inc.community_id,
                                    platform=platform, chat_id=member.user_id, text="", run_at=run_at,
                                    created_at=now, active=True)
        self.wake(run_at)

    async def followup(self, item: ScheduledItem) -> list[Action]:
        member = await self.s.store.member_by_id(item.member_id)
        if member is None:
            return []
        lang = self.language(member, item.community_id)
        text = self.s.catalogue.text("followup.dm", lang, lines=self.lines_text(member, item.community_id))
        return [DirectMessage(platform=item.platform, user_id=member.user_id, text=text, durable=True,
                              dedupe_key=f"followup:{item.id}")]

    async def private_help(self, event: Event, member: MemberInfo) -> list[Action]:
        """The card on request (the deep link or the public "get private help" button)."""
        joined = await self.s.store.memberships(member.id)
        community = joined[0] if joined else None
        lang = self.language(member, community)
        res = self.s.directory.for_country(self.country(member, community))
        lines = self.s.catalogue.render_lines(res, lang, limit=2)
        text = self.s.catalogue.text("crisis.self.card", lang, emergency=res.emergency, lines=lines)
        return [DirectMessage(platform=event.platform, user_id=event.actor.user_id, text=text, durable=True,
                              interaction_id=getattr(event, "interaction_id", None))]
