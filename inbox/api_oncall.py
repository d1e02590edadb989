"""On-call and SLA over HTTP: acknowledging a page by its signed link, and the JSON
views of alerts, who is on call, and tickets' SLA state (due in, at risk, breached,
paged, acknowledged by whom).

The signed link opens a page with one button: a GET never acknowledges, because chat
apps and mail scanners fetch links on their own.
"""

from __future__ import annotations

import html
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import and_, or_, select

from inbox.auth import ERRORS, MAX_ID, api_user, error
from storage.db import session_factory
from storage.models.accounts import User
from storage.models.base import utcnow
from storage.models.oncall import Alert, OncallSchedule
from storage.models.tickets import Ticket
from support.oncall import paging, sla
from support.oncall import rotations as oncall
from support.tickets.queries import get_ticket

links = APIRouter(tags=["on-call"])
api = APIRouter(prefix="/api", tags=["on-call"], dependencies=[Depends(api_user)], responses=ERRORS)

# Ids are 64-bit in the database: a larger one is refused (422), never passed to the driver.
AlertId = Annotated[int, Path(ge=1, le=MAX_ID)]
_PAGE = {"content": {"text/html": {"schema": {"type": "string"}}}}
_LINK_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "The page", **_PAGE},
    403: {"description": "The link is not one the hub signed, or it expired", **_PAGE},
    404: {"description": "No such alert", **_PAGE},
}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    """A public page in the hub's look (public_base.html); `body` is markup escaped by the caller."""
    from markupsafe import Markup

    from inbox.pages import templates

    page = templates.get_template("public_message.html").render(title=title, body=Markup(body))  # noqa: S704
    return HTMLResponse(page, status_code=status)


@links.get("/oncall/ack/{alert_id}", response_class=HTMLResponse, responses=_LINK_ANSWERS)
def ack_form(request: Request, alert_id: AlertId, who: str = Query("", max_length=400),
             exp: int = Query(0, ge=0, le=MAX_ID), sig: str = Query("", max_length=200)) -> HTMLResponse:
    """The page a signed acknowledgement link opens: one button that acknowledges."""
    settings = request.app.state.settings
    problem = paging.verify(alert_id, who, exp, sig, settings, utcnow())
    if problem:
        return _page("Link not valid", f"<p>{html.escape(problem)}</p>", 403)
    fields = "".join(f"<input type='hidden' name='{k}' value='{html.escape(str(v))}'>"
                     for k, v in (("who", who), ("exp", exp), ("sig", sig)))
    return _page(f"Acknowledge alert {alert_id}?",
                 f"<form method='post' action='/oncall/ack/{alert_id}'>{fields}<button class='btn-primary'>Acknowledge</button></form>")


@links.post("/oncall/ack/{alert_id}", response_class=HTMLResponse, responses=_LINK_ANSWERS)
def ack_by_link(request: Request, alert_id: AlertId, who: str = Form("", max_length=400),
                exp: int = Form(0, ge=0, le=MAX_ID), sig: str = Form("", max_length=200)) -> HTMLResponse:
    settings = request.app.state.settings
    problem = paging.verify(alert_id, who, exp, sig, settings, utcnow())
    if problem:
        return _page("Link not valid", f"<p>{html.escape(problem)}</p>", 403)
    with session_factory(settings.db_url, readonly=True)() as session:
        by = paging.who_label(session, who)
    result = paging.acknowledge(alert_id, by, "link", settings)
    if result.outcome == "unknown":
        return _page("No such alert", "", 404)
    alert = result.alert
    said = "Acknowledged" if result.outcome == "acknowledged" else "Already acknowledged"
    return _page(f"{said}: alert {alert_id}",
                 f"<p>By {html.escape(alert['acknowledged_by'] or '')} at {alert['acknowledged_at']}. "
                 f"Paging has stopped.</p>")


@api.get("/oncall/alerts")
def alerts(request: Request,
           status: Literal["", "triggered", "acknowledged", "resolved"] | None = Query(
               None, description="triggered, acknowledged or resolved; empty or absent: every alert"),
           limit: int = Query(50, ge=1, le=200)) -> dict[str, Any]:
    """Alerts newest first: count, paged step, acknowledged by whom."""
    return {"items": paging.list_alerts(request.app.state.settings, status or None, limit)}


_NO_ALERT = {404: error("No such alert")}


@api.get("/oncall/alerts/{alert_id}", responses=_NO_ALERT)
def alert(request: Request, alert_id: AlertId) -> dict[str, Any]:
    settings = request.app.state.settings
    with session_factory(settings.db_url, readonly=True)() as session:
        found = session.get(Alert, alert_id)
        if found is None:
            raise HTTPException(404, f"no alert {alert_id}")
        refs = session.execute(select(Ticket.id).where(Ticket.alert_id == alert_id).order_by(Ticket.id).limit(200))
        return {**paging.serialize(found, utcnow()), "tickets": [f"TRKV-{i}" for i in refs.scalars()]}


@api.post("/oncall/alerts/{alert_id}/ack", responses=_NO_ALERT)
def acknowledge(request: Request, alert_id: AlertId, user: User = Depends(api_user)) -> dict[str, Any]:
    """Acknowledge as the token's user; paging stops."""
    result = paging.acknowledge(alert_id, user.email, "api", request.app.state.settings)
    if result.outcome == "unknown":
        raise HTTPException(404, f"no alert {alert_id}")
    return {"outcome": result.outcome, "alert": result.alert}


@api.get("/oncall/now")
def on_call_now(request: Request) -> dict[str, Any]:
    """Who each schedule has on call right now."""
    settings = request.app.state.settings
    now = utcnow()
    with session_factory(settings.db_url, readonly=True)() as session:
        items = []
        for schedule in session.execute(select(OncallSchedule).order_by(OncallSchedule.id)).scalars():
            user_id = oncall.on_call(session, schedule, now)
            user = session.get(User, user_id) if user_id else None
            items.append({"schedule": schedule.name, "timezone": schedule.timezone,
                          "on_call": user.email if user else None})
    return {"items": items}


@api.get("/sla/tickets/{ref}", responses={404: error("No such ticket")})
def ticket_sla(request: Request, ref: str) -> dict[str, Any]:
    """One ticket's clocks (due in, at risk, breached, paused) and its alert (paged, acknowledged by whom)."""
    settings = request.app.state.settings
    found = get_ticket(ref, settings, with_messages=False)
    if found is None:
        raise HTTPException(404, f"no ticket {ref[:40]}")
    with session_factory(settings.db_url, readonly=True)() as session:
        ticket = session.get(Ticket, int(found["ref"].split("-", 1)[1]))
        now = utcnow()
        page = session.get(Alert, ticket.alert_id) if ticket.alert_id else None
        return {"ref": ticket.ref, "priority": ticket.priority, "status": ticket.status,
                "sla": sla.state(ticket, settings, now),
                "alert": paging.serialize(page, now) if page is not None else None}


@api.get("/sla/at-risk")
def at_risk(request: Request, limit: int = Query(100, ge=1, le=500)) -> dict[str, Any]:
    """Open tickets the sweep warned about or found late, earliest due first."""
    settings = request.app.state.settings
    now = utcnow()
    first_late = and_(Ticket.first_responded_at.is_(None),
                      or_(Ticket.first_response_warned_at.is_not(None), Ticket.first_response_due_at < now))
    resolution_late = or_(Ticket.resolution_warned_at.is_not(None), Ticket.resolution_due_at < now)
    query = (select(Ticket).where(Ticket.status.in_(sla.RUNNING), or_(first_late, resolution_late))
             .order_by(Ticket.first_response_due_at).limit(limit))
    with session_factory(settings.db_url, readonly=True)() as session:
        return {"items": [{"ref": t.ref, "priority": t.priority, "channel": t.channel, "subject": t.subject,
                           "sla": sla.state(t, settings, now)} for t in session.execute(query).scalars()]}


router = APIRouter()  # what inbox/app.py includes: the signed links and the JSON API
router.include_router(links)
router.include_router(api)
