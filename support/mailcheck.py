"""`trkv mail parse`: what the email connector would make of a message, without a database."""

from __future__ import annotations

from connectors.mail import parse_email
from trkv.settings import get_settings
from support.sanitize import sanitize


def check(raw: bytes) -> dict:
    """{"would_acknowledge": bool, "reason": str, "message": {...}}, in that key order."""
    inbound = sanitize(parse_email(raw), max_text_bytes=get_settings().max_text_bytes)
    message = inbound.to_dict()
    message.pop("raw", None)
    if inbound.no_ack_reason:
        return {"would_acknowledge": False, "reason": inbound.no_ack_reason, "message": message}
    return {"would_acknowledge": True, "reason": "a person wrote to support", "message": message}
