"""Scheduled maintenance: announced when scheduled, reminded TRKV_MAINTENANCE_REMIND_MINUTES
before it starts, its components shown "under maintenance" from its start and back to
operational at its end, all on time by the beat (`tick`).

Each phase (announce, remind, start, complete, cancel) is claimed by a conditional
UPDATE of its own time column and writes its notices in the same transaction, as
outbox rows keyed `maint:<window>:<phase>:<destination>` through the budgeted
broadcast: the status page (the window itself), Discord #announcements, X (later
phases reply to the announcement), and the email and webhook subscribers who follow
an affected component. A second beat, or a worker that dies mid-tick, never sends a
notice twice: the claim is made once, and a key is written once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from connectors.base import Outbound
from storage.db import session_factory, transaction
from storage.models.base import utcnow
from storage.models.incidents import MAINTENANCE_STATUSES, MaintenanceWindow, StatusSubscriber
from support.delivery import acks as templates
from support.delivery import broadcast
from support.delivery import kicks as kick
from support.incidents.core import Actor, IncidentError, _clean_components, _storable
from support.incidents.publish import DISCORD_LIMIT, fit, fit_x, status_url
from trkv.settings import Settings, get_settings

PHASES = ("announce", "remind", "start", "complete", "cancel")
STATES = {"upcoming": ("scheduled", "in_progress"), "past": ("completed", "cancelled")}
MAX_AHEAD = timedelta(days=365)
MAX_LENGTH = timedelta(days=7)
KEEP_PUBLIC = timedelta(days=7)  # finished windows stay in status.json and the feed this long


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def schedule(title: str, starts_at: datetime, ends_at: datetime, actor: Actor, *, components_: list[str] | None = None,
             description: str = "", settings: Settings | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Schedule a window and announce it (in the same transaction)."""
    settings = settings or get_settings()
    now = now or utcnow()
    title, description = _storable(title).strip(), _storable(description or "").strip()
    starts_at, ends_at = _aware(starts_at), _aware(ends_at)
    if not actor.may_declare:
        raise IncidentError("scheduling maintenance needs the engineer role", 403)
    _validate(title, starts_at, ends_at, now)
    names = _clean_components(components_, settings)
    with transaction(settings.db_url) as session:
        window = MaintenanceWindow(title=title[:300], description=description[:5000], components=names,
                                   status="scheduled", starts_at=starts_at, ends_at=ends_at, created_by=actor.who[:320],
                                   created_at=now, updated_at=now)
        session.add(window)
        session.flush()
        _run_phase(session, window.id, "announce", settings, now)
        window_id = window.id
    return get(window_id, settings)


def _validate(title: str, starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if not title:
        raise IncidentError("maintenance needs a title")
    if ends_at <= starts_at:
        raise IncidentError("maintenance must end after it starts")
    if ends_at <= now:
        raise IncidentError("this window is already over")
    if starts_at - now > MAX_AHEAD or ends_at - starts_at > MAX_LENGTH:
        raise IncidentError("maintenance is scheduled at most a year ahead, for at most 7 days")


def change(window_id: int, actor: Actor, *, title: str | None = None, description: str | None = None,
           components_: list[str] | None = None, starts_at: datetime | None = None, ends_at: datetime | None = None,
           settings: Settings | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Edit a window that has not started. New times are told to everyone told of the old
    ones (a `reschedule-<unix time>` notice); once the reminder went out the times are
    fixed (cancel, and schedule a new window)."""
    settings = settings or get_settings()
    now = now or utcnow()
    if not actor.may_declare:
        raise IncidentError("changing maintenance needs the engineer role", 403)
    with transaction(settings.db_url) as session:
        window = session.get(MaintenanceWindow, window_id, with_for_update=True)
        if window is None:
            raise IncidentError(f"no maintenance window {window_id}", 404)
        if window.status != "scheduled":
            raise IncidentError(f"maintenance {window_id} is {window.status.replace('_', ' ')}; only a scheduled "
                                "window can be changed", 409)
        start = _aware(starts_at) if starts_at else window.starts_at
        end = _aware(ends_at) if ends_at else window.ends_at
        moved = (start, end) != (window.starts_at, window.ends_at)
        if moved and window.reminded_at is not None:
            raise IncidentError("the reminder has gone out; cancel this window and schedule a new one", 409)
        new_title = _storable(title).strip() if title is not None else window.title
        _validate(new_title, start, end, now)
        window.title, window.starts_at, window.ends_at, window.updated_at = new_title[:300], start, end, now
        if description is not None:
            window.description = _storable(description).strip()[:5000]
        if components_ is not None:
            window.components = _clean_components(components_, settings)
        session.flush()
        if moved and window.announced_at is not None:
            destinations = _destinations(session, window, f"reschedule-{int(now.timestamp())}", settings)
            kick.dispatch_after_commit(session, broadcast.queue(session, destinations, settings, now))
    return get(window_id, settings)


def cancel(window_id: int, actor: Actor, settings: Settings | None = None,
           now: datetime | None = None) -> dict[str, Any]:
    """Cancel a window that has not started; those told of it are told it is off."""
    settings = settings or get_settings()
    now = now or utcnow()
    if not actor.may_declare:
        raise IncidentError("cancelling maintenance needs the engineer role", 403)
    with transaction(settings.db_url) as session:
        window = session.get(MaintenanceWindow, window_id)
        if window is None:
            raise IncidentError(f"no maintenance window {window_id}", 404)
        if window.status != "scheduled" or not _run_phase(session, window_id, "cancel", settings, now):
            raise IncidentError(f"maintenance {window_id} is {window.status.replace('_', ' ')}; only a scheduled "
                                "window can be cancelled", 409)
    return get(window_id, settings)


def tick(settings: Settings | None = None, now: datetime | None = None) -> list[tuple[int, str]]:
    """The beat: run every phase that is due; [(window id, phase)] this call ran."""
    settings = settings or get_settings()
    now = now or utcnow()
    with session_factory(settings.db_url, readonly=True)() as session:
        windows = session.execute(select(MaintenanceWindow).where(
            MaintenanceWindow.status.in_(STATES["upcoming"])).order_by(MaintenanceWindow.starts_at)).scalars().all()
        due = [(w.id, phase) for w in windows for phase in _due(w, now, settings)]
    ran = []
    for window_id, phase in due:
        with transaction(settings.db_url) as session:  # one phase per transaction: a crash loses none done
            if _run_phase(session, window_id, phase, settings, now):
                ran.append((window_id, phase))
    return ran


def _due(window: MaintenanceWindow, now: datetime, settings: Settings) -> list[str]:
    remind_at = window.starts_at - timedelta(minutes=settings.maintenance_remind_minutes)
    phases = []
    if window.status == "scheduled":
        if window.announced_at is None:
            phases.append("announce")
        if now >= window.ends_at:
            phases.append("complete")  # the beat missed the whole window: it is over, say so once
        elif now >= window.starts_at:
            phases.append("start")
        elif now >= remind_at and window.reminded_at is None and window.created_at < remind_at:
            phases.append("remind")  # scheduled inside the reminder's lead: the announcement was the reminder
    elif window.status == "in_progress" and now >= window.ends_at:
        phases.append("complete")
    return phases


_CLAIMS = {
    "announce": (lambda: MaintenanceWindow.announced_at.is_(None), ("scheduled",),
                 lambda now: {"announced_at": now}),
    "remind": (lambda: MaintenanceWindow.reminded_at.is_(None), ("scheduled",), lambda now: {"reminded_at": now}),
    "start": (lambda: MaintenanceWindow.started_at.is_(None), ("scheduled",),
              lambda now: {"status": "in_progress", "started_at": now}),
    "complete": (lambda: MaintenanceWindow.completed_at.is_(None), ("scheduled", "in_progress"),
                 lambda now: {"status": "completed", "completed_at": now}),
    "cancel": (lambda: MaintenanceWindow.cancelled_at.is_(None), ("scheduled",),
               lambda now: {"status": "cancelled", "cancelled_at": now}),
}


def _run_phase(session: Session, window_id: int, phase: str, settings: Settings, now: datetime) -> bool:
    """Claim the phase (proceed only if this UPDATE changed the row) and queue its notices."""
    unset, statuses, values = _CLAIMS[phase]
    claimed = session.execute(update(MaintenanceWindow).where(
        MaintenanceWindow.id == window_id, unset(), MaintenanceWindow.status.in_(statuses))
        .values(**values(now), updated_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        return False
    window = session.get(MaintenanceWindow, window_id, populate_existing=True)
    if phase == "cancel" and window.announced_at is None:
        return True  # nobody was told of it
    released = broadcast.queue(session, _destinations(session, window, phase, settings), settings, now)
    kick.dispatch_after_commit(session, released)
    return True


def render(window: MaintenanceWindow, phase: str, settings: Settings) -> str:
    """The notice of one phase, in the seed's status update template."""
    span = f"{window.starts_at:%Y-%m-%d %H:%M}–{window.ends_at:%H:%M} UTC"
    if window.ends_at.date() != window.starts_at.date():
        span = f"{window.starts_at:%Y-%m-%d %H:%M} UTC – {window.ends_at:%Y-%m-%d %H:%M} UTC"
    current, next_update = {
        "announce": (f"Scheduled maintenance: {window.title}, {span}", f"when it starts, {window.starts_at:%H:%M} UTC"),
        "remind": (f"Maintenance starts soon: {window.title}, {span}", f"when it starts, {window.starts_at:%H:%M} UTC"),
        "start": (f"Maintenance in progress: {window.title}, until {window.ends_at:%H:%M} UTC",
                  f"when it is complete, planned {window.ends_at:%H:%M} UTC"),
        "complete": (f"Maintenance completed: {window.title}", "none planned; the maintenance is over"),
        "cancel": (f"Maintenance cancelled: {window.title} ({span}) will not take place", "none planned"),
        "reschedule": (f"Maintenance rescheduled: {window.title}, now {span}",
                       f"when it starts, {window.starts_at:%H:%M} UTC"),
    }[phase.split("-")[0]]
    where = ", ".join(window.components) or "TRKV"
    impact = f"{where}: {window.description}" if window.description else f"{where} may be briefly unavailable"
    if phase in ("complete", "cancel"):
        impact = f"{where}: operational"
    return templates.STATUS_UPDATE.format(status=current, impact=impact, next_update=next_update)


def _destinations(session: Session, window: MaintenanceWindow, phase: str,
                  settings: Settings) -> list[broadcast.Destination]:
    from support.incidents import subscribers

    text, link = render(window, phase, settings), f"{status_url(settings)}#maintenance-{window.id}"
    prefix = f"maint:{window.id}:{phase}:"
    meta = {"after_key": f"maint:{window.id}:announce:x"} if phase != "announce" else {}
    out = [broadcast.Destination(Outbound(channel="discord", kind="status", idempotency_key=prefix + "discord",
                                          text=fit(text, DISCORD_LIMIT, link)), priority=0),
           broadcast.Destination(Outbound(channel="x", kind="status", idempotency_key=prefix + "x",
                                          text=fit_x(text, link), meta=meta), priority=0)]
    rows = session.execute(select(StatusSubscriber).where(
        StatusSubscriber.confirmed_at.is_not(None), StatusSubscriber.unsubscribed_at.is_(None))).scalars().all()
    wanted = set(window.components)
    for sub in rows:
        if sub.components and wanted and not wanted & set(sub.components):
            continue  # follows other components only
        if sub.kind == "email":
            out.append(broadcast.Destination(subscribers.update_mail(sub, window, text, f"{prefix}mail:{sub.id}", settings),
                                             priority=1, extra={"recipient": sub.address[:320]}))
        else:
            out.append(broadcast.Destination(Outbound(
                channel="oncall", kind="status", idempotency_key=f"{prefix}hook:{sub.id}", text=text,
                meta={"notifier": "webhook", "address": sub.address, "maintenance": window.id, "phase": phase,
                      "status": window.status, "title": window.title}), priority=1))
    return out


# reading ---------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def serialize(window: MaintenanceWindow, *, public: bool = False) -> dict[str, Any]:
    body = {"id": window.id, "title": window.title, "description": window.description,
            "components": list(window.components), "status": window.status,
            "starts_at": _iso(window.starts_at), "ends_at": _iso(window.ends_at),
            "announced_at": _iso(window.announced_at), "reminded_at": _iso(window.reminded_at),
            "started_at": _iso(window.started_at), "completed_at": _iso(window.completed_at),
            "cancelled_at": _iso(window.cancelled_at)}
    if not public:
        body["created_by"] = window.created_by
    return body


def get(window_id: int, settings: Settings | None = None) -> dict[str, Any]:
    settings = settings or get_settings()
    with session_factory(settings.db_url, readonly=True)() as session:
        window = session.get(MaintenanceWindow, window_id)
        if window is None:
            raise IncidentError(f"no maintenance window {window_id}", 404)
        body = serialize(window)
        body["progress"] = broadcast.progress(session, f"maint:{window_id}:")
        return body


def list_windows(state: str | None = None, settings: Settings | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Upcoming (scheduled, in progress) soonest first, or past (completed, cancelled) newest first."""
    settings = settings or get_settings()
    if state is not None and state not in STATES:
        raise IncidentError(f"state must be one of {', '.join(STATES)}")
    wanted = STATES[state] if state else MAINTENANCE_STATUSES
    order = MaintenanceWindow.starts_at if state == "upcoming" else MaintenanceWindow.starts_at.desc()
    with session_factory(settings.db_url, readonly=True)() as session:
        rows = session.execute(select(MaintenanceWindow).where(MaintenanceWindow.status.in_(wanted))
                               .order_by(order).limit(limit)).scalars().all()
        return [serialize(w) for w in rows]


def public(session: Session, now: datetime) -> list[dict[str, Any]]:
    """For the status page: announced windows not over, and those that ended in the last week."""
    rows = session.execute(select(MaintenanceWindow).where(
        MaintenanceWindow.announced_at.is_not(None),
        or_(MaintenanceWindow.status.in_(STATES["upcoming"]),
            MaintenanceWindow.updated_at >= now - KEEP_PUBLIC)).order_by(MaintenanceWindow.starts_at)).scalars().all()
    return [serialize(w, public=True) for w in rows]
