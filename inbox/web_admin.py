"""The lead's dashboard (KPIs, SLA attainment, volume charts, CSV export) and the
engineers' operations page (quarantine, failed outbox, contacts)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import PlainTextResponse

from inbox.charts import stacked_bars
from inbox.pages import CSRF, Engineer, Lead, render
from inbox.web import _back
from storage.models.accounts import User
from support import operations
from support.tickets import metrics
from support.tickets.actions import find_contacts

router = APIRouter(include_in_schema=False)


DEFAULT_DAYS = 7  # this week; 30 and 90 days are one click away


def _days(request: Request) -> int:
    value = request.query_params.get("days", "")
    return int(value) if value.isdigit() and len(value) < 4 else DEFAULT_DAYS


@router.get("/dashboard")
def dashboard(request: Request, user: User = Lead) -> Response:
    board = metrics.dashboard(_days(request), request.app.state.settings)
    charts = [(f"Tickets by {dimension}", stacked_bars(f"Tickets by {dimension}", board.volume[dimension],
                                                         board.day_list))
              for dimension in ("channel", "category", "priority")]
    return render(request, "dashboard.html", {"user": user, "board": board, "charts": charts})


@router.get("/dashboard/kpis.csv")
def kpis_csv(request: Request, user: User = Lead) -> Response:
    board = metrics.dashboard(_days(request), request.app.state.settings)
    return _csv(metrics.kpis_csv(board), "trkv-kpis.csv")


@router.get("/dashboard/volume.csv")
def volume_csv(request: Request, user: User = Lead) -> Response:
    board = metrics.dashboard(_days(request), request.app.state.settings)
    return _csv(metrics.volume_csv(board), "trkv-volume.csv")


def _csv(body: str, filename: str) -> Response:
    return PlainTextResponse(body, media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/operations")
def operations_page(request: Request, user: User = Engineer) -> Response:
    settings = request.app.state.settings
    query = request.query_params.get("contact", "")[:200]
    return render(request, "operations.html", {
        "user": user, "quarantine": operations.quarantined(settings), "failed": operations.failed_outbox(settings),
        "contacts": find_contacts(query, settings) if query else [], "contact_query": query,
    })


@router.post("/operations/quarantine/{row_id}/release")
def release(row_id: int, request: Request, user: User = Engineer, _: None = CSRF) -> Response:
    try:
        staged = operations.release(row_id, request.app.state.settings)
    except operations.OperationError as exc:
        return _back("/operations", str(exc))
    return _back("/operations", f"Released: staged again as {staged[0]}.")


@router.post("/operations/quarantine/{row_id}/discard")
def discard(row_id: int, request: Request, user: User = Engineer, _: None = CSRF) -> Response:
    try:
        operations.discard(row_id, request.app.state.settings)
    except operations.OperationError as exc:
        return _back("/operations", str(exc))
    return _back("/operations", f"Quarantined message {row_id} discarded.")


@router.post("/operations/outbox/{row_id}/retry")
def retry(row_id: int, request: Request, user: User = Engineer, _: None = CSRF, back: str = Form("/operations")) -> Response:
    try:
        operations.retry(row_id, request.app.state.settings)
    except operations.OperationError as exc:
        return _back(back, str(exc))
    return _back(back, f"Outbox row {row_id} queued again.")
