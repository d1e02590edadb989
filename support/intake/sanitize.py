"""Make any inbound safe to store, recording what was wrong instead of dropping it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import Inbound

MAX_RAW_CHARS = 2_000_000
MAX_KEY_CHARS = 500


def clean_text(value: str) -> tuple[str, bool]:
    """Remove NUL bytes (PostgreSQL cannot store them) and lone surrogates (not UTF-8)."""
    changed = False
    if "\x00" in value:
        value, changed = value.replace("\x00", ""), True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        changed = True
    return value, changed


def clean_json(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)[0]
    if isinstance(value, dict):
        return {clean_text(str(k))[0]: clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return clean_text(str(value))[0]


def sanitize(inbound: Inbound, *, max_text_bytes: int, now: datetime | None = None,
             encode_raw_for: str | None = None) -> Inbound:
    """Fix what can be fixed in place; every fix is noted in `inbound.problems`. `encode_raw_for`: a
    database URL, for which the raw payload is left serialized (`storage.queries.EncodedJSON`)."""
    now = now or datetime.now(UTC)
    problems = list(inbound.problems)
    for name in ("text", "subject", "html", "author_handle", "author_name", "author_id", "author_email",
                 "external_id", "conversation_key", "permalink"):
        value = getattr(inbound, name)
        if value is None:
            continue
        if not isinstance(value, str):
            value = str(value)
            problems.append(f"{name}: not a string")
        value, changed = clean_text(value)
        if changed:
            problems.append(f"{name}: NUL bytes or invalid Unicode replaced")
        setattr(inbound, name, value)
    encoded = inbound.text.encode("utf-8")
    if len(encoded) > max_text_bytes:
        problems.append(f"text: {len(encoded)} bytes, truncated to {max_text_bytes}")
        inbound.text = encoded[:max_text_bytes].decode("utf-8", "ignore")
    if inbound.html and len(inbound.html) > max_text_bytes:
        problems.append(f"html: {len(inbound.html)} characters, truncated")
        inbound.html = inbound.html[:max_text_bytes]
    if inbound.sent_at is not None:
        if inbound.sent_at.tzinfo is None:
            inbound.sent_at = inbound.sent_at.replace(tzinfo=UTC)
        if inbound.sent_at > now + timedelta(days=1):
            problems.append(f"sent_at: {inbound.sent_at.isoformat()} is in the future; receipt time used")
            inbound.sent_at = None
    if not inbound.author_id:
        inbound.author_id = inbound.author_email or inbound.author_handle or "unknown"
        problems.append("author: no id given")
    if len(inbound.external_id) > MAX_KEY_CHARS or len(inbound.conversation_key or "") > MAX_KEY_CHARS:
        raise ValueError("external_id or conversation_key longer than 500 characters")
    inbound.raw = _bounded_raw(clean_json(inbound.raw), problems, encode_raw_for)
    inbound.problems = problems
    return inbound


def _bounded_raw(raw: Any, problems: list[str], encode_for: str | None = None) -> Any:
    if raw is None:
        return None
    text: str | None = json.dumps(raw, ensure_ascii=False)
    size = len(text)
    if size > MAX_RAW_CHARS:
        problems.append(f"raw: {size} characters, not stored in full")
        raw, text = {"truncated": True, "size": size}, None
    elif not isinstance(raw, dict):
        raw, text = {"value": raw}, None
    if encode_for is None:
        return raw
    from storage.queries import encode_json, encode_json_from

    # the text that measured it, where it is what the database stores: serialized once, not twice
    return encode_json(raw, encode_for) if text is None else encode_json_from(text, raw, encode_for)
