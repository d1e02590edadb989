"""The FastAPI app: health, the JSON API, and the web inbox's pages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inbox.auth import optional_api_user
from inbox.ratelimit import TokenBuckets
from storage.models.accounts import User
from support import health
from trkv.settings import Settings, get_settings

STATIC = Path(__file__).parent / "static"

# Customer text is shown in these pages: a strict policy means that even an
# escaping bug cannot run a script (no inline scripts, no third-party origins).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def create_app(settings: Settings | None = None) -> FastAPI:
    from inbox import (
        api,
        api_feedback,
        api_kb,
        api_oncall,
        api_users,
        live,
        web,
        web_admin,
        web_csat,
        web_feedback,
        web_kb,
        web_ticket,
        web_users,
    )
    from inbox.pages import LoginRequired

    settings = settings or get_settings()
    # /docs and /redoc load scripts from a CDN and inline, which the CSP forbids.
    app = FastAPI(title="TRKV support hub", version="0.1.0", docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.inbound_buckets = TokenBuckets(settings.web_inbound_rate, settings.web_inbound_burst)
    app.add_middleware(SecurityHeaders)
    from inbox.status_fast import StatusFastPath  # /status from its cached render, before routing

    app.add_middleware(StatusFastPath, settings=settings, security_headers=SECURITY_HEADERS)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_api_route("/healthz", healthz, methods=["GET"], tags=["health"], responses=HEALTH_RESPONSES)
    app.include_router(api.router)
    app.include_router(api_oncall.router)
    app.include_router(api_users.router)
    app.include_router(web_users.router)
    for router in (api_kb.api, api_kb.public, api_kb.templates_api, api_kb.releases_api, web_kb.router):
        app.include_router(router)  # the knowledge base, templates and releases
    app.include_router(web.router)
    app.include_router(web_ticket.router)
    app.include_router(web_admin.router)
    app.include_router(live.router)
    from inbox import api_incidents, web_incidents, web_status

    for module in (api_incidents, web_incidents, web_status):  # incidents and the status page
        app.include_router(module.router)
    from inbox import api_maintenance, web_maintenance

    for module in (api_maintenance, web_maintenance):  # scheduled maintenance
        app.include_router(module.router)
    for module in (web_csat, api_feedback, web_feedback):  # surveys, contacts, the weekly review
        app.include_router(module.router)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(HTTPException, _http_error)
    return app


async def _login_required(request: Request, exc: Exception) -> Response:
    if request.url.path == "/inbox/rows" or request.url.path.startswith("/web/"):
        return HTMLResponse("", status_code=401)  # the page's script sends the browser to /login
    if request.method == "GET" and request.url.path != "/":
        # Back to this page after logging in: the on-call engineer opened a paged ticket's link.
        from urllib.parse import quote

        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
    return RedirectResponse("/login", status_code=303)


async def _http_error(request: Request, exc: Exception) -> Response:
    """JSON for the API (FastAPI's own form), a small page for the web pages."""
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api") or not isinstance(exc.detail, str):
        if exc.status_code == 422 and isinstance(exc.detail, str):
            # Every 422 has one shape, the published one: a list of problems (FastAPI's own
            # validation errors), so a client reads `detail[i].msg` whatever refused it.
            exc = HTTPException(422, [{"loc": [], "msg": exc.detail, "type": "value_error"}], exc.headers)
        return await http_exception_handler(request, exc)
    from inbox.pages import render
    from inbox.session import current_user

    return render(request, "error.html", {"user": current_user(request), "status": exc.status_code,
                                          "message": exc.detail}, status_code=exc.status_code, headers=exc.headers)


_HEALTH_BODY: dict[str, Any] = {
    "type": "object", "required": ["status"],
    "properties": {"status": {"type": "string", "enum": ["ok", "down"]},
                   "database": {"type": "object"}, "broker": {"type": "object"}, "connectors": {"type": "object"}},
}
HEALTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Up; with a valid bearer token, also each part's state",
          "content": {"application/json": {"schema": _HEALTH_BODY}}},
    503: {"description": "The database is unreachable", "content": {"application/json": {"schema": _HEALTH_BODY}}},
}


def healthz(request: Request, user: Annotated[User | None, Depends(optional_api_user)]) -> JSONResponse:
    """200 while this process and the database are up (503 otherwise). Anyone sees the overall
    state; a caller with a valid token also sees each part's state (database, broker, connectors),
    which names hosts and failures an outsider has no business reading."""
    database_ok, body = health.check(request.app.state.settings, details=user is not None)
    return JSONResponse(body, status_code=200 if database_ok else 503)


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response; dynamic responses are never cached,
    since they carry tickets' content."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    # A page may widen its own policy (a ticket shown with remote images).
                    if name != "Content-Security-Policy" or name not in headers:
                        headers[name] = value
                if not static and "public" not in headers.get("Cache-Control", ""):
                    headers["Cache-Control"] = "no-store"  # public pages (status, KB) say "public" themselves
            await send(message)

        await self.app(scope, receive, send_with_headers)
