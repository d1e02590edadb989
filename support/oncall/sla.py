"""SLA clocks on tickets: due times at ingest, pause while pending, resume on the
customer's reply, recompute on a priority change (audited), and the sweep's part:
the 75 % warning and the breach record.

Every ticket whose clock runs carries `sla_next_at`, the next moment something can
happen to it (a warning or a breach). The sweep reads only tickets whose
`sla_next_at` has passed, through its index, so a million open tickets cost no more
than the few that are due.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from storage.models.accounts import User
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.tickets import Ticket, TicketEvent
from storage.queries import insert_ignoring_conflicts
from support.delivery import kicks as kick
from triage.sla import BusinessHours, Policy, due_in
from trkv.settings import Settings

log = logging.getLogger(__name__)

RUNNING = ("new", "open")  # pending pauses the clocks; resolved and closed stop them
_LIMIT = 5000


@functools.lru_cache(maxsize=8)
def _policy(key: tuple) -> Policy:
    first, channels, resolution, hours, tz, holidays = key
    calendar = None
    if hours:
        calendar = BusinessHours.parse(hours, tz, [d for d in holidays.split(",") if d.strip()])
    return Policy(dict(first), dict(channels), dict(resolution), calendar)


def policy(settings: Settings) -> Policy:
    resolution = {
        p: getattr(settings, f"resolution_{p}_hours") or settings.resolution_hours
        for p in ("critical", "high", "medium", "low")
    }
    key = (tuple(settings.sla_hours().items()), tuple(settings.channel_sla_hours().items()),
           tuple(resolution.items()), settings.business_hours, settings.business_timezone, settings.business_holidays)
    return _policy(key)


def clock_fields(start: datetime, priority: str, channel: str, settings: Settings) -> dict[str, Any]:
    """Columns of a new ticket: its due times and when the sweep must first look at it."""
    rules = policy(settings)
    due = rules.due_times(start, priority, channel)
    warn = rules.warn_at(start, due.first_response_seconds, 0.0, settings.sla_warning_share)
    return {"first_response_due_at": due.first_response, "resolution_due_at": due.resolution,
            "sla_next_at": min(warn, due.resolution)}


def recompute(ticket: Ticket, settings: Settings) -> None:
    """Due times from the start, the current priority and the paused time so far."""
    due = policy(settings).due_times(ticket.created_at, ticket.priority, ticket.channel, ticket.sla_paused_seconds or 0)
    if ticket.first_responded_at is None:
        ticket.first_response_due_at = due.first_response
    ticket.resolution_due_at = due.resolution
    ticket.sla_next_at = next_event(ticket, settings)


def next_event(ticket: Ticket, settings: Settings) -> datetime | None:
    """The next warning or breach of a running clock; None when no clock runs."""
    if ticket.status not in RUNNING or ticket.sla_paused_at is not None:
        return None
    moments = [m for _, m in _pending_events(ticket, settings)]
    return min(moments) if moments else None


def _pending_events(ticket: Ticket, settings: Settings) -> list[tuple[str, datetime]]:
    rules, share = policy(settings), settings.sla_warning_share
    paused = ticket.sla_paused_seconds or 0.0
    targets = rules.due_times(ticket.created_at, ticket.priority, ticket.channel)
    events = []
    if ticket.first_responded_at is None and ticket.first_response_due_at is not None:
        if ticket.first_response_warned_at is None:
            events.append(("first_response:warning",
                           rules.warn_at(ticket.created_at, targets.first_response_seconds, paused, share)))
        if ticket.first_response_breached_at is None:
            events.append(("first_response:breach", ticket.first_response_due_at))
    if ticket.resolved_at is None and ticket.resolution_due_at is not None:
        if ticket.resolution_warned_at is None:
            events.append(("resolution:warning",
                           rules.warn_at(ticket.created_at, targets.resolution_seconds, paused, share)))
        if ticket.resolution_breached_at is None:
            events.append(("resolution:breach", ticket.resolution_due_at))
    return events


# workflow hooks ------------------------------------------------------------


def priority_changed(session: Session, ticket: Ticket, old: str, *, settings: Settings, user_id: int | None = None,
                     now: datetime | None = None) -> None:
    """Called after `ticket.priority` changed: new due times, an audit event, and a page
    when the ticket became critical."""
    now = now or utcnow()
    before = (ticket.first_response_due_at, ticket.resolution_due_at)
    recompute(ticket, settings)
    session.add(TicketEvent(
        ticket_id=ticket.id, kind="sla_recomputed", field="priority", old_value=old, new_value=ticket.priority,
        user_id=user_id, created_at=now,
        detail={"first_response_due_at": [_iso(before[0]), _iso(ticket.first_response_due_at)],
                "resolution_due_at": [_iso(before[1]), _iso(ticket.resolution_due_at)]},
    ))
    if ticket.priority == "critical" and old != "critical" and ticket.alert_id is None:
        from support.oncall import paging

        session.flush()
        pages = paging.page_ticket(session, ticket.id, ticket.subject or ticket.snippet, ticket.snippet,
                                   ticket.channel, settings, now)
        kick.dispatch_after_commit(session, pages)


def status_changed(session: Session, ticket: Ticket, old: str, *, settings: Settings,
                   now: datetime | None = None) -> None:
    """Called after `ticket.status` changed: pending pauses the clocks, leaving pending
    resumes them, resolving stops them."""
    now = now or utcnow()
    if ticket.status == "pending" and ticket.sla_paused_at is None:
        ticket.sla_paused_at = now
        ticket.sla_next_at = None
    elif old == "pending" and ticket.status != "pending":
        resume(ticket, settings, now)
    else:
        ticket.sla_next_at = next_event(ticket, settings)


def resume(ticket: Ticket, settings: Settings, now: datetime) -> None:
    if ticket.sla_paused_at is not None:
        ticket.sla_paused_seconds = (ticket.sla_paused_seconds or 0.0) + policy(settings).elapsed(ticket.sla_paused_at, now)
        ticket.sla_paused_at = None
    recompute(ticket, settings)


def resume_many(session: Session, ticket_ids: list[int], settings: Settings, now: datetime) -> None:
    """The customer answered a pending or resolved ticket: it reopens and its clocks run
    again, paused time not counted (ingest calls this)."""
    if not ticket_ids:
        return
    for ticket in session.execute(select(Ticket).where(Ticket.id.in_(ticket_ids))).scalars().all():
        ticket.status, ticket.resolved_at = "open", None  # recompute must see a running clock
        resume(ticket, settings, now)
    session.flush()


# the sweep's part ------------------------------------------------------------


@dataclass
class ClockReport:
    warnings: list[int] = field(default_factory=list)
    breaches: list[int] = field(default_factory=list)
    outbox: list[tuple[int, str]] = field(default_factory=list)


_SWEPT = ("id", "status", "priority", "channel", "subject", "assignee_id", "created_at", "sla_paused_at",
          "sla_paused_seconds", "first_responded_at", "first_response_due_at", "first_response_warned_at",
          "first_response_breached_at", "resolved_at", "resolution_due_at", "resolution_warned_at",
          "resolution_breached_at")
_WRITTEN = ("first_response_warned_at", "first_response_breached_at", "resolution_warned_at",
            "resolution_breached_at", "sla_next_at")


def sweep_clocks(session: Session, settings: Settings, now: datetime, limit: int = _LIMIT) -> ClockReport:
    """Warnings and breaches that fell due: one indexed range read on `sla_next_at`,
    then one executemany UPDATE and one INSERT of the events (Core: the ORM's unit of
    work cost a millisecond a ticket)."""
    report = ClockReport()
    table = Ticket.__table__
    rows = session.execute(
        select(*(table.c[name] for name in _SWEPT)).where(table.c.sla_next_at <= now)
        .order_by(table.c.sla_next_at).limit(limit)
    ).all()
    if not rows:
        return report
    leads = session.execute(select(User.email).where(User.role == "lead", User.active.is_(True))).scalars().all()
    assignees = _emails(session, {r.assignee_id for r in rows if r.assignee_id})
    updates, events = [], []
    for row in rows:
        ticket = SimpleNamespace(**row._mapping, ref=f"TRKV-{row.id}", sla_next_at=None)
        for clock, what, due in _fired(ticket, settings, now):
            setattr(ticket, f"{clock}_{'warned_at' if what == 'warning' else 'breached_at'}", now)
            detail = {"due_at": _iso(due), "due_in_seconds": due_in(due, now)}
            if what == "breach":
                detail["late_by_seconds"] = int((now - due).total_seconds())
            events.append({"ticket_id": ticket.id, "kind": f"sla_{what}", "field": clock, "created_at": now,
                           "new_value": ticket.priority, "detail": detail})
            (report.breaches if what == "breach" else report.warnings).append(ticket.id)
            people = [*leads, *([assignees[ticket.assignee_id]] if ticket.assignee_id in assignees else [])]
            report.outbox += _notify_people(session, ticket, clock, what, due, sorted(set(people)), settings, now)
        ticket.sla_next_at = next_event(ticket, settings)
        updates.append({"tid": ticket.id, **{f"v_{name}": getattr(ticket, name) for name in _WRITTEN}})
    statement = update(table).where(table.c.id == bindparam("tid")).values(
        {n: bindparam(f"v_{n}", type_=table.c[n].type) for n in _WRITTEN})
    session.connection().execute(statement, updates)
    if events:
        session.connection().execute(insert(TicketEvent.__table__), events)
    return report


def _fired(ticket, settings: Settings, now: datetime) -> list[tuple[str, str, datetime]]:
    """(clock, warning|breach, due) whose moment has come; a warning that came too late
    to help gives way to the breach."""
    if next_event(ticket, settings) is None:
        return []
    fired = []
    for name, moment in _pending_events(ticket, settings):
        clock, what = name.split(":")
        due = getattr(ticket, f"{clock}_due_at")
        if moment <= now and not (what == "warning" and now >= due):
            fired.append((clock, what, due))
    return fired


def _emails(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(session.execute(select(User.id, User.email).where(User.id.in_(sorted(user_ids)))).all())


def _notify_people(session: Session, ticket: Ticket, clock: str, what: str, due: datetime, emails: list[str],
                   settings: Settings, now: datetime) -> list[tuple[int, str]]:
    """An email to the lead(s) and the assignee: 'TRKV-12 is at risk' / 'has breached'."""
    link = f"{settings.public_url.rstrip('/')}/tickets/{ticket.ref}"
    label = clock.replace("_", " ")
    if what == "warning":
        text = f"{ticket.ref} ({ticket.priority}) is at risk: {label} due {_iso(due)}.\n{ticket.subject}\n{link}"
    else:
        late = int((now - due).total_seconds() // 60)
        text = f"{ticket.ref} ({ticket.priority}) breached its {label} target by {late} min.\n{ticket.subject}\n{link}"
    queued = []
    for email in emails:
        key = f"sla-{what}:{ticket.id}:{clock}:{email}"[:100]
        payload = {"channel": "email", "kind": f"sla_{what}", "idempotency_key": key, "text": text, "to": email,
                   "subject": f"[TRKV] {ticket.ref} {'at risk' if what == 'warning' else 'SLA breached'}",
                   "html": None, "conversation_key": None, "in_reply_to": None, "references": [], "meta": {}}
        result = session.execute(
            insert_ignoring_conflicts(session, Outbox).values(
                ticket_id=ticket.id, kind=f"sla_{what}"[:16], channel="email", queue="default", idempotency_key=key,
                payload=payload, status="queued", attempts=0, created_at=now, updated_at=now,
            ).returning(Outbox.id)
        ).first()
        if result is not None:
            queued.append((result[0], "default"))
    return queued


# what the API shows -----------------------------------------------------------


def state(ticket: Ticket, settings: Settings, now: datetime) -> dict[str, Any]:
    """Due in, at risk, breached, paused: for one ticket."""
    rules, share = policy(settings), settings.sla_warning_share
    targets = rules.due_times(ticket.created_at, ticket.priority, ticket.channel)
    paused = ticket.sla_paused_seconds or 0.0
    clocks = {}
    for clock, due, done, breached, target in (
        ("first_response", ticket.first_response_due_at, ticket.first_responded_at,
         ticket.first_response_breached_at, targets.first_response_seconds),
        ("resolution", ticket.resolution_due_at, ticket.resolved_at or ticket.closed_at,
         ticket.resolution_breached_at, targets.resolution_seconds),
    ):
        at = done or ticket.sla_paused_at or now
        warn = rules.warn_at(ticket.created_at, target, paused, share)
        late = due is not None and at > due
        clocks[clock] = {
            "due_at": _iso(due),
            "due_in_seconds": None if done else due_in(due, at),
            "met": bool(done) and not late,
            "at_risk": not done and not late and at >= warn,
            "breached": breached is not None or late,
            "breached_at": _iso(breached),
            "late_by_seconds": int((at - due).total_seconds()) if late else None,
        }
    return {"paused": ticket.sla_paused_at is not None, "paused_since": _iso(ticket.sla_paused_at),
            "paused_seconds": int(paused), **clocks}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")

