"""Tickets and what happens in them: messages and their revisions, events, notes, saved views."""


from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import REF_PREFIX, Base, BigId, utcnow


REOPENED = "kind = 'status' AND old_value IN ('resolved', 'closed') AND new_value IN ('new', 'open', 'pending')"


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_conversation", "channel", "conversation_key"),
        Index("ix_tickets_status_due", "status", "first_response_due_at"),
        Index("ix_tickets_resolution_due", "resolution_due_at"),
        Index("ix_tickets_created", "created_at"),
        Index("ix_tickets_resolved", "resolved_at"),  # documentation coverage and resolution KPIs
        Index("ix_tickets_due_id", "first_response_due_at", "id"),  # the inbox's default order
        Index("ix_tickets_parent", "parent_id"),  # follow-ups and merged tickets, on the ticket page
        # The inbox's default list (active tickets by due time) is a small slice of a big table.
        Index("ix_tickets_active_due", "first_response_due_at", "id",
              postgresql_where=text("status IN ('new', 'open', 'pending')"),
              sqlite_where=text("status IN ('new', 'open', 'pending')")),
        # The dashboard's "done in the last week" for tickets closed without a resolution.
        Index("ix_tickets_closed_unresolved", "closed_at", postgresql_where=text("resolved_at IS NULL"),
              sqlite_where=text("resolved_at IS NULL")),
        # Live incident detection's window: recent tickets that did not come from a historical import.
        Index("ix_tickets_live_created", "created_at", postgresql_where=text("historical = false"),
              sqlite_where=text("historical = 0")),
        # The search index's backlog: tickets a historical import stored, not yet indexed (0020).
        Index("ix_tickets_search_pending", "id", postgresql_where=text("search_pending"),
              sqlite_where=text("search_pending = 1")),
        # Room on each page for a follow-up's new version of the row: a HOT update, no index entries (0021).
        {"postgresql_with": {"fillfactor": 75}},
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
    # Stored by a historical `trkv import`: a record, never a report for live incident detection.
    historical: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # Not in the full-text index yet: a historical import leaves that to support/tickets/search_index.py.
    search_pending: Mapped[bool] = mapped_column(Boolean, server_default=false())
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
    sentiment: Mapped[float | None] = mapped_column(Float)  # VADER compound of the first ~300 chars (inbound)


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


class TicketEvent(Base):
    """The audit trail: triage changes (suggested vs final, who, when), SLA breaches,
    status changes. Triage changes are the training data of the classifier."""

    __tablename__ = "ticket_events"
    __table_args__ = (
        Index("ix_ticket_events_kind_created", "kind", "created_at"),
        # Accurate solutions look for the few reopenings among a window's many status changes.
        Index("ix_ticket_events_reopened", "created_at", postgresql_where=text(REOPENED), sqlite_where=text(REOPENED)),
    )
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
