"""Survey tokens: `<survey id>.<expiry>.<signature>`, one URL path segment, signed with
the hub's secret. Nothing is stored for a token; forging one needs the secret, and a
token says nothing a customer could not see anyway (which survey, until when)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime

from trkv.settings import Settings

_SHAPE = re.compile(r"^(\d{1,18})\.(\d{1,12})\.([A-Za-z0-9_-]{20,40})$")


class TokenError(ValueError):
    """The token is not one the hub signed, or it has expired."""


def _secret(settings: Settings) -> bytes:
    return hashlib.sha256(b"trkv-csat:" + settings.session_secret().encode()).digest()


def _sign(survey_id: int, expires: int, settings: Settings) -> str:
    digest = hmac.new(_secret(settings), f"{survey_id}.{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=")


def make(survey_id: int, expires_at: datetime, settings: Settings) -> str:
    expires = int(expires_at.timestamp())
    return f"{survey_id}.{expires}.{_sign(survey_id, expires, settings)}"


def read(token: str, settings: Settings, now: datetime) -> int:
    """The survey id the token is for; TokenError when forged or expired."""
    match = _SHAPE.match(token or "")
    if not match:
        raise TokenError("this survey link is not one we sent")
    survey_id, expires, sig = int(match.group(1)), int(match.group(2)), match.group(3)
    if not hmac.compare_digest(_sign(survey_id, expires, settings), sig):
        raise TokenError("this survey link is not one we sent")
    if now.timestamp() > expires:
        raise TokenError("this survey link has expired")
    return survey_id


def url(token: str, settings: Settings, score: int | None = None) -> str:
    base = f"{settings.public_url.rstrip('/')}/csat/{token}"
    return f"{base}?score={score}" if score else base
