"""The web inbox's pages. Every page needs a logged-in user; every POST form carries
a CSRF token. Templates autoescape everything: customer content is never marked safe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from inbox import session
from support.accounts import authenticate
from support.tickets import get_ticket, list_tickets

INBOX_SIZE = 50

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,  # for every template, whatever its file name
    undefined=jinja2.StrictUndefined,
)
templates = Jinja2Templates(env=_env)
router = APIRouter(include_in_schema=False)


def when(value: str | None) -> str:
    """'2024-05-01 14:03 UTC' from an ISO 8601 UTC time."""
    return f"{value[:16].replace('T', ' ')} UTC" if value else "—"


_env.filters["when"] = when


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    token, new_browser_value = session.csrf_token(request)
    response = templates.TemplateResponse(request, name, {**context, "csrf_token": token}, status_code=status_code)
    if new_browser_value:
        session.set_csrf_cookie(response, request, new_browser_value)
    return response


def _to_login() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


@router.get("/login")
def login_form(request: Request) -> Response:
    if session.current_user(request) is not None:
        return RedirectResponse("/", status_code=303)
    return render(request, "login.html", {"user": None, "error": None, "email": ""})


@router.post("/login")
def login(request: Request, email: str = Form(""), password: str = Form(""), csrf_token: str = Form("")) -> Response:
    if not session.csrf_ok(request, csrf_token):
        return render(request, "login.html", {"user": None, "error": "The form expired; please try again.",
                                              "email": email}, status_code=403)
    user = authenticate(email, password, request.app.state.settings) if email and password else None
    if user is None:
        return render(request, "login.html", {"user": None, "error": "Wrong email or password.", "email": email},
                      status_code=400)
    response = RedirectResponse("/", status_code=303)
    session.log_in(response, request, user)
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("")) -> Response:
    if not session.csrf_ok(request, csrf_token):
        return HTMLResponse("The form expired; go back, reload and try again.", status_code=403)
    response = _to_login()
    session.log_out(response)
    return response


@router.get("/")
def inbox_page(request: Request) -> Response:
    user = session.current_user(request)
    if user is None:
        return _to_login()
    page = list_tickets(limit=INBOX_SIZE, settings=request.app.state.settings)
    return render(request, "inbox.html", {"user": user, "tickets": page.items})


@router.get("/inbox/rows")
def inbox_rows(request: Request) -> Response:
    """The inbox table's rows, for the page's periodic refresh."""
    if session.current_user(request) is None:
        return HTMLResponse("", status_code=401)  # the script sends the browser to /login
    page = list_tickets(limit=INBOX_SIZE, settings=request.app.state.settings)
    return render(request, "_rows.html", {"tickets": page.items})


@router.get("/tickets/{ref}")
def ticket_page(ref: str, request: Request) -> Response:
    user = session.current_user(request)
    if user is None:
        return _to_login()
    ticket = get_ticket(ref, request.app.state.settings)
    if ticket is None:
        return render(request, "not_found.html", {"user": user, "ref": ref[:40]}, status_code=404)
    return render(request, "ticket.html", {"user": user, "ticket": ticket})
