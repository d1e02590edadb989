"""Live updates for open pages, cheap at a million tickets.

An open inbox or ticket page asks `GET /web/changes` about once a second: "has anything
changed since this cursor?". The answer comes from one query over primary-key maxima
(each an index's last entry, O(log n)) or, for one ticket, from its row and its alert's
by primary key. Only when the cursor moves does the page fetch its rows fragment or its
own HTML again, so an idle hub costs one tiny query per open page per second.
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from inbox import session
from storage.db import session_factory
from storage.models.oncall import Alert
from storage.models.tickets import Message, Ticket, TicketEvent
from support.accounts import has_role
from support.tickets.queries import ticket_id_from_ref_checked
from trkv.settings import Settings

router = APIRouter(include_in_schema=False)

POLL_SECONDS = 1.0  # at most this long between a change and an open page asking about it


def poll_seconds(settings: Settings) -> float:
    """How often a page asks (its data-poll): web_poll_seconds, but at least once a second."""
    return min(settings.web_poll_seconds, POLL_SECONDS)


def inbox_cursor(settings: Settings) -> str:
    """Moves when a ticket is created, a message arrives or is sent, or anyone acts on a
    ticket (every action writes a ticket event). Time alone (SLA countdowns) does not move
    it: the page refreshes its rows every half minute for those."""
    newest = lambda column: select(func.max(column)).scalar_subquery()  # noqa: E731
    with session_factory(settings.db_url, readonly=True)() as db:
        row = db.execute(select(newest(Ticket.id), newest(Message.id), newest(TicketEvent.id))).one()
    return _digest(row)


def ticket_cursor(ref: str, settings: Settings) -> str | None:
    """Moves when the ticket changes (every action and message bumps updated_at), when one
    of our replies is sent (a new message row), or when its alert is acknowledged."""
    ticket_id = ticket_id_from_ref_checked(ref)
    if ticket_id is None:
        return None
    last_message = select(func.max(Message.id)).where(Message.ticket_id == ticket_id).scalar_subquery()
    query = (select(Ticket.updated_at, Alert.updated_at, last_message)
             .outerjoin(Alert, Alert.id == Ticket.alert_id).where(Ticket.id == ticket_id))
    with session_factory(settings.db_url, readonly=True)() as db:
        row = db.execute(query).first()
    return None if row is None else _digest(row)


def _digest(row) -> str:
    return hashlib.blake2b(repr(tuple(row)).encode(), digest_size=8).hexdigest()


@router.get("/web/changes")
def changes(request: Request, ticket: str = "", since: str = "") -> JSONResponse:
    """{"cursor": ..., "changed": bool}: changed is whether the cursor differs from `since`."""
    user = session.current_user(request)
    if user is None or not has_role(user, "community_manager"):
        return JSONResponse({"detail": "log in first"}, status_code=401)
    settings = request.app.state.settings
    cursor = ticket_cursor(ticket[:40], settings) if ticket else inbox_cursor(settings)
    if cursor is None:
        return JSONResponse({"detail": "no such ticket"}, status_code=404)
    return JSONResponse({"cursor": cursor, "changed": bool(since) and since[:64] != cursor})
