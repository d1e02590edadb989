"""`Next Update` is a promise: when it passes with no new update, the sweep reminds the
incident's commander once (an email, keyed per promise, so a second sweep or a crash
never reminds twice), and the timeline records it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import Outbound
from storage.models.delivery import Outbox
from storage.models.incidents import OPEN_STATUSES, Incident
from storage.queries import insert_ignoring_conflicts
from support.incidents.core import event
from trkv.settings import Settings


def remind_overdue(session: Session, settings: Settings, now: datetime, limit: int = 100) -> list[tuple[int, str]]:
    """Queue reminders for open incidents whose promised update is overdue; [(outbox id, queue)]."""
    overdue = session.execute(select(Incident).where(
        Incident.status.in_(OPEN_STATUSES), Incident.next_update_at < now, Incident.reminded_at.is_(None))
        .limit(limit)).scalars().all()
    queued = []
    for incident in overdue:
        incident.reminded_at = now
        late = round((now - incident.next_update_at).total_seconds() / 60)
        event(session, incident, "change", "sweep", now, data={"reminded": incident.commander, "late_minutes": late})
        if not incident.commander or "@" not in incident.commander:
            continue
        key = f"inc:{incident.id}:remind:{incident.next_update_at.isoformat()}"[:100]
        link = f"{settings.public_url.rstrip('/')}/incidents/{incident.id}"
        outbound = Outbound(channel="email", kind="page", idempotency_key=key, to=incident.commander,
                            subject=f"[TRKV] Update overdue: {incident.title}"[:300],
                            text=f"The next update for incident #{incident.id} ({incident.title}) was promised for "
                                 f"{incident.next_update_at:%H:%M} UTC, {late} minutes ago.\n\nPost it: {link}",
                            meta={"auto_submitted": "auto-generated"})
        session.execute(insert_ignoring_conflicts(session, Outbox).values(
            kind="page", channel="email", queue="critical", idempotency_key=key, payload=outbound.__dict__.copy(),
            status="queued", created_at=now, updated_at=now))
        outbox_id = session.execute(select(Outbox.id).where(Outbox.idempotency_key == key)).scalar_one()
        queued.append((outbox_id, "critical"))
    return queued


def sweep(session: Session, settings: Settings, now: datetime) -> list[tuple[int, str]]:
    """The incidents' part of the sweep: overdue reminders, and publishing's health."""
    report_publishing(session, now)
    return remind_overdue(session, settings, now)


def report_publishing(session: Session, now: datetime) -> None:
    """A status post that failed for good (no Discord announcements channel, X without
    write access) shows in /healthz as `publish-<channel>` degraded until one goes out."""
    from datetime import timedelta

    from storage.models.intake import ConnectorState

    since = now - timedelta(days=1)
    rows = session.execute(select(Outbox.channel, Outbox.status, Outbox.last_error, Outbox.updated_at).where(
        Outbox.kind == "status", Outbox.ticket_id.is_(None), Outbox.status.in_(("sent", "failed")),
        Outbox.updated_at >= since, Outbox.channel.in_(("discord", "x"))).order_by(Outbox.updated_at)).all()
    latest = {channel: (status_, error) for channel, status_, error, _ in rows}
    for channel, (status_, error) in latest.items():
        state, detail = ("ok", "status posts go out") if status_ == "sent" else ("degraded", (error or "")[:2000])
        name = f"publish-{channel}"
        session.execute(insert_ignoring_conflicts(session, ConnectorState).values(
            name=name, state=state, detail=detail, updated_at=now))
        session.execute(ConnectorState.__table__.update().where(ConnectorState.name == name)
                        .values(state=state, detail=detail, updated_at=now))
