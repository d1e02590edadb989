"""The public status page's fast path: GET /status, /status.json and /status/feed.atom
answered from the cached render by a pure ASGI middleware, before FastAPI's routing,
dependency and response machinery, which cost more than the page itself under an
open-loop load of hundreds of requests a second on two shared cores.

The answer is the one the routes in inbox/web_status.py give, header for header
(SECURITY_HEADERS, `Cache-Control: public, max-age=10`, the ETag, and a 304 for a
matching If-None-Match). The snapshot's database check, due at most every
status.CHECK_SECONDS, runs on a worker thread so the event loop never waits on it.
A request with a query string, or another method, goes the normal way.
"""

from __future__ import annotations

from anyio import to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from inbox import web_status
from support.incidents import status

PATHS = {"/status": "html", "/status.json": "json", "/status/feed.atom": "atom"}


class StatusFastPath:
    def __init__(self, app: ASGIApp, settings, security_headers: dict[str, str]) -> None:
        self.app = app
        self.settings = settings
        self.fixed = [(k.lower().encode(), v.encode()) for k, v in security_headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = PATHS.get(scope.get("path", "")) if scope["type"] == "http" else None
        if kind is None or scope["method"] != "GET" or scope.get("query_string"):
            await self.app(scope, receive, send)
            return
        if status.fresh(self.settings):
            body, etag = web_status.current(self.settings, kind)
        else:
            body, etag = await to_thread.run_sync(web_status.current, self.settings, kind)
        headers = [(b"cache-control", web_status.CACHE.encode()), (b"etag", etag.encode()), *self.fixed]
        if _header(scope, b"if-none-match") == etag.encode():
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers += [(b"content-length", str(len(body)).encode()), (b"content-type", web_status.MEDIA[kind].encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value
    return None
