"""Incidents over the JSON API (ARCHITECTURE.md, "Incidents and status"): list, declare,
read, post updates (confirm or dismiss a proposal), the report, and bulk resolution of
linked tickets. Everyone with a token reads; engineers declare and resolve;
community managers publish updates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from inbox.auth import DOMAIN_ERRORS, MAX_ID, api_role, api_user
from inbox.refusals import run_incident_call
from storage.models.accounts import User
from support.incidents import core, report, resolve
from support.incidents.core import Actor

IncidentId = Annotated[int, Path(ge=1, le=MAX_ID)]  # ids are BIGINT at most
router = APIRouter(prefix="/api", tags=["incidents"], dependencies=[Depends(api_user)], responses=DOMAIN_ERRORS)


class NewIncident(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    severity: Literal["critical", "major", "minor"]
    components: list[str] | None = None
    message: str | None = Field(None, max_length=20_000)
    ticket_refs: list[str] | None = Field(None, max_length=5000)


class NewUpdate(BaseModel):
    status: Literal["investigating", "identified", "monitoring", "resolved", "dismissed"]
    message: str = Field("", max_length=20_000)
    next_update_at: datetime | None = None
    publish: bool = True


class ReportEdit(BaseModel):
    title: str | None = None
    start: str | None = None
    end: str | None = None
    impact: str | None = None
    root_cause: str | None = Field(None, max_length=report.MAX_FIELD)
    resolution: str | None = Field(None, max_length=report.MAX_FIELD)
    prevention: str | None = Field(None, max_length=report.MAX_FIELD)
    markdown: str | None = None
    published: bool | None = None


class BulkResolve(BaseModel):
    message: str = Field(min_length=1, max_length=5000)


def _actor(user: User) -> Actor:
    return Actor(who=user.email, role=user.role)


@router.get("/incidents")
def list_incidents(request: Request, state: Literal["proposed", "open", "resolved", "dismissed"] | None = Query(None)
                   ) -> dict[str, Any]:
    """Newest first; without `state`, all but dismissed."""
    return {"items": core.list_incidents(state, request.app.state.settings)}


@router.post("/incidents", status_code=201)
def declare(request: Request, body: NewIncident, user: User = Depends(api_role("engineer"))) -> dict[str, Any]:
    return run_incident_call(lambda: core.declare(body.title, body.severity, _actor(user), components_=body.components,
                                                  message=body.message, ticket_refs=body.ticket_refs,
                                                  settings=request.app.state.settings))


@router.get("/incidents/{incident_id}")
def get_incident(request: Request, incident_id: IncidentId) -> dict[str, Any]:
    return run_incident_call(lambda: core.get(incident_id, request.app.state.settings))


@router.post("/incidents/{incident_id}/updates", status_code=201)
def post_update(request: Request, incident_id: IncidentId, body: NewUpdate,
                user: User = Depends(api_role("community_manager"))) -> dict[str, Any]:
    """A status update; the first one confirms a proposal, `dismissed` drops it."""
    return run_incident_call(lambda: core.post_update(incident_id, body.status, body.message, _actor(user),
                                                      next_update_at=body.next_update_at, publish=body.publish,
                                                      settings=request.app.state.settings))


@router.get("/incidents/{incident_id}/report")
def get_report(request: Request, incident_id: IncidentId) -> dict[str, Any]:
    return run_incident_call(lambda: report.get(incident_id, request.app.state.settings))


@router.put("/incidents/{incident_id}/report")
def put_report(request: Request, incident_id: IncidentId, body: ReportEdit,
               user: User = Depends(api_role("engineer"))) -> dict[str, Any]:
    """Root cause, resolution, prevention (Markdown) and `published`; the prefilled keys are read-only."""
    return run_incident_call(lambda: report.edit(incident_id, body.model_dump(), user.email,
                                                 request.app.state.settings))


@router.post("/incidents/{incident_id}/resolve-tickets")
def resolve_tickets(request: Request, incident_id: IncidentId, body: BulkResolve,
                    user: User = Depends(api_role("engineer"))) -> JSONResponse:
    """Resolve every linked ticket with a closing message on its own channel."""
    count = run_incident_call(lambda: resolve.resolve_linked(incident_id, body.message, _actor(user),
                                                             request.app.state.settings))
    return JSONResponse({"resolved": count})
