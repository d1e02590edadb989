"""The periodic sweep: the database is the source of truth, the broker only carries
kicks, so whatever a lost kick left undone is found here by an indexed query.

It re-kicks staged inbound rows and queued outbox rows that waited too long, hands
back rows stuck in `sending` after a lease (the resend keeps its idempotency key),
warns at 75 % of an SLA target and records breaches (support/sla.py: one indexed
range read on `tickets.sla_next_at`), and re-pages or escalates unacknowledged
alerts (support/paging.py: the same on `alerts.next_action_at`).

One sweep runs at a time, however many beats there are (one per host): it holds a
database lock for its transaction (PostgreSQL: an advisory lock, a second sweep skips;
SQLite: the single writer, a second sweep waits and finds the work done).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update

from storage import locks
from storage.db import session_factory
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.intake import InboundQueue
from storage.models.tickets import Ticket, TicketEvent
from storage.queries import chunked
from support.delivery import broadcast
from support.delivery import kicks as kick
from support.feedback import surveys as feedback_surveys
from support.incidents import reminders
from support.intake.staging import quarantine_staged
from support.oncall import paging, sla
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
    skipped: bool = False  # another host's sweep was running: this one did nothing


def sweep(settings: Settings | None = None, now: datetime | None = None) -> SweepReport:
    """One pass; `now` is injectable so tests can move the clock."""
    settings = settings or get_settings()
    Session = session_factory(settings.db_url)
    now = now or utcnow()
    report = SweepReport()
    stale = now - timedelta(seconds=settings.requeue_after)
    with Session() as session, session.begin():
        if not locks.try_hold(session, "trkv.sweep"):  # two beats (two hosts): one sweep at a time
            log.info("sweep: another sweep is running; skipped")
            return SweepReport(skipped=True)
        _give_up(session, settings, now)
        report.reclaimed_sending = session.execute(
            update(Outbox)
            .where(Outbox.status == "sending", Outbox.updated_at < now - timedelta(seconds=settings.send_lease))
            .values(status="queued", claim_token=None, updated_at=stale - timedelta(seconds=1))
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
        pages += broadcast.release(session, settings, now) + reminders.sweep(session, settings, now)  # incidents
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
    """Resolved tickets quiet for `auto_close_days` close (the ticket lifecycle: README, "What runs"),
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
    sweep. A re-kick is not an attempt: only a worker that takes the row counts one
    (dispatch's claim, intake's `process`), so a worker that is down or backlogged for
    longer than the lease uses up nothing, and the row goes out once a worker comes."""
    for chunk in chunked(ids, 500):
        session.execute(update(model).where(model.id.in_(chunk)).values(updated_at=now))


def _give_up(session, settings: Settings, now) -> None:
    """Rows that failed too often: outbox rows fail with their last error (Operations
    lists them with a retry button), staged messages go to quarantine. A queued row at
    its limit fails at once (no claim can take it any more); a row in `sending` on its
    last attempt gets the lease first, as its worker may still be sending."""
    lease = now - timedelta(seconds=settings.send_lease)
    spent = session.execute(
        select(Outbox).where(
            Outbox.attempts >= settings.max_send_attempts,
            (Outbox.status == "queued") | ((Outbox.status == "sending") & (Outbox.updated_at < lease)),
        ).limit(_LIMIT)
    ).scalars().all()
    for row in spent:
        last = row.last_error or ("no answer from the receiver within the lease" if row.status == "sending" else "none")
        row.status, row.claim_token, row.updated_at = "failed", None, now
        row.last_error = f"gave up after {row.attempts} attempts; last error: {last}"[:2000]
        log.error("outbox %s (%s on %s): %s", row.id, row.kind, row.channel, row.last_error)
    stale = now - timedelta(seconds=settings.requeue_after)
    stuck = session.execute(
        select(InboundQueue).where(InboundQueue.status == "pending", InboundQueue.attempts >= settings.max_deliveries,
                                   InboundQueue.updated_at < stale)
    ).scalars().all()
    for row in stuck:
        quarantine_staged(session, row, f"not ingested after {row.attempts} attempts")
