"""One update, every channel: the status page (the update row itself), Discord
#announcements, X (a thread: the first update is a tweet, later ones reply to it),
email and webhook subscribers, and a reply in every linked ticket's own conversation.

All of it is written as outbox rows in the transaction that records the update, keyed
`inc:<incident>:<update>:<destination>`, through the budgeted broadcast.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import Outbound
from storage.models.incidents import Incident, IncidentEvent, IncidentTicket, StatusSubscriber
from storage.models.tickets import Message, Ticket
from support.delivery import acks as templates
from support.delivery import broadcast
from support.delivery import kicks as kick
from trkv.settings import Settings

DISCORD_LIMIT = 2000
X_ROOM = 262  # 280 less room for the "@handle " a reply in a customer's thread starts with
LABELS = {"investigating": "Investigating", "identified": "Identified", "monitoring": "Monitoring",
          "resolved": "Resolved"}


def status_url(settings: Settings, incident_id: int | None = None) -> str:
    base = f"{settings.public_url.rstrip('/')}/status"
    return f"{base}#incident-{incident_id}" if incident_id else base


def render(incident: Incident, update: IncidentEvent) -> str:
    """The seed's status update template, from the incident and the update."""
    where = ", ".join(incident.components) or "TRKV"
    when = update.next_update_at.strftime("%H:%M UTC") if update.next_update_at else (
        "none planned; this incident is resolved" if update.status == "resolved" else "as soon as we know more")
    return templates.STATUS_UPDATE.format(
        status=f"{LABELS.get(update.status, update.status)}: {update.message}",
        impact=f"{incident.severity.title()}: {incident.title} ({where})", next_update=when)


def fit(text: str, limit: int, link: str, *, weigh=len) -> str:
    """`text` whole when it fits; else cut at a word boundary, with an ellipsis and the
    link to the full update (never cut mid-word without a link)."""
    if weigh(text) <= limit:
        return text
    tail = f"… {link}"
    words, out = re.split(r"(\s+)", text), ""
    for word in words:
        if weigh(out + word + tail) > limit:
            break
        out += word
    return out.rstrip() + tail


def fit_x(text: str, link: str, limit: int = X_ROOM) -> str:
    """A post with the status link, within X's count (links count 23)."""
    whole = f"{text}\n{link}"
    return fit(text, limit, link, weigh=templates.x_length) if templates.x_length(whole) > limit else whole


def queue_update(session: Session, incident: Incident, update: IncidentEvent, settings: Settings,
                 now: datetime) -> list[tuple[int, str]]:
    """Write every destination's row for this update; kick the released ones after commit."""
    text = render(incident, update)
    link = status_url(settings, incident.id)
    prefix = f"inc:{incident.id}:{update.id}:"
    destinations = [
        broadcast.Destination(Outbound(channel="discord", kind="status", idempotency_key=prefix + "discord",
                                       text=fit(text, DISCORD_LIMIT, link)), priority=0),
        _x_post(session, incident, prefix, fit_x(text, link)),
        *_subscribers(session, incident, prefix, text, settings),
        *_conversations(session, incident, prefix, text, link, settings),
    ]
    released = broadcast.queue(session, destinations, settings, now)
    kick.dispatch_after_commit(session, released)
    return released


def _x_post(session: Session, incident: Incident, prefix: str, text: str) -> broadcast.Destination:
    """The first update opens the thread; each later one answers the previous post."""
    earlier = session.execute(select(IncidentEvent.id).where(
        IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "update", IncidentEvent.published.is_(True),
        IncidentEvent.id < int(prefix.split(":")[2])).order_by(IncidentEvent.id.desc()).limit(1)).scalar()
    meta = {"after_key": f"inc:{incident.id}:{earlier}:x"} if earlier else {}
    return broadcast.Destination(Outbound(channel="x", kind="status", idempotency_key=prefix + "x", text=text,
                                          meta=meta), priority=0)


def _subscribers(session: Session, incident: Incident, prefix: str, text: str,
                 settings: Settings) -> list[broadcast.Destination]:
    from support.incidents import subscribers

    rows = session.execute(select(StatusSubscriber).where(
        StatusSubscriber.confirmed_at.is_not(None), StatusSubscriber.unsubscribed_at.is_(None))).scalars().all()
    wanted = set(incident.components)
    out = []
    for sub in rows:
        if sub.components and wanted and not wanted & set(sub.components):
            continue  # follows other components only
        if sub.kind == "email":
            out.append(broadcast.Destination(
                subscribers.update_mail(sub, incident, text, f"{prefix}mail:{sub.id}", settings), priority=1,
                extra={"recipient": sub.address[:320]}))
        else:
            out.append(broadcast.Destination(Outbound(
                channel="oncall", kind="status", idempotency_key=f"{prefix}hook:{sub.id}", text=text,
                meta={"notifier": "webhook", "address": sub.address, "incident": incident.id,
                      "status": incident.status, "title": incident.title}), priority=1))
    return out


def _conversations(session: Session, incident: Incident, prefix: str, text: str, link: str,
                   settings: Settings) -> list[broadcast.Destination]:
    """A reply in each linked ticket's own conversation, critical tickets first."""
    from support.tickets.replies import build_outbound

    tickets = session.execute(select(Ticket).join(IncidentTicket, IncidentTicket.ticket_id == Ticket.id)
                              .where(IncidentTicket.incident_id == incident.id)).scalars().all()
    out = []
    for ticket in tickets:
        last_in = session.execute(select(Message).where(Message.ticket_id == ticket.id, Message.direction == "in")
                                  .order_by(Message.id.desc()).limit(1)).scalar_one_or_none()
        channel = last_in.channel if last_in is not None else ticket.channel
        body = fit_x(text, link) if channel == "x" else fit(text, DISCORD_LIMIT, link) if channel == "discord" else text
        if channel not in ("x", "discord"):
            body = f"{text}\n\nFollow the incident: {link}"
        outbound = build_outbound(ticket, last_in, body, f"{prefix}t:{ticket.id}", settings)
        if outbound.channel == "email" and not outbound.to:
            continue  # an api author without an address cannot be reached
        out.append(broadcast.Destination(outbound, ticket_id=ticket.id,
                                         priority=broadcast.PRIORITY.get(ticket.priority, 2)))
    return out


def progress(session: Session, incident_id: int) -> dict[str, int]:
    return broadcast.progress(session, f"inc:{incident_id}:")
