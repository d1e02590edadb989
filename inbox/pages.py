"""What every web page shares: templates, rendering with a CSRF token, and the role
checks. Templates autoescape everything: customer content is never marked safe
(the one exception, sanitized email HTML, goes through inbox.html_mail)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from inbox import session
from storage.models.accounts import User
from storage.models.base import CATEGORIES, PRIORITIES, STATUSES
from support.accounts import has_role

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,  # for every template, whatever its file name
    undefined=jinja2.StrictUndefined,
)
templates = Jinja2Templates(env=_env)

CHANNEL_ICONS = {"email": "✉", "discord": "◆", "x": "𝕏", "api": "⇄"}
CHANNEL_LIMITS = {"x": 280, "discord": 2000}


def when(value: str | datetime | None) -> str:
    """'2024-05-01 14:03 UTC' from an ISO 8601 UTC time."""
    if isinstance(value, datetime):
        value = value.isoformat()
    return f"{value[:16].replace('T', ' ')} UTC" if value else "—"


def countdown(seconds: int | None) -> str:
    """'1 h 20 min left' / '35 min late'."""
    if seconds is None:
        return "—"
    minutes = abs(seconds) // 60
    text = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
    return f"{text} left" if seconds >= 0 else f"{text} late"


def label(value: str | None) -> str:
    return (value or "—").replace("_", " ")


def ago(value: str | datetime | None, now: datetime | None = None) -> str:
    """'just now' / '5 min ago' / '3 h ago' / '2 d ago' / 'in 4 min', as the server sees it;
    inbox.js recomputes it from the <time> element's datetime as the page stays open."""
    if not value:
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    seconds = int(((now or datetime.now(timezone.utc)) - value).total_seconds())
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 45:
        return "just now"
    for size, unit in ((86400 * 365, "y"), (86400 * 30, "mo"), (86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            text = f"{round(seconds / size) if size == 60 else seconds // size} {unit}"
            return f"in {text}" if future else f"{text} ago"
    return "just now"


def isotime(value: str | datetime | None) -> str:
    """ISO 8601 UTC with a Z, as a <time datetime> wants (stored times are naive UTC)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat(timespec="seconds") + "Z"
    return value or ""


_MARKS = str.maketrans("", "", "*~|`")


def plain(text: str | None) -> str:
    """A Discord message's first words without its markup characters, for one-line lists
    (underscores stay: they are common in names and words)."""
    return (text or "").translate(_MARKS)


def initials(name: str | None) -> str:
    """'Ada Lovelace' -> 'AL', 'bo' -> 'B': the thread's avatar."""
    words = [w for w in (name or "").replace("@", " ").replace(".", " ").split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


_env.filters.update(when=when, countdown=countdown, label=label, ago=ago, initials=initials, plain=plain,
                    isotime=isotime)
_env.globals.update(channel_icons=CHANNEL_ICONS, priorities=PRIORITIES, categories=CATEGORIES, statuses=STATUSES,
                    has_role=has_role)


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200,
           headers: dict[str, str] | None = None) -> HTMLResponse:
    token, new_browser_value = session.csrf_token(request)
    context = {"user": None, "flash": request.query_params.get("flash", "")[:200], **context, "csrf_token": token}
    response = templates.TemplateResponse(request, name, context, status_code=status_code, headers=headers)
    if new_browser_value:
        session.set_csrf_cookie(response, request, new_browser_value)
    return response


class LoginRequired(Exception):
    """Raised by a page's role check for an anonymous visitor: app.py answers with a
    redirect to /login (401 for the inbox's background refresh)."""


def page_user(minimum: str = "community_manager") -> Callable[..., User]:
    """A dependency: the logged-in user with at least this role (403 otherwise)."""

    def dependency(request: Request) -> User:
        user = session.current_user(request)
        if user is None:
            raise LoginRequired()
        if not has_role(user, minimum):
            raise HTTPException(403, f"this page needs the {label(minimum)} role")
        return user

    return dependency


async def _csrf(request: Request) -> None:
    form = await request.form()
    if not session.csrf_ok(request, str(form.get("csrf_token", ""))):
        raise HTTPException(403, "The form expired; go back, reload and try again.")


CSRF = Depends(_csrf)
Agent = Depends(page_user("community_manager"))
Engineer = Depends(page_user("engineer"))
Lead = Depends(page_user("lead"))
