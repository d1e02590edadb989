"""Satisfaction surveys: which resolved tickets get one, and the outbox row that asks.

The sweep calls `queue_due` inside its transaction. A ticket gets a survey when it was
resolved at least `csat_delay_minutes` ago (and at most `_LOOKBACK` ago: an upgrade
does not survey last year's tickets), had an agent reply (a queued one counts), and:
  - is not `no_action`, not a merged ticket, not from a blocked contact;
  - the customer has not written again since it was resolved;
  - the person (all linked contacts) got no survey within `csat_period_days`.
The survey row is unique per ticket and the outbox row's key is `survey:<ticket>`, so a
repeated sweep queues nothing twice. How it is asked is per channel (`asks.py`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from storage.models.delivery import Outbox
from storage.models.feedback import Survey
from storage.models.tickets import Message, Ticket, TicketEvent
from storage.queries import insert_ignoring_conflicts
from support.feedback import asks, people
from trkv.settings import Settings

log = logging.getLogger(__name__)

_LOOKBACK = timedelta(days=2)
_LIMIT = 500
QUEUE = "default"


def queue_due(session: Session, settings: Settings, now: datetime) -> list[tuple[int, str]]:
    """Queue the surveys that are due; returns (outbox id, queue) to kick after the commit."""
    due = now - timedelta(minutes=max(0.0, settings.csat_delay_minutes))
    queued: list[tuple[int, str]] = []
    asked_people: set[int] = set()
    for ticket in _candidates(session, due, due - _LOOKBACK):
        group = people.group_of(session, ticket.contact_id)
        if people.any_blocked(session, group) or asked_people.intersection(group):
            continue
        if _asked_recently(session, group, now - timedelta(days=settings.csat_period_days)):
            continue
        outbox_id = _queue_one(session, ticket, group[0] if group else None, settings, now)
        if outbox_id is not None:
            queued.append((outbox_id, QUEUE))
            asked_people.update(group)
    if queued:
        log.info("surveys: %d queued", len(queued))
    return queued


def _candidates(session: Session, due: datetime, since: datetime) -> list[Ticket]:
    done_at = func.coalesce(Ticket.resolved_at, Ticket.closed_at)
    replied = exists().where(Outbox.ticket_id == Ticket.id, Outbox.kind == "reply")
    surveyed = exists().where(Survey.ticket_id == Ticket.id)
    wrote_again = exists().where(Message.ticket_id == Ticket.id, Message.direction == "in",
                                 Message.received_at > done_at)
    follow_up = aliased(Ticket)
    followed_up = exists().where(follow_up.parent_id == Ticket.id, follow_up.created_at > done_at)
    merged = and_(Ticket.parent_id.is_not(None),
                  exists().where(TicketEvent.ticket_id == Ticket.id, TicketEvent.kind == "merge"))
    return list(session.execute(
        select(Ticket).where(
            Ticket.status.in_(("resolved", "closed")), done_at <= due, done_at > since,
            Ticket.category != "no_action", replied, ~surveyed, ~wrote_again, ~followed_up, ~merged,
        ).order_by(Ticket.id).limit(_LIMIT)
    ).scalars())


def _asked_recently(session: Session, group: list[int], since: datetime) -> bool:
    if not group:
        return False
    return session.execute(
        select(Survey.id).where(Survey.person_id.in_(group), Survey.sent_at > since).limit(1)
    ).first() is not None


def _queue_one(session: Session, ticket: Ticket, person_id: int | None, settings: Settings, now: datetime) -> int | None:
    last_in = session.execute(
        select(Message).where(Message.ticket_id == ticket.id, Message.direction == "in")
        .order_by(Message.id.desc()).limit(1)
    ).scalar_one_or_none()
    survey = Survey(ticket_id=ticket.id, person_id=person_id, channel=ticket.channel, sent_at=now,
                    expires_at=now + timedelta(days=settings.csat_link_days), follow_up=False)
    session.add(survey)
    session.flush()
    outbound = asks.outbound(ticket, last_in, survey, settings)
    if outbound is None:  # nowhere to ask (an api ticket without an address): no survey
        session.delete(survey)
        session.flush()
        return None
    survey.channel = outbound.channel
    session.execute(insert_ignoring_conflicts(session, Outbox).values(
        ticket_id=ticket.id, kind="survey", channel=outbound.channel, queue=QUEUE,
        idempotency_key=outbound.idempotency_key, payload=outbound.__dict__.copy(), status="queued",
        created_at=now, updated_at=now,
        recipient=outbound.to.lower()[:320] if outbound.channel == "email" and outbound.to else None,
    ))
    survey.outbox_id = session.execute(
        select(Outbox.id).where(Outbox.idempotency_key == outbound.idempotency_key)).scalar_one()
    return survey.outbox_id
