"""Login sessions and CSRF tokens for the web pages.

The session cookie holds the user id and a random session id, signed (itsdangerous) with
the hub's secret (TRKV_SECRET_KEY, shared by all hosts) and timestamped, so it cannot be
forged and expires on its own. The session id must also have a row in `web_sessions`:
logout, a password change and deactivation delete rows, which ends those sessions on
every host at once. CSRF uses a double
submit bound to the browser: a random value in its own cookie, and in each form an
HMAC of that value, which a page on another site can neither read nor compute.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from storage.models.accounts import User
from support.accounts import end_session, session_user, start_session
from trkv.settings import Settings

SESSION_COOKIE = "trkv_session"
CSRF_COOKIE = "trkv_csrf"
SESSION_MAX_AGE = 7 * 24 * 3600  # seconds; a week of shifts without logging in again


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.session_secret(), salt="trkv.session")


def _set_cookie(response: Response, settings: Settings, name: str, value: str) -> None:
    response.set_cookie(
        name, value, max_age=SESSION_MAX_AGE, path="/", httponly=True, samesite="lax",
        secure=settings.public_url.startswith("https"),
    )


def _session(request: Request) -> tuple[int, str] | None:
    """(user id, session id) from a well-signed, unexpired cookie."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        data = _serializer(_settings(request)).loads(cookie, max_age=SESSION_MAX_AGE)
        user_id, session_id = int(data["uid"]), str(data["sid"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None  # a cookie from before sessions were stored has no "sid": log in again
    return user_id, session_id


def current_user(request: Request) -> User | None:
    """The logged-in, still active user whose session was not revoked, or None."""
    found = _session(request)
    if found is None:
        return None
    return session_user(*found, settings=_settings(request))


def log_in(response: Response, request: Request, user: User) -> None:
    settings = _settings(request)
    session_id = start_session(user.id, timedelta(seconds=SESSION_MAX_AGE), settings)
    _set_cookie(response, settings, SESSION_COOKIE, _serializer(settings).dumps({"uid": user.id, "sid": session_id}))
    # A fresh browser value on login: a token captured before login is useless after it.
    _set_cookie(response, settings, CSRF_COOKIE, secrets.token_urlsafe(32))


def log_out(response: Response, request: Request) -> None:
    """End this browser's session everywhere (the row goes), not only its cookie."""
    found = _session(request)
    if found is not None:
        end_session(found[1], _settings(request))
    response.delete_cookie(SESSION_COOKIE, path="/")


def csrf_token(request: Request) -> tuple[str, str | None]:
    """(the token for this browser's forms, a new browser value to set, or None)."""
    value = request.cookies.get(CSRF_COOKIE)
    new_value = None
    if not value:
        value = new_value = secrets.token_urlsafe(32)
    return _sign(_settings(request), value), new_value


def set_csrf_cookie(response: Response, request: Request, value: str) -> None:
    _set_cookie(response, _settings(request), CSRF_COOKIE, value)


def csrf_ok(request: Request, submitted: str) -> bool:
    value = request.cookies.get(CSRF_COOKIE)
    if not value or not submitted:
        return False
    # bytes: compare_digest refuses str with non-ASCII characters, which a form may send
    return hmac.compare_digest(_sign(_settings(request), value).encode(), submitted.encode())


def _sign(settings: Settings, value: str) -> str:
    key = hashlib.sha256(b"trkv.csrf:" + settings.session_secret().encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
