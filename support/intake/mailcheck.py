"""`trkv mail parse`: what the email connector would make of a message, without a database."""

from __future__ import annotations

from connectors.mail import parse_email
from support.intake.sanitize import sanitize
from trkv.settings import get_settings


def check(raw: bytes) -> dict:
    """{"would_acknowledge": bool, "reason": str, "message": {...}}, in that key order."""
    from support.channels.email import own_addresses

    settings = get_settings()
    inbound = sanitize(
        parse_email(raw, own_addresses=own_addresses(settings), attachment_max_bytes=settings.email_attachment_max_bytes),
        max_text_bytes=settings.max_text_bytes,
    )
    message = inbound.to_dict()
    message.pop("raw", None)
    if inbound.no_ack_reason:
        return {"would_acknowledge": False, "reason": inbound.no_ack_reason, "message": message}
    return {"would_acknowledge": True, "reason": "a person wrote to support", "message": message}
