"""The agents' maintenance page: upcoming and past windows with their notices' progress,
a form to schedule one (announced at once) and a button to cancel one that has not
started. Engineers and leads schedule and cancel; every agent sees the page."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from inbox.pages import CSRF, Agent, Engineer, render
from storage.db import session_factory
from storage.models.accounts import User
from support.delivery import broadcast
from support.incidents import core, maintenance
from support.incidents.core import Actor, IncidentError

router = APIRouter(include_in_schema=False)


def _back(flash: str) -> RedirectResponse:
    return RedirectResponse(f"/maintenance?flash={quote(flash[:200])}", status_code=303)


@router.get("/maintenance")
def maintenance_page(request: Request, user: User = Agent) -> Response:
    settings = request.app.state.settings
    upcoming = maintenance.list_windows("upcoming", settings)
    with session_factory(settings.db_url, readonly=True)() as session:
        for window in upcoming:
            window["progress"] = broadcast.progress(session, f"maint:{window['id']}:")
    return render(request, "maintenance.html", {
        "user": user, "upcoming": upcoming, "past": maintenance.list_windows("past", settings)[:20],
        "components": core.components(settings), "remind_minutes": round(settings.maintenance_remind_minutes),
    })


@router.post("/maintenance")
def schedule(request: Request, title: str = Form(""), starts_at: str = Form(""), ends_at: str = Form(""),
             components: list[str] = Form(default=[]), description: str = Form(""), user: User = Engineer,
             _csrf: None = CSRF) -> Response:
    """The form's times are UTC (`datetime-local` inputs, labelled so)."""
    try:
        start, end = datetime.fromisoformat(starts_at[:40]), datetime.fromisoformat(ends_at[:40])
    except ValueError:
        return _back("Give a start and an end time (UTC).")
    try:
        window = maintenance.schedule(title, start, end, Actor(user.email, user.role), components_=components,
                                      description=description, settings=request.app.state.settings)
    except IncidentError as exc:
        return _back(str(exc))
    return _back(f"Maintenance #{window['id']} scheduled and announced on every channel.")


@router.post("/maintenance/{window_id}/cancel")
def cancel(request: Request, window_id: int, user: User = Engineer, _csrf: None = CSRF) -> Response:
    try:
        maintenance.cancel(window_id, Actor(user.email, user.role), request.app.state.settings)
    except IncidentError as exc:
        return _back(str(exc))
    return _back(f"Maintenance #{window_id} cancelled.")
