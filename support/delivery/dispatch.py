"""Send one outbox row, at most once per claim.

The row is claimed with a conditional UPDATE (queued → sending); only the worker
whose UPDATE changed a row sends. A crash after the send and before the commit
leaves the row in `sending`; the sweep hands it back after a lease, and the resend
carries the same idempotency key, which the receiver deduplicates on.

Each claim writes a fresh token, and the worker's later writes (sent, deferred,
failed) apply only while the row still carries it: a send that outlived its lease
finds its claim taken and records nothing over the resend. A page whose alert was
acknowledged (or resolved) by the time it is claimed is cancelled, not sent.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import update

from connectors.base import ConnectorError, Outbound
from storage.db import session_factory
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.oncall import Alert
from storage.models.tickets import Message, Ticket
from storage.queries import append_search_text, insert_ignoring_conflicts
from support.delivery.senders import sender_for
from trkv.settings import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass
class DispatchOutcome:
    status: str  # sent | failed | retry | skipped
    error: str | None = None


def dispatch(outbox_id: int, settings: Settings | None = None) -> DispatchOutcome:
    settings = settings or get_settings()
    Session = session_factory(settings.db_url)
    row = _claim(Session, outbox_id, settings.max_send_attempts)
    if row is None:
        return DispatchOutcome("skipped")
    outbound = Outbound(**row.payload)
    try:
        result = sender_for(row.channel, settings).send(outbound)
    except ConnectorError as exc:
        if exc.retry_after is not None and not exc.permanent:
            return _deferred(Session, row, str(exc))
        return _failed(Session, row, str(exc), permanent=exc.permanent, settings=settings)
    except Exception as exc:  # an unknown error is treated as transient, but never loops forever
        log.exception("outbox %s: unexpected error from the %s sender", outbox_id, row.channel)
        return _failed(Session, row, f"{type(exc).__name__}: {exc}", permanent=False, settings=settings)
    if result.text:  # the connector sent other words (X: the public reply when DMs are closed)
        outbound.text = result.text
    if not _sent(Session, row, outbound, result.external_id, result.sent_as):
        return DispatchOutcome("skipped")
    log.info("outbox %s: %s sent on %s", outbox_id, row.kind, row.channel)
    return DispatchOutcome("sent")


def _claim(Session, outbox_id: int, max_attempts: int) -> Outbox | None:
    token = uuid.uuid4().hex
    with Session() as session, session.begin():
        claimed = session.execute(
            update(Outbox)
            .where(Outbox.id == outbox_id, Outbox.status == "queued", Outbox.attempts < max_attempts)
            .values(status="sending", attempts=Outbox.attempts + 1, claim_token=token, updated_at=utcnow())
        ).rowcount
        if claimed != 1:
            return None
        row = session.get(Outbox, outbox_id)
        if row.kind == "page" and _alert_answered(session, row):
            return None
        return row


def _alert_answered(session, row: Outbox) -> bool:
    """A page for an alert someone acknowledged (or that resolved) while the page waited
    or was in flight is cancelled, in the claim's transaction: it must not wake anyone."""
    alert = session.get(Alert, row.alert_id) if row.alert_id is not None else None
    if alert is None or alert.status == "triggered":
        return False
    row.status, row.claim_token, row.updated_at = "cancelled", None, utcnow()
    row.last_error = f"not sent: the alert was {alert.status} first"
    log.info("outbox %s: page cancelled, alert %s is %s", row.id, alert.id, alert.status)
    return True


def _ours(row: Outbox):
    """The WHERE clause of a claimed row's later writes: only while the claim is still ours."""
    return (Outbox.id == row.id, Outbox.status == "sending", Outbox.claim_token == row.claim_token)


def _lost(row: Outbox, what: str) -> DispatchOutcome:
    log.warning("outbox %s: claim lost (the lease ran out and the row was handed back); %s not recorded", row.id, what)
    return DispatchOutcome("skipped")


def _sent(Session, row: Outbox, outbound: Outbound, external_id: str | None, sent_as: str | None = None) -> bool:
    now = utcnow()
    with Session() as session, session.begin():
        recorded = session.execute(
            update(Outbox)
            .where(*_ours(row))
            .values(status="sent", sent_at=now, updated_at=now, external_id=external_id, last_error=None,
                    claim_token=None, sent_as=sent_as)
        ).rowcount
        if not recorded:
            _lost(row, "sent")
            return False
        if row.ticket_id is not None and row.kind in ("ack", "reply", "survey"):
            _record_outgoing(session, row, outbound, external_id, now)
    return True


def _record_outgoing(session, row: Outbox, outbound: Outbound, external_id: str | None, now) -> None:
    """Store what the customer received, so their reply to it threads into the ticket."""
    # A resend after a crash finds the message already recorded: nothing to add.
    recorded = session.execute(
        insert_ignoring_conflicts(session, Message).values(
            ticket_id=row.ticket_id, direction="out", channel=row.channel,
            external_id=external_id or row.idempotency_key, conversation_key=outbound.conversation_key,
            author="TRKV Support", subject=outbound.subject, text=outbound.text, html=outbound.html,
            received_at=now, sent_at=now,
        )
    )
    if row.kind == "reply":  # an acknowledgement is not a first response; a person's reply is
        if recorded.rowcount:  # and its words are the conversation's (an acknowledgement's are boilerplate)
            append_search_text(session, {row.ticket_id: outbound.text})
        session.execute(
            update(Ticket)
            .where(Ticket.id == row.ticket_id, Ticket.first_responded_at.is_(None))
            .values(first_responded_at=now)
        )


def _deferred(Session, row: Outbox, reason: str) -> DispatchOutcome:
    """The platform asked us to wait (a rate limit): nothing was attempted, so the
    attempt is given back; the sweep re-kicks the row after `requeue_after`."""
    with Session() as session, session.begin():
        changed = session.execute(
            update(Outbox)
            .where(*_ours(row))
            .values(status="queued", attempts=Outbox.attempts - 1, last_error=reason[:2000], updated_at=utcnow(),
                    claim_token=None)
        ).rowcount
    if not changed:
        return _lost(row, "the deferral")
    log.info("outbox %s: deferred (%s)", row.id, reason)
    return DispatchOutcome("retry", reason)


def _failed(Session, row: Outbox, error: str, *, permanent: bool, settings: Settings) -> DispatchOutcome:
    final = permanent or row.attempts >= settings.max_send_attempts
    status = "failed" if final else "queued"
    reason = error if not final or permanent else f"gave up after {row.attempts} attempts: {error}"
    with Session() as session, session.begin():
        changed = session.execute(
            update(Outbox).where(*_ours(row))
            .values(status=status, last_error=reason[:2000], updated_at=utcnow(), claim_token=None)
        ).rowcount
    if not changed:
        return _lost(row, f"the error ({error})")
    log.warning("outbox %s: %s (%s)", row.id, error, "gave up" if final else "will retry")
    return DispatchOutcome("failed" if final else "retry", reason)
