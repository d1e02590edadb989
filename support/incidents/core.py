"""Incident operations: declare, post an update (which confirms a proposal, or dismisses
it), link tickets, add notes; and the JSON shape the API, CLI and status page share.

Every change is a timeline event with who made it and when. Publishing an update to
the channels is support/incidents/publish.py's job, done in the same transaction as
the update, so an update is never recorded without its sends (or the other way round).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, object_session

from storage.db import session_factory, transaction
from storage.models.base import utcnow
from storage.models.incidents import (
    INCIDENT_STATUSES,
    OPEN_STATUSES,
    SEVERITIES,
    Incident,
    IncidentEvent,
    IncidentTicket,
)
from storage.models.tickets import Ticket
from trkv.settings import Settings, get_settings

UPDATE_STATUSES = (*OPEN_STATUSES, "resolved", "dismissed")
STATE_FILTERS = {"proposed": ("proposed",), "open": OPEN_STATUSES, "resolved": ("resolved",),
                 "dismissed": ("dismissed",)}


class IncidentError(ValueError):
    """A request that cannot be carried out; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


@dataclass
class Actor:
    """Who acts: a label for the timeline, and what their role lets them do."""

    who: str
    role: str = "lead"

    @property
    def may_declare(self) -> bool:  # declare, confirm, dismiss, resolve
        return self.role in ("lead", "engineer")


def components(settings: Settings) -> list[str]:
    return [c.strip() for c in settings.incident_components.split(",") if c.strip()]


def _clean_components(names: list[str] | None, settings: Settings) -> list[str]:
    known = {c.lower(): c for c in components(settings)}
    picked = []
    for name in names or []:
        if str(name).strip().lower() not in known:
            raise IncidentError(f"unknown component {name!r}; known: {', '.join(known.values())}")
        picked.append(known[str(name).strip().lower()])
    return sorted(set(picked), key=list(known.values()).index)


def _check(title: str, severity: str) -> None:
    if not title or not title.strip():
        raise IncidentError("an incident needs a title")
    if severity not in SEVERITIES:
        raise IncidentError(f"severity must be one of {', '.join(SEVERITIES)}")


def event(session: Session, incident: Incident, kind: str, who: str, now: datetime, **fields: Any) -> IncidentEvent:
    row = IncidentEvent(incident_id=incident.id, kind=kind, who=who[:320], created_at=now,
                        data=fields.pop("data", {}), published=fields.pop("published", False), **fields)
    session.add(row)
    incident.updated_at = now
    return row


def _storable(text: str) -> str:
    """Text any database stores: no NUL (PostgreSQL refuses it), no lone surrogate halves."""
    return (text or "").replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def declare(title: str, severity: str, actor: Actor, *, components_: list[str] | None = None,
            message: str | None = None, ticket_refs: list[str] | None = None, settings: Settings | None = None,
            publish: bool = True) -> dict[str, Any]:
    """A person declares an incident: status investigating, published at once when a message is given."""
    settings = settings or get_settings()
    title, message = _storable(title), _storable(message) if message is not None else None
    _check(title, severity)
    if not actor.may_declare:
        raise IncidentError("declaring an incident needs the engineer role", 403)
    names = _clean_components(components_, settings)
    now = utcnow()
    with transaction(settings.db_url) as session:
        incident = Incident(title=title.strip()[:300], severity=severity, status="investigating", components=names,
                            commander=actor.who, started_at=now, declared_at=now, report={}, created_at=now,
                            updated_at=now)
        session.add(incident)
        session.flush()
        event(session, incident, "change", actor.who, now, data={"declared": True, "severity": severity})
        if ticket_refs:
            link_refs(session, incident, ticket_refs, actor.who, now)
        _add_update(session, incident, "investigating", message or f"We are investigating: {incident.title}",
                    None, actor, now, settings, publish=publish)
        incident_id = incident.id
    return get(incident_id, settings)


def post_update(incident_id: int, status: str, message: str, actor: Actor, *, next_update_at: datetime | None = None,
                publish: bool = True, settings: Settings | None = None) -> dict[str, Any]:
    """A status update. The first one confirms a proposal; `dismissed` drops it."""
    message = _storable(message)
    settings = settings or get_settings()
    if status not in UPDATE_STATUSES:
        raise IncidentError(f"status must be one of {', '.join(UPDATE_STATUSES)}")
    if not (message or "").strip() and status != "dismissed":
        raise IncidentError("an update needs a message")
    now = utcnow()
    with transaction(settings.db_url) as session:
        incident = session.get(Incident, incident_id, with_for_update=True)
        if incident is None:
            raise IncidentError(f"no incident {incident_id}", 404)
        _allowed(incident, status, actor)
        if status == "dismissed":
            incident.status = "dismissed"
            event(session, incident, "change", actor.who, now, data={"dismissed": True}, message=message or None)
            _settle_alert(incident, actor, settings)
        else:
            _add_update(session, incident, status, message, next_update_at, actor, now, settings, publish=publish)
    return get(incident_id, settings)


def _allowed(incident: Incident, status: str, actor: Actor) -> None:
    if incident.status in ("dismissed", "resolved"):
        raise IncidentError(f"incident {incident.id} is {incident.status}", 409)
    if incident.status == "proposed" and not actor.may_declare:
        raise IncidentError("confirming or dismissing a proposal needs the engineer role", 403)
    if status == "dismissed" and incident.status != "proposed":
        raise IncidentError("only a proposed incident can be dismissed; resolve an open one", 409)
    if status == "resolved" and not actor.may_declare:
        raise IncidentError("resolving an incident needs the engineer role", 403)


def _add_update(session: Session, incident: Incident, status: str, message: str, next_update_at: datetime | None,
                actor: Actor, now: datetime, settings: Settings, *, publish: bool) -> IncidentEvent:
    from support.incidents import publish as publisher

    confirming = incident.status == "proposed"
    if confirming:
        incident.declared_at, incident.commander = now, incident.commander or actor.who
        event(session, incident, "change", actor.who, now, data={"confirmed": True})
        _settle_alert(incident, actor, settings)
    if status != incident.status:
        incident.status = status
    if status == "resolved":
        incident.resolved_at = now
    incident.next_update_at = next_update_at if status != "resolved" else None
    incident.reminded_at = None
    row = event(session, incident, "update", actor.who, now, status=status, message=message.strip()[:20_000],
                next_update_at=next_update_at, published=publish)
    session.flush()
    if publish:
        publisher.queue_update(session, incident, row, settings, now)
    return row


def _settle_alert(incident: Incident, actor: Actor, settings: Settings) -> None:
    """A confirmed or dismissed proposal has been answered: its page stops re-paging."""
    if incident.alert_id is None:
        return
    from storage.models.oncall import Alert

    update_ = update(Alert).where(Alert.id == incident.alert_id, Alert.status == "triggered")
    session = object_session(incident)
    session.execute(update_.values(status="acknowledged", acknowledged_at=utcnow(), acknowledged_by=actor.who[:320],
                                   acknowledged_via="web", next_action_at=None))


def add_note(incident_id: int, text: str, actor: Actor, settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    text = _storable(text)
    if not text.strip():
        raise IncidentError("a note needs text")
    with transaction(settings.db_url) as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise IncidentError(f"no incident {incident_id}", 404)
        event(session, incident, "note", actor.who, utcnow(), message=text.strip()[:20_000])


def link_refs(session: Session, incident: Incident, refs: list[str], who: str, now: datetime) -> list[int]:
    """Link tickets given by reference (TRKV-12 or 12); unknown ones are a clear error."""
    ids = []
    for ref in refs:
        digits = str(ref).upper().removeprefix("TRKV-")
        if not digits.isdigit():
            raise IncidentError(f"{ref!r} is not a ticket reference")
        ids.append(int(digits))
    tickets = session.execute(select(Ticket).where(Ticket.id.in_(ids))).scalars().all()
    missing = set(ids) - {t.id for t in tickets}
    if missing:
        raise IncidentError(f"no ticket {', '.join(f'TRKV-{i}' for i in sorted(missing))}", 404)
    return link_tickets(session, incident, tickets, who, now)


def link_tickets(session: Session, incident: Incident, tickets: list, who: str, now: datetime) -> list[int]:
    """Link tickets not linked yet; one timeline event for the lot."""
    linked = set(session.execute(select(IncidentTicket.ticket_id).where(
        IncidentTicket.ticket_id.in_([t.id for t in tickets]))).scalars()) if tickets else set()
    fresh = [t for t in tickets if t.id not in linked]
    for ticket in fresh:
        first = _first_text(session, ticket)
        session.add(IncidentTicket(ticket_id=ticket.id, incident_id=incident.id, channel=ticket.channel,
                                   contact_id=ticket.contact_id, text=first[0][:4000], received_at=first[1],
                                   linked_at=now))
        if incident.first_report_at is None or first[1] < incident.first_report_at:
            incident.first_report_at = first[1]
    if fresh:
        event(session, incident, "link", who, now, data={"tickets": [t.id for t in fresh]})
        session.flush()
    return [t.id for t in fresh]


def _first_text(session: Session, ticket) -> tuple[str, datetime]:
    from storage.models.tickets import Message

    row = session.execute(select(Message.text, Message.received_at).where(
        Message.ticket_id == ticket.id, Message.direction == "in").order_by(Message.id).limit(1)).first()
    if row is None:
        return (ticket.subject or "", ticket.created_at)
    return (f"{ticket.subject or ''}\n{row[0] or ''}".strip(), row[1] or ticket.created_at)


# reading ---------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def serialize(session: Session, incident: Incident, *, public: bool = False) -> dict[str, Any]:
    updates = session.execute(select(IncidentEvent).where(
        IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "update").order_by(IncidentEvent.id)).scalars()
    body: dict[str, Any] = {
        "id": incident.id, "title": incident.title, "severity": incident.severity, "status": incident.status,
        "components": list(incident.components), "started_at": _iso(incident.started_at),
        "resolved_at": _iso(incident.resolved_at), "declared_at": _iso(incident.declared_at),
        "updates": [{"status": u.status, "message": u.message, "created_at": _iso(u.created_at),
                     "next_update_at": _iso(u.next_update_at)} for u in updates if not public or u.published],
    }
    if not public:
        ids = session.execute(select(IncidentTicket.ticket_id).where(
            IncidentTicket.incident_id == incident.id).order_by(IncidentTicket.ticket_id)).scalars()
        body.update(ticket_refs=[f"TRKV-{i}" for i in ids], commander=incident.commander, detected=incident.detected)
    return body


def get(incident_id: int, settings: Settings | None = None) -> dict[str, Any]:
    settings = settings or get_settings()
    with session_factory(settings.db_url, readonly=True)() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise IncidentError(f"no incident {incident_id}", 404)
        return serialize(session, incident)


def list_incidents(state: str | None = None, settings: Settings | None = None, limit: int = 200) -> list[dict]:
    """Newest first; without `state`, all but dismissed."""
    settings = settings or get_settings()
    if state is not None and state not in STATE_FILTERS:
        raise IncidentError(f"state must be one of {', '.join(STATE_FILTERS)}")
    wanted = STATE_FILTERS[state] if state else tuple(s for s in INCIDENT_STATUSES if s != "dismissed")
    with session_factory(settings.db_url, readonly=True)() as session:
        rows = session.execute(select(Incident).where(Incident.status.in_(wanted))
                               .order_by(Incident.id.desc()).limit(limit)).scalars().all()
        return [serialize(session, i) for i in rows]


def timeline(incident_id: int, settings: Settings) -> list[dict[str, Any]]:
    with session_factory(settings.db_url, readonly=True)() as session:
        rows = session.execute(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
                               .order_by(IncidentEvent.id)).scalars().all()
        return [{"kind": e.kind, "who": e.who, "status": e.status, "message": e.message, "data": e.data,
                 "created_at": e.created_at} for e in rows]
