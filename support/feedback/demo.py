"""The demo's living hub (only with the demo feed on): four weeks of history so the
dashboard and the weekly review have data from the first minute, and a demo agent
that answers the feed's tickets, resolves them, and plays their customers answering
the surveys. The beat task `trkv.demo_agent` calls `tick` every half minute.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import exists, select

from storage.db import session_factory, transaction
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.feedback import Survey
from storage.models.tickets import Ticket
from support.feedback import answers, history, tokens
from support.tickets import actions as ticket_actions
from support.tickets.replies import reply
from trkv.settings import Settings

log = logging.getLogger(__name__)

HISTORY_WEEKS, PER_WEEK = 4, 120
REPLY_AFTER, RESOLVE_AFTER, ANSWER_AFTER = timedelta(minutes=1), timedelta(minutes=3), timedelta(minutes=1)
PER_TICK = 5
ANSWER = "Thanks for writing in! We've looked into it; this is fixed in the latest release."
SCORES = (5, 4, 5, 2, 4, 5, 3, 5)  # a demo customer's answer, picked by the survey's id


def tick(settings: Settings, now: datetime | None = None) -> dict:
    if not settings.demo_enabled:
        return {}
    now = now or utcnow()
    done = {"history": _history(settings, now), "replied": 0, "resolved": 0, "answered": 0}
    with session_factory(settings.db_url, readonly=True)() as session:
        replied = exists().where(Outbox.ticket_id == Ticket.id, Outbox.kind == "reply")
        to_reply = session.execute(select(Ticket.id).where(
            Ticket.status.in_(("new", "open")), Ticket.created_at < now - REPLY_AFTER, ~replied,
            Ticket.category != "no_action").order_by(Ticket.id).limit(PER_TICK)).scalars().all()
        to_resolve = session.execute(select(Ticket.id).where(
            Ticket.status == "open", replied, Ticket.updated_at < now - RESOLVE_AFTER).order_by(Ticket.id)
            .limit(PER_TICK)).scalars().all()
        to_answer = session.execute(select(Survey).join(Outbox, Outbox.id == Survey.outbox_id).where(
            Survey.answered_at.is_(None), Outbox.status == "sent", Survey.sent_at < now - ANSWER_AFTER)
            .limit(PER_TICK)).scalars().all()
        surveys = [(s.id, s.expires_at) for s in to_answer]
    for ticket_id in to_reply:
        reply(f"TRKV-{ticket_id}", ANSWER, key=f"demo-{ticket_id}", settings=settings)
        done["replied"] += 1
    for ticket_id in to_resolve:
        ticket_actions.set_status(f"TRKV-{ticket_id}", "resolved", user_id=None, settings=settings)
        done["resolved"] += 1
    for survey_id, expires in surveys:
        score = SCORES[survey_id % len(SCORES)]
        answers.record(tokens.make(survey_id, expires, settings), score, via="web", settings=settings,
                       reason="slow" if score <= 3 else None)
        done["answered"] += 1
    return done


def _history(settings: Settings, now: datetime) -> int:
    with transaction(settings.db_url) as session:
        if history.has_history(session):
            return 0
        made = history.generate(session, end=now - timedelta(hours=1), weeks=HISTORY_WEEKS, per_week=PER_WEEK,
                                planted="Calendar sync duplicates events", planted_count=8)
    log.info("demo: %d tickets of history added", made)
    return made
