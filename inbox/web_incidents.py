"""Incident pages for agents: the list (proposals first), one incident with its timeline,
publishing progress per channel, confirm / dismiss, an update written from the seed's
template, notes, the report editor and bulk resolution of linked tickets."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import PlainTextResponse, RedirectResponse

from inbox.charts import stacked_bars
from inbox.pages import CSRF, Agent, Engineer, render
from storage.db import session_factory
from storage.models.accounts import User
from storage.models.base import utcnow
from support.delivery import broadcast
from support.feedback import kpis
from support.incidents import core, report, resolve, status
from support.incidents.core import Actor, IncidentError

router = APIRouter(include_in_schema=False)
NEXT_UPDATE_CHOICES = (15, 30, 60, 120)


def _actor(user: User) -> Actor:
    return Actor(user.email, user.role)


def _back(incident_id: int, flash: str) -> RedirectResponse:
    from urllib.parse import quote

    return RedirectResponse(f"/incidents/{incident_id}?flash={quote(flash[:200])}", status_code=303)


@router.get("/incidents")
def incidents_page(request: Request, user: User = Agent) -> Response:
    settings = request.app.state.settings
    return render(request, "incidents.html", {
        "user": user, "proposed": core.list_incidents("proposed", settings),
        "open": core.list_incidents("open", settings), "resolved": core.list_incidents("resolved", settings)[:20],
        "components": core.components(settings),
    })


@router.get("/incidents/{incident_id}")
def incident_page(request: Request, incident_id: int, user: User = Agent) -> Response:
    settings = request.app.state.settings
    try:
        incident = core.get(incident_id, settings)
    except IncidentError:
        return render(request, "not_found.html", {"user": user, "ref": f"incident {incident_id}"}, status_code=404)
    with session_factory(settings.db_url, readonly=True)() as session:
        progress = broadcast.progress(session, f"inc:{incident_id}:")
        problems = broadcast.failures(session, f"inc:{incident_id}:")
        satisfaction = kpis.for_incidents(session, [incident_id]).get(incident_id)
    the_report = report.get(incident_id, settings)
    return render(request, "incident.html", {
        "user": user, "incident": incident, "timeline": core.timeline(incident_id, settings), "progress": progress,
        "problems": problems, "report": the_report, "next_choices": NEXT_UPDATE_CHOICES,
        "may_declare": _actor(user).may_declare, "report_html": status.safe_html(the_report["markdown"]),
        "chart": _per_minute(the_report["impact_figures"]["per_minute"]), "satisfaction": satisfaction,
    })


def _per_minute(points: list[dict]):
    """Inbound reports per minute, from the first to the last (at most three hours shown)."""
    if not points:
        return None
    counts = {p["minute"][11:16]: p["count"] for p in points}
    first = datetime.fromisoformat(points[0]["minute"])
    last = min(datetime.fromisoformat(points[-1]["minute"]), first + timedelta(hours=3))
    minutes = [(first + timedelta(minutes=m)).strftime("%H:%M") for m in range(int((last - first).total_seconds() // 60) + 1)]
    return stacked_bars("Inbound reports per minute", {"reports": counts}, minutes)


@router.post("/incidents")
def declare(request: Request, title: str = Form(""), severity: str = Form("major"),
            components: list[str] = Form(default=[]), message: str = Form(""), user: User = Engineer,
            _csrf: None = CSRF) -> Response:
    try:
        incident = core.declare(title, severity, _actor(user), components_=components, message=message or None,
                                settings=request.app.state.settings)
    except IncidentError as exc:
        return RedirectResponse(f"/incidents?flash={exc}"[:300], status_code=303)
    return _back(incident["id"], "Incident declared and published.")


@router.post("/incidents/{incident_id}/updates")
def post_update(request: Request, incident_id: int, status_: str = Form("", alias="status"), message: str = Form(""),
                next_minutes: str = Form(""), user: User = Agent, _csrf: None = CSRF) -> Response:
    next_at: datetime | None = None
    if next_minutes.isdigit() and int(next_minutes) in NEXT_UPDATE_CHOICES:
        next_at = utcnow() + timedelta(minutes=int(next_minutes))
    try:
        core.post_update(incident_id, status_, message, _actor(user), next_update_at=next_at,
                         settings=request.app.state.settings)
    except IncidentError as exc:
        return _back(incident_id, str(exc))
    return _back(incident_id, "Proposal dismissed." if status_ == "dismissed" else "Update published to every channel.")


@router.post("/incidents/{incident_id}/notes")
def add_note(request: Request, incident_id: int, text: str = Form(""), user: User = Agent,
             _csrf: None = CSRF) -> Response:
    try:
        core.add_note(incident_id, text, _actor(user), request.app.state.settings)
    except IncidentError as exc:
        return _back(incident_id, str(exc))
    return _back(incident_id, "Note added.")


@router.post("/incidents/{incident_id}/report")
def edit_report(request: Request, incident_id: int, root_cause: str = Form(""), resolution: str = Form(""),
                prevention: str = Form(""), published: str = Form(""), user: User = Engineer,
                _csrf: None = CSRF) -> Response:
    try:
        report.edit(incident_id, {"root_cause": root_cause, "resolution": resolution, "prevention": prevention,
                                  "published": published == "1"}, user.email, request.app.state.settings)
    except IncidentError as exc:
        return _back(incident_id, str(exc))
    return _back(incident_id, "Report saved.")


@router.get("/incidents/{incident_id}/report.md")
def export_report(request: Request, incident_id: int, user: User = Agent) -> Response:
    try:
        body = report.get(incident_id, request.app.state.settings)["markdown"]
    except IncidentError:
        return PlainTextResponse("no such incident", status_code=404)
    return PlainTextResponse(body, media_type="text/markdown; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="incident-{incident_id}.md"'})


@router.post("/incidents/{incident_id}/resolve-tickets")
def resolve_tickets(request: Request, incident_id: int, message: str = Form(""), user: User = Engineer,
                    _csrf: None = CSRF) -> Response:
    try:
        count = resolve.resolve_linked(incident_id, message, _actor(user), request.app.state.settings)
    except IncidentError as exc:
        return _back(incident_id, str(exc))
    return _back(incident_id, f"{count} linked tickets resolved; closing messages are on their way.")
