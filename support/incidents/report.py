"""The incident report (the seed's template: Title / Duration: start to end / Impact /
Root Cause / Resolution / Prevention), prefilled from the timeline; root cause,
resolution and prevention are Markdown a person edits; published, it is the status
page's post-mortem; exported, it is Markdown.

Impact is counted from the linked tickets: by channel, distinct people, and the first
customer report against the moment the incident was declared ("customers told us N
minutes before we knew"), with inbound reports per minute for the chart.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select

from storage.db import session_factory, transaction
from storage.models.base import utcnow
from storage.models.incidents import Incident, IncidentTicket
from support.incidents.core import IncidentError, event
from trkv.settings import Settings

EDITABLE = ("root_cause", "resolution", "prevention")
MAX_FIELD = 50_000


def impact(session, incident: Incident) -> dict[str, Any]:
    links = session.execute(select(IncidentTicket).where(IncidentTicket.incident_id == incident.id)).scalars().all()
    by_channel = Counter(link.channel for link in links)
    people = {link.contact_id if link.contact_id is not None else f"t{link.ticket_id}" for link in links}
    first = min((link.received_at for link in links), default=None)
    ahead = None
    if first is not None and incident.declared_at is not None:
        ahead = max(0, round((incident.declared_at - first).total_seconds() / 60))
    per_minute = Counter(link.received_at.replace(second=0, microsecond=0) for link in links)
    return {
        "tickets": len(links), "by_channel": dict(sorted(by_channel.items())), "people": len(people),
        "first_report_at": first.isoformat() if first else None,
        "declared_at": incident.declared_at.isoformat() if incident.declared_at else None,
        "minutes_before_declared": ahead,
        "per_minute": [{"minute": m.isoformat(), "count": n} for m, n in sorted(per_minute.items())],
    }


def _duration(start: datetime, end: datetime | None) -> str:
    minutes = round(((end or utcnow()) - start).total_seconds() / 60)
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if hours else f"{rest} min"


def build(session, incident: Incident) -> dict[str, Any]:
    facts = impact(session, incident)
    start = incident.started_at
    if incident.first_report_at is not None and incident.first_report_at < start:
        start = incident.first_report_at
    saved = incident.report or {}
    channels = ", ".join(f"{n} on {c}" for c, n in facts["by_channel"].items()) or "none"
    lines = [f"{incident.severity.title()} incident affecting {', '.join(incident.components) or 'TRKV'}.",
             f"{facts['tickets']} linked tickets ({channels}) from {facts['people']} distinct people."]
    if facts["minutes_before_declared"] is not None:
        lines.append(f"Customers told us {facts['minutes_before_declared']} minutes before we knew "
                     f"(first report {facts['first_report_at']}, declared {facts['declared_at']}).")
    body = {
        "title": incident.title, "start": start.isoformat(),
        "end": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "duration": _duration(start, incident.resolved_at), "impact": " ".join(lines), "impact_figures": facts,
        **{key: saved.get(key, "") for key in EDITABLE}, "published": bool(saved.get("published")),
    }
    body["markdown"] = markdown(body)
    return body


def markdown(report: dict[str, Any]) -> str:
    end = report["end"] or "ongoing"
    return "\n".join([
        f"# {report['title']}", "", f"**Duration:** {report['start']} to {end} ({report['duration']})", "",
        "## Impact", "", report["impact"], "", "## Root Cause", "", report["root_cause"] or "_To be written._", "",
        "## Resolution", "", report["resolution"] or "_To be written._", "",
        "## Prevention", "", report["prevention"] or "_To be written._", "",
    ])


def get(incident_id: int, settings: Settings) -> dict[str, Any]:
    with session_factory(settings.db_url, readonly=True)() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise IncidentError(f"no incident {incident_id}", 404)
        return build(session, incident)


def edit(incident_id: int, fields: dict[str, Any], who: str, settings: Settings) -> dict[str, Any]:
    """Edit root cause, resolution, prevention (and `published`); other keys are read-only."""
    changes = {k: v for k, v in fields.items() if k in (*EDITABLE, "published") and v is not None}
    for key in EDITABLE:
        if key in changes and (not isinstance(changes[key], str) or len(changes[key]) > MAX_FIELD):
            raise IncidentError(f"{key} must be Markdown text of at most {MAX_FIELD} characters")
    with transaction(settings.db_url) as session:
        incident = session.get(Incident, incident_id, with_for_update=True)
        if incident is None:
            raise IncidentError(f"no incident {incident_id}", 404)
        if changes.get("published") and incident.status != "resolved":
            raise IncidentError("a post-mortem is published once the incident is resolved", 409)
        incident.report = {**(incident.report or {}), **changes, "published": bool(
            changes.get("published", (incident.report or {}).get("published")))}
        event(session, incident, "change", who, utcnow(), data={"report": sorted(changes)})
    return get(incident_id, settings)
