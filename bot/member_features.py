"""Timed member features: when people say "2h" or "mon,thu 19:30", and what happens when that comes.

Every reminder, daily check-in prompt, announcement, meeting and awareness day is a ScheduledItem in
the database; App.run_due() claims each run once and calls the handler of its kind here. Messages
are durable with a dedupe key naming the item and the run, so a restart never sends one twice.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.actions import Action, DirectMessage, Post
from bot.commands.registry import UsageError, parse_duration
from bot.scheduling import WEEKDAYS, RecurrenceError, next_occurrence
from bot.storage.models import ScheduledItem

if TYPE_CHECKING:
    from bot.engine import ScheduledHandler, Services
    from bot.storage.repositories import MemberInfo

log = logging.getLogger(__name__)

CLOCK_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
WHEN_HINT = "try 2h, 30m, tomorrow 08:00, daily 08:00 or mon,thu 19:30"
ALL_PLATFORMS = "all"  # an awareness day posts on every platform the community is on


@dataclass(frozen=True, slots=True)
class When:
    run_at: datetime  # UTC
    recurrence: str | None = None  # "daily 08:00", "mon,thu 19:30"; None for once

    def describe(self, tz: str) -> str:
        if self.recurrence:
            days, clock = self.recurrence.split()
            return f"{'every day' if days == 'daily' else 'every ' + days.replace(',', ', ')} at {clock} ({tz})"
        return f"{self.run_at.astimezone(ZoneInfo(tz)):%a %d %b at %H:%M} ({tz})"


def _clock(token: str) -> str:
    m = CLOCK_RE.match(token)
    if not m:
        raise UsageError(f"'{token[:20]}' is not a time of day; use 24-hour HH:MM, like 08:00 or 19:30")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def parse_when(text: str, tz: str, now: datetime) -> tuple[When, str]:
    """Read a time from the start of `text`; returns it and the rest of the text.

    `2h`, `30m` (from now), `tomorrow 08:00`, `daily 08:00`, `mon,thu 19:30`, in the time zone `tz`.
    """
    first, _, rest = text.strip().partition(" ")
    first = first.lower()
    if not first:
        raise UsageError(f"when is missing; {WHEN_HINT}")
    if first[0].isdigit() and ":" not in first:
        return When(now + timedelta(seconds=parse_duration(first))), rest.strip()
    second, _, rest = rest.strip().partition(" ")
    if first == "tomorrow":
        local = now.astimezone(ZoneInfo(tz)).date() + timedelta(days=1)
        hh, mm = (int(x) for x in _clock(second).split(":"))
        at = datetime(local.year, local.month, local.day, hh, mm, tzinfo=ZoneInfo(tz))
        return When(at.astimezone(UTC)), rest.strip()
    days = first.split(",")
    if first != "daily" and not all(d in WEEKDAYS for d in days):
        raise UsageError(f"'{first[:20]}' is not a time I understand; {WHEN_HINT}")
    recurrence = f"{first} {_clock(second)}"
    try:
        return When(next_occurrence(recurrence, tz, now), recurrence), rest.strip()
    except RecurrenceError as e:
        raise UsageError(str(e)) from None


def member_timezone(services: Services, member: MemberInfo, community: str | None) -> str:
    """The member's own zone, else their community's, else UTC."""
    if member.timezone:
        return member.timezone
    if community is not None:
        return services.communities[community].timezone
    return "UTC"


BARS = "▁▂▃▄▅"


def sparkline(moods_by_day: Iterable[int | None]) -> str:
    """One character a day: ▁ (1, very low) to ▅ (5, very good), · for a day without a check-in."""
    return "".join("·" if mood is None else BARS[mood - 1] for mood in moods_by_day)


def resources_text(services: Services, cid: str) -> str:
    c = services.communities[cid]
    return "\n".join(f"- {r.name}: {r.url}" for r in c.resources)


class MemberFeatures:
    """The handlers App registers for each kind of scheduled item, and the awareness calendar."""

    def __init__(self, services: Services, platforms: Iterable[str]) -> None:
        self.s = services
        # Awareness days post only where an adapter runs; the others would wait in the outbox forever.
        self.platforms = frozenset(platforms)

    def handlers(self) -> dict[str, ScheduledHandler]:
        return {"reminder": self.reminder, "checkin": self.checkin_prompt, "announce": self.announce,
                "meeting": self.meeting, "awareness": self.awareness}

    @staticmethod
    def _key(item: ScheduledItem, *where: str) -> str:
        # An awareness day is keyed by its community, not its row: were two processes starting at once
        # to store the same day twice, the outbox would still post it once.
        owner = item.community_id if item.kind == "awareness" else str(item.id)
        return ":".join([item.kind, owner, item.run_at.strftime("%Y%m%dT%H%M%S"), *where])

    async def _dm(self, item: ScheduledItem, text: str) -> list[Action]:
        member = await self.s.store.member_by_id(item.member_id)
        if member is None:
            return []
        return [DirectMessage(platform=item.platform, user_id=member.user_id, text=text, durable=True,
                              dedupe_key=self._key(item))]

    def _posts(self, item: ScheduledItem, text: str, platforms: Iterable[str]) -> list[Action]:
        return [Post(platform=room.platform, chat_id=room.chat_id, text=text, community=item.community_id,
                     durable=True, dedupe_key=self._key(item, room.platform, room.chat_id))
                for platform in platforms for room in self.s.communities.rooms(item.community_id, platform)]

    async def reminder(self, item: ScheduledItem) -> list[Action]:
        return await self._dm(item, f"⏰ Reminder: {item.text}")

    async def checkin_prompt(self, item: ScheduledItem) -> list[Action]:
        return await self._dm(item, "Hi, it's check-in time. How are you today? Send /checkin and a number from "
                                    "1 (very low) to 5 (very good), with a note if you like. /checkin stop ends "
                                    "these messages.")

    async def announce(self, item: ScheduledItem) -> list[Action]:
        return self._posts(item, f"📣 {item.text}", [item.platform])

    async def meeting(self, item: ScheduledItem) -> list[Action]:
        return self._posts(item, f"📅 {item.text} is starting now. Everyone is welcome to join.", [item.platform])

    async def awareness(self, item: ScheduledItem) -> list[Action]:
        links = resources_text(self.s, item.community_id)
        text = item.text + (f"\n\nTrusted information:\n{links}" if links else "")
        return self._posts(item, text, sorted(self.platforms))

    async def sync_awareness_days(self, now: datetime) -> None:
        """One yearly item per community and date, matching the config: added, updated or retired at
        start, never duplicated across restarts."""
        store = self.s.store
        for cid in self.s.communities.ids():
            c = self.s.communities[cid]
            wanted: dict[str, tuple[str, str, datetime]] = {}
            for day in c.awareness_days:
                recurrence = f"yearly {day.date} {day.time}"
                try:
                    wanted[day.date] = (recurrence, day.text, next_occurrence(recurrence, c.timezone, now))
                except RecurrenceError:
                    log.error("awareness day %s of %s never happens; check its date and time", day.date, cid)
            for item in await store.active_items("awareness", community=cid):
                date = item.recurrence.split()[1]
                if date not in wanted:
                    await store.update_item(item.id, active=False)
                    continue
                recurrence, text, run_at = wanted.pop(date)
                if (item.recurrence, item.text, item.timezone) != (recurrence, text, c.timezone):
                    await store.update_item(item.id, recurrence=recurrence, text=text, timezone=c.timezone,
                                            run_at=run_at)
            for recurrence, text, run_at in wanted.values():
                await store.add_item(kind="awareness", community_id=cid, platform=ALL_PLATFORMS, text=text,
                                     recurrence=recurrence, timezone=c.timezone, run_at=run_at, created_at=now,
                                     active=True)
