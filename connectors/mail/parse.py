"""Email parsing: RFC 822 bytes in, `Inbound` out.

Mail in the wild is broken in every way a standard allows and some it doesn't, so the
parser never raises on a malformed message: what it could not read goes into
`Inbound.problems`. Only input that is not an email at all raises ValueError.

The stdlib `compat32` policy is used on purpose: the modern policy parses header
values lazily and can raise on odd ones at access time, while compat32 hands back
raw strings that we decode ourselves with fallbacks.
"""

from __future__ import annotations

import base64
import email
import email.parser
import email.policy
import itertools as _itertools
import re
from collections.abc import Iterable, Iterator
from email.message import Message

from connectors.base import Attachment, Inbound
from connectors.mail.bounces import bounce_hints
from connectors.mail.headers import (
    BLANK_LINE_RE,
    address,
    clean,
    decode_bytes,
    decode_words,
    header_text,
    message_id,
    references,
    sent_at,
)
from connectors.mail.robots import robot
from connectors.mail.text import html_to_text, strip_reply

# An endlessly nested or exploded message must not make one email cost minutes.
MAX_PARTS = 200
MAX_DEPTH = 20

# Headers of which at least one must be present for bytes to count as an email.
_KNOWN_HEADERS = frozenset(
    "from to cc subject date message-id received return-path sender reply-to mime-version content-type "
    "in-reply-to references delivered-to x-mailer user-agent".split()
)
_PART_HEADER_RE = re.compile(rb"^content-type[ \t]*:", re.I | re.M)
# RFC 5322 4.5 obsolete syntax allows blanks before a header's colon ("Subject  : hi").
_OBS_COLON_RE = re.compile(rb"^([!-9;-~]+)[ \t]+:", re.M)



def parse_email(raw: bytes | str, *, own_addresses: Iterable[str] = (), attachment_max_bytes: int = 0) -> Inbound:
    """Parse one RFC 822 message. `own_addresses` (the hub's support addresses)
    marks our own mail looping back as not to be acknowledged. Attachments up to
    `attachment_max_bytes` keep their content, as a `data:` URL.

    `text` is what the inbox shows: the new text of a reply, without the quoted
    history and the signature; the full original stays in `raw` (and in `html`)."""
    data = _as_bytes(raw)
    problems: list[str] = []
    msg = _parse_bounded(data, problems)
    if not any(key.lower() in _KNOWN_HEADERS for key in msg):
        raise ValueError("not an email: no RFC 822 header fields found")

    subject = header_text(msg, "Subject", problems) or None
    from_name, from_addr = address(msg, "From", problems)
    _, reply_to = address(msg, "Reply-To", problems)
    if msg.get("From") is None:
        problems.append("no From header")
    body = _Body(problems, attachment_max_bytes)
    body.collect(msg)
    full_text = clean(body.text())
    text = strip_reply(full_text)
    hints = {"email_subject": subject} if subject else {}
    found = robot(msg, from_name, from_addr, text, subject or "", own_addresses, full_text)
    if found and found.kind == "bounce":
        hints.update(bounce_hints(msg, data))
    return Inbound(
        channel="email",
        external_id=message_id(msg, data, problems),
        text=text,
        author_id=from_addr,
        author_handle=from_addr,
        author_name=from_name or from_addr,
        author_email=reply_to or from_addr or None,
        conversation_key=None,
        references=references(msg),
        subject=subject,
        html=clean(body.html) if body.html is not None else None,
        sent_at=sent_at(msg, problems),
        attachments=body.attachments,
        hints=hints,
        no_ack_reason=found.reason if found else None,
        problems=problems,
        raw=data.decode("utf-8", errors="replace"),
    )


def _parse_bounded(data: bytes, problems: list[str]) -> Message:
    """The stdlib parser builds every part of a message, enclosed ones included, before
    we walk any: a message with thousands of parts (or nesting that exhausts the
    recursion limit) is cut to its first MAX_PARTS parts before parsing."""
    starts = [m.start() for m in _itertools.islice(_PART_HEADER_RE.finditer(data), MAX_PARTS + 1)]
    if len(starts) > MAX_PARTS:
        total = len(_PART_HEADER_RE.findall(data))
        problems.append(f"more than {MAX_PARTS} MIME parts ({total}); only the first {MAX_PARTS} were read")
        data = data[: starts[MAX_PARTS]]
    try:
        return email.message_from_bytes(_fix_obsolete_colons(data), policy=email.policy.compat32)
    except RecursionError:
        problems.append("MIME structure nested too deeply to read; only the headers were kept")
        return email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(data)


def _as_bytes(raw: bytes | str) -> bytes:
    if isinstance(raw, str):
        raw = raw.encode("utf-8", errors="surrogateescape")
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise TypeError(f"parse_email wants bytes, got {type(raw).__name__}")
    data = bytes(raw)
    if not data.strip():
        raise ValueError("not an email: input is empty")
    return data


def _fix_obsolete_colons(data: bytes) -> bytes:
    end = BLANK_LINE_RE.search(data)
    split = end.start() if end else len(data)
    head = _OBS_COLON_RE.sub(rb"\1:", data[:split])
    return head + data[split:]


# --- body ---


class _Body:
    """Walks the MIME tree once, bounded by MAX_PARTS and MAX_DEPTH."""

    def __init__(self, problems: list[str], attachment_max_bytes: int = 0):
        self.problems = problems
        self.attachment_max_bytes = attachment_max_bytes
        self.plain: list[str] = []
        self.html: str | None = None
        self.attachments: list[Attachment] = []
        self.seen = 0

    def text(self) -> str:
        if any(p.strip() for p in self.plain):
            text = "\n\n".join(p.strip("\r\n") for p in self.plain if p.strip())
        else:
            text = html_to_text(self.html) if self.html else ""
        return text.replace("\r\n", "\n")

    def collect(self, msg: Message) -> None:
        for part in self._leaves(msg, 0):
            if _is_attachment(part):
                self.attachments.append(_attachment(part, self.attachment_max_bytes))
            elif part.get_content_type() == "text/plain":
                self.plain.append(self._decode(part))
            elif part.get_content_type() == "text/html" and self.html is None:
                self.html = self._decode(part)

    def _leaves(self, part: Message, depth: int) -> Iterator[Message]:
        self.seen += 1
        if self.seen > MAX_PARTS:
            if self.seen == MAX_PARTS + 1:
                self.problems.append(f"more than {MAX_PARTS} MIME parts; the rest ignored")
            return
        # A forwarded or bounced message is an attachment, not part of this body.
        if part.is_multipart() and part.get_content_maintype() != "message":
            if depth >= MAX_DEPTH:
                self.problems.append(f"MIME nesting deeper than {MAX_DEPTH}; inner parts ignored")
                return
            for child in part.get_payload():
                yield from self._leaves(child, depth + 1)
        else:
            yield part

    def _decode(self, part: Message) -> str:
        try:
            payload = part.get_payload(decode=True)
        except Exception as exc:  # broken transfer encodings raise assorted errors
            self.problems.append(f"undecodable part body ({exc})")
            payload = None
        if payload is None:
            raw = part.get_payload()
            return raw if isinstance(raw, str) else ""
        return decode_bytes(payload, _charset(part))


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:  # a malformed charset parameter is the same as none
        return None


def _is_attachment(part: Message) -> bool:
    if part.get_content_type() not in ("text/plain", "text/html"):
        return True
    disposition = str(part.get("Content-Disposition", "")).split(";")[0].strip().lower()
    return disposition == "attachment" or bool(_filename(part))


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:  # RFC 2231 parameters break in creative ways
        return ""
    return decode_words(name) if name else ""


def _attachment(part: Message, max_content: int = 0) -> Attachment:
    content_type = part.get_content_type()
    size = None
    url = None
    if not part.is_multipart():
        try:
            payload = part.get_payload(decode=True)
            size = len(payload) if payload is not None else None
        except Exception:  # the metadata is still useful without a size
            payload, size = None, None
        if payload is not None and 0 < size <= max_content:
            url = f"data:{content_type};base64,{base64.b64encode(payload).decode('ascii')}"
    default = "message.eml" if content_type.startswith("message/") else "attachment"
    return Attachment(filename=clean(_filename(part) or default), content_type=content_type, size=size, url=url)
