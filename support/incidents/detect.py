"""Detection from customers: a burst of alike urgent reports proposes one incident.

Called by ingest for each batch of new tickets, inside its transaction:
1. a new ticket alike an open or proposed incident (likeness to the centroid of its
   linked tickets) is linked to it, whatever its channel or priority: a proposal keeps
   collecting until it is confirmed or dismissed;
2. an urgent ticket (Critical or High, or outage evidence) not linked gathers the alike
   unlinked tickets of the last `incident_window_minutes`; when at least
   `incident_min_contacts` distinct people sent urgent ones, the group becomes a
   proposed incident (title, severity and components guessed), every alike ticket in
   the window is linked, and on-call is paged once to confirm or dismiss. Nothing is
   published: a proposal is confirmed by a person's first update.

Returns the tickets linked, so that ingest neither pages them one by one nor sends a
generic acknowledgement to those of an open incident.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, aliased

from storage.models.incidents import Incident, IncidentTicket
from storage.models.oncall import Alert
from storage.models.tickets import Message, Ticket
from storage.queries import known
from support.delivery import kicks as kick
from support.incidents import core, likeness
from trkv.settings import Settings

log = logging.getLogger(__name__)

_LOCK_ID = 7_010_001  # pg_advisory_xact_lock: two ingests never propose twin incidents
ACTIVE = ("proposed", *core.OPEN_STATUSES)
URGENT = ("critical", "high")
WHO = "detection"
POOL = 500  # recent unlinked tickets considered at most
GROUP_TEXTS = 60  # linked texts a centroid is built from at most
SEEDS_PER_BATCH = 3  # urgent tickets of one ingest batch that try to gather a proposal


@dataclass
class Notice:
    """A ticket's incident, for its acknowledgement and paging."""

    incident_id: int
    title: str
    status: str


def observe(session: Session, tickets: list, settings: Settings, now: datetime) -> dict[int, Notice]:
    if not tickets:
        return {}
    texts = {t.id: _text_of(t.first) for t in tickets}
    urgent = {t.id for t in tickets if t.priority in URGENT or likeness.is_outage_like(texts[t.id])}
    unmuted = [t for t in tickets if not getattr(t, "muted", False)]
    # A proposal needs enough urgent people in the window: looked at first, without the
    # lock (read only, so no row lock is taken before the lock, as always). Only a batch
    # that may propose (an outage flooding in) takes the lock; everyday urgent messages
    # never queue behind it. Under a bulk import, waits for it were the live path's slowest
    # statements (up to 190 ms, bench/paging.py).
    may_propose = _may_propose(session, [t for t in unmuted if t.id in urgent][:SEEDS_PER_BATCH], settings, now)
    if may_propose and session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
    linked: dict[int, Notice] = {}
    remaining = _link_to_active(session, unmuted, texts, settings, now, linked)
    seeds = [t for t in remaining if t.id in urgent] if may_propose else []
    for seed in seeds[:SEEDS_PER_BATCH]:  # a bulk batch of urgent messages costs a few groupings, not one each
        if seed.id in linked:
            continue
        incident = _propose(session, seed.id, texts[seed.id], settings, now)
        if incident is not None:
            for ticket_id in _linked_ids(session, incident.id):
                linked.setdefault(ticket_id, Notice(incident.id, incident.title, incident.status))
    return {ticket_id: notice for ticket_id, notice in linked.items() if ticket_id in texts}


def _link_to_active(session: Session, tickets: list, texts: dict[int, str], settings: Settings, now: datetime,
                    linked: dict[int, Notice]) -> list:
    """Link each ticket alike an open or proposed incident to it (noted in `linked`); return
    the others. Linking needs no lock: a ticket joins whichever incident it is alike."""
    remaining = list(tickets)
    if known(session, "active_incidents") == 0:  # counted by this transaction's first read
        return remaining
    for incident in session.execute(select(Incident).where(Incident.status.in_(ACTIVE))
                                    .order_by(Incident.id.desc()).limit(20)).scalars():
        if not remaining:
            break
        hits = _alike(session, incident, [texts[t.id] for t in remaining], settings)
        chosen = [t for t, hit in zip(remaining, hits, strict=True) if hit]
        if chosen:
            _link(session, incident, [t.id for t in chosen], now)
            if incident.alert_id is not None:  # counted on the proposal's page, not paged one by one
                from support.oncall import paging

                kick.dispatch_after_commit(session, paging.join_tickets(
                    session, incident.alert_id, [t.id for t in chosen], settings, now))
            linked.update({t.id: Notice(incident.id, incident.title, incident.status) for t in chosen})
            remaining = [t for t in remaining if t.id not in linked]
    return remaining


def _may_propose(session: Session, seeds: list, settings: Settings, now: datetime) -> bool:
    """Whether the window holds enough urgent people for a seed to propose an incident,
    read without the proposal lock (a cheap look; `_propose` counts again under it)."""
    if not seeds or settings.incident_min_contacts > POOL + 1:  # more people than the pool can ever hold
        return False
    pool = _pool(session, settings, now)
    return any(len(_urgent_people(pool, seed.id)) + 1 >= settings.incident_min_contacts for seed in seeds)


def _urgent_people(pool: list, seed_id: int) -> set:
    return {row[1] if row[1] is not None else f"t{row[0]}" for row in pool
            if row[0] != seed_id and (row[2] in URGENT or likeness.is_outage_like(row[3]))}


def _text_of(first) -> str:
    return f"{first.subject or ''}\n{first.text or ''}".strip()


def _alike(session: Session, incident: Incident, candidates: list[str], settings: Settings) -> list[bool]:
    group = session.execute(select(IncidentTicket.text).where(IncidentTicket.incident_id == incident.id)
                            .order_by(IncidentTicket.linked_at.desc()).limit(GROUP_TEXTS)).scalars().all()
    if not group:
        return [False] * len(candidates)
    scores = likeness.similarity_to_group(list(group), candidates)
    return [bool(s >= settings.incident_similarity) for s in scores]


def _link(session: Session, incident: Incident, ticket_ids: list[int], now: datetime) -> None:
    tickets = session.execute(select(Ticket).where(Ticket.id.in_(ticket_ids))).scalars().all()
    core.link_tickets(session, incident, tickets, WHO, now)


def _linked_ids(session: Session, incident_id: int) -> list[int]:
    return list(session.execute(select(IncidentTicket.ticket_id).where(IncidentTicket.incident_id == incident_id)).scalars())


def _pool(session: Session, settings: Settings, now: datetime) -> list[tuple[int, int | None, str, str]]:
    """(ticket id, contact id, priority, first text) of recent live tickets not linked to an
    incident (a historical import's tickets are a record, not reports: ix_tickets_live_created).

    The `POOL` newest tickets are picked first (a backward walk of the partial index on live
    tickets' creation time that stops at `POOL`; ordered by id, SQLite walked the whole table
    whenever the window held fewer: 10 ms at 20,000 tickets), and only their first messages
    are looked up. Joining the messages before the
    limit made the database find the first message of every ticket in the window: 420 ms with
    a bulk import's 22,000 fresh tickets in it, under the proposal lock, which held every live
    outage report behind it for seconds (bench/paging.py)."""
    since = now - timedelta(minutes=settings.incident_window_minutes)
    inner = aliased(Message)
    first_id = (select(func.min(inner.id)).where(inner.ticket_id == Ticket.id, inner.direction == "in")
                .correlate(Ticket).scalar_subquery())
    recent = (
        select(Ticket.id, Ticket.contact_id, Ticket.priority, Ticket.subject, first_id.label("first_id"))
        .outerjoin(IncidentTicket, IncidentTicket.ticket_id == Ticket.id)
        .where(Ticket.created_at >= since, Ticket.historical == False,  # noqa: E712 - the partial index's own term
               IncidentTicket.ticket_id.is_(None), Ticket.status != "closed")
        .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(POOL)
    ).subquery()
    if session.get_bind().dialect.name == "postgresql":
        # The planner prices the capped walk as if it read the whole window and JIT-compiles it:
        # 16-45 ms of compiling for 4 ms of work, on every urgent message.
        session.execute(text("SET LOCAL jit = off"))
    rows = session.execute(
        select(recent.c.id, recent.c.contact_id, recent.c.priority, recent.c.subject, Message.text)
        .join(Message, Message.id == recent.c.first_id)
        .order_by(recent.c.id.desc())
    ).all()
    return [(r[0], r[1], r[2], f"{r[3] or ''}\n{r[4] or ''}".strip()) for r in rows]


def _propose(session: Session, seed_id: int, seed_text: str, settings: Settings, now: datetime) -> Incident | None:
    pool = [row for row in _pool(session, settings, now) if row[0] != seed_id]
    if len(_urgent_people(pool, seed_id)) + 1 < settings.incident_min_contacts:
        return None  # too few urgent messages in the window to propose anything: no grouping needed
    group_texts, members = [seed_text], {seed_id}
    for _ in range(2):  # grow around the seed, then around the group's centroid
        scores = likeness.similarity_to_group(group_texts, [row[3] for row in pool])
        members = {seed_id} | {row[0] for row, s in zip(pool, scores, strict=True) if s >= settings.incident_similarity}
        group_texts = [seed_text] + [row[3] for row in pool if row[0] in members]
    rows = [row for row in pool if row[0] in members]
    seed_row = session.execute(select(Ticket.contact_id, Ticket.priority).where(Ticket.id == seed_id)).one()
    rows.append((seed_id, seed_row[0], seed_row[1], seed_text))
    people = {row[1] if row[1] is not None else f"t{row[0]}" for row in rows
              if row[2] in URGENT or likeness.is_outage_like(row[3])}
    if len(people) < settings.incident_min_contacts:
        return None
    return _create(session, rows, settings, now)


def _create(session: Session, rows: list, settings: Settings, now: datetime) -> Incident:
    title, severity, components = likeness.guess([r[3] for r in rows], [r[2] for r in rows])
    known = core.components(settings)
    components = [c for c in components if c in known] or known[:1]
    incident = Incident(title=title, severity=severity, status="proposed", components=components, detected=True,
                        started_at=now, report={}, created_at=now, updated_at=now)
    session.add(incident)
    session.flush()
    core.event(session, incident, "change", WHO, now, data={"proposed": True, "people": len({r[1] for r in rows})})
    _link(session, incident, [r[0] for r in rows], now)
    if incident.first_report_at is not None:
        incident.started_at = min(incident.started_at, incident.first_report_at)
    _page(session, incident, [r[0] for r in rows], settings, now)
    log.info("incident %s proposed from %d alike tickets", incident.id, len(rows))
    return incident


def _page(session: Session, incident: Incident, ticket_ids: list[int], settings: Settings, now: datetime) -> None:
    """One page to on-call, whose link opens the proposal with confirm and dismiss. When
    the reports already paged (an alert of alike critical messages), that alert becomes
    the proposal's: its page, if not sent yet, says so, and every report joins it."""
    from support.oncall import paging

    link = f"{settings.public_url.rstrip('/')}/incidents/{incident.id}"
    title = f"Proposed incident #{incident.id}: {incident.title}. Confirm or dismiss: {link}"
    counts = session.execute(select(Ticket.alert_id, func.count()).where(
        Ticket.id.in_(ticket_ids), Ticket.alert_id.is_not(None)).group_by(Ticket.alert_id)).all()
    adopted = [session.get(Alert, alert_id) for alert_id, _ in sorted(counts, key=lambda c: -c[1])]
    alert = next((a for a in adopted if a is not None and a.status in ("triggered", "acknowledged")), None)
    if alert is None:
        alert = Alert(severity="critical", status="triggered", fingerprint=[], channels=["incident"], title=title[:500],
                      count=0, first_ticket_id=min(ticket_ids), step=0, rounds=0, notified_count=0,
                      created_at=now, updated_at=now, last_message_at=now)
        session.add(alert)
        session.flush()
        session.execute(update(Ticket).where(Ticket.id.in_(ticket_ids)).values(alert_id=alert.id))
        alert.count = len(ticket_ids)
        alert.channels = sorted(set(session.execute(select(Ticket.channel).where(Ticket.id.in_(ticket_ids))).scalars()))
        rows = paging.notify(session, alert, 0, "trigger", settings, now)
    else:
        rows = paging.join_tickets(session, alert.id, ticket_ids, settings, now)
        rows += paging.retitle(session, alert, title, settings, now)
    incident.alert_id = alert.id
    core.event(session, incident, "page", WHO, now, data={"alert": alert.id, "pages": len(rows)})
    kick.dispatch_after_commit(session, rows)
