"""The JSON API: inbound messages from integrations, reading tickets, and the same
actions as the web inbox (triage, assign, status, notes, replies, merges, operations).
Every route needs a bearer token; actions check the token user's role."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from inbox import inbound
from inbox.auth import BAD_BODY, ERRORS, MAX_ID, NOT_FOUND, api_role, api_user, error
from storage.db import session_factory
from storage.models.accounts import User
from support import operations
from support.delivery import kicks as kick
from support.intake.ingest import ingest
from support.intake.sanitize import clean_text, sanitize
from support.tickets import actions as ticket_actions
from support.tickets import metrics
from support.tickets.queries import MAX_LIMIT, InvalidCursor, TicketFilters, get_ticket, list_tickets
from support.tickets.replies import ReplyError, reply
from trkv.settings import Settings

router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(api_user)], responses=ERRORS)

Agent = Depends(api_role("community_manager"))
Engineer = Depends(api_role("engineer"))
Lead = Depends(api_role("lead"))

_INBOUND_BODY = {"required": True, "content": {"application/json": {"schema": inbound.openapi_schema()}}}
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]  # a larger id is refused (422), never handed to the driver
ON_TICKET = {**BAD_BODY, **NOT_FOUND}  # an action on a ticket: its body, its ref
CONFLICT = {409: error("The row is not in a state this action applies to")}


@router.post(
    "/inbound",
    status_code=201,
    openapi_extra={"requestBody": _INBOUND_BODY},  # documented by hand: the handler reads the raw body
    responses={200: {"description": "A redelivery: the message was stored before"}, **BAD_BODY,
               413: error("Too large"), 429: error("Too many requests from this token (see Retry-After)"),
               422: {"description": "A JSON body that is not a message", "content": {"application/json": {
                   "schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}}},
)
async def post_inbound(request: Request) -> JSONResponse:
    """Store one message (201, or 200 when its external_id was seen before) and answer its ticket's ref."""
    settings: Settings = request.app.state.settings
    request.app.state.inbound_buckets.check(request.state.api_token)  # before reading a byte of the body
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


# reading ---------------------------------------------------------------------------------


@router.get("/tickets")
def tickets(
    request: Request,
    limit: int = Query(50, ge=1, description=f"Page size; more than {MAX_LIMIT} is served as {MAX_LIMIT}"),
    channel: str | None = Query(None, description="One value, or several separated by commas"),
    status: str | None = Query(None, description="One value, or several separated by commas"),
    priority: str | None = Query(None, description="One value, or several separated by commas"),
    category: str | None = Query(None, description="One value, or several separated by commas"),
    assignee: str | None = Query(None, description="Assignees' emails separated by commas; `none` for unassigned"),
    sla: Literal["at_risk", "breached"] | None = Query(None, description="Active tickets at risk or breached"),
    needs_triage: bool | None = Query(None),
    q: str | None = Query(None, description="Full-text search of the whole conversation (subject, messages, replies); the last word may be a prefix"),
    sort: Literal["newest", "due"] = Query("newest", description="newest first, or by first-response due time"),
    cursor: str | None = Query(None, description="next_cursor of the previous page (same sort)"),
) -> dict[str, Any]:
    """Tickets a page at a time, newest first (or by due time)."""
    settings = request.app.state.settings
    emails = _values(assignee) or []
    filters = TicketFilters(
        channel=_values(channel), status=_values(status), priority=_values(priority), category=_values(category),
        q=_clean(q)[:200] or None, assignee_ids=_user_ids([e for e in emails if e != "none"], settings),
        unassigned="none" in emails, sla=sla, needs_triage=needs_triage,
    )
    try:
        page = list_tickets(filters, min(limit, MAX_LIMIT), cursor, settings, sort=sort)
    except InvalidCursor as exc:
        raise HTTPException(422, str(exc)) from exc
    next_url = str(request.url.include_query_params(cursor=page.next_cursor)) if page.next_cursor else None
    body = {"items": page.items, "next_cursor": page.next_cursor, "next": next_url}
    if page.search_backlog:  # an import's tickets not indexed yet: they matched by substring
        body["search_pending"] = page.search_backlog
    return body


@router.get("/tickets/{ref}", responses=NOT_FOUND)
def ticket(ref: str, request: Request) -> dict[str, Any]:
    """One ticket with its messages, oldest first."""
    found = get_ticket(ref, request.app.state.settings)
    if found is None:
        raise HTTPException(404, f"no ticket {ref[:40]}")
    return found


# actions -----------------------------------------------------------------------------------


class TriageBody(BaseModel):
    accept: bool = Field(False, description="Take the suggestion for `fields` (default: both)")
    fields: list[Literal["priority", "category"]] = ["priority", "category"]
    field: Literal["priority", "category"] | None = None
    value: str | None = None


class AssignBody(BaseModel):
    assignee: str | None = Field(None, description="A user's email; null unassigns")


class StatusBody(BaseModel):
    status: str


class TextBody(BaseModel):
    text: str = Field(max_length=100_000)


class ReplyBody(TextBody):
    key: str | None = Field(None, max_length=64, description="Idempotency key: a resend with it sends once")


class MergeBody(BaseModel):
    into: str


class BulkBody(BaseModel):
    refs: list[str] = Field(max_length=200)
    action: Literal["assign", "unassign", "status", "priority", "category", "accept"]
    value: str | None = None


class ContactMergeBody(BaseModel):
    source: int = Field(ge=1, le=MAX_ID)
    target: int = Field(ge=1, le=MAX_ID)


class BlockBody(BaseModel):
    reason: str = Field("", max_length=2000)


def _run(action, *args, **kwargs) -> Any:
    try:
        return action(*args, **kwargs)
    except ticket_actions.ActionError as exc:
        status = 404 if str(exc).startswith(("no ticket", "no contact")) else 422
        raise HTTPException(status, str(exc)) from exc


@router.post("/tickets/{ref}/triage", responses=ON_TICKET)
def triage(ref: str, body: TriageBody, request: Request, user: User = Agent) -> dict[str, Any]:
    """Confirm the suggestion or set a value; recorded as a triage correction."""
    settings = request.app.state.settings
    if body.accept:
        _run(ticket_actions.accept_suggestion, ref, user_id=user.id, fields=body.fields, settings=settings)
    elif body.field and body.value:
        _run(ticket_actions.set_triage, ref, body.field, body.value, user_id=user.id, settings=settings)
    else:
        raise HTTPException(422, "give accept: true, or field and value")
    return get_ticket(ref, settings, with_messages=False)


@router.post("/tickets/{ref}/assign", responses=ON_TICKET)
def assign(ref: str, body: AssignBody, request: Request, user: User = Agent) -> dict[str, Any]:
    settings = request.app.state.settings
    assignee_id = None
    if body.assignee:
        ids = _user_ids([body.assignee], settings)
        if not ids:
            raise HTTPException(422, f"no user {body.assignee[:320]}")
        assignee_id = ids[0]
    _run(ticket_actions.assign, ref, assignee_id, user_id=user.id, settings=settings)
    return get_ticket(ref, settings, with_messages=False)


@router.post("/tickets/{ref}/status", responses=ON_TICKET)
def set_status(ref: str, body: StatusBody, request: Request, user: User = Agent) -> dict[str, Any]:
    settings = request.app.state.settings
    _run(ticket_actions.set_status, ref, body.status, user_id=user.id, settings=settings)
    return get_ticket(ref, settings, with_messages=False)


@router.post("/tickets/{ref}/notes", status_code=201, responses=ON_TICKET)
def add_note(ref: str, body: TextBody, request: Request, user: User = Agent) -> dict[str, str]:
    _run(ticket_actions.add_note, ref, body.text, user_id=user.id, settings=request.app.state.settings)
    return {"ref": ref}


@router.post("/tickets/{ref}/reply", status_code=202, responses=ON_TICKET)
def send_reply(ref: str, body: ReplyBody, request: Request, user: User = Agent,
               idempotency_key: str | None = Header(None, max_length=64)) -> dict[str, Any]:
    """Queue a reply on the ticket's channel (sent by a worker)."""
    try:
        result = reply(ref, body.text, user_id=user.id, key=body.key or idempotency_key,
                       settings=request.app.state.settings)
    except ReplyError as exc:
        raise HTTPException(404 if str(exc).startswith("no ticket") else 422, str(exc)) from exc
    return asdict(result)


@router.post("/tickets/{ref}/merge", responses=ON_TICKET)
def merge(ref: str, body: MergeBody, request: Request, user: User = Engineer) -> dict[str, str]:
    target = _run(ticket_actions.merge_tickets, ref, body.into.strip(), user_id=user.id,
                  settings=request.app.state.settings)
    return {"merged": ref, "into": target}


@router.post("/bulk", responses=BAD_BODY)
def bulk(body: BulkBody, request: Request, user: User = Agent) -> dict[str, Any]:
    value = body.value
    if body.action == "assign" and value and not value.isdigit():
        ids = _user_ids([value], request.app.state.settings)
        if not ids:
            raise HTTPException(422, f"no user {value[:320]}")
        value = str(ids[0])
    result = _run(ticket_actions.bulk, body.refs, body.action, value, user_id=user.id,
                  settings=request.app.state.settings)
    return {"done": result.done, "failed": result.failed}


@router.post("/contacts/merge", responses=ON_TICKET)
def merge_contacts(body: ContactMergeBody, request: Request, user: User = Engineer) -> dict[str, int]:
    _run(ticket_actions.merge_contacts, body.source, body.target, user_id=user.id, settings=request.app.state.settings)
    return {"merged": body.source, "into": body.target}


@router.post("/contacts/{contact_id}/block", responses=ON_TICKET)
def block_contact(contact_id: RowId, body: BlockBody, request: Request, user: User = Engineer) -> dict[str, int]:
    closed = _run(ticket_actions.block_contact, contact_id, body.reason, user_id=user.id,
                  settings=request.app.state.settings)
    return {"blocked": contact_id, "tickets_closed": closed}


# metrics and operations ------------------------------------------------------------------


@router.get("/metrics")
def get_metrics(request: Request, days: int = Query(30, ge=1, le=366), user: User = Lead) -> dict[str, Any]:
    """KPIs against their targets (null value: no data yet) and ticket volume per day."""
    board = metrics.dashboard(days, request.app.state.settings)
    return {
        "since": board.since.isoformat(), "until": board.until.isoformat(), "tickets": board.total,
        "kpis": [{**asdict(k), "target_met": k.met} for k in board.kpis],
        "volume": board.volume,
    }


@router.get("/operations/quarantine")
def get_quarantine(request: Request, user: User = Engineer) -> list[dict[str, Any]]:
    return [{**row, "created_at": row["created_at"].isoformat()} for row in operations.quarantined(
        request.app.state.settings)]


@router.post("/operations/quarantine/{row_id}/{decision}", responses=CONFLICT)
def decide_quarantine(row_id: RowId, decision: Literal["release", "discard"], request: Request,
                      user: User = Engineer) -> dict[str, Any]:
    settings = request.app.state.settings
    try:
        if decision == "release":
            return {"released": row_id, "staged": operations.release(row_id, settings)}
        operations.discard(row_id, settings)
        return {"discarded": row_id}
    except operations.OperationError as exc:
        raise HTTPException(409, str(exc)) from exc


@router.get("/operations/outbox/failed")
def get_failed(request: Request, user: User = Engineer) -> list[dict[str, Any]]:
    return [{**row, "updated_at": row["updated_at"].isoformat()} for row in operations.failed_outbox(
        request.app.state.settings)]


@router.post("/operations/outbox/{row_id}/retry", responses=CONFLICT)
def retry_outbox(row_id: RowId, request: Request, user: User = Engineer) -> dict[str, int]:
    try:
        operations.retry(row_id, request.app.state.settings)
    except operations.OperationError as exc:
        raise HTTPException(409, str(exc)) from exc
    return {"queued": row_id}


# helpers -----------------------------------------------------------------------------------


def _user_ids(emails: list[str], settings: Settings) -> list[int] | None:
    if not emails:
        return None
    with session_factory(settings.db_url, readonly=True)() as session:
        ids = session.execute(select(User.id).where(User.email.in_([e.lower() for e in emails]))).scalars().all()
    return list(ids) or [-1]  # unknown emails match nothing, rather than everything


def _clean(value: str | None) -> str:
    # A NUL byte (%00) in a query would make PostgreSQL refuse the statement.
    return clean_text(value)[0].strip() if value else ""


def _values(value: str | None) -> list[str] | None:
    values = [v.strip() for v in _clean(value).split(",") if v.strip()]
    return values or None

