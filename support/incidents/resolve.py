"""Bulk resolution of an incident's linked tickets, each with a closing message in its
own conversation (through the budgeted broadcast; key `inc:<incident>:close:t:<ticket>`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import transaction
from storage.models.base import utcnow
from storage.models.incidents import Incident, IncidentTicket
from storage.models.tickets import Message, Ticket
from support.delivery import broadcast
from support.delivery import kicks as kick
from support.incidents.core import Actor, IncidentError, event
from support.tickets import actions as ticket_actions
from trkv.settings import Settings


def resolve_linked(incident_id: int, message: str, actor: Actor, settings: Settings) -> int:
    """Resolve every linked ticket still open; returns how many were resolved."""
    if not actor.may_declare:
        raise IncidentError("resolving tickets in bulk needs the engineer role", 403)
    if not (message or "").strip():
        raise IncidentError("a closing message is needed")
    now = utcnow()
    with transaction(settings.db_url) as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise IncidentError(f"no incident {incident_id}", 404)
        if incident.status != "resolved":
            raise IncidentError("resolve the incident before its tickets", 409)
        tickets = session.execute(select(Ticket).join(IncidentTicket, IncidentTicket.ticket_id == Ticket.id).where(
            IncidentTicket.incident_id == incident_id, Ticket.status.not_in(("resolved", "closed")))).scalars().all()
        destinations = [_closing(session, incident, ticket, message.strip(), settings) for ticket in tickets]
        released = broadcast.queue(session, [d for d in destinations if d is not None], settings, now)
        for ticket in tickets:
            ticket_actions._set_status(session, ticket, "resolved", None, {"incident": incident_id}, settings)
        event(session, incident, "change", actor.who, now, data={"tickets_resolved": [t.id for t in tickets]})
        kick.dispatch_after_commit(session, released)
    return len(tickets)


def _closing(session: Session, incident: Incident, ticket: Ticket, message: str, settings: Settings):
    from support.incidents.publish import DISCORD_LIMIT, fit, fit_x, status_url
    from support.tickets.replies import build_outbound

    last_in = session.execute(select(Message).where(Message.ticket_id == ticket.id, Message.direction == "in")
                              .order_by(Message.id.desc()).limit(1)).scalar_one_or_none()
    channel = last_in.channel if last_in is not None else ticket.channel
    link = status_url(settings, incident.id)
    text = fit_x(message, link) if channel == "x" else fit(message, DISCORD_LIMIT, link)
    outbound = build_outbound(ticket, last_in, text, f"inc:{incident.id}:close:t:{ticket.id}", settings)
    if outbound.channel == "email" and not outbound.to:
        return None
    return broadcast.Destination(outbound, ticket_id=ticket.id, priority=broadcast.PRIORITY.get(ticket.priority, 2))
