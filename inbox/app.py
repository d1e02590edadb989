"""The FastAPI app: health, the JSON API, and the web inbox's pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from support import health
from trkv.settings import Settings, get_settings

STATIC = Path(__file__).parent / "static"

# Customer text is shown in these pages: a strict policy means that even an
# escaping bug cannot run a script (no inline scripts, no third-party origins).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def create_app(settings: Settings | None = None) -> FastAPI:
    from inbox import api, web

    settings = settings or get_settings()
    # /docs and /redoc load scripts from a CDN and inline, which the CSP forbids.
    app = FastAPI(title="TRKV support hub", version="0.1.0", docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_api_route("/healthz", healthz, methods=["GET"], tags=["health"])
    app.include_router(api.router)
    app.include_router(web.router)
    return app


def healthz(request: Request) -> JSONResponse:
    """200 while this process and the database are up (503 otherwise), with each part's state."""
    database_ok, body = health.check(request.app.state.settings)
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
                    headers[name] = value
                if not static:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
