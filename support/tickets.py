"""Reading tickets: the list with filters and a keyset cursor, one ticket with its
messages, and their JSON form. The web inbox, the API and the CLI share these.

The list is ordered newest first by id and paged by "id below the last one seen",
so a page costs one index range scan however deep the reader goes, and tickets
arriving meanwhile never shift a page (offset paging would repeat or skip rows).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from storage.db import session_factory
from storage.models import Contact, Message, Ticket, User, utcnow
from storage.queries import ticket_id_from_ref
from trkv.settings import Settings, get_settings

MAX_LIMIT = 200
_MAX_ID = 2**63 - 1  # larger ids overflow BIGINT: such a ref or cursor names nothing


class InvalidCursor(ValueError):
    pass


@dataclass
class TicketFilters:
    """Each filter is optional; list filters match any of their values."""

    channel: list[str] | None = None
    status: list[str] | None = None
    priority: list[str] | None = None
    category: list[str] | None = None
    q: str | None = None  # case-insensitive substring of subject or snippet


@dataclass
class TicketPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def encode_cursor(ticket_id: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{ticket_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    if len(cursor) > 64:
        raise InvalidCursor("cursor is not one this server handed out")
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, _, value = text.partition(":")
        ticket_id = int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor("cursor is not one this server handed out") from exc
    if version != "v1" or not 0 < ticket_id <= _MAX_ID:
        raise InvalidCursor("cursor is not one this server handed out")
    return ticket_id


def list_tickets(
    filters: TicketFilters | None = None, limit: int = 50, cursor: str | None = None, settings: Settings | None = None
) -> TicketPage:
    settings = settings or get_settings()
    limit = max(1, min(limit, MAX_LIMIT))
    query = _filtered(_with_people(select(Ticket)), filters or TicketFilters())
    if cursor:
        query = query.where(Ticket.id < decode_cursor(cursor))
    query = query.order_by(Ticket.id.desc()).limit(limit + 1)  # one extra row says whether a next page exists
    with session_factory(settings.db_url, readonly=True)() as session:
        rows = session.execute(query).all()
    now = utcnow()
    items = [serialize_ticket(*row, now=now) for row in rows[:limit]]
    next_cursor = encode_cursor(rows[limit - 1][0].id) if len(rows) > limit else None
    return TicketPage(items=items, next_cursor=next_cursor)


def get_ticket(ref: str, settings: Settings | None = None, *, with_messages: bool = True) -> dict[str, Any] | None:
    """The ticket (with its messages in order), or None for an unknown or malformed ref."""
    settings = settings or get_settings()
    ticket_id = _ticket_id(ref)
    if ticket_id is None:
        return None
    with session_factory(settings.db_url, readonly=True)() as session:
        row = session.execute(_with_people(select(Ticket)).where(Ticket.id == ticket_id)).first()
        if row is None:
            return None
        messages = _messages(session, ticket_id) if with_messages else None
    data = serialize_ticket(*row, now=utcnow())
    if messages is not None:
        data["messages"] = [serialize_message(m) for m in messages]
    return data


def _ticket_id(ref: str) -> int | None:
    if len(ref) > 40:  # also keeps int() away from its 4300-digit limit
        return None
    ticket_id = ticket_id_from_ref(ref)
    return ticket_id if ticket_id is not None and 0 < ticket_id <= _MAX_ID else None


def _with_people(query: Select) -> Select:
    """Contact and assignee joined in, so a page of tickets is one query."""
    return (
        query.add_columns(Contact.name, Contact.email, User.email)
        .outerjoin(Contact, Contact.id == Ticket.contact_id)
        .outerjoin(User, User.id == Ticket.assignee_id)
    )


def _filtered(query: Select, filters: TicketFilters) -> Select:
    for column, values in (
        (Ticket.channel, filters.channel),
        (Ticket.status, filters.status),
        (Ticket.priority, filters.priority),
        (Ticket.category, filters.category),
    ):
        if values:
            query = query.where(column.in_(values))
    if filters.q:
        # autoescape: a % or _ in the search is a literal character, not a wildcard
        subject = Ticket.subject.icontains(filters.q, autoescape=True)
        query = query.where(or_(subject, Ticket.snippet.icontains(filters.q, autoescape=True)))
    return query


def _messages(session: Session, ticket_id: int) -> list[Message]:
    return list(
        session.execute(
            select(Message).where(Message.ticket_id == ticket_id).order_by(Message.received_at, Message.id)
        ).scalars()
    )


def serialize_ticket(
    ticket: Ticket, contact_name: str | None, contact_email: str | None, assignee_email: str | None, *, now: datetime
) -> dict[str, Any]:
    return {
        "ref": ticket.ref,
        "channel": ticket.channel,
        "subject": ticket.subject,
        "snippet": ticket.snippet,
        "status": ticket.status,
        "priority": ticket.priority,
        "category": ticket.category,
        "suggestion": {
            "priority": ticket.suggested_priority,
            "category": ticket.suggested_category,
            "confidence": ticket.suggestion_confidence,
            "model_version": ticket.model_version,
            "evidence": ticket.suggestion_evidence,
            "needs_triage": ticket.needs_triage,
        },
        "first_response_due_at": iso(ticket.first_response_due_at),
        "resolution_due_at": iso(ticket.resolution_due_at),
        "first_responded_at": iso(ticket.first_responded_at),
        "resolved_at": iso(ticket.resolved_at),
        "closed_at": iso(ticket.closed_at),
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "last_message_at": iso(ticket.last_message_at),
        "assignee": assignee_email,
        "contact": None if ticket.contact_id is None else {"name": contact_name, "email": contact_email},
        "parent": f"TRKV-{ticket.parent_id}" if ticket.parent_id else None,
        "breached": {
            "first_response": _breached(ticket.first_response_breached_at, ticket.first_response_due_at,
                                        ticket.first_responded_at, now),
            "resolution": _breached(ticket.resolution_breached_at, ticket.resolution_due_at,
                                    ticket.resolved_at or ticket.closed_at, now),
        },
    }


def _breached(recorded_at: datetime | None, due_at: datetime | None, done_at: datetime | None, now: datetime) -> bool:
    """Recorded by the sweep, or visibly late already (the sweep runs only every so often)."""
    if recorded_at is not None:
        return True
    return due_at is not None and (done_at or now) > due_at


def serialize_message(message: Message) -> dict[str, Any]:
    return {
        "direction": message.direction,
        "channel": message.channel,
        "external_id": message.external_id,
        "author": message.author,
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
        "sent_at": iso(message.sent_at),
        "received_at": iso(message.received_at),
        "permalink": message.permalink,
        "problems": message.problems or [],
        "attachments": message.attachments or [],
    }


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, the form every client parses."""
    return None if value is None else value.isoformat().replace("+00:00", "Z")
