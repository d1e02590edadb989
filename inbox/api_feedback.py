"""The feedback loop's JSON API: satisfaction figures and the conversations behind them,
the follow-up list, contacts as one person across channels, and the weekly review."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from inbox.auth import DOMAIN_ERRORS, api_role, api_user
from storage.db import session_factory
from storage.models.accounts import User
from storage.models.base import utcnow
from support.feedback import kpis

router = APIRouter(prefix="/api", tags=["feedback"], dependencies=[Depends(api_user)], responses=DOMAIN_ERRORS)

Agent = Depends(api_role("community_manager"))
Lead = Depends(api_role("lead"))
Dimension = Literal["channel", "category", "agent", "incident", "week"]


def _window(days: int):
    """The last `days` calendar days, today included (until tomorrow: a clock a little ahead is no gap)."""
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days - 1), today + timedelta(days=2)


@router.get("/feedback/satisfaction")
def satisfaction(request: Request, days: int = Query(30, ge=1, le=366), user: User = Lead) -> dict[str, Any]:
    """Satisfaction (4-5 of all answers) and response rate, in total and per channel,
    category, agent, incident (the surveys of its linked tickets) and week, for surveys
    sent in the last `days` days."""
    since, until = _window(days)
    with session_factory(request.app.state.settings.db_url, readonly=True)() as session:
        result = kpis.satisfaction(session, since, until, request.app.state.settings)
    return {"since": since.isoformat(), "days": days, "total": result.total.as_dict(),
            "by": {d: {k: f.as_dict() for k, f in sorted(v.items())} for d, v in result.by.items()}}


@router.get("/feedback/conversations")
def conversations(request: Request, days: int = Query(30, ge=1, le=366), dimension: Dimension | None = None,
                  value: str | None = Query(None, max_length=320), low: bool = False,
                  user: User = Lead) -> dict[str, Any]:
    """The answered surveys behind a figure (`low`: only scores 1-3)."""
    since, until = _window(days)
    with session_factory(request.app.state.settings.db_url, readonly=True)() as session:
        items = kpis.conversations(session, since, until, dimension=dimension, value=value,
                                   scores=(1, 2, 3) if low else (1, 2, 3, 4, 5))
    return {"items": [{**i, "answered_at": i["answered_at"].isoformat() if i["answered_at"] else None}
                      for i in items]}


@router.get("/feedback/follow-up")
def follow_up(request: Request, user: User = Agent) -> dict[str, Any]:
    """Tickets whose customer answered 1 or 2 and nobody has followed up yet."""
    from support.feedback import follow_ups

    return {"items": follow_ups.open_items(request.app.state.settings)}


class FollowedUp(BaseModel):
    ref: str = Field(..., max_length=40)


@router.post("/feedback/follow-up/done")
def follow_up_done(body: FollowedUp, request: Request, user: User = Agent) -> dict[str, Any]:
    from support.feedback import follow_ups

    try:
        follow_ups.mark_done(body.ref, user.id, request.app.state.settings)
    except ValueError as exc:
        raise HTTPException(404, str(exc)) from exc
    return {"ref": body.ref, "followed_up": True}


# one person across channels ----------------------------------------------------------------


@router.get("/contacts/{contact_id}")
def contact(contact_id: int, request: Request, user: User = Agent) -> dict[str, Any]:
    """A contact as one person: identities on every channel, tickets, one timeline, and
    suggestions of other contacts that may be the same person (each with its reason)."""
    from support.feedback import contacts

    found = contacts.view(contact_id, request.app.state.settings)
    if found is None:
        raise HTTPException(404, f"no contact {contact_id}")
    return found


class LinkBody(BaseModel):
    contact_id: int = Field(..., description="The contact that is the same person")
    reason: str = Field("", max_length=300)


@router.post("/contacts/{contact_id}/link")
def link(contact_id: int, body: LinkBody, request: Request, user: User = Agent) -> dict[str, Any]:
    from support.feedback import contacts

    try:
        person = contacts.link(contact_id, body.contact_id, user_id=user.id, reason=body.reason,
                               settings=request.app.state.settings)
    except contacts.LinkError as exc:
        raise HTTPException(404 if "no such" in str(exc) else 409, str(exc)) from exc
    return {"person_id": person, "linked": True}


@router.post("/contacts/{contact_id}/unlink")
def unlink(contact_id: int, request: Request, user: User = Agent) -> dict[str, Any]:
    from support.feedback import contacts

    try:
        contacts.unlink(contact_id, user_id=user.id, settings=request.app.state.settings)
    except contacts.LinkError as exc:
        raise HTTPException(404 if "no such" in str(exc) else 409, str(exc)) from exc
    return {"contact_id": contact_id, "linked": False}


# the weekly review -------------------------------------------------------------------------


@router.get("/reports/weekly")
def weekly(request: Request, week: str | None = Query(None, max_length=10, description="YYYY-Www; default: last week"),
           user: User = Lead) -> dict[str, Any]:
    """The weekly review, as `trkv report weekly --json` prints it."""
    from support.feedback import review

    try:
        return review.weekly(week, request.app.state.settings)
    except review.WeekError as exc:
        raise HTTPException(422, str(exc)) from exc


class ThemeBody(BaseModel):
    theme: str = Field(..., min_length=1, max_length=200)
    status: Literal["planned", "declined", "shipped"]
    release: str | None = Field(None, max_length=200, description="Shipped: the release that closes the theme")


@router.post("/reports/weekly/themes")
def mark_theme(body: ThemeBody, request: Request, user: User = Lead) -> dict[str, Any]:
    """The lead's decision on a feature-request theme (leads only)."""
    from support.feedback import themes

    try:
        themes.mark(body.theme, body.status, release=body.release, user_id=user.id, settings=request.app.state.settings)
    except themes.ThemeError as exc:
        raise HTTPException(422, str(exc)) from exc
    return {"theme": body.theme.strip(), "status": body.status, "release": body.release}
