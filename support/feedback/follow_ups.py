"""The lead's "needs follow-up" list: tickets whose customer answered 1 or 2. Nothing
is reopened; someone answers the customer and marks the item done."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import session_factory, transaction
from storage.models.base import utcnow
from storage.models.feedback import Survey
from storage.models.tickets import Ticket, TicketEvent
from storage.queries import ticket_id_from_ref
from trkv.settings import Settings


def open_items(settings: Settings, limit: int = 200) -> list[dict]:
    with session_factory(settings.db_url, readonly=True)() as session:
        rows = session.execute(
            select(Survey, Ticket.subject, Ticket.channel).join(Ticket, Ticket.id == Survey.ticket_id)
            .where(Survey.follow_up.is_(True), Survey.followed_up_at.is_(None))
            .order_by(Survey.answered_at.desc()).limit(limit)
        ).all()
        return [{"ref": f"TRKV-{s.ticket_id}", "subject": subject, "channel": channel, "score": s.score,
                 "reason": s.reason, "comment": s.comment,
                 "answered_at": s.answered_at.isoformat() if s.answered_at else None} for s, subject, channel in rows]


def mark_done(ref: str, user_id: int | None, settings: Settings) -> None:
    ticket_id = ticket_id_from_ref(ref)
    with transaction(settings.db_url) as session:
        survey = session.execute(select(Survey).where(Survey.ticket_id == (ticket_id or -1))).scalar_one_or_none()
        if survey is None or not survey.follow_up:
            raise ValueError(f"{ref[:40]} needs no follow-up")
        if survey.followed_up_at is None:
            survey.followed_up_at, survey.followed_up_by = utcnow(), user_id
            session.add(TicketEvent(ticket_id=survey.ticket_id, kind="survey_follow_up", user_id=user_id,
                                    detail={"score": survey.score}))
