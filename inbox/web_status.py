"""The public status page, without login: /status (HTML), /status.json, the Atom feed,
and the subscribe / confirm / unsubscribe links.

Renders are cached per snapshot version (support/incidents/status.py) and served with
`Cache-Control: public, max-age=10` and an ETag, so a proxy or browser may keep them;
the page sets no cookie. Update text is autoescaped; post-mortems are Markdown
rendered without raw HTML and cleaned by nh3.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from inbox.pages import templates
from support.incidents import status, subscribers
from support.incidents.subscribers import SubscribeError

router = APIRouter(include_in_schema=False)
CACHE = "public, max-age=10"
_renders: dict[tuple, tuple[bytes, str]] = {}  # (db url, version, kind) -> (body, etag)
STATE_LABELS = {"operational": "Operational", "under_maintenance": "Under maintenance", "degraded_performance": "Degraded performance",
                "partial_outage": "Partial outage", "major_outage": "Major outage"}


MEDIA = {"html": "text/html; charset=utf-8", "json": "application/json",
         "atom": "application/atom+xml; charset=utf-8"}


def current(settings, kind: str) -> tuple[bytes, str]:
    """(body, etag) of the current render of one kind: html, json or atom."""
    version, data = status.snapshot(settings)
    key = (settings.db_url, version, kind)
    if key not in _renders:
        if len(_renders) > 64:
            _renders.clear()
        body = {"html": _html, "json": _json, "atom": _atom}[kind](data, settings)
        _renders[key] = (body, '"' + hashlib.sha256(body).hexdigest()[:20] + '"')
    return _renders[key]


def _cached(request: Request, kind: str) -> Response:
    body, etag = current(request.app.state.settings, kind)
    headers = {"Cache-Control": CACHE, "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA[kind], headers=headers)


def _html(data: dict[str, Any], settings, message: str = "", error: bool = False) -> bytes:
    postmortems = {i["id"]: status.safe_html(i["postmortem"]) for i in data["incidents"] if i.get("postmortem")}
    return templates.get_template("status.html").render(
        data=data, labels=STATE_LABELS, postmortems=postmortems, message=message, error=error,
        components=[c["name"] for c in data["components"]], user=None, csrf_token="", flash="",
    ).encode()


def _json(data: dict[str, Any], settings) -> bytes:
    import json

    return json.dumps({"components": data["components"], "incidents": [
        {k: v for k, v in i.items() if k != "postmortem"} for i in data["incidents"]],
        "maintenance": data.get("maintenance", []), "updated_at": data["updated_at"]}).encode()


def _atom(data: dict[str, Any], settings) -> bytes:
    base = settings.public_url.rstrip("/")
    entries = []
    for incident in data["incidents"]:
        for n, update in enumerate(incident["updates"]):
            entries.append((update["created_at"], (
                f"<entry><id>{escape(base)}/status#incident-{incident['id']}-{n}</id>"
                f"<title>{escape(incident['title'])}: {escape(update['status'])}</title>"
                f"<updated>{update['created_at']}</updated>"
                f"<link href=\"{escape(base)}/status#incident-{incident['id']}\"/>"
                f"<content type=\"text\">{escape(update['message'] or '')}</content></entry>")))
    entries += _maintenance_entries(data.get("maintenance", []), base)
    entries.sort(reverse=True)
    updated = entries[0][0] if entries else datetime(2000, 1, 1, tzinfo=UTC).isoformat()
    return ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">"
            f"<id>{escape(base)}/status</id><title>TRKV status</title><updated>{updated}</updated>"
            f"<author><name>TRKV</name></author><link rel=\"self\" href=\"{escape(base)}/status/feed.atom\"/>"
            + "".join(e for _, e in entries) + "</feed>").encode()


MAINTENANCE_PHASES = (("announced_at", "scheduled"), ("reminded_at", "starts soon"), ("started_at", "in progress"),
                      ("completed_at", "completed"), ("cancelled_at", "cancelled"))


def _maintenance_entries(windows: list[dict[str, Any]], base: str) -> list[tuple[str, str]]:
    """One Atom entry per notice of a maintenance window (announced, reminded, started, ...)."""
    entries = []
    for w in windows:
        span = f"{w['starts_at'][:16].replace('T', ' ')} to {w['ends_at'][:16].replace('T', ' ')} UTC"
        for field, said in MAINTENANCE_PHASES:
            if w.get(field):
                entries.append((w[field], (
                    f"<entry><id>{escape(base)}/status#maintenance-{w['id']}-{field}</id>"
                    f"<title>Maintenance {said}: {escape(w['title'])}</title><updated>{w[field]}</updated>"
                    f"<link href=\"{escape(base)}/status#maintenance-{w['id']}\"/>"
                    f"<content type=\"text\">{escape(span)}. {escape(w['description'] or '')}</content></entry>")))
    return entries


# async: a cached render is served on the event loop, with no hop to the thread pool (the
# version check, one indexed query, runs at most every status.CHECK_SECONDS)
@router.get("/status")
async def status_page(request: Request) -> Response:
    return _cached(request, "html")


@router.get("/status.json")
async def status_json(request: Request) -> Response:
    return _cached(request, "json")


@router.get("/status/feed.atom")
async def status_feed(request: Request) -> Response:
    return _cached(request, "atom")


def _answer(request: Request, message: str, code: int) -> HTMLResponse:
    _, data = status.snapshot(request.app.state.settings)
    body = _html(data, request.app.state.settings, message, error=code >= 400)
    return HTMLResponse(body, status_code=code, headers={"Cache-Control": "no-store"})


@router.post("/status/subscribe")
def subscribe(request: Request, email: str = Form(""), components: list[str] = Form(default=[])) -> HTMLResponse:
    settings = request.app.state.settings
    known = set(status.components(settings))
    try:
        told = subscribers.subscribe(email[:400], request.client.host if request.client else None, settings,
                                     [c for c in components if c in known])
    except SubscribeError as exc:
        return _answer(request, str(exc), 429 if "too many" in str(exc).lower() or "already sent" in str(exc) else 422)
    return _answer(request, told, 202)


@router.get("/status/confirm/{token}")
def confirm(request: Request, token: str) -> HTMLResponse:
    try:
        address = subscribers.confirm(token[:300], request.app.state.settings)
    except SubscribeError as exc:
        return _answer(request, str(exc), 400)
    return _answer(request, f"Subscribed: {address} will get TRKV status updates.", 200)


@router.get("/status/unsubscribe/{token}")
def unsubscribe_form(request: Request, token: str) -> HTMLResponse:
    """A GET never unsubscribes (mail scanners follow links): it shows one button."""
    try:
        subscribers.check_token(token[:300], "unsubscribe", request.app.state.settings)
    except SubscribeError as exc:
        return _answer(request, str(exc), 400)
    body = templates.get_template("status_unsubscribe.html").render(token=token, user=None, csrf_token="", flash="")
    return HTMLResponse(body, headers={"Cache-Control": "no-store"})


@router.post("/status/unsubscribe/{token}")
def unsubscribe(request: Request, token: str) -> HTMLResponse:
    """RFC 8058 one-click: the mail client POSTs `List-Unsubscribe=One-Click` here."""
    try:
        address = subscribers.unsubscribe(token[:300], request.app.state.settings)
    except SubscribeError as exc:
        return _answer(request, str(exc), 400)
    return _answer(request, f"Unsubscribed: {address} will get no more status mail.", 200)
