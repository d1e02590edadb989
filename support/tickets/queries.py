"""Reading tickets: the list with filters, full-text search and a keyset cursor, one
ticket with its messages, and their JSON form. The web inbox, the API and the CLI share these.

Two orders, each paged by keyset ("after the last row seen"), so a page costs one
index range scan however deep the reader goes, and tickets arriving meanwhile never
shift a page (offset paging would repeat or skip rows):
- "due" (the inbox's default): first-response due time, then id;
- "newest": id descending (the API's default).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, literal_column, or_, select, text, tuple_, union_all
from sqlalchemy.orm import Session, aliased

from storage.db import session_factory
from storage.models.accounts import User
from storage.models.base import utcnow
from storage.models.contacts import Contact, Identity
from storage.models.tickets import Message, Ticket, TicketEvent, TicketNote
from storage.queries import ticket_id_from_ref
from support.kb import search as kb_search
from support.tickets import search_index
from trkv.settings import Settings, get_settings

MAX_LIMIT = 200
ACTIVE_STATUSES = ("new", "open", "pending")
SORTS = ("due", "newest")
ACTIVE_CLAUSE = text("tickets.status IN ('new', 'open', 'pending')")
AT_RISK = timedelta(hours=1)  # a first response due within this is "at risk"
_MAX_ID = 2**63 - 1  # larger ids overflow BIGINT: such a ref or cursor names nothing
_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_TERMS = 8


class InvalidCursor(ValueError):
    pass


@dataclass
class TicketFilters:
    """Each filter is optional; list filters match any of their values."""

    channel: list[str] | None = None
    status: list[str] | None = None
    priority: list[str] | None = None
    category: list[str] | None = None
    q: str | None = None  # full-text search of the conversation (words, the last one as a prefix)
    assignee_ids: list[int] | None = None
    unassigned: bool = False
    sla: str | None = None  # "at_risk" | "breached"
    needs_triage: bool | None = None
    contact_id: int | None = None


@dataclass
class TicketPage:
    items: list[dict[str, Any]]
    next_cursor: str | None
    sort: str = "newest"
    # With a search: tickets not in the search index yet (up to SCAN_AT_MOST + 1), and whether
    # they were matched by substring (a backlog above SCAN_AT_MOST is left out).
    search_backlog: int = 0
    search_backlog_scanned: bool = False


# cursors ---------------------------------------------------------------------


def _b64(text_: str) -> str:
    return base64.urlsafe_b64encode(text_.encode()).decode().rstrip("=")


def encode_cursor(ticket_id: int, due: datetime | None = None, sort: str = "newest") -> str:
    if sort == "newest":
        return _b64(f"v1:{ticket_id}")
    return _b64(f"d1:{'-' if due is None else due.strftime('%Y-%m-%dT%H:%M:%S.%f')}:{ticket_id}")


def decode_cursor(cursor: str, sort: str = "newest") -> tuple[int, datetime | None]:
    bad = InvalidCursor("cursor is not one this server handed out")
    if len(cursor) > 100:
        raise bad
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, _, rest = decoded.partition(":")
        due = None
        if version == "d1":
            stamp, _, value = rest.rpartition(":")
            due = None if stamp == "-" else datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f")
        else:
            value = rest
        ticket_id = int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise bad from exc
    if version != {"newest": "v1", "due": "d1"}[sort] or not 0 < ticket_id <= _MAX_ID:
        raise bad
    return ticket_id, due


# the list ----------------------------------------------------------------------


def list_tickets(
    filters: TicketFilters | None = None,
    limit: int = 50,
    cursor: str | None = None,
    settings: Settings | None = None,
    *,
    sort: str = "newest",
) -> TicketPage:
    settings = settings or get_settings()
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}")
    limit = max(1, min(limit, MAX_LIMIT))
    now = utcnow()
    with session_factory(settings.db_url, readonly=True)() as session:
        dialect = session.get_bind().dialect.name
        filters = filters or TicketFilters()
        backlog = 0
        if filters.q and search_index.any_pending(session):
            backlog = search_index.pending_count(session, at_most=search_index.SCAN_AT_MOST)
        scanned = 0 < backlog <= search_index.SCAN_AT_MOST
        query = filtered(_with_people(select(Ticket)), filters, now, dialect, search_backlog=scanned)
        query = _ordered(query, sort, cursor).limit(limit + 1)  # one extra row says whether a next page exists
        rows = session.execute(query).all()
    items = [serialize_ticket(*row, now=now) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1][0]
        next_cursor = encode_cursor(last.id, last.first_response_due_at, sort)
    return TicketPage(items=items, next_cursor=next_cursor, sort=sort, search_backlog=backlog,
                      search_backlog_scanned=scanned)


def _ordered(query: Select, sort: str, cursor: str | None) -> Select:
    due = Ticket.first_response_due_at
    if sort == "newest":
        if cursor:
            query = query.where(Ticket.id < decode_cursor(cursor, sort)[0])
        return query.order_by(Ticket.id.desc())
    if cursor:
        after_id, after_due = decode_cursor(cursor, sort)
        if after_due is None:
            query = query.where(due.is_(None), Ticket.id > after_id)
        else:
            # A row value comparison: PostgreSQL and SQLite both walk (due, id) from there.
            query = query.where(or_(tuple_(due, Ticket.id) > tuple_(after_due, after_id), due.is_(None)))
    return query.order_by(due.asc().nulls_last(), Ticket.id.asc())


def _with_people(query: Select) -> Select:
    """Contact and assignee joined in, so a page of tickets is one query."""
    return (
        query.add_columns(Contact.name, Contact.email, User.email, Contact.blocked)
        .outerjoin(Contact, Contact.id == Ticket.contact_id)
        .outerjoin(User, User.id == Ticket.assignee_id)
    )


def filtered(query: Select, filters: TicketFilters, now: datetime, dialect: str, *,
             search_backlog: bool = False) -> Select:
    active_only = bool(filters.status) and set(filters.status) == set(ACTIVE_STATUSES) or filters.sla is not None
    if active_only:
        # Spelled exactly as the partial index ix_tickets_active_due, so that both databases use
        # it; and once: a repeated condition makes PostgreSQL underestimate the rows it keeps.
        query = query.where(ACTIVE_CLAUSE)
        if filters.status and set(filters.status) == set(ACTIVE_STATUSES):
            filters = TicketFilters(**{**filters.__dict__, "status": None})
    for column, values in (
        (Ticket.channel, filters.channel),
        (Ticket.status, filters.status),
        (Ticket.priority, filters.priority),
        (Ticket.category, filters.category),
    ):
        if values:
            query = query.where(column.in_(values))
    if filters.assignee_ids or filters.unassigned:
        choices = []
        if filters.assignee_ids:
            choices.append(Ticket.assignee_id.in_(filters.assignee_ids))
        if filters.unassigned:
            choices.append(Ticket.assignee_id.is_(None))
        query = query.where(or_(*choices))
    if filters.needs_triage is not None:
        query = query.where(Ticket.needs_triage.is_(filters.needs_triage))
    if filters.contact_id is not None:
        query = query.where(Ticket.contact_id == filters.contact_id)
    if filters.sla == "breached":
        query = query.where(breached_clause(now))
    elif filters.sla == "at_risk":
        query = query.where(
            Ticket.first_responded_at.is_(None),
            Ticket.first_response_due_at >= now, Ticket.first_response_due_at < now + AT_RISK,
        )
    if filters.q:
        query = query.where(search_clause(filters.q, dialect, search_backlog=search_backlog))
    return query


def breached_clause(now: datetime):
    return or_(
        Ticket.first_response_breached_at.is_not(None),
        Ticket.resolution_breached_at.is_not(None),
        and_(Ticket.first_responded_at.is_(None), Ticket.first_response_due_at < now),
        Ticket.resolution_due_at < now,
    )


def search_clause(q: str, dialect: str, *, search_backlog: bool = False):
    """Full-text search (SQLite FTS5, PostgreSQL tsvector) of the subject, the snippet and the
    conversation's search text: every word must occur, the last one may be a prefix ("expo"
    finds "export"). A query without words (say "%") falls back to a literal substring of
    the subject or snippet. `search_backlog`: some tickets wait for the search index
    (support/tickets/search_index.py); those match when every word is a substring of their
    text, so an imported ticket is found before it is indexed, without stemming."""
    terms = [t.lower() for t in _WORD.findall(q)][:_MAX_TERMS]
    if not terms:
        subject = Ticket.subject.icontains(q, autoescape=True)  # % and _ are literal characters
        return or_(subject, Ticket.snippet.icontains(q, autoescape=True))
    if dialect == "postgresql":
        tsquery = " & ".join(terms[:-1] + [terms[-1] + ":*"])
        matches = literal_column("tickets.fts").op("@@")(text("to_tsquery('english', :tsq)").bindparams(tsq=tsquery))
        if not search_backlog:
            return matches
        indexed = select(Ticket.id).where(matches)
    else:
        match = " AND ".join(f'"{t}"' for t in terms[:-1]) + (" AND " if len(terms) > 1 else "") + f'"{terms[-1]}"*'
        indexed = text("SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH :match").bindparams(match=match)
        if not search_backlog:
            return Ticket.id.in_(indexed.columns(rowid=Ticket.id.type))
        indexed = select(literal_column("rowid")).select_from(text("tickets_fts")).where(
            text("tickets_fts MATCH :match").bindparams(match=match))
    waiting = aliased(Ticket, name="waiting")
    words = func.coalesce(waiting.subject, "") + " " + func.coalesce(waiting.snippet, "") + " " + \
        func.coalesce(waiting.search_text, "")
    # `= true` (`= 1` on SQLite) is the partial index ix_tickets_search_pending's own condition.
    backlog = select(waiting.id).where(waiting.search_pending == True, *(words.icontains(t) for t in terms))  # noqa: E712
    return Ticket.id.in_(union_all(indexed, backlog))


# one ticket ---------------------------------------------------------------------


def get_ticket(ref: str, settings: Settings | None = None, *, with_messages: bool = True,
               with_details: bool = False) -> dict[str, Any] | None:
    """The ticket (with its messages in order), or None for an unknown or malformed ref.
    `with_details` adds what the web page shows: identities, notes, triage history."""
    settings = settings or get_settings()
    ticket_id = ticket_id_from_ref_checked(ref)
    if ticket_id is None:
        return None
    with session_factory(settings.db_url, readonly=True)() as session:
        row = session.execute(_with_people(select(Ticket)).where(Ticket.id == ticket_id)).first()
        if row is None:
            return None
        data = serialize_ticket(*row, now=utcnow())
        if with_messages:
            data["messages"] = [serialize_message(m) for m in _messages(session, ticket_id)]
        if with_details:
            data.update(_details(session, row[0]))
    data["kb_suggestions"] = kb_search.for_ticket(data, settings)
    return data


def ticket_id_from_ref_checked(ref: str) -> int | None:
    if len(ref) > 40:  # also keeps int() away from its 4300-digit limit
        return None
    ticket_id = ticket_id_from_ref(ref)
    return ticket_id if ticket_id is not None and 0 < ticket_id <= _MAX_ID else None


def _messages(session: Session, ticket_id: int) -> list[Message]:
    return list(
        session.execute(
            select(Message).where(Message.ticket_id == ticket_id).order_by(Message.received_at, Message.id)
        ).scalars()
    )


def _details(session: Session, ticket: Ticket) -> dict[str, Any]:
    identities = []
    if ticket.contact_id is not None:
        identities = [
            {"channel": i.channel, "handle": i.handle, "display_name": i.display_name,
             "external_user_id": i.external_user_id}
            for i in session.execute(
                select(Identity).where(Identity.contact_id == ticket.contact_id).order_by(Identity.id)
            ).scalars()
        ]
    notes = session.execute(
        select(TicketNote, User.email).outerjoin(User, User.id == TicketNote.user_id)
        .where(TicketNote.ticket_id == ticket.id).order_by(TicketNote.id)
    ).all()
    events = session.execute(
        select(TicketEvent, User.email).outerjoin(User, User.id == TicketEvent.user_id)
        .where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id.desc()).limit(50)
    ).all()
    # One query for both: tickets that follow this one, and the contact's other tickets.
    related = Ticket.parent_id == ticket.id
    if ticket.contact_id is not None:
        related = or_(related, Ticket.contact_id == ticket.contact_id)
    rows = session.execute(
        select(Ticket.id, Ticket.subject, Ticket.status, Ticket.parent_id)
        .where(related, Ticket.id != ticket.id).order_by(Ticket.id.desc()).limit(30)
    ).all()
    children = sorted(tid for tid, _, _, parent in rows if parent == ticket.id)
    other_tickets = [{"ref": f"TRKV-{tid}", "subject": subject, "status": status}
                     for tid, subject, status, _ in rows][:10]
    return {
        "identities": identities,
        "notes": [{"text": n.text, "author": email, "created_at": iso(n.created_at)} for n, email in notes],
        "events": [
            {"kind": e.kind, "field": e.field, "suggested": e.suggested, "old_value": e.old_value,
             "new_value": e.new_value, "user": email, "detail": e.detail, "created_at": iso(e.created_at)}
            for e, email in events
        ],
        "followed_by": [f"TRKV-{c}" for c in children],
        "contact_tickets": other_tickets,
    }


# JSON forms ------------------------------------------------------------------------


def serialize_ticket(
    ticket: Ticket, contact_name: str | None, contact_email: str | None, assignee_email: str | None,
    contact_blocked: bool | None = None, *, now: datetime,
) -> dict[str, Any]:
    breached = {
        "first_response": _breached(ticket.first_response_breached_at, ticket.first_response_due_at,
                                    ticket.first_responded_at, now),
        "resolution": _breached(ticket.resolution_breached_at, ticket.resolution_due_at,
                                ticket.resolved_at or ticket.closed_at, now),
    }
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
        "contact": None if ticket.contact_id is None else {
            "id": ticket.contact_id, "name": contact_name, "email": contact_email, "blocked": bool(contact_blocked),
        },
        "parent": f"TRKV-{ticket.parent_id}" if ticket.parent_id else None,
        "breached": breached,
        "sla": sla_state(ticket, breached, now),
    }


def sla_state(ticket: Ticket, breached: dict[str, bool], now: datetime) -> dict[str, Any]:
    """What the inbox shows in its countdown column: the next due time that matters."""
    if ticket.status not in ACTIVE_STATUSES:
        return {"state": "done", "due_at": None, "seconds_left": None}
    due = ticket.first_response_due_at if ticket.first_responded_at is None else ticket.resolution_due_at
    left = None if due is None else int((due - now).total_seconds())
    if breached["first_response"] and ticket.first_responded_at is None or breached["resolution"]:
        state = "breached"
    elif left is not None and ticket.first_responded_at is None and left < AT_RISK.total_seconds():
        state = "at_risk"
    else:
        state = "ok"
    return {"state": state, "due_at": iso(due), "seconds_left": left}


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
        "sentiment": message.sentiment,  # VADER compound, -1..1, of an inbound message (None: not scored)
    }


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, the form every client parses."""
    return None if value is None else value.isoformat().replace("+00:00", "Z")
