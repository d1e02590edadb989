"""The JSON API: inbound messages from integrations, and reading tickets."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from inbox import inbound
from inbox.auth import api_user
from support import kick
from support.ingest import ingest
from support.sanitize import clean_text, sanitize
from support.tickets import MAX_LIMIT, InvalidCursor, TicketFilters, get_ticket, list_tickets
from trkv.settings import Settings

router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(api_user)])


_INBOUND_BODY = {"required": True, "content": {"application/json": {"schema": inbound.openapi_schema()}}}


@router.post(
    "/inbound",
    status_code=201,
    openapi_extra={"requestBody": _INBOUND_BODY},  # documented by hand: the handler reads the raw body
    responses={200: {"description": "A redelivery: the message was stored before"}, 413: {"description": "Too large"}},
)
async def post_inbound(request: Request) -> JSONResponse:
    """Store one message (201, or 200 when its external_id was seen before) and answer its ticket's ref."""
    settings: Settings = request.app.state.settings
    # Read the raw body ourselves: the size cap must apply before any JSON is parsed.
    raw = await inbound.read_body(request, inbound.raw_cap(settings.max_text_bytes))
    body, data = inbound.parse_body(raw, settings.max_text_bytes)
    return await run_in_threadpool(_store, inbound.to_inbound(body, data), settings)


def _store(message: Any, settings: Settings) -> JSONResponse:
    try:
        message = sanitize(message, max_text_bytes=settings.max_text_bytes)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    result = ingest(message, live=True, settings=settings)  # commits
    kick.dispatch(result.outbox)  # after the commit: a worker must find the rows it is kicked for
    ticket = get_ticket(result.ref, settings, with_messages=False)
    body = {"ref": result.ref, "ticket": ticket, "duplicate": result.duplicate}
    return JSONResponse(body, status_code=200 if result.duplicate else 201)


@router.get("/tickets")
def tickets(
    request: Request,
    limit: int = Query(50, ge=1, description=f"Page size; more than {MAX_LIMIT} is served as {MAX_LIMIT}"),
    channel: str | None = Query(None, description="One value, or several separated by commas"),
    status: str | None = Query(None, description="One value, or several separated by commas"),
    priority: str | None = Query(None, description="One value, or several separated by commas"),
    category: str | None = Query(None, description="One value, or several separated by commas"),
    q: str | None = Query(None, description="Case-insensitive substring of the subject or snippet"),
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
) -> dict[str, Any]:
    """Tickets, newest first, a page at a time."""
    filters = TicketFilters(
        channel=_values(channel), status=_values(status), priority=_values(priority), category=_values(category),
        q=_clean(q) or None,
    )
    try:
        page = list_tickets(filters, min(limit, MAX_LIMIT), cursor, request.app.state.settings)
    except InvalidCursor as exc:
        raise HTTPException(422, str(exc)) from exc
    next_url = str(request.url.include_query_params(cursor=page.next_cursor)) if page.next_cursor else None
    return {"items": page.items, "next_cursor": page.next_cursor, "next": next_url}


@router.get("/tickets/{ref}")
def ticket(ref: str, request: Request) -> dict[str, Any]:
    """One ticket with its messages, oldest first."""
    found = get_ticket(ref, request.app.state.settings)
    if found is None:
        raise HTTPException(404, f"no ticket {ref[:40]}")
    return found


def _clean(value: str | None) -> str:
    # A NUL byte (%00) in a query would make PostgreSQL refuse the statement.
    return clean_text(value)[0].strip() if value else ""


def _values(value: str | None) -> list[str] | None:
    values = [v.strip() for v in _clean(value).split(",") if v.strip()]
    return values or None
