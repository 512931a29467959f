"""One APScheduler 3 AsyncIOScheduler in UTC that only ever wakes Haven up.

What is due lives in the database (incidents to escalate, sanctions to lift, reminders, the outbox);
the scheduler holds wake-up times, rebuilt from the database at start. A job that a restart made
late still runs (`misfire_grace_time=None`), and several late wake-ups coalesce into one run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

SAFETY_NET_SECONDS = 30  # retries in the outbox and anything a missed wake-up left behind


class Scheduler:
    def __init__(self, run_due: Callable[[], Awaitable[object]], *, safety_net_seconds: float = SAFETY_NET_SECONDS):
        self._run_due = run_due
        self._safety_net = safety_net_seconds
        self._aps = AsyncIOScheduler(
            timezone=UTC, job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
        )

    def start(self, *, paused: bool = False) -> None:
        self._aps.add_job(self._tick, "interval", seconds=self._safety_net, id="safety-net")
        self._aps.start(paused=paused)

    def pause(self) -> None:
        """A follower keeps its scheduler paused: only the leader runs what is due."""
        if self._aps.running:
            self._aps.pause()

    def resume(self) -> None:
        if self._aps.running:
            self._aps.resume()

    def shutdown(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=False)

    def wake(self, at: datetime) -> None:
        """Run what is due at `at` (seconds are enough; wake-ups at the same second are one job)."""
        if not self._aps.running:
            return
        # Round up: a wake-up before the due time would find nothing and leave it to the safety net.
        at = at.astimezone(UTC)
        if at.microsecond:
            at = at.replace(microsecond=0) + timedelta(seconds=1)
        self._aps.add_job(self._tick, "date", run_date=at, id=f"wake:{at.isoformat()}", replace_existing=True)

    def pending(self) -> list[datetime]:
        return sorted(j.next_run_time for j in self._aps.get_jobs() if j.id.startswith("wake:"))

    async def _tick(self) -> None:
        try:
            await self._run_due()
        except Exception:
            log.exception("scheduled run failed; the next wake-up tries again")


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class RecurrenceError(ValueError):
    """A recurrence a person typed that does not parse; the message says how to write one."""


def next_occurrence(recurrence: str, tz: str, after: datetime) -> datetime:
    """The first time after `after` that `recurrence` names, in the member's time zone.

    Forms: "daily 08:00", "mon,thu 19:30", "yearly 11-14 09:00". Local wall-clock times, so a daily
    reminder stays at 08:00 across daylight-saving changes.
    """
    from datetime import date, time, timedelta
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    parts = recurrence.lower().split()
    try:
        if parts[0] == "yearly" and len(parts) == 3:
            month, day = (int(x) for x in parts[1].split("-"))
            hh, mm = (int(x) for x in parts[2].split(":"))
            local_after = after.astimezone(zone)
            # 29 February can be eight years away (2096 to 2104), so look that far.
            for year in range(local_after.year, local_after.year + 9):
                try:
                    candidate = datetime.combine(date(year, month, day), time(hh, mm), zone)
                except ValueError:
                    continue  # 29 February outside a leap year
                if candidate > after:
                    return candidate.astimezone(UTC)
            raise RecurrenceError(f"'{recurrence}' never happens")
        if len(parts) != 2:
            raise ValueError
        days_part, clock = parts
        hh, mm = (int(x) for x in clock.split(":"))
        at = time(hh, mm)
        days = set(range(7)) if days_part == "daily" else {WEEKDAYS.index(d) for d in days_part.split(",")}
    except (ValueError, IndexError):
        raise RecurrenceError(
            f"'{recurrence}' is not a schedule I understand; try 'daily 08:00' or 'mon,thu 19:30'"
        ) from None
    local_after = after.astimezone(zone)
    for offset in range(8):
        day = local_after.date() + timedelta(days=offset)
        if day.weekday() not in days:
            continue
        candidate = datetime.combine(day, at, zone)
        if candidate > after:
            return candidate.astimezone(UTC)
    raise RecurrenceError(f"'{recurrence}' never happens")
