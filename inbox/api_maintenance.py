"""Scheduled maintenance over the JSON API: schedule (announced at once), list, read,
change (before it starts) and cancel. Everyone with a token reads; leads and engineers schedule and cancel. The beat
reminds, starts and completes windows (support/incidents/maintenance.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from inbox.auth import DOMAIN_ERRORS, MAX_ID, api_role, api_user
from inbox.refusals import run_incident_call
from storage.models.accounts import User
from support.incidents import maintenance
from support.incidents.core import Actor

WindowId = Annotated[int, Path(ge=1, le=MAX_ID)]
router = APIRouter(prefix="/api", tags=["maintenance"], dependencies=[Depends(api_user)], responses=DOMAIN_ERRORS)


class NewWindow(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    starts_at: datetime = Field(description="ISO 8601; without a zone, UTC")
    ends_at: datetime
    components: list[str] | None = Field(None, max_length=50, description="empty: every component")
    description: str = Field("", max_length=5000)


class WindowEdit(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=300)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    components: list[str] | None = Field(None, max_length=50)
    description: str | None = Field(None, max_length=5000)


@router.get("/maintenance")
def list_windows(request: Request, state: Literal["upcoming", "past"] | None = Query(None)) -> dict[str, Any]:
    """Upcoming (scheduled, in progress) soonest first; past (completed, cancelled) newest first."""
    return {"items": run_incident_call(lambda: maintenance.list_windows(state, request.app.state.settings))}


@router.post("/maintenance", status_code=201)
def schedule(request: Request, body: NewWindow, user: User = Depends(api_role("engineer"))) -> dict[str, Any]:
    """Schedule a window: the status page, Discord, X and subscribers are told at once."""
    return run_incident_call(lambda: maintenance.schedule(body.title, body.starts_at, body.ends_at,
                                                          Actor(user.email, user.role), components_=body.components,
                                                          description=body.description,
                                                          settings=request.app.state.settings))


@router.get("/maintenance/{window_id}")
def get_window(request: Request, window_id: WindowId) -> dict[str, Any]:
    return run_incident_call(lambda: maintenance.get(window_id, request.app.state.settings))


@router.patch("/maintenance/{window_id}")
def change(request: Request, window_id: WindowId, body: WindowEdit,
           user: User = Depends(api_role("engineer"))) -> dict[str, Any]:
    """Edit a window that has not started; new times are told to everyone told of the old ones.
    Once the reminder has gone out the times are fixed (409): cancel and schedule anew."""
    return run_incident_call(lambda: maintenance.change(window_id, Actor(user.email, user.role), title=body.title,
                                                        description=body.description, components_=body.components,
                                                        starts_at=body.starts_at, ends_at=body.ends_at,
                                                        settings=request.app.state.settings))


@router.post("/maintenance/{window_id}/cancel")
def cancel(request: Request, window_id: WindowId, user: User = Depends(api_role("engineer"))) -> dict[str, Any]:
    """Cancel a window that has not started; whoever was told of it is told it is off."""
    return run_incident_call(lambda: maintenance.cancel(window_id, Actor(user.email, user.role),
                                                        request.app.state.settings))
