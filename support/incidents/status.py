"""The status page's data: each component's current state, open incidents and those
resolved in the last 90 days with their published updates, announced maintenance
windows (support/incidents/maintenance.py), 90 daily bars per component
computed from incident durations, and published post-mortems.

`snapshot` is cached per process and rebuilt only when an incident changed: each call
asks the database for one cheap version (how many incidents and maintenance windows,
the newest change), at
most every `CHECK_SECONDS`, so /status under load is served from memory and a change
shows within a second.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any

import nh3
from markdown_it import MarkdownIt
from sqlalchemy import func, or_, select

from storage.db import session_factory
from storage.models.base import utcnow
from storage.models.incidents import OPEN_STATUSES, Incident, MaintenanceWindow
from support.incidents import maintenance
from support.incidents.core import components, serialize
from trkv.settings import Settings

DAYS = 90
CHECK_SECONDS = 0.1
STATE_BY_SEVERITY = {"critical": "major_outage", "major": "partial_outage", "minor": "degraded_performance"}
RANK = {"operational": 0, "under_maintenance": 0.5, "degraded_performance": 1, "partial_outage": 2, "major_outage": 3}
_markdown = MarkdownIt("commonmark", {"html": False})

_lock = threading.Lock()
_cache: dict[str, tuple[float, Any, dict[str, Any]]] = {}  # db url -> (checked at, version, snapshot)


def version(settings: Settings) -> tuple:
    with session_factory(settings.db_url, readonly=True)() as session:
        count, newest = session.execute(select(func.count(), func.max(Incident.updated_at))).one()
        windows, changed = session.execute(select(func.count(), func.max(MaintenanceWindow.updated_at))).one()
    return (count, newest.isoformat() if newest else None, windows, changed.isoformat() if changed else None)


def snapshot(settings: Settings) -> tuple[Any, dict[str, Any]]:
    """(version, data): from memory while no incident changed."""
    now = time.monotonic()
    cached = _cache.get(settings.db_url)
    if cached is not None and now - cached[0] < CHECK_SECONDS:
        return cached[1], cached[2]
    current = version(settings)
    if cached is not None and cached[1] == current:
        _cache[settings.db_url] = (now, current, cached[2])
        return current, cached[2]
    with _lock:
        data = build(settings, utcnow())
        _cache[settings.db_url] = (now, current, data)
    return current, data


def fresh(settings: Settings) -> bool:
    """True while the cached snapshot needs no database check (serving it cannot block)."""
    cached = _cache.get(settings.db_url)
    return cached is not None and time.monotonic() - cached[0] < CHECK_SECONDS


def forget() -> None:
    _cache.clear()


def build(settings: Settings, now: datetime) -> dict[str, Any]:
    since = now - timedelta(days=DAYS)
    with session_factory(settings.db_url, readonly=True)() as session:
        rows = session.execute(select(Incident).where(
            Incident.status.in_((*OPEN_STATUSES, "resolved")),
            or_(Incident.resolved_at.is_(None), Incident.resolved_at >= since)).order_by(Incident.id.desc())
        ).scalars().all()
        incidents = [_public(session, i) for i in rows]
        windows = maintenance.public(session, now)
    names = components(settings)
    states = {name: "operational" for name in names}
    for window in (w for w in windows if w["status"] == "in_progress"):
        for name in window["components"] or names:
            if name in states:  # an incident on the component outranks its maintenance, below
                states[name] = "under_maintenance"
    for incident in (i for i in rows if i.status in OPEN_STATUSES):
        for name in incident.components or names:
            state = STATE_BY_SEVERITY[incident.severity]
            if name in states and RANK[state] > RANK[states[name]]:
                states[name] = state
    return {
        "components": [{"name": n, "status": states[n]} for n in names],
        "incidents": incidents,
        "history": {n: history(rows, n, names, now) for n in names},
        "updated_at": now.isoformat(),
        "overall": max(states.values(), key=RANK.get, default="operational"),
        "maintenance": windows,
    }


def _public(session, incident: Incident) -> dict[str, Any]:
    body = serialize(session, incident, public=True)
    report = incident.report or {}
    if report.get("published") and incident.status == "resolved":
        from support.incidents import report as reports

        body["postmortem"] = reports.build(session, incident)["markdown"]
    return body


def history(rows: list[Incident], name: str, names: list[str], now: datetime) -> list[dict[str, Any]]:
    """90 daily bars, oldest first: minutes of each day the component was affected, and the worst severity."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    bars = []
    for back in range(DAYS - 1, -1, -1):
        start = today - timedelta(days=back)
        end = min(start + timedelta(days=1), now)
        minutes, worst = 0.0, None
        for incident in rows:
            if name not in (incident.components or names) or incident.declared_at is None:
                continue
            overlap = (min(end, incident.resolved_at or now) - max(start, incident.started_at)).total_seconds()
            if overlap > 0:
                minutes += overlap / 60
                if worst is None or RANK[STATE_BY_SEVERITY[incident.severity]] > RANK[STATE_BY_SEVERITY[worst]]:
                    worst = incident.severity
        length = max((end - start).total_seconds() / 60, 1)
        bars.append({"day": start.date().isoformat(), "minutes": round(min(minutes, length)),
                     "uptime": round(100 * (1 - min(minutes, length) / length), 2),
                     "state": STATE_BY_SEVERITY[worst] if worst else "operational"})
    return bars


def safe_html(markdown_text: str) -> str:
    """Markdown (a post-mortem) as HTML with no script: raw HTML is off, and nh3 cleans the rest."""
    return nh3.clean(_markdown.render(markdown_text or ""))
