"""The periodic sweep: the database is the source of truth, the broker only carries
kicks, so whatever a lost kick left undone is found here by an indexed query.

It re-kicks staged inbound rows and queued outbox rows that waited too long, hands
back rows stuck in `sending` after a lease (the resend keeps its idempotency key),
warns at 75 % of an SLA target and records breaches (support/sla.py: one indexed
range read on `tickets.sla_next_at`), and re-pages or escalates unacknowledged
alerts (support/paging.py: the same on `alerts.next_action_at`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update

from storage.db import session_factory
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.intake import InboundQueue
from storage.models.tickets import Ticket, TicketEvent
from storage.queries import chunked
from support import kick, paging, sla
from support.feedback import surveys as feedback_surveys
from support.intake import quarantine_staged
from trkv.settings import Settings, get_settings

log = logging.getLogger(__name__)

_LIMIT = 5000


@dataclass
class SweepReport:
    rekicked_inbound: int = 0
    rekicked_outbox: int = 0
    reclaimed_sending: int = 0
    breaches: list[int] = field(default_factory=list)
    warnings: list[int] = field(default_factory=list)
    pages: int = 0  # re-pages, escalations and held-back alert updates queued
    closed: int = 0  # resolved tickets closed after their quiet period


def sweep(settings: Settings | None = None, now: datetime | None = None) -> SweepReport:
    """One pass; `now` is injectable so tests can move the clock."""
    settings = settings or get_settings()
    Session = session_factory(settings.db_url)
    now = now or utcnow()
    report = SweepReport()
    stale = now - timedelta(seconds=settings.requeue_after)
    with Session() as session, session.begin():
        _give_up(session, settings, now)
        report.reclaimed_sending = session.execute(
            update(Outbox)
            .where(Outbox.status == "sending", Outbox.updated_at < now - timedelta(seconds=settings.send_lease))
            .values(status="queued", updated_at=stale - timedelta(seconds=1))
        ).rowcount
        staged = session.execute(
            select(InboundQueue.id).where(InboundQueue.status == "pending", InboundQueue.updated_at < stale).limit(_LIMIT)
        ).scalars().all()
        outbox = session.execute(
            select(Outbox.id, Outbox.queue).where(Outbox.status == "queued", Outbox.updated_at < stale).limit(_LIMIT)
        ).all()
        _bump(session, InboundQueue, staged, now)
        _bump(session, Outbox, [r.id for r in outbox], now)
        clocks = sla.sweep_clocks(session, settings, now)
        pages = paging.sweep_alerts(session, settings, now)
        report.closed = _auto_close(session, settings, now)
        surveys = feedback_surveys.queue_due(session, settings, now)
    report.breaches, report.warnings, report.pages = clocks.breaches, clocks.warnings, len(pages)
    for ids in chunked(list(staged), 100):
        kick.ingest(ids)
    kick.dispatch([(r.id, r.queue) for r in outbox] + pages + clocks.outbox + surveys)
    report.rekicked_inbound, report.rekicked_outbox = len(staged), len(outbox)
    if staged or outbox or report.reclaimed_sending or report.breaches or report.warnings or pages or report.closed:
        log.info("sweep: %s", report)
    return report


def _auto_close(session, settings: Settings, now) -> int:
    """Resolved tickets quiet for `auto_close_days` close (ARCHITECTURE.md's lifecycle),
    each with a status event. Few are resolved at a time, and the status index finds them."""
    if settings.auto_close_days <= 0:
        return 0
    cutoff = now - timedelta(days=settings.auto_close_days)
    ids = session.execute(
        select(Ticket.id).where(Ticket.status == "resolved", Ticket.resolved_at < cutoff).limit(_LIMIT)
    ).scalars().all()
    for chunk in chunked(list(ids), 500):
        session.execute(update(Ticket).where(Ticket.id.in_(chunk), Ticket.status == "resolved")
                        .values(status="closed", closed_at=now, updated_at=now))
        session.add_all([TicketEvent(ticket_id=i, kind="status", old_value="resolved", new_value="closed",
                                     detail={"reason": f"quiet for {settings.auto_close_days:g} days"}) for i in chunk])
    return len(ids)


def _bump(session, model, ids: list[int], now) -> None:
    """Restart the wait so one lost kick is re-sent once per `requeue_after`, not every
    sweep, and count the attempt so that a message that kills workers stops coming back."""
    for chunk in chunked(ids, 500):
        session.execute(update(model).where(model.id.in_(chunk)).values(updated_at=now, attempts=model.attempts + 1))


def _give_up(session, settings: Settings, now) -> None:
    """Rows that failed too often: outbox rows fail, staged messages go to quarantine."""
    lease = now - timedelta(seconds=settings.send_lease)
    session.execute(
        update(Outbox)
        .where(Outbox.status.in_(("queued", "sending")), Outbox.attempts >= settings.max_send_attempts,
               Outbox.updated_at < lease)
        .values(status="failed", last_error="gave up after repeated attempts", updated_at=now)
    )
    stuck = session.execute(
        select(InboundQueue).where(InboundQueue.status == "pending", InboundQueue.attempts >= settings.max_deliveries)
    ).scalars().all()
    for row in stuck:
        quarantine_staged(session, row, f"not ingested after {row.attempts} attempts")

