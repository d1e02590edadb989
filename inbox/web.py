"""The web inbox: login, the ticket list (filters, search, saved views, live refresh,
bulk actions). Ticket pages are in web_ticket.py, the dashboard and operations in
web_admin.py. Every page checks the user's role; every POST form carries a CSRF token."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from inbox import live, ratelimit, session
from inbox.pages import CSRF, Agent, render
from storage.db import session_factory
from storage.models.accounts import User
from storage.models.base import CATEGORIES, PRIORITIES, STATUSES
from support.accounts import authenticate
from support.intake.sanitize import clean_text
from support.tickets import actions as ticket_actions
from support.tickets import views
from support.tickets.queries import ACTIVE_STATUSES, InvalidCursor, TicketFilters, list_tickets

INBOX_SIZE = 50
FILTER_KEYS = ("channel", "status", "priority", "category", "assignee", "sla", "triage", "q")

router = APIRouter(include_in_schema=False)


def _to_login() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


def local_path(path: str, default: str = "/") -> str:
    """A path on this site, never another origin (no open redirect)."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 2000:
        return default
    return path


@router.get("/login")
def login_form(request: Request) -> Response:
    # `next`: the page that sent the visitor here (a paged ticket's link opened on a phone).
    after = local_path(request.query_params.get("next", ""))
    if session.current_user(request) is not None:
        return RedirectResponse(after, status_code=303)
    return render(request, "login.html", {"error": None, "email": "", "next": after})


@router.post("/login")
def login(request: Request, email: str = Form(""), password: str = Form(""), csrf_token: str = Form(""),
          next: str = Form("/")) -> Response:  # noqa: A002 - the form field's name
    after = local_path(next)
    if not session.csrf_ok(request, csrf_token):
        return render(request, "login.html", {"error": "The form expired; please try again.", "email": email,
                                              "next": after}, status_code=403)
    wait = ratelimit.login_wait(request, email)  # checked first: a blocked guesser learns nothing
    if wait:
        return _too_many_logins(request, email, wait, after)
    user = authenticate(email, password, request.app.state.settings) if email and password else None
    if user is None:
        wait = ratelimit.login_failed(request, email)
        if wait:
            return _too_many_logins(request, email, wait, after)
        return render(request, "login.html", {"error": "Wrong email or password.", "email": email, "next": after},
                      status_code=400)
    ratelimit.login_succeeded(request, email)
    response = RedirectResponse(after, status_code=303)
    session.log_in(response, request, user)
    return response


def _too_many_logins(request: Request, email: str, wait: int, after: str = "/") -> Response:
    error = f"Too many failed logins; try again in {max(1, round(wait / 60))} min."
    return render(request, "login.html", {"error": error, "email": email, "next": after}, status_code=429,
                  headers={"Retry-After": str(wait)})


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("")) -> Response:
    if not session.csrf_ok(request, csrf_token):
        return HTMLResponse("The form expired; go back, reload and try again.", status_code=403)
    response = _to_login()
    session.log_out(response, request)
    return response


# the list ------------------------------------------------------------------------------


def filters_from(params: dict[str, list[str]], user: User) -> tuple[TicketFilters, dict[str, list[str]]]:
    """Filters from the query string (or a saved view): (the filters, the cleaned params)."""
    def values(key: str, allowed: tuple[str, ...] | None = None) -> list[str]:
        found = []
        for raw in params.get(key, []):
            for value in clean_text(str(raw))[0].split(","):
                value = value.strip()
                if value and (allowed is None or value in allowed) and value not in found:
                    found.append(value)
        return found[:20]

    kept = {key: values(key) for key in FILTER_KEYS}
    status = values("status", (*STATUSES, "all")) or list(ACTIVE_STATUSES)
    assignee_ids, unassigned = [], False
    for value in values("assignee"):
        if value == "me":
            assignee_ids.append(user.id)
        elif value == "none":
            unassigned = True
        elif value.isdigit() and len(value) < 10:
            assignee_ids.append(int(value))
    sla = (values("sla", ("at_risk", "breached")) or [None])[0]
    triage = values("triage", ("needs",))
    filters = TicketFilters(
        channel=values("channel") or None,
        status=None if "all" in status else status,
        priority=values("priority", PRIORITIES) or None,
        category=values("category", CATEGORIES) or None,
        q=(values("q") or [""])[0][:200] or None,
        assignee_ids=assignee_ids or None, unassigned=unassigned, sla=sla,
        needs_triage=True if triage else None,
    )
    return filters, {k: v for k, v in kept.items() if v}


def _params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


def _inbox_context(request: Request, user: User, *, full_page: bool = True) -> dict[str, Any]:
    settings = request.app.state.settings
    params = _params(request)
    view_id = params.get("view", [""])[0]
    current_view = None
    if view_id.isdigit() and len(view_id) < 10:
        current_view = views.get_view(user.id, int(view_id), settings)
        if current_view is not None:
            params = {k: (v if isinstance(v, list) else [str(v)]) for k, v in current_view["filters"].items()}
    filters, kept = filters_from(params, user)
    cursor = request.query_params.get("cursor") or None
    try:
        page = list_tickets(filters, INBOX_SIZE, cursor, settings, sort="due")
        error = None
    except InvalidCursor as exc:
        page, error = list_tickets(filters, INBOX_SIZE, None, settings, sort="due"), str(exc)
    query = urlencode([(k, v) for k, vs in kept.items() for v in vs])
    return {
        "user": user, "tickets": page.items, "filters": kept, "query": query, "cursor": cursor or "",
        "next_cursor": page.next_cursor, "current_view": current_view, "error": error,
        "search_backlog": page.search_backlog, "search_backlog_scanned": page.search_backlog_scanned,
        "poll_seconds": live.poll_seconds(settings),
        # The live refresh needs only the rows: no view or agent lists for it.
        "views": views.list_views(user.id, settings) if full_page else [],
        "agents": _agents(settings) if full_page else [],
    }


_AGENTS_TTL = 30.0  # seconds; a new colleague shows up in the assign menus within this
_agents_cache: dict[str, tuple[float, list[dict[str, Any]]]] = {}


def _agents(settings) -> list[dict[str, Any]]:
    """Active users for the assign menus, cached briefly: every page shows them."""
    now = time.monotonic()
    cached = _agents_cache.get(settings.db_url)
    if cached is not None and now - cached[0] < _AGENTS_TTL:
        return cached[1]
    with session_factory(settings.db_url, readonly=True)() as session:
        rows = session.execute(select(User.id, User.email).where(User.active.is_(True)).order_by(User.email)).all()
    agents = [{"id": uid, "email": email} for uid, email in rows]
    _agents_cache[settings.db_url] = (now, agents)
    return agents


@router.get("/")
def inbox_page(request: Request, user: User = Agent) -> Response:
    return render(request, "inbox.html", _inbox_context(request, user))


@router.get("/inbox/rows")
def inbox_rows(request: Request, user: User = Agent) -> Response:
    """The table's rows for the page's live refresh (same filters and cursor as the page)."""
    return render(request, "_rows.html", _inbox_context(request, user, full_page=False))


@router.post("/views")
async def save_view(request: Request, user: User = Agent, _: None = CSRF) -> Response:
    form = await request.form()
    params: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if key in FILTER_KEYS and str(value).strip():
            params.setdefault(key, []).append(str(value))
    _, kept = filters_from(params, user)
    try:
        view_id = views.save_view(user.id, str(form.get("name", "")), kept, request.app.state.settings)
    except views.ViewError as exc:
        return _back("/", str(exc))
    return RedirectResponse(f"/?view={view_id}", status_code=303)


@router.post("/views/{view_id}/delete")
def delete_view(view_id: int, request: Request, user: User = Agent, _: None = CSRF) -> Response:
    views.delete_view(user.id, view_id, request.app.state.settings)
    return RedirectResponse("/", status_code=303)


@router.post("/bulk")
async def bulk(request: Request, user: User = Agent, _: None = CSRF) -> Response:
    form = await request.form()
    refs = [str(r) for r in form.getlist("ref")][:200]
    action, value = str(form.get("action", "")), str(form.get("value", "")) or None
    if action == "assign_me":
        action, value = "assign", str(user.id)
    if action == "resolve":
        action, value = "status", "resolved"
    if not refs:
        return _back(str(form.get("back", "/")), "Select tickets first.")
    try:
        result = ticket_actions.bulk(refs, action, value, user_id=user.id, settings=request.app.state.settings)
    except ticket_actions.ActionError as exc:
        return _back(str(form.get("back", "/")), str(exc))
    message = f"{len(result.done)} updated"
    if result.failed:
        message += "; failed: " + "; ".join(f"{ref}: {why}" for ref, why in list(result.failed.items())[:5])
    return _back(str(form.get("back", "/")), message)


def _back(path: str, message: str) -> RedirectResponse:
    """Back to a page of ours (never an open redirect), with a message to show."""
    path = local_path(path)
    separator = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{separator}{urlencode({'flash': message[:200]})}", status_code=303)
