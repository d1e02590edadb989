"""Bounces of the hub's own mail: the outbox row they return is marked failed with
the reason, an event on its ticket says so, and no ticket is opened for the bounce.

The parser (connectors/mail.py) recognises a delivery failure report and lists
the Message-IDs it mentions in `hints["bounce_of"]`; every mail we send has a
Message-ID fixed by its outbox row (`outbox.external_id`), so the match is a
lookup. A bounce that matches none of our rows (someone else's mail) goes through
ingest like any other message and is stored, unacknowledged.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connectors.base import Inbound
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.tickets import TicketEvent

log = logging.getLogger(__name__)

_TRANSIENT_ACTIONS = ("delayed", "relayed", "delivered", "expanded")


def is_bounce(inbound: Inbound) -> bool:
    return inbound.channel == "email" and "bounce_reason" in inbound.hints


def absorb(session: Session, inbounds: list[Inbound]) -> list[Inbound]:
    """Handle the bounces of our own mail in the caller's transaction; return the
    messages that still need ingesting (everything else, in order)."""
    if not any(is_bounce(i) and i.hints.get("bounce_of") for i in inbounds):
        return inbounds
    remaining = []
    for inbound in inbounds:
        if not (is_bounce(inbound) and inbound.hints.get("bounce_of") and match(session, inbound)):
            remaining.append(inbound)
    return remaining


def match(session: Session, inbound: Inbound) -> bool:
    """Mark the outbox rows this bounce returns; True when it returned mail of ours."""
    ids = inbound.hints["bounce_of"].split()
    rows = session.execute(
        select(Outbox).where(Outbox.channel == "email", Outbox.external_id.in_(ids))
    ).scalars().all()
    if not rows:
        return False
    reason = inbound.hints.get("bounce_reason") or "delivery failed"
    action = inbound.hints.get("bounce_action", "")
    delayed = action in _TRANSIENT_ACTIONS or reason[:1] == "4" or " 4." in reason[:12]
    now = utcnow()
    for row in rows:
        if not delayed:
            session.execute(
                update(Outbox).where(Outbox.id == row.id)
                .values(status="failed", last_error=f"bounced: {reason}"[:2000], updated_at=now)
            )
        if row.ticket_id is not None:
            session.add(TicketEvent(
                ticket_id=row.ticket_id, kind="bounce",
                detail={"outbox_id": row.id, "kind": row.kind, "to": row.recipient or row.payload.get("to"),
                        "reason": reason, "delayed": delayed, "bounce_message_id": inbound.external_id},
            ))
        log.warning("outbox %s (%s to %s) %s: %s", row.id, row.kind, row.recipient or row.payload.get("to"),
                    "delivery delayed" if delayed else "bounced", reason)
    return True
