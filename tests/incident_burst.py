"""Inbounds for detection stories: each message from its own person, channels in turn
(Discord, X, email, the API), built from tests/incident_corpus.py."""

from __future__ import annotations

from sqlalchemy import func, select

from connectors.base import Inbound
from storage.db import session_factory
from storage.models.delivery import Outbox
from storage.models.incidents import Incident, IncidentTicket

CHANNELS = ("discord", "x", "email", "api")


def inbound(n: int, text: str, channel: str | None = None, tag: str = "o") -> Inbound:
    """Message `n` of a burst, from person `tag`-`n`."""
    channel = channel or CHANNELS[n % len(CHANNELS)]
    person = f"{tag}{n}"
    if channel == "discord":
        return Inbound(channel="discord", external_id=f"12{abs(hash((tag, n))) % 10**16:016d}", text=text,
                       author_id=f"40{n:015d}{ord(tag[0])}", author_handle=person, author_name=person,
                       conversation_key=f"thread-{tag}{n}")
    if channel == "x":
        ident = f"18{abs(hash((tag, n, 'x'))) % 10**16:016d}"
        return Inbound(channel="x", external_id=ident, text=f"@trkvbot {text}", author_id=f"9{n:05d}{ord(tag[0])}",
                       author_handle=f"@{person}", conversation_key=ident)
    address = f"{person}@example.com"
    return Inbound(channel=channel, external_id=f"{person}-{channel}@mail.example", text=text, author_id=address,
                   author_handle=address, author_name=person.title(), author_email=address,
                   subject=text[:60])


def incidents(settings) -> list[Incident]:
    with session_factory(settings.db_url, readonly=True)() as session:
        return session.execute(select(Incident).order_by(Incident.id)).scalars().all()


def linked_ids(settings, incident_id: int) -> set[int]:
    with session_factory(settings.db_url, readonly=True)() as session:
        return set(session.execute(select(IncidentTicket.ticket_id)
                                   .where(IncidentTicket.incident_id == incident_id)).scalars())


def pages_of_alert(settings, alert_id: int) -> int:
    with session_factory(settings.db_url, readonly=True)() as session:
        return session.execute(select(func.count()).select_from(Outbox)
                               .where(Outbox.alert_id == alert_id, Outbox.kind == "page")).scalar_one()


def status_rows(settings) -> int:
    with session_factory(settings.db_url, readonly=True)() as session:
        return session.execute(select(func.count()).select_from(Outbox).where(Outbox.kind == "status")).scalar_one()
