"""The body of POST /api/inbound: read with a size cap, parsed, validated, and turned
into an `Inbound`. Every way a body can be wrong ends in a 4xx with a reason."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connectors.base import Inbound

# An address we can hand to SMTP later: one @, no spaces or control characters.
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$")
RAW_SLACK_BYTES = 64 * 1024
MAX_DEPTH = 32  # the body is stored as JSON; deeper nesting is abuse, and recursion in storing it


class Author(BaseModel):
    model_config = ConfigDict(extra="ignore")
    handle: str = Field(min_length=1, max_length=320)
    name: str | None = Field(default=None, max_length=300)
    email: str | None = Field(default=None, max_length=320)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not _EMAIL.match(value) or not _encodable(value):
            raise ValueError("is not an email address")
        return value


class InboundBody(BaseModel):
    """A message from an integration (a form, a bot, a script)."""

    model_config = ConfigDict(extra="ignore")
    channel: Literal["api"]
    external_id: str = Field(min_length=1, max_length=500, description="Unique per message; a redelivery is a no-op")
    text: str
    subject: str | None = None
    html: str | None = None
    sent_at: datetime | None = Field(default=None, description="ISO 8601; SLA clocks use the receipt time")
    author: Author

    @field_validator("sent_at", mode="before")
    @classmethod
    def _sent_at(cls, value: Any) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError("must be an ISO 8601 string")
        try:
            parsed = datetime.fromisoformat(value.strip())
            # Normalize now: an offset that pushes year 1 or 9999 out of range fails here, not in the database.
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        except (ValueError, OverflowError) as exc:
            raise ValueError("is not an ISO 8601 date and time") from exc


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a \ud800 escape
        return False
    return True


def raw_cap(max_text_bytes: int) -> int:
    """The largest raw body worth reading: text and HTML at their limits, each JSON-escaped
    (\\uXXXX can triple a character's size), plus room for the other fields."""
    return 8 * max_text_bytes + RAW_SLACK_BYTES


async def read_body(request: Request, cap: int) -> bytes:
    """The raw body, refusing (413) anything over `cap` before it is all in memory."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _too_large(f"the body is larger than {cap} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise _too_large(f"the body is larger than {cap} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_body(raw: bytes, max_text_bytes: int) -> tuple[InboundBody, dict[str, Any]]:
    """(the validated body, the decoded JSON object as received)."""
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(400, f"the body is not valid UTF-8 (byte {exc.start})") from exc
    try:
        data = json.loads(decoded, parse_constant=_no_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly nested arrays
        raise HTTPException(400, f"the body is not JSON: {str(exc)[:200]}") from exc
    if _depth(data) > MAX_DEPTH:
        raise HTTPException(400, f"the body nests deeper than {MAX_DEPTH} levels")
    try:
        body = InboundBody.model_validate(data)
    except ValidationError as exc:
        # No input echoed back: it may be a megabyte of text.
        raise HTTPException(422, exc.errors(include_url=False, include_context=False, include_input=False)) from exc
    for name in ("text", "html"):
        value = getattr(body, name)
        if value is not None and len(value.encode("utf-8", "surrogatepass")) > max_text_bytes:
            raise _too_large(f"{name} is larger than {max_text_bytes} bytes")
    return body, data


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")  # PostgreSQL's JSON rejects NaN and Infinity


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 parses as inf
        raise ValueError(f"{text[:20]} is out of range")
    return value


def _depth(data: Any) -> int:
    """Nesting depth, iteratively (the check must not recurse itself)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def to_inbound(body: InboundBody, raw: dict[str, Any]) -> Inbound:
    author = body.author
    return Inbound(
        channel="api",
        external_id=body.external_id,
        text=body.text,
        # One contact per address whatever its capitalization; without one, the handle names the author.
        author_id=author.email.lower() if author.email else author.handle,
        author_handle=author.handle,
        author_name=author.name or "",
        author_email=author.email,
        subject=body.subject,
        html=body.html,
        sent_at=body.sent_at,
        raw=raw,
    )


def _too_large(detail: str) -> HTTPException:
    return HTTPException(413, detail)


def openapi_schema() -> dict[str, Any]:
    """The body's JSON schema with its definitions inlined: OpenAPI resolves `#/$defs/...`
    against the whole document, where they do not exist."""
    schema = InboundBody.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(value) for value in node]
        return node

    return inline(schema)
