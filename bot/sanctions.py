"""Warnings, mutes, kicks and bans: recorded as cases, carried out on the platform, lifted on time.

Timed sanctions use the platform's own expiry where it has one (Telegram until_date, Discord
timeouts) and are also kept in the database, where the scheduler finds them to lift, restart or not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.actions import Action, Ban, DirectMessage, Kick, LiftTimeout, Timeout, Unban
from bot.commands.registry import parse_duration
from bot.storage.models import Case
from bot.storage.repositories import MemberInfo

if TYPE_CHECKING:
    from bot.engine import Services

log = logging.getLogger(__name__)

PAST = {"warn": "warned", "mute": "muted", "kick": "removed", "ban": "banned", "unmute": "unmuted",
        "unban": "unbanned"}


def describe_duration(seconds: int) -> str:
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


class Sanctions:
    def __init__(self, services: Services, wake: Callable[[datetime], None] = lambda at: None) -> None:
        self.s = services
        self.wake = wake

    def _platform_actions(self, cid: str, platform: str, user_id: str, kind: str,
                          until: datetime | None) -> list[Action]:
        actions: list[Action] = []
        for room in self.s.communities.rooms(cid, platform):
            match kind:
                case "mute":
                    actions.append(Timeout(platform=platform, chat_id=room.chat_id, user_id=user_id, until=until))
                case "unmute":
                    actions.append(LiftTimeout(platform=platform, chat_id=room.chat_id, user_id=user_id))
                case "kick":
                    actions.append(Kick(platform=platform, chat_id=room.chat_id, user_id=user_id))
                case "ban":
                    actions.append(Ban(platform=platform, chat_id=room.chat_id, user_id=user_id, until=until))
                case "unban":
                    actions.append(Unban(platform=platform, chat_id=room.chat_id, user_id=user_id))
        return actions

    async def apply(self, *, cid: str, platform: str, target: MemberInfo, kind: str, reason: str,
                    moderator: str, seconds: int | None = None) -> tuple[Case, list[Action]]:
        s = self.s
        now = s.clock()
        until = now + timedelta(seconds=seconds) if seconds else None
        if kind == "mute" and until is None:
            raise ValueError("a mute needs a duration")
        case = await s.store.add_case(community_id=cid, member_id=target.id, platform=platform, chat_id=None,
                                      kind=kind, moderator=moderator, reason=reason, created_at=now,
                                      expires_at=until, active=kind in ("warn", "mute", "ban"))
        if until is not None:
            self.wake(until)
        await s.store.audit(at=now, platform=platform, actor=moderator, action=kind, community=cid,
                            target=target.handle, reason=reason)
        actions = self._platform_actions(cid, platform, target.user_id, kind, until)
        actions.append(self._notice(cid, target, case))
        if kind == "warn":
            actions += await self._escalate(cid, platform, target)
        return case, actions

    def _notice(self, cid: str, target: MemberInfo, case: Case) -> DirectMessage:
        name = self.s.communities[cid].name
        span = ""
        if case.expires_at is not None:
            span = f" for {describe_duration(int((case.expires_at - case.created_at).total_seconds()))}"
        text = (f"You have been {PAST[case.kind]} in {name}{span} (case #{case.id}).\n"
                f"Reason: {case.reason}\n"
                f"If you think this is wrong, you can appeal: /appeal {case.id} <what you'd like the moderators "
                "to know>")
        return DirectMessage(platform=target.platform, user_id=target.user_id, text=text)

    async def _escalate(self, cid: str, platform: str, target: MemberInfo) -> list[Action]:
        """Automatic steps from the community's warning policy, e.g. 3 warnings -> 24 h mute, 5 -> ban."""
        policy = self.s.communities[cid].moderation
        since = self.s.clock() - timedelta(days=policy.warn_window_days)
        warnings = await self.s.store.count_warnings(cid, target.id, since)
        for step in policy.escalation:
            if warnings == step.warnings:
                seconds = parse_duration(step.duration) if step.duration else None
                _, actions = await self.apply(cid=cid, platform=platform, target=target, kind=step.action,
                                              seconds=seconds, moderator="haven",
                                              reason=f"{warnings} warnings within {policy.warn_window_days} days")
                return actions
        return []

    async def lift(self, *, cid: str, platform: str, target: MemberInfo, kind: str, reason: str,
                   moderator: str) -> tuple[Case | None, list[Action]]:
        """`unmute` or `unban`: end the active sanction and record that it was ended."""
        s = self.s
        now = s.clock()
        lifted = await s.store.lift_cases(cid, target.id, ("mute",) if kind == "unmute" else ("ban",), now)
        if not lifted:
            return None, []
        case = await s.store.add_case(community_id=cid, member_id=target.id, platform=platform, chat_id=None,
                                      kind=kind, moderator=moderator, reason=reason, created_at=now, active=False)
        await s.store.audit(at=now, platform=platform, actor=moderator, action=kind, community=cid,
                            target=target.handle, reason=reason)
        return case, [*self._platform_actions(cid, platform, target.user_id, kind, None),
                      self._notice(cid, target, case)]

    async def expire_due(self) -> list[Action]:
        s = self.s
        now = s.clock()
        actions: list[Action] = []
        for case in await s.store.expired_sanctions(now):
            if not await s.store.expire_case(case.id, now):
                continue
            target = await s.store.member_by_id(case.member_id) if case.member_id else None
            await s.store.audit(at=now, platform=case.platform, actor="haven", action=f"{case.kind}.expired",
                                community=case.community_id, target=target.handle if target else None,
                                reason=f"case {case.id}")
            if target is None:
                continue
            kind = "unmute" if case.kind == "mute" else "unban"
            actions += self._platform_actions(case.community_id, case.platform, target.user_id, kind, None)
            name = s.communities[case.community_id].name
            actions.append(DirectMessage(platform=target.platform, user_id=target.user_id,
                                         text=f"Your {case.kind} in {name} has ended (case #{case.id}). "
                                              "Welcome back."))
        return actions
