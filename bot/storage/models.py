"""Haven's tables. Message text is stored only where a feature needs it and is purged on retention."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator):
    """SQLite forgets time zones; every datetime Haven reads back is aware and in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to the database")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: UTCDateTime()}


class Member(Base):
    """One person on one platform."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128), index=True)
    country: Mapped[str | None] = mapped_column(String(2))
    language: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    consents: Mapped[dict] = mapped_column(JSON, default=dict)
    profession: Mapped[str | None] = mapped_column(String(128))  # set by /verify
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class Membership(Base):
    __tablename__ = "memberships"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    community_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    joined_at: Mapped[datetime]


class Case(Base):
    """A moderation record: warn, mute, kick, ban, their lifting, and staff notes.

    member_id is emptied (not the row) when a member asks to be forgotten: moderation must keep it.
    """

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_community_member", "community_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # warn mute unmute kick ban unban note
    moderator: Mapped[str] = mapped_column(String(160))  # "console:mira" or "haven"
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    lifted_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Incident(Base):
    """Someone may be in danger. Open until a moderator resolves it; timers are rebuilt from here."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_status_next", "status", "next_escalation_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[str | None] = mapped_column(String(32))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    link: Mapped[str | None] = mapped_column(String(512))
    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[int] = mapped_column(Integer)
    excerpt: Mapped[str | None] = mapped_column(Text)  # purged after the retention window
    source: Mapped[str] = mapped_column(String(16), default="screen")  # screen or concern
    status: Mapped[str] = mapped_column(String(16), default="open")  # open acked resolved
    message_count: Mapped[int] = mapped_column(Integer, default=1)
    opened_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    card_sent_at: Mapped[datetime | None]
    acked_at: Mapped[datetime | None]
    acked_by: Mapped[str | None] = mapped_column(String(160))
    resolved_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None]
    not_me: Mapped[bool] = mapped_column(Boolean, default=False)  # the member said it was misread


class HeldMessage(Base):
    """A post kept out of the room for review, or a member's report of a post."""

    __tablename__ = "held_messages"
    __table_args__ = (Index("ix_held_community_status", "community_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), default="held")  # held report appeal
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)
    categories: Mapped[list] = mapped_column(JSON, default=list)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending approved rejected
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(160))


class AuditEntry(Base):
    """Append-only: who did what, why, when and where; refused attempts too."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    community_id: Mapped[str | None] = mapped_column(String(32), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(160))
    action: Mapped[str] = mapped_column(String(48))
    target: Mapped[str | None] = mapped_column(String(160))
    reason: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16), default="done")  # done refused failed


class ScheduledItem(Base):
    """Reminders, check-in prompts, follow-ups, announcements: the scheduler is rebuilt from these."""

    __tablename__ = "scheduled_items"
    __table_args__ = (Index("ix_scheduled_active_run", "active", "run_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    community_id: Mapped[str | None] = mapped_column(String(32))
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text, default="")
    run_at: Mapped[datetime]
    recurrence: Mapped[str | None] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime]
    last_run_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class OutboxItem(Base):
    """A card or alert written down before it is sent, so neither a failure nor a restart loses it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_key: Mapped[str] = mapped_column(String(96))  # keeps order per chat
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending sent dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class FilterEntry(Base):
    __tablename__ = "filters"
    __table_args__ = (UniqueConstraint("community_id", "pattern", "allow"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[str] = mapped_column(String(32), index=True)
    pattern: Mapped[str] = mapped_column(String(128))
    allow: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime]


class RoomState(Base):
    """Lockdown and slow mode per community."""

    __tablename__ = "room_state"

    community_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    lockdown_until: Mapped[datetime | None]
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    slowmode_seconds: Mapped[int] = mapped_column(Integer, default=0)


class ProcessedUpdate(Base):
    """Platform update ids claimed for handling, so a redelivered update is not answered twice.

    A claim is leased while its actions are carried out and marked handled after: a process killed in
    between leaves a lapsed lease, and the redelivered update is handled again instead of lost.
    """

    __tablename__ = "processed_updates"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)  # None once handled


class CheckIn(Base):
    __tablename__ = "checkins"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    mood: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]


class ScreeningCount(Base):
    """Counts kept after text is purged: messages screened and flags per category per day."""

    __tablename__ = "screening_counts"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    community_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)  # "screened" or a category
    count: Mapped[int] = mapped_column(Integer, default=0)


class Buddy(Base):
    __tablename__ = "buddies"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    detail: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="waiting")  # waiting proposed active ended
    accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)
