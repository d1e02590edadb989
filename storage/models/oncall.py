"""On-call: alerts and their pages, schedules, overrides, escalation policies and contact methods."""


from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, utcnow


class Alert(Base):
    """An on-call alert: one or more alike critical tickets, paged through an escalation
    chain until someone acknowledges it. `next_action_at` is when the sweep must look
    again (re-page, escalate, or send a held-back update)."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    severity: Mapped[str] = mapped_column(String(16))  # critical | major | minor
    status: Mapped[str] = mapped_column(String(16), default="triggered")  # triggered|acknowledged|resolved
    title: Mapped[str] = mapped_column(String(500))
    fingerprint: Mapped[list[Any]]  # the words likeness is measured on
    channels: Mapped[list[Any]]
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_ticket_id: Mapped[int | None] = mapped_column(BigId)
    step: Mapped[int] = mapped_column(Integer, default=0)  # escalation step last notified
    rounds: Mapped[int] = mapped_column(Integer, default=0)  # notifications so far (keys the outbox rows)
    notified_count: Mapped[int] = mapped_column(Integer, default=0)  # count the last notification told
    notified_at: Mapped[datetime | None]  # last page of an escalation step
    last_sent_at: Mapped[datetime | None]  # last notification of any kind (pages and updates)
    next_action_at: Mapped[datetime | None] = mapped_column(index=True)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(320))
    acknowledged_via: Mapped[str | None] = mapped_column(String(16))  # link | web | cli | api
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class OncallSchedule(Base):
    """A weekly (or N-day) rotation: members take turns from `starts_local`, a wall-clock
    time in `timezone`, so the handoff stays at 09:00 local across DST."""

    __tablename__ = "oncall_schedules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    starts_local: Mapped[str] = mapped_column(String(32))  # ISO local time of the first handoff
    rotation_days: Mapped[int] = mapped_column(Integer, default=7)
    members: Mapped[list[Any]]  # user ids, in turn order
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OncallOverride(Base):
    __tablename__ = "oncall_overrides"
    __table_args__ = (Index("ix_oncall_overrides_schedule_starts", "schedule_id", "starts_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("oncall_schedules.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EscalationPolicy(Base):
    """Steps for one severity: [{"notify": "oncall"|"lead"|"user:ID", "schedule"?: name,
    "wait_minutes": n}, ...]."""

    __tablename__ = "escalation_policies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    severity: Mapped[str] = mapped_column(String(16), unique=True)
    steps: Mapped[list[Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OncallContact(Base):
    """How to reach a person when paged: email, discord (a user id), webhook, pagerduty."""

    __tablename__ = "oncall_contacts"
    __table_args__ = (UniqueConstraint("user_id", "method", "address", name="uq_oncall_contacts"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
