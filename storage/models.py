"""The hub's tables, as SQLAlchemy 2 typed models.

Times are stored as naive UTC and handed out as aware UTC (`UTCDateTime`), so
SQLite and PostgreSQL behave the same.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

PRIORITIES = ("critical", "high", "medium", "low")
CATEGORIES = ("bug_report", "feature_request", "support_question", "documentation", "general", "no_action")
STATUSES = ("new", "open", "pending", "resolved", "closed")
ROLES = ("lead", "engineer", "community_manager")
REF_PREFIX = "TRKV-"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only makes INTEGER PRIMARY KEY an alias of the rowid; BIGINT would not autoincrement.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSONType, list[Any]: JSONType}


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of a random token
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]


class Contact(Base):
    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Identity(Base):
    """A contact's account on one platform."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "external_user_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_user_id: Mapped[str] = mapped_column(String(320))
    handle: Mapped[str] = mapped_column(String(320), default="")
    display_name: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_conversation", "channel", "conversation_key"),
        Index("ix_tickets_status_due", "status", "first_response_due_at"),
        Index("ix_tickets_resolution_due", "resolution_due_at"),
        Index("ix_tickets_created", "created_at"),
        Index("ix_tickets_due_id", "first_response_due_at", "id"),  # the inbox's default order
        Index("ix_tickets_parent", "parent_id"),  # follow-ups and merged tickets, on the ticket page
        # The inbox's default list (active tickets by due time) is a small slice of a big table.
        Index("ix_tickets_active_due", "first_response_due_at", "id",
              postgresql_where=text("status IN ('new', 'open', 'pending')"),
              sqlite_where=text("status IN ('new', 'open', 'pending')")),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    conversation_key: Mapped[str | None] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(500), default="")
    snippet: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default="new")
    priority: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    suggested_priority: Mapped[str | None] = mapped_column(String(16))
    suggested_category: Mapped[str | None] = mapped_column(String(32))
    suggestion_confidence: Mapped[float | None] = mapped_column(Float)
    suggestion_evidence: Mapped[dict[str, Any] | None]
    model_version: Mapped[str | None] = mapped_column(String(64))
    needs_triage: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_response_due_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    first_responded_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    first_response_breached_at: Mapped[datetime | None]
    resolution_breached_at: Mapped[datetime | None]
    # SLA clocks (on-call / SLA): paused while pending; the sweep's one indexed due time
    sla_paused_at: Mapped[datetime | None]
    sla_paused_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default=text("0"))
    sla_next_at: Mapped[datetime | None] = mapped_column(index=True)
    first_response_warned_at: Mapped[datetime | None]
    resolution_warned_at: Mapped[datetime | None]
    alert_id: Mapped[int | None] = mapped_column(BigId, index=True)  # the on-call alert it joined
    # The conversation's words for full-text search: customers' messages and agents' replies, the
    # first SEARCH_CHARS characters (storage/queries.py). Indexed with the subject and snippet
    # (migration 0008); deferred, so a list of tickets never loads it.
    search_text: Mapped[str | None] = mapped_column(Text, deferred=True)

    @property
    def ref(self) -> str:
        return f"{REF_PREFIX}{self.id}"


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_messages_channel_external_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # "in" | "out"
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(500))
    conversation_key: Mapped[str | None] = mapped_column(String(500))
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    author: Mapped[str] = mapped_column(String(500), default="")
    subject: Mapped[str | None] = mapped_column(String(1000))
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[Any] | None]
    raw: Mapped[dict[str, Any] | None]
    problems: Mapped[list[Any] | None]
    permalink: Mapped[str | None] = mapped_column(String(1000))
    sent_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Outbox(Base):
    """Something to send. Claimed by a conditional UPDATE before sending; the
    idempotency key travels with the send so that a receiver can deduplicate."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_updated", "status", "updated_at"),
        Index("ix_outbox_recipient_created", "recipient", "created_at"),  # acks per sender per window
        Index("ix_outbox_channel_external_id", "channel", "external_id"),  # bounces find their row
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # ack | reply | page | status
    channel: Mapped[str] = mapped_column(String(16))
    queue: Mapped[str] = mapped_column(String(32), default="default")
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|sending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    alert_id: Mapped[int | None] = mapped_column(BigId, index=True)  # pages: the alert they are for
    recipient: Mapped[str | None] = mapped_column(String(320))  # email: the address, lowercased


class InboundQueue(Base):
    """Inbound messages accepted but not yet ingested: the durable half of a Celery
    kick. The sweep re-kicks rows whose broker message was lost."""

    __tablename__ = "inbound_queue"
    __table_args__ = (Index("ix_inbound_queue_status_updated", "status", "updated_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(500))
    payload: Mapped[dict[str, Any]]
    live: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|done|quarantined
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Quarantine(Base):
    """Input the hub could not turn into a ticket, kept with the reason."""

    __tablename__ = "quarantine"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)  # JSON or the raw text, as received
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None]
    discarded_at: Mapped[datetime | None]


class ConnectorCursor(Base):
    __tablename__ = "connector_cursors"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConnectorState(Base):
    __tablename__ = "connector_states"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # ok | degraded | down
    detail: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketEvent(Base):
    """The audit trail: triage changes (suggested vs final, who, when), SLA breaches,
    status changes. Triage changes are the training data of the classifier."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_kind_created", "kind", "created_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # triage | sla_breach | status | ...
    field: Mapped[str | None] = mapped_column(String(32))
    suggested: Mapped[str | None] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(String(64))
    new_value: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    model_version: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketNote(Base):
    """An internal note on a ticket: seen by the team, never sent to the customer."""

    __tablename__ = "ticket_notes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SavedView(Base):
    """A user's named set of inbox filters."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_views_user_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    filters: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContactBlock(Base):
    """Who blocked a contact, when and why (Contact.blocked is the current state)."""

    __tablename__ = "contact_blocks"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    lifted_at: Mapped[datetime | None]


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


class MessageRevision(Base):
    """An edit or a deletion of a stored inbound message (Discord): the message keeps its
    latest text, the revisions keep what it said before. Keyed by the platform's ids, as
    a change can arrive before its message is ingested (it waits as "pending")."""

    __tablename__ = "message_revisions"
    __table_args__ = (
        Index("ix_message_revisions_external", "channel", "external_id"),
        Index("ix_message_revisions_status", "status"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(16))  # edit | delete
    old_text: Mapped[str | None] = mapped_column(Text)  # the text before this change
    new_text: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime | None]  # when the platform says it happened
    raw: Mapped[dict[str, Any] | None]
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | applied | orphan
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskDelivery(Base):
    """How often a redelivered Celery task was started: caps poison messages."""

    __tablename__ = "task_deliveries"
    task_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("CURRENT_TIMESTAMP"))
