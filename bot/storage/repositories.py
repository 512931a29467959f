"""Every query Haven makes, in one place, each in its own short transaction."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import aliased

from bot.storage.models import (
    AuditEntry,
    Buddy,
    Case,
    CheckIn,
    FilterEntry,
    HeldMessage,
    Incident,
    Member,
    Membership,
    OutboxItem,
    ProcessedUpdate,
    RoomState,
    ScheduledItem,
    ScreeningCount,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MemberInfo:
    id: int
    platform: str
    user_id: str
    name: str
    country: str | None = None
    language: str | None = None
    timezone: str | None = None
    profession: str | None = None

    @property
    def handle(self) -> str:
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True, slots=True)
class NotedCrisis:
    incident_id: int
    new: bool
    rose: bool  # the severity went up: moderators hear of it again
    card_due: bool
    # What `note_crisis` stored in the outbox with the incident, as `outbox_add` returns it.
    outbox: tuple[int | None, ...] = ()
    waiting: frozenset[str] = frozenset()


def _aware(at: datetime) -> datetime:
    """Columns read without the ORM's type (a bare select of a column) may come back naive on SQLite."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _info(m: Member) -> MemberInfo:
    return MemberInfo(m.id, m.platform, m.platform_user_id, m.name, m.country, m.language, m.timezone, m.profession)


# How long a claimed update belongs to the process handling it. Handling takes milliseconds; a claim
# still unfinished after this was left by a process that died, and a redelivery handles it again.
CLAIM_LEASE = timedelta(seconds=10)


@functools.cache
def _claim_statement(dialect: str):
    """Built once per dialect, so SQLAlchemy's compiled cache serves every claim.

    A new id is inserted; an id whose earlier claim lapsed unfinished is taken over. Only those rows
    come back: the others were handled, or are being handled right now.
    """
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = ProcessedUpdate.__table__
    stmt = insert(table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.platform, table.c.update_id],
        set_={"at": stmt.excluded.at, "lease_until": stmt.excluded.lease_until},
        where=table.c.lease_until.is_not(None) & (table.c.lease_until < stmt.excluded.at),
    ).returning(table.c.platform, table.c.update_id)


@functools.cache
def _handled_statement():
    table = ProcessedUpdate.__table__
    return (update(table)
            .where(table.c.platform == bindparam("p"), table.c.update_id == bindparam("u"))
            .values(lease_until=None))


@functools.cache
def _member_upsert(dialect: str):
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = Member.__table__
    stmt = insert(table)
    # An empty display name (some platforms allow it) never overwrites a known one.
    return stmt.on_conflict_do_update(
        index_elements=[table.c.platform, table.c.platform_user_id],
        set_={"name": func.coalesce(func.nullif(stmt.excluded.name, ""), table.c.name),
              "last_seen_at": stmt.excluded.last_seen_at},
    ).returning(*table.c)


@functools.cache
def _membership_insert(dialect: str):
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(Membership.__table__).on_conflict_do_nothing()


@functools.cache
def _outbox_insert(dialect: str):
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = OutboxItem.__table__
    return insert(table).on_conflict_do_nothing(index_elements=[table.c.dedupe_key]).returning(table.c.id)


@functools.cache
def _count_upsert(dialect: str):
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = ScreeningCount.__table__
    stmt = insert(table)
    return stmt.on_conflict_do_update(index_elements=[table.c.day, table.c.community_id, table.c.category],
                                      set_={"count": table.c.count + stmt.excluded.count})


async def _outbox_store(conn, items: list[dict], now: datetime, lease: timedelta,
                        own: Iterable[int] = ()) -> tuple[list[int | None], set[str]]:
    """`Store.outbox_add` inside a transaction the caller holds."""
    keys = {item["chat_key"] for item in items}
    pending = (OutboxItem.status == "pending", OutboxItem.chat_key.in_(keys))
    own = list(own)
    if own:
        pending += (OutboxItem.id.not_in(own),)
    waiting = set((await conn.execute(select(OutboxItem.chat_key).distinct().where(*pending))).scalars())
    statement = _outbox_insert(conn.dialect.name)
    ids: list[int | None] = []
    for item in items:
        next_at = now if item["chat_key"] in waiting else now + lease
        row = (await conn.execute(statement, {**item, "status": "pending", "attempts": 0,
                                              "next_attempt_at": next_at, "created_at": now})).first()
        ids.append(row.id if row is not None else None)
    return ids, waiting


class _Recent:
    """A short-lived read cache for what every message asks and almost never changes.

    Changes made by this process drop the entry at once; another process's change is seen within
    `ttl` seconds (the platform's own mute or lockdown covers that moment).
    """

    def __init__(self, ttl: float, limit: int = 100_000) -> None:
        self.ttl = ttl
        self.limit = limit
        self._data: dict = {}

    def get(self, key) -> tuple[bool, object]:
        hit = self._data.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return True, hit[1]
        return False, None

    def put(self, key, value) -> None:
        if len(self._data) >= self.limit:
            self._data.clear()
        self._data[key] = (time.monotonic(), value)

    def drop(self, key=None) -> None:
        if key is None:
            self._data.clear()
        else:
            self._data.pop(key, None)


class Store:
    def __init__(self, sessions: async_sessionmaker) -> None:
        self.sessions = sessions
        # Members are looked up on every message; the cache saves a round trip for people already seen.
        self._members: dict[tuple[str, str], MemberInfo] = {}
        self._arrivals: list = []
        self._handled: list = []  # (platform, update_id, future): marks written with the next batch
        self._unwritten: set[asyncio.Future] = set()  # marks queued and not yet written
        self._writers: set[asyncio.Task] = set()  # batches started by a mark alone, held until done
        self._arriving = False
        # Update ids this process claimed and has not finished, and those it found claimed and
        # unfinished elsewhere: the adapter must not confirm the latter to the platform yet.
        self._claimed: set[tuple[str, str]] = set()
        self._elsewhere: set[tuple[str, str]] = set()
        # Membership only grows by posting; a leave elsewhere is picked up within minutes.
        self._joined = _Recent(ttl=300)
        # Mutes and lockdowns set by another process apply here within seconds (the platform's own
        # restriction already holds in between).
        self._snapshot = _Recent(ttl=5)

    # --- members -------------------------------------------------------------------------------

    async def member(self, platform: str, user_id: str, name: str, now: datetime) -> MemberInfo:
        key = (platform, user_id)
        cached = self._members.get(key)
        if cached is not None and cached.name == name:
            return cached
        # One upsert instead of read-then-write: a community's first hour is mostly new people.
        async with self.sessions.kw["bind"].begin() as conn:
            row = (await conn.execute(_member_upsert(conn.dialect.name),
                                      {"platform": platform, "platform_user_id": user_id, "name": name,
                                       "consents": {}, "created_at": now, "last_seen_at": now})).one()
        info = MemberInfo(row.id, row.platform, row.platform_user_id, row.name, row.country, row.language,
                          row.timezone, row.profession)
        self._members[key] = info
        return info

    async def member_by_id(self, member_id: int) -> MemberInfo | None:
        async with self.sessions() as s:
            row = await s.get(Member, member_id)
            return _info(row) if row else None

    async def find_member(self, platform: str, ref: str) -> MemberInfo | None:
        """By platform id, or by name as people type it (`@bob`, `bob`)."""
        name = ref.lstrip("@")
        async with self.sessions() as s:
            row = (
                await s.execute(select(Member).where(Member.platform == platform, Member.platform_user_id == name))
            ).scalar_one_or_none()
            if row is None:
                row = (
                    await s.execute(
                        select(Member)
                        .where(Member.platform == platform, func.lower(Member.name) == name.lower())
                        .order_by(Member.last_seen_at.desc())
                        .limit(1)
                    )
                ).scalar_one_or_none()
            return _info(row) if row else None

    async def set_locale(self, member_id: int, *, country: str | None = None, language: str | None = None) -> MemberInfo:
        async with self.sessions.begin() as s:
            row = await s.get(Member, member_id)
            if country is not None:
                row.country = country
            if language is not None:
                row.language = language
            info = _info(row)
        self._members[(info.platform, info.user_id)] = info
        return info

    def forget_cached(self, platform: str, user_id: str) -> None:
        self._members.pop((platform, user_id), None)

    # --- memberships ---------------------------------------------------------------------------

    async def join(self, member_id: int, cid: str, now: datetime) -> bool:
        """True if the member was not in the community before."""
        known, _ = self._joined.get((member_id, cid))
        if known:
            return False
        async with self.sessions.kw["bind"].begin() as conn:
            result = await conn.execute(_membership_insert(conn.dialect.name),
                                        {"member_id": member_id, "community_id": cid, "joined_at": now})
        self._joined.put((member_id, cid), True)
        return result.rowcount == 1

    async def leave(self, member_id: int, cid: str) -> bool:
        self._joined.drop((member_id, cid))
        async with self.sessions.begin() as s:
            result = await s.execute(
                delete(Membership).where(Membership.member_id == member_id, Membership.community_id == cid)
            )
            return result.rowcount > 0

    async def memberships(self, member_id: int) -> list[str]:
        async with self.sessions() as s:
            rows = await s.execute(select(Membership.community_id).where(Membership.member_id == member_id))
            return sorted(rows.scalars())

    async def member_counts(self) -> dict[str, int]:
        async with self.sessions() as s:
            rows = await s.execute(select(Membership.community_id, func.count()).group_by(Membership.community_id))
            return dict(rows.all())

    # --- deduplication -------------------------------------------------------------------------

    async def arrive(self, platform: str, update_id: str | None, person: tuple[str, str, str | None] | None,
                     now: datetime) -> tuple[bool, MemberInfo | None]:
        """Everything an incoming event writes before it is handled, batched with its neighbours.

        Claims the update id (False if it was handled before or is being handled; a claim whose
        lease lapsed unfinished is taken over), upserts the person
        (`(user_id, name, community they posted in or None)`) and records their membership. Every
        event asks this, so what arrives while one transaction runs goes together in the next: one
        commit serves them all and each caller waits for at most one transaction.
        """
        member = None
        if person is not None:
            cached = self._members.get((platform, person[0]))
            if cached is not None and cached.name == person[1]:
                member = cached
        joined = (person is None or person[2] is None or member is None
                  or self._joined.get((member.id, person[2]))[0])
        if update_id is None and member is not None and joined:
            return True, member  # nothing to write
        future = asyncio.get_running_loop().create_future()
        self._arrivals.append((platform, update_id, person, now, future))
        await self._write_batches()
        return await future

    async def handled(self, platform: str, update_id: str | None) -> bool:
        """`handled_soon`, returning once the mark is written."""
        settled, written = self.handled_soon(platform, update_id)
        if written is not None:
            await written
        return settled

    def handled_soon(self, platform: str, update_id: str | None) -> tuple[bool, asyncio.Future | None]:
        """After an event's actions were carried out: queue the mark that its claim was handled.

        Returns at once, so that the next update of the same chat need not wait for this write: the
        mark goes with the next batch of arrivals, in the same transaction. The boolean is True when
        the platform may forget the update once the mark is written (`marks_written`); False when
        another process claimed it and has not finished, so the platform should deliver it again
        later (its claim may lapse). The future, when there is one, is the mark's write.
        """
        key = (platform, update_id)
        if key in self._elsewhere:
            self._elsewhere.discard(key)
            return False, None
        if key not in self._claimed:
            return True, None
        future = asyncio.get_running_loop().create_future()
        self._handled.append((platform, update_id, future))
        self._unwritten.add(future)
        future.add_done_callback(self._mark_done)
        if not self._arriving:
            # Nobody is writing: start a batch, which the arrivals queued before it starts join.
            writer = asyncio.ensure_future(self._write_batches())
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        return True, future

    def _mark_done(self, future: asyncio.Future) -> None:
        self._unwritten.discard(future)
        if not future.cancelled() and future.exception() is not None:
            # The update was handled; only its mark is missing. Its claim lapses, and should the
            # platform deliver it again it is handled again (cards are deduplicated by the outbox).
            log.warning("could not mark an update handled: %s", future.exception())

    async def marks_written(self) -> None:
        """Waits until every handled mark queued so far is written (or failed, which is logged)."""
        if self._unwritten:
            await asyncio.wait(list(self._unwritten))

    async def _write_batches(self) -> None:
        """Whoever finds no batch running writes what is queued, then what queued up meanwhile."""
        if self._arriving:
            return
        self._arriving = True
        try:
            while self._arrivals or self._handled:
                batch, self._arrivals = self._arrivals, []
                done, self._handled = self._handled, []
                await self._arrive_batch(batch, done)
        finally:
            self._arriving = False

    async def _arrive_batch(self, batch: list, done: list) -> None:
        claims: dict[tuple[str, str], datetime] = {}
        people: dict[tuple[str, str], dict] = {}
        for platform, update_id, person, now, _ in batch:
            if update_id is not None:
                claims.setdefault((platform, update_id), now)
            if person is not None:
                people[(platform, person[0])] = {"platform": platform, "platform_user_id": person[0],
                                                 "name": person[1], "consents": {}, "created_at": now,
                                                 "last_seen_at": now}
        try:
            # Core on a bare connection: this runs for every event, and the ORM's unit of work would
            # cost more than the inserts themselves.
            async with self.sessions.kw["bind"].begin() as conn:
                dialect = conn.dialect.name
                if done:
                    await conn.execute(_handled_statement(), [{"p": p, "u": u} for p, u, _ in done])
                new: set[tuple[str, str]] = set()
                busy: set[tuple[str, str]] = set()
                if claims:
                    rows = await conn.execute(_claim_statement(dialect), [
                        {"platform": p, "update_id": u, "at": at, "lease_until": at + CLAIM_LEASE}
                        for (p, u), at in claims.items()])
                    new = {tuple(row) for row in rows.all()}
                    if len(new) < len(claims):
                        # Rare (a redelivery): tell handled ones from ones another process is on.
                        table = ProcessedUpdate.__table__
                        rows = await conn.execute(select(table.c.platform, table.c.update_id).where(
                            table.c.lease_until.is_not(None),
                            tuple_(table.c.platform, table.c.update_id).in_([k for k in claims if k not in new])))
                        busy = {tuple(row) for row in rows.all()}
                members: dict[tuple[str, str], MemberInfo] = {}
                if people:
                    rows = await conn.execute(_member_upsert(dialect), list(people.values()))
                    for row in rows.all():
                        members[(row.platform, row.platform_user_id)] = MemberInfo(
                            row.id, row.platform, row.platform_user_id, row.name, row.country, row.language,
                            row.timezone, row.profession)
                joins = {(members[(p, person[0])].id, person[2]): now for p, _, person, now, _ in batch
                         if person is not None and person[2] is not None}
                joins = {k: v for k, v in joins.items() if not self._joined.get(k)[0]}
                if joins:
                    await conn.execute(_membership_insert(dialect), [
                        {"member_id": m, "community_id": c, "joined_at": at} for (m, c), at in joins.items()])
        except Exception as e:  # noqa: BLE001 - every waiting caller gets the failure, none hangs
            for *_, future in batch + done:
                if not future.done():
                    future.set_exception(e)
            return
        for p, u, future in done:
            self._claimed.discard((p, u))
            future.set_result(None)
        self._claimed |= new
        self._elsewhere |= busy - self._claimed  # a repeat of this process's own claim is in hand here
        self._members.update(members)
        for key in joins:
            self._joined.put(key, True)
        for platform, update_id, person, _, future in batch:
            first = True
            if update_id is not None:
                # The same id twice in one batch is a redelivery: only its first caller handles it.
                first = (platform, update_id) in new
                new.discard((platform, update_id))
            future.set_result((first, members.get((platform, person[0])) if person is not None else None))

    # --- audit ---------------------------------------------------------------------------------

    async def audit(
        self,
        *,
        at: datetime,
        platform: str,
        actor: str,
        action: str,
        community: str | None = None,
        target: str | None = None,
        reason: str | None = None,
        outcome: str = "done",
    ) -> None:
        async with self.sessions.begin() as s:
            s.add(AuditEntry(at=at, platform=platform, actor=actor, action=action, community_id=community,
                             target=target, reason=reason, outcome=outcome))

    async def audit_entries(self, community: str | None = None, limit: int = 100) -> list[AuditEntry]:
        async with self.sessions() as s:
            q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
            if community is not None:
                q = q.where(AuditEntry.community_id == community)
            return list((await s.execute(q)).scalars())

    # --- counts --------------------------------------------------------------------------------

    async def add_counts(self, counts: dict[tuple[str, str, str], int]) -> None:
        if not counts:
            return
        # An upsert, so two processes flushing the same day's counts add up instead of colliding.
        async with self.sessions.kw["bind"].begin() as conn:
            await conn.execute(_count_upsert(conn.dialect.name), [
                {"day": day, "community_id": cid, "category": category, "count": n}
                for (day, cid, category), n in counts.items()])

    # --- held posts ----------------------------------------------------------------------------

    async def hold(self, **fields) -> int:
        async with self.sessions.begin() as s:
            row = HeldMessage(**fields)
            s.add(row)
            await s.flush()
            return row.id

    # --- sanctions -----------------------------------------------------------------------------

    async def _restrictions(self) -> tuple[dict, dict]:
        """Every active mute and ban, and every room's state, read in one go.

        Asked on every post and almost always empty, so one snapshot serves all posts for a few
        seconds instead of a query per person; this process's own changes refresh it at once.
        """
        found, snapshot = self._snapshot.get("all")
        if not found:
            async with self.sessions() as s:
                cases = (await s.execute(select(Case).where(Case.kind.in_(("mute", "ban")),
                                                            Case.active.is_(True)))).scalars()
                sanctions: dict[tuple[int, str], list[Case]] = {}
                for case in cases:
                    sanctions.setdefault((case.member_id, case.community_id), []).append(case)
                rooms = {r.community_id: r for r in (await s.execute(select(RoomState))).scalars()}
            snapshot = (sanctions, rooms)
            self._snapshot.put("all", snapshot)
        return snapshot

    async def active_sanction(self, member_id: int, cid: str, kinds: Iterable[str], now: datetime) -> Case | None:
        sanctions, _ = await self._restrictions()
        kinds = tuple(kinds)
        live = [c for c in sanctions.get((member_id, cid), ()) if c.kind in kinds
                and (c.expires_at is None or c.expires_at > now)]
        return max(live, key=lambda c: c.id) if live else None

    async def room_state(self, cid: str) -> RoomState | None:
        _, rooms = await self._restrictions()
        return rooms.get(cid)

    async def add_case(self, **fields) -> Case:
        self._snapshot.drop()
        async with self.sessions.begin() as s:
            row = Case(**fields)
            s.add(row)
            await s.flush()
            return row

    async def case(self, case_id: int) -> Case | None:
        async with self.sessions() as s:
            return await s.get(Case, case_id)

    async def cases(self, cid: str | None, member_id: int, *, include_notes: bool) -> list[Case]:
        async with self.sessions() as s:
            q = select(Case).where(Case.member_id == member_id).order_by(Case.id)
            if cid is not None:
                q = q.where(Case.community_id == cid)
            if not include_notes:
                q = q.where(Case.kind != "note")
            return list((await s.execute(q)).scalars())

    async def count_warnings(self, cid: str, member_id: int, since: datetime) -> int:
        async with self.sessions() as s:
            q = select(func.count()).select_from(Case).where(
                Case.community_id == cid, Case.member_id == member_id, Case.kind == "warn",
                Case.created_at >= since, Case.active.is_(True))
            return (await s.execute(q)).scalar_one()

    async def lift_cases(self, cid: str, member_id: int, kinds: tuple[str, ...], now: datetime) -> list[Case]:
        """End every active sanction of these kinds; returns what was lifted."""
        self._snapshot.drop()
        async with self.sessions.begin() as s:
            rows = list((await s.execute(select(Case).where(
                Case.community_id == cid, Case.member_id == member_id, Case.kind.in_(kinds),
                Case.active.is_(True)))).scalars())
            for row in rows:
                row.active = False
                row.lifted_at = now
            return rows

    async def expired_sanctions(self, now: datetime) -> list[Case]:
        async with self.sessions() as s:
            q = select(Case).where(Case.active.is_(True), Case.kind.in_(("mute", "ban")),
                                   Case.expires_at.is_not(None), Case.expires_at <= now)
            return list((await s.execute(q)).scalars())

    async def expire_case(self, case_id: int, now: datetime) -> bool:
        """Retire one timed sanction unless someone already did; each is lifted once."""
        self._snapshot.drop()
        async with self.sessions.begin() as s:
            result = await s.execute(update(Case).where(Case.id == case_id, Case.active.is_(True))
                                     .values(active=False, lifted_at=now))
            return result.rowcount == 1

    async def sanction_expiries(self) -> list[datetime]:
        async with self.sessions() as s:
            q = select(Case.expires_at).where(Case.active.is_(True), Case.expires_at.is_not(None))
            return list((await s.execute(q)).scalars())

    async def set_room_state(self, cid: str, **fields) -> None:
        self._snapshot.drop()
        async with self.sessions.begin() as s:
            row = await s.get(RoomState, cid)
            if row is None:
                row = RoomState(community_id=cid, locked=False, slowmode_seconds=0)
                s.add(row)
            for key, value in fields.items():
                setattr(row, key, value)

    # --- review queue --------------------------------------------------------------------------

    async def queue(self, cid: str) -> list[HeldMessage]:
        async with self.sessions() as s:
            q = (select(HeldMessage).where(HeldMessage.community_id == cid, HeldMessage.status == "pending")
                 .order_by(HeldMessage.id))
            return list((await s.execute(q)).scalars())

    async def held(self, held_id: int) -> HeldMessage | None:
        async with self.sessions() as s:
            return await s.get(HeldMessage, held_id)

    async def decide(self, held_id: int, status: str, who: str, now: datetime) -> bool:
        async with self.sessions.begin() as s:
            result = await s.execute(update(HeldMessage)
                                     .where(HeldMessage.id == held_id, HeldMessage.status == "pending")
                                     .values(status=status, decided_by=who, decided_at=now))
            return result.rowcount == 1

    # --- statistics ----------------------------------------------------------------------------

    async def stats(self, cid: str, since: datetime) -> dict:
        async with self.sessions() as s:
            counts = dict((await s.execute(
                select(ScreeningCount.category, func.sum(ScreeningCount.count))
                .where(ScreeningCount.community_id == cid, ScreeningCount.day >= day_key(since))
                .group_by(ScreeningCount.category))).all())
            incidents = list((await s.execute(select(Incident.opened_at, Incident.acked_at).where(
                Incident.community_id == cid, Incident.opened_at >= since))).all())
            sanctions = dict((await s.execute(
                select(Case.kind, func.count()).where(Case.community_id == cid, Case.created_at >= since)
                .group_by(Case.kind))).all())
        return {"counts": counts, "incidents": incidents, "sanctions": sanctions}

    # --- filters -------------------------------------------------------------------------------

    async def add_filter(self, cid: str, pattern: str, allow: bool, who: str, now: datetime) -> bool:
        async with self.sessions() as s:
            try:
                async with s.begin():
                    s.add(FilterEntry(community_id=cid, pattern=pattern, allow=allow, created_by=who, created_at=now))
            except IntegrityError:
                return False
        return True

    async def remove_filter(self, cid: str, pattern: str) -> bool:
        async with self.sessions.begin() as s:
            result = await s.execute(delete(FilterEntry).where(FilterEntry.community_id == cid,
                                                               FilterEntry.pattern == pattern))
            return result.rowcount > 0

    async def filters(self, cid: str) -> list[FilterEntry]:
        async with self.sessions() as s:
            q = select(FilterEntry).where(FilterEntry.community_id == cid).order_by(FilterEntry.id)
            return list((await s.execute(q)).scalars())

    # --- crisis incidents ----------------------------------------------------------------------

    async def open_incident_of(self, member_id: int) -> Incident | None:
        async with self.sessions() as s:
            q = (select(Incident).where(Incident.member_id == member_id, Incident.status != "resolved")
                 .order_by(Incident.id.desc()).limit(1))
            return (await s.execute(q)).scalar_one_or_none()

    async def note_crisis(self, *, member_id: int, community: str | None, now: datetime, cooldown: timedelta,
                          category: str, severity: int, audit_platform: str, audit_target: str,
                          new_incident: dict, outbox: Callable[[NotedCrisis], list[dict]],
                          lease: timedelta) -> NotedCrisis:
        """Open an incident or fold the post into the open one, decide whether a card is due, audit it,
        and store what `outbox` makes of that decision (items as for `outbox_add`, leased to the caller).

        One transaction, because the card waits for it: a person in crisis should not wait on several.
        It also means the incident is never recorded with its card due and the card unstored, which a
        redelivered update, finding the card already sent, would never make good.
        """
        async with self.sessions.begin() as s:
            incident = (await s.execute(
                select(Incident).where(Incident.member_id == member_id, Incident.community_id == community,
                                       Incident.status != "resolved").order_by(Incident.id.desc()).limit(1)
            )).scalar_one_or_none()
            last_card = (await s.execute(
                select(Incident.card_sent_at, Incident.severity)
                .where(Incident.member_id == member_id, Incident.card_sent_at.is_not(None))
                .order_by(Incident.card_sent_at.desc()).limit(1)
            )).first()
            new = incident is None
            rose = not new and severity > incident.severity
            if new:
                incident = Incident(community_id=community, member_id=member_id, category=category,
                                    severity=severity, status="open", message_count=1, opened_at=now,
                                    last_seen_at=now, escalation_level=0, **new_incident)
                s.add(incident)
            else:
                incident.message_count += 1
                incident.last_seen_at = now
                if rose:
                    incident.severity, incident.category = severity, category
            card_due = (last_card is None or now - _aware(last_card.card_sent_at) >= cooldown
                        or severity > last_card.severity)
            if card_due:
                incident.card_sent_at = now
            await s.flush()
            s.add(AuditEntry(at=now, platform=audit_platform, actor="haven", community_id=community,
                             action=f"crisis.{'card' if card_due else 'fold'}", target=audit_target,
                             reason=f"incident {incident.id}: {category}", outcome="done"))
            noted = NotedCrisis(incident.id, new, rose, card_due)
            items = outbox(noted)
            if not items:
                return noted
            ids, waiting = await _outbox_store(await s.connection(), items, now, lease)
            return replace(noted, outbox=tuple(ids), waiting=frozenset(waiting))

    async def update_incident(self, incident_id: int, **fields) -> None:
        async with self.sessions.begin() as s:
            await s.execute(update(Incident).where(Incident.id == incident_id).values(**fields))

    async def incident(self, incident_id: int) -> Incident | None:
        async with self.sessions() as s:
            return await s.get(Incident, incident_id)

    async def transition_incident(self, incident_id: int, from_status: tuple[str, ...], **fields) -> bool:
        """Change an incident only if it is still in one of `from_status`; False if someone was first."""
        async with self.sessions.begin() as s:
            result = await s.execute(
                update(Incident).where(Incident.id == incident_id, Incident.status.in_(from_status)).values(**fields)
            )
            return result.rowcount == 1

    async def incidents_due(self, now: datetime) -> list[Incident]:
        async with self.sessions() as s:
            q = select(Incident).where(Incident.status == "open", Incident.next_escalation_at <= now)
            return list((await s.execute(q)).scalars())

    async def incident_gauges(self) -> tuple[int, int, datetime | None]:
        """Open incidents, how many nobody has taken, and when the oldest of those opened."""
        async with self.sessions() as s:
            open_ = (await s.execute(select(func.count()).select_from(Incident)
                                     .where(Incident.status != "resolved"))).scalar_one()
            unacked, oldest = (await s.execute(select(func.count(), func.min(Incident.opened_at))
                                               .where(Incident.status == "open"))).one()
            if oldest is not None and oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=UTC)
            return open_, unacked, oldest

    async def ping(self) -> bool:
        async with self.sessions() as s:
            return (await s.execute(select(1))).scalar_one() == 1

    async def pending_escalations(self) -> list[Incident]:
        async with self.sessions() as s:
            q = select(Incident).where(Incident.status == "open", Incident.next_escalation_at.is_not(None))
            return list((await s.execute(q)).scalars())

    async def count_audit(self, *, actor: str, action: str, since: datetime) -> int:
        async with self.sessions() as s:
            q = select(func.count()).select_from(AuditEntry).where(
                AuditEntry.actor == actor, AuditEntry.action == action, AuditEntry.at >= since)
            return (await s.execute(q)).scalar_one()

    async def count_concerns(self, *, reporter: str | None = None, target_id: int | None = None, since: datetime) -> int:
        async with self.sessions() as s:
            q = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "concern", AuditEntry.at >= since,
                                                                   AuditEntry.outcome == "done")
            if reporter is not None:
                q = q.where(AuditEntry.actor == reporter)
            if target_id is not None:
                q = q.where(AuditEntry.target == f"member:{target_id}")
            return (await s.execute(q)).scalar_one()

    async def purge_text(self, before: datetime) -> int:
        """Retention: drop stored message text older than `before`, keep the records and counts."""
        async with self.sessions.begin() as s:
            a = await s.execute(
                update(Incident).where(Incident.opened_at < before, Incident.excerpt.is_not(None)).values(excerpt=None)
            )
            b = await s.execute(
                update(HeldMessage)
                .where(HeldMessage.created_at < before, HeldMessage.text.is_not(None), HeldMessage.status != "pending")
                .values(text=None)
            )
            await s.execute(delete(ProcessedUpdate).where(ProcessedUpdate.at < before))
            return a.rowcount + b.rowcount

    # --- scheduled items ----------------------------------------------------------------------

    async def add_item(self, **fields) -> int:
        async with self.sessions.begin() as s:
            row = ScheduledItem(**fields)
            s.add(row)
            await s.flush()
            return row.id

    async def due_items(self, now: datetime, limit: int = 500) -> list[ScheduledItem]:
        async with self.sessions() as s:
            q = (
                select(ScheduledItem)
                .where(ScheduledItem.active.is_(True), ScheduledItem.run_at <= now)
                .order_by(ScheduledItem.run_at)
                .limit(limit)
            )
            return list((await s.execute(q)).scalars())

    async def next_item_times(self) -> list[datetime]:
        async with self.sessions() as s:
            q = select(ScheduledItem.run_at).where(ScheduledItem.active.is_(True)).order_by(ScheduledItem.run_at)
            return list((await s.execute(q.limit(1000))).scalars())

    async def claim_item(self, item: ScheduledItem, now: datetime, next_run: datetime | None) -> bool:
        """Move a due item on (or retire it) only if nobody else did: each run happens once."""
        async with self.sessions.begin() as s:
            values = {"last_run_at": now}
            if next_run is None:
                values["active"] = False
            else:
                values["run_at"] = next_run
            result = await s.execute(
                update(ScheduledItem)
                .where(ScheduledItem.id == item.id, ScheduledItem.run_at == item.run_at,
                       ScheduledItem.active.is_(True))
                .values(**values)
            )
            return result.rowcount == 1

    # --- outbox --------------------------------------------------------------------------------

    async def outbox_add(self, items: list[dict], now: datetime, lease: timedelta,
                         own: Iterable[int] = ()) -> tuple[list[int | None], set[str]]:
        """Store items (platform, chat_key, payload, dedupe_key) in one transaction.

        Returns their ids (None for an item whose dedupe key is stored already) and the chats that
        already had items waiting. Those items are stored due at once, for the drain to send behind the
        waiting ones; the others are leased to the caller, who sends them at once. `own` are items the
        caller stored earlier and is about to send itself, in order with these: they do not count as
        waiting.
        """
        async with self.sessions.kw["bind"].begin() as conn:
            return await _outbox_store(conn, items, now, lease, own)

    async def claim_outbox(self, now: datetime, lease: timedelta, limit: int = 100) -> list[OutboxItem]:
        """Take due items for `lease`: other processes skip rows locked now and rows leased until later.

        An item waits while an older one of its chat is not due (backing off, or leased to a sender),
        so each chat gets its items in the order they were stored. PostgreSQL's FOR UPDATE SKIP LOCKED
        keeps two processes from claiming the same row; SQLite runs one process and ignores the clause.
        """
        older = aliased(OutboxItem)
        behind = (select(older.id)
                  .where(older.chat_key == OutboxItem.chat_key, older.id < OutboxItem.id,
                         older.status == "pending", older.next_attempt_at > now)
                  .exists())
        async with self.sessions.begin() as s:
            q = (
                select(OutboxItem)
                .where(OutboxItem.status == "pending", OutboxItem.next_attempt_at <= now, ~behind)
                .order_by(OutboxItem.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            rows = list((await s.execute(q)).scalars())
            for row in rows:
                row.next_attempt_at = now + lease
            return rows

    async def outbox_release(self, item_id: int, now: datetime) -> None:
        async with self.sessions.begin() as s:
            await s.execute(update(OutboxItem).where(OutboxItem.id == item_id).values(next_attempt_at=now))

    async def outbox_pending_count(self) -> int:
        async with self.sessions() as s:
            q = select(func.count()).select_from(OutboxItem).where(OutboxItem.status == "pending")
            return (await s.execute(q)).scalar_one()

    async def outbox_sent(self, item_ids: list[int], now: datetime) -> None:
        async with self.sessions.begin() as s:
            await s.execute(update(OutboxItem).where(OutboxItem.id.in_(item_ids)).values(status="sent", sent_at=now))

    async def outbox_retry(self, item_id: int, *, error: str, next_at: datetime, dead: bool) -> None:
        async with self.sessions.begin() as s:
            await s.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item_id)
                .values(attempts=OutboxItem.attempts + 1, last_error=error[:500], next_attempt_at=next_at,
                        status="dead" if dead else "pending")
            )

    # --- member features -----------------------------------------------------------------------

    async def set_member_fields(self, member_id: int, **fields) -> MemberInfo:
        """Time zone or profession: written through to the member cache."""
        async with self.sessions.begin() as s:
            row = await s.get(Member, member_id)
            for key, value in fields.items():
                setattr(row, key, value)
            info = _info(row)
        self._members[(info.platform, info.user_id)] = info
        return info

    async def add_checkin(self, member_id: int, mood: int, note: str | None, at: datetime) -> None:
        async with self.sessions.begin() as s:
            s.add(CheckIn(member_id=member_id, mood=mood, note=note, at=at))

    async def checkins(self, member_id: int, since: datetime) -> list[CheckIn]:
        async with self.sessions() as s:
            q = select(CheckIn).where(CheckIn.member_id == member_id, CheckIn.at >= since).order_by(CheckIn.at)
            return list((await s.execute(q)).scalars())

    async def active_items(self, kind: str, *, member_id: int | None = None,
                           community: str | None = None) -> list[ScheduledItem]:
        """A member's or a community's active items of one kind, oldest first: the numbers people see."""
        async with self.sessions() as s:
            q = select(ScheduledItem).where(ScheduledItem.kind == kind, ScheduledItem.active.is_(True))
            if member_id is not None:
                q = q.where(ScheduledItem.member_id == member_id)
            if community is not None:
                q = q.where(ScheduledItem.community_id == community)
            return list((await s.execute(q.order_by(ScheduledItem.id))).scalars())

    async def update_item(self, item_id: int, **fields) -> None:
        async with self.sessions.begin() as s:
            await s.execute(update(ScheduledItem).where(ScheduledItem.id == item_id).values(**fields))

    async def item(self, item_id: int) -> ScheduledItem | None:
        async with self.sessions() as s:
            return await s.get(ScheduledItem, item_id)

    async def cancel_item(self, item_id: int) -> bool:
        """Retire an item unless the scheduler took its last run first: what was cancelled never runs."""
        async with self.sessions.begin() as s:
            result = await s.execute(update(ScheduledItem)
                                     .where(ScheduledItem.id == item_id, ScheduledItem.active.is_(True))
                                     .values(active=False))
            return result.rowcount == 1

    async def experts(self, cid: str) -> list[MemberInfo]:
        async with self.sessions() as s:
            q = (select(Member).join(Membership, Membership.member_id == Member.id)
                 .where(Membership.community_id == cid, Member.profession.is_not(None)).order_by(Member.name))
            return [_info(m) for m in (await s.execute(q)).scalars()]

    async def buddy(self, member_id: int, cid: str) -> Buddy | None:
        """The member's current pairing in a community (waiting, proposed or active), if any."""
        async with self.sessions() as s:
            q = select(Buddy).where(Buddy.member_id == member_id, Buddy.community_id == cid,
                                    Buddy.status != "ended")
            return (await s.execute(q)).scalar_one_or_none()

    async def buddy_opt_in(self, member_id: int, cid: str, detail: str | None, now: datetime) -> int | None:
        """Wait for a buddy; pair at once with the longest-waiting member on the same platform and with
        the same detail, never with someone whose pairing with this member ended. Returns the partner's
        member id when a pair was proposed."""
        async with self.sessions.begin() as s:
            me = Buddy(community_id=cid, member_id=member_id, detail=detail, status="waiting", accepted=False,
                       created_at=now)
            s.add(me)
            await s.flush()
            platform = (await s.get(Member, member_id)).platform
            # Ending a pairing (or saying no thanks to a suggestion) ends both sides' rows, each naming
            # the other, so this member's own ended rows name everyone they must not meet again.
            past = aliased(Buddy)
            ended_with = (select(past.id)
                          .where(past.community_id == cid, past.member_id == member_id, past.status == "ended",
                                 past.partner_id == Buddy.member_id)
                          .exists())
            q = (select(Buddy).join(Member, Member.id == Buddy.member_id)
                 .where(Buddy.community_id == cid, Buddy.status == "waiting", Buddy.member_id != member_id,
                        Member.platform == platform, ~ended_with,
                        Buddy.detail.is_(None) if detail is None else Buddy.detail == detail)
                 .order_by(Buddy.id).limit(1))
            other = (await s.execute(q)).scalar_one_or_none()
            if other is None:
                return None
            # Only a row still waiting can be taken: two people opting in at once never share a partner.
            taken = await s.execute(update(Buddy).where(Buddy.id == other.id, Buddy.status == "waiting")
                                    .values(status="proposed", partner_id=member_id))
            if taken.rowcount != 1:
                return None
            me.status, me.partner_id = "proposed", other.member_id
            return other.member_id

    async def buddy_accept(self, member_id: int, cid: str) -> tuple[str, int | None]:
        """("active", partner) once both accepted, ("accepted", partner) while the other has not yet,
        or (the pairing's status, None) when there is nothing to accept."""
        async with self.sessions.begin() as s:
            mine = (await s.execute(select(Buddy).where(
                Buddy.member_id == member_id, Buddy.community_id == cid, Buddy.status == "proposed"))).scalar_one_or_none()
            if mine is None:
                return "none", None
            mine.accepted = True
            theirs = (await s.execute(select(Buddy).where(
                Buddy.member_id == mine.partner_id, Buddy.community_id == cid, Buddy.partner_id == member_id,
                Buddy.status == "proposed"))).scalar_one_or_none()
            if theirs is None or not theirs.accepted:
                return "accepted", mine.partner_id
            mine.status = theirs.status = "active"
            return "active", mine.partner_id

    async def buddy_end(self, member_id: int, cid: str) -> tuple[bool, int | None]:
        """End the member's pairing (or stop waiting); the partner's side ends too. (ended?, partner)."""
        async with self.sessions.begin() as s:
            mine = (await s.execute(select(Buddy).where(
                Buddy.member_id == member_id, Buddy.community_id == cid, Buddy.status != "ended"))).scalar_one_or_none()
            if mine is None:
                return False, None
            mine.status = "ended"
            if mine.partner_id is not None:
                await s.execute(update(Buddy).where(Buddy.member_id == mine.partner_id, Buddy.community_id == cid,
                                                    Buddy.partner_id == member_id, Buddy.status != "ended")
                                .values(status="ended"))
            return True, mine.partner_id

    async def export_member(self, member_id: int) -> dict:
        """Everything stored about one member, for /mydata. Moderators' identities in staff notes and
        other people's words stay out."""
        async with self.sessions() as s:
            m = await s.get(Member, member_id)
            async def about(model, *where):
                return (await s.execute(select(model).where(*where).order_by(model.id))).scalars().all()

            items = await about(ScheduledItem, ScheduledItem.member_id == member_id)
            checkins = await about(CheckIn, CheckIn.member_id == member_id)
            buddies = await about(Buddy, Buddy.member_id == member_id)
            cases = await about(Case, Case.member_id == member_id)
            incidents = await about(Incident, Incident.member_id == member_id)
            held = await about(HeldMessage, HeldMessage.member_id == member_id)
            reports = await about(HeldMessage, HeldMessage.reporter_id == member_id)
            partner_ids = {r.partner_id for r in buddies if r.partner_id is not None}
            names = dict((await s.execute(select(Member.id, Member.name).where(Member.id.in_(partner_ids)))).all())
            memberships = (await s.execute(select(Membership).where(Membership.member_id == member_id)
                                           .order_by(Membership.community_id))).scalars()
            return {
                "member": {"platform": m.platform, "user_id": m.platform_user_id, "name": m.name,
                           "country": m.country, "language": m.language, "timezone": m.timezone,
                           "profession": m.profession, "consents": m.consents, "created_at": m.created_at,
                           "last_seen_at": m.last_seen_at},
                "memberships": [{"community": r.community_id, "joined_at": r.joined_at} for r in memberships],
                "checkins": [{"at": r.at, "mood": r.mood, "note": r.note} for r in checkins],
                "scheduled": [{"kind": r.kind, "community": r.community_id, "text": r.text, "next_run": r.run_at,
                               "repeats": r.recurrence, "timezone": r.timezone, "active": r.active,
                               "created_at": r.created_at} for r in items],
                "buddies": [{"community": r.community_id, "detail": r.detail, "status": r.status,
                             "partner": names.get(r.partner_id), "created_at": r.created_at} for r in buddies],
                "moderation_cases": [{"case": r.id, "community": r.community_id, "kind": r.kind, "reason": r.reason,
                                      "moderator": None if r.kind == "note" else r.moderator,
                                      "created_at": r.created_at, "expires_at": r.expires_at,
                                      "lifted_at": r.lifted_at, "active": r.active} for r in cases],
                "support_incidents": [{"incident": r.id, "community": r.community_id, "category": r.category,
                                       "severity": r.severity, "source": r.source, "status": r.status,
                                       "opened_at": r.opened_at, "resolved_at": r.resolved_at} for r in incidents],
                "held_messages": [{"id": r.id, "community": r.community_id, "kind": r.kind, "text": r.text,
                                   "categories": r.categories, "status": r.status, "created_at": r.created_at}
                                  for r in held],
                "reports_made": [{"id": r.id, "community": r.community_id, "status": r.status,
                                  "created_at": r.created_at} for r in reports],
            }

    async def forget_member(self, member_id: int) -> dict:
        """Erase a member. Sanction records moderation must keep lose only the link to the person.

        Returns what happened: {"anonymised_cases": n, "partners": [member ids whose pairing ended]}.
        """
        async with self.sessions.begin() as s:
            m = await s.get(Member, member_id)
            handle = f"{m.platform}:{m.platform_user_id}"
            partners = list((await s.execute(select(Buddy.member_id).where(
                Buddy.partner_id == member_id, Buddy.status != "ended"))).scalars())
            await s.execute(update(Buddy).where(Buddy.partner_id == member_id)
                            .values(partner_id=None, status="ended"))
            for table in (Buddy, CheckIn, ScheduledItem, Membership):
                await s.execute(delete(table).where(table.member_id == member_id))
            cases = await s.execute(update(Case).where(Case.member_id == member_id).values(member_id=None))
            await s.execute(update(Incident).where(Incident.member_id == member_id)
                            .values(member_id=None, excerpt=None, link=None))
            # A post still waiting for review goes; decided ones stay as records, without the words.
            await s.execute(delete(HeldMessage).where(HeldMessage.member_id == member_id,
                                                      HeldMessage.status == "pending"))
            await s.execute(update(HeldMessage).where(HeldMessage.member_id == member_id)
                            .values(member_id=None, text=None))
            await s.execute(update(HeldMessage).where(HeldMessage.reporter_id == member_id)
                            .values(reporter_id=None))
            for column in (AuditEntry.actor, AuditEntry.target):
                await s.execute(update(AuditEntry).where(column.in_((handle, f"member:{member_id}")))
                                .values({column: "forgotten member"}))
            # Private messages already sent to them are theirs too.
            await s.execute(delete(OutboxItem).where(OutboxItem.chat_key == handle))
            await s.delete(m)
        self.forget_cached(m.platform, m.platform_user_id)
        return {"anonymised_cases": cases.rowcount, "partners": partners}

    async def purge_member_data(self, *, checkins_before: datetime, items_before: datetime) -> int:
        """Retention: check-ins after a year (plenty to look back on), and reminders and other items that
        finished or were cancelled, with their text, after the retention window."""
        async with self.sessions.begin() as s:
            a = await s.execute(delete(CheckIn).where(CheckIn.at < checkins_before))
            b = await s.execute(delete(ScheduledItem).where(ScheduledItem.active.is_(False),
                                                            ScheduledItem.created_at < items_before))
            return a.rowcount + b.rowcount


def day_key(at: datetime) -> str:
    return at.strftime("%Y-%m-%d")


def window_start(now: datetime, days: float) -> datetime:
    return now - timedelta(days=days)
