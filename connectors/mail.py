"""Email: RFC 822 bytes in, `Inbound` out; IMAP receiving and SMTP sending.

The pure parser lives here; the IMAP receiver is in connectors/imap.py and the SMTP
sender in connectors/smtp.py, both also importable from this module. Mail
in the wild is broken in every way a standard allows and some it doesn't, so the
parser never raises on a malformed message: what it could not read goes into
`Inbound.problems`. Only input that is not an email at all raises ValueError.

The stdlib `compat32` policy is used on purpose: the modern policy parses header
values lazily and can raise on odd ones at access time, while compat32 hands back
raw strings that we decode ourselves with fallbacks.
"""

from __future__ import annotations

import base64
import codecs
import email
import email.parser
import email.policy
import hashlib
import itertools as _itertools
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from email.header import Header, decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from connectors.base import Attachment, Inbound

# An endlessly nested or exploded message must not make one email cost minutes.
MAX_PARTS = 200
MAX_DEPTH = 20

# Headers of which at least one must be present for bytes to count as an email.
_KNOWN_HEADERS = frozenset(
    "from to cc subject date message-id received return-path sender reply-to mime-version content-type "
    "in-reply-to references delivered-to x-mailer user-agent".split()
)
_MSGID_RE = re.compile(r"<([^<>]+)>")
_PART_HEADER_RE = re.compile(rb"^content-type[ \t]*:", re.I | re.M)
_ADDR_RE = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+")
# RFC 5322 4.5 obsolete syntax allows blanks before a header's colon ("Subject  : hi").
_OBS_COLON_RE = re.compile(rb"^([!-9;-~]+)[ \t]+:", re.M)
_BLANK_LINE_RE = re.compile(rb"\r?\n\r?\n")
_NOREPLY_RE = re.compile(r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|bounces?)([-+_.].*)?$", re.I)
_DAEMON_LOCALPARTS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}


_LAZY = {
    "ImapReceiver": "connectors.imap",
    "SmtpSender": "connectors.smtp",
    "build_message": "connectors.smtp",
    "message_id_for": "connectors.smtp",
}


def __getattr__(name: str):
    # connectors.imap imports this module, so its names are resolved on first use.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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

    subject = _header_text(msg, "Subject", problems) or None
    from_name, from_addr = _address(msg, "From", problems)
    _, reply_to = _address(msg, "Reply-To", problems)
    if msg.get("From") is None:
        problems.append("no From header")
    body = _Body(problems, attachment_max_bytes)
    body.collect(msg)
    full_text = _clean(body.text())
    text = strip_reply(full_text)
    hints = {"email_subject": subject} if subject else {}
    ack_reason = no_ack_reason(msg, from_addr, own_addresses)
    if ack_reason and _is_bounce(msg, from_addr):
        hints.update(bounce_hints(msg, data))
    return Inbound(
        channel="email",
        external_id=_message_id(msg, data, problems),
        text=text,
        author_id=from_addr,
        author_handle=from_addr,
        author_name=from_name or from_addr,
        author_email=reply_to or from_addr or None,
        conversation_key=None,
        references=_references(msg),
        subject=subject,
        html=_clean(body.html) if body.html is not None else None,
        sent_at=_sent_at(msg, problems),
        attachments=body.attachments,
        hints=hints,
        no_ack_reason=ack_reason,
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
    end = _BLANK_LINE_RE.search(data)
    split = end.start() if end else len(data)
    head = _OBS_COLON_RE.sub(rb"\1:", data[:split])
    return head + data[split:]


# --- headers -----------------------------------------------------------------


def _header_text(msg: Message, name: str, problems: list[str]) -> str:
    value = msg.get(name)
    return decode_words(value, problems, name) if value is not None else ""


def decode_words(value: str | Header, problems: list[str] | None = None, name: str = "header") -> str:
    """Decode RFC 2047 encoded words and raw 8-bit bytes (RFC 6532) to text."""
    try:
        chunks = decode_header(value)
    except Exception as exc:  # the stdlib raises several types on broken words
        if problems is not None:
            problems.append(f"{name}: undecodable encoded words ({exc})")
        return _unfold(str(value))
    parts = [_decode_chunk(chunk, charset) for chunk, charset in chunks]
    return _clean(_unfold("".join(parts)))


def _decode_chunk(chunk: bytes | str, charset: str | None) -> str:
    if isinstance(chunk, str):
        return chunk
    if charset in (None, "unknown-8bit"):
        return decode_bytes(chunk, None)
    return decode_bytes(chunk, charset)


# Labels that mail in the wild gets wrong, read as the superset that senders really used
# (as browsers do, per the WHATWG Encoding Standard).
_MISLABELS = {
    "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252",
    "ascii": "cp1252", "ansi_x3.4-1968": "cp1252", "iso-8859-9": "cp1254", "iso-8859-11": "cp874", "tis-620": "cp874",
    "ks_c_5601-1987": "cp949", "euc-kr": "cp949", "ks_c_5601": "cp949", "gb2312": "gb18030", "gbk": "gb18030",
    "x-gbk": "gb18030", "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932",
    "iso-2022-jp": "iso2022_jp_ext", "big5": "big5hkscs", "iso-8859-8-i": "iso-8859-8", "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7", "x-mac-roman": "mac-roman", "macintosh": "mac-roman", "windows-874": "cp874",
}


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes to text with the declared charset (its usual superset when mislabelled),
    else UTF-8, else Windows-1252; never raises."""
    if charset:
        charset = _MISLABELS.get(charset.strip().strip('"').lower(), charset.strip().strip('"'))
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    if charset and _known_codec(charset):
        return data.decode(charset, errors="replace")
    # Mostly-valid UTF-8 with a stray byte reads better as UTF-8 than as mojibake.
    text = data.decode("utf-8", errors="replace")
    non_ascii = sum(1 for byte in data if byte > 0x7F)
    if text.count("\ufffd") * 10 <= non_ascii:
        return text
    return data.decode("cp1252", errors="replace")


def _known_codec(charset: str) -> bool:
    try:
        codecs.lookup(charset)
    except LookupError:
        return False
    return True


def _unfold(text: str) -> str:
    return re.sub(r"\s*\r?\n\s*", " ", text).strip()


def _address(msg: Message, name: str, problems: list[str]) -> tuple[str, str]:
    """(display name, lowercased address) of the first address in a header."""
    value = msg.get(name)
    if value is None:
        return "", ""
    raw = _unfold(decode_words(value) if isinstance(value, Header) else str(value))
    try:
        pairs = getaddresses([raw])
    except Exception as exc:  # broken address lists have raised IndexError in the stdlib
        problems.append(f"{name}: unparseable address ({exc})")
        pairs = []
    for display, addr in pairs:
        if _ADDR_RE.fullmatch(addr.strip()):
            return decode_words(display), addr.strip().lower()
    # Unquoted names ("From: Big Bug bb@bug.com") defeat the parser; salvage the address.
    found = _ADDR_RE.search(raw)
    if found:
        return decode_words(raw[: found.start()].strip(" <\"'")), found.group(0).lower()
    problems.append(f"{name}: no address in {_clean(raw)[:80]!r}")
    return decode_words(raw), ""


def _message_id(msg: Message, data: bytes, problems: list[str]) -> str:
    value = _unfold(str(msg.get("Message-ID") or ""))
    found = _MSGID_RE.search(value)
    msgid = re.sub(r"\s+", "", found.group(1) if found else value)
    if msgid:
        return msgid
    # A redelivery of the same bytes must map to the same id, or it would be stored twice.
    problems.append("no Message-ID; id derived from the content")
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _references(msg: Message) -> list[str]:
    ids: list[str] = []
    for name in ("In-Reply-To", "References"):
        for value in msg.get_all(name) or []:
            for found in _MSGID_RE.findall(_unfold(str(value))):
                ref = re.sub(r"\s+", "", found)
                if ref and ref not in ids:
                    ids.append(ref)
    return ids


def _sent_at(msg: Message, problems: list[str]) -> datetime | None:
    value = msg.get("Date")
    if value is None:
        problems.append("no Date header")
        return None
    try:
        sent = parsedate_to_datetime(_unfold(str(value)))
    except (TypeError, ValueError, IndexError, OverflowError):
        problems.append(f"unparseable Date: {_clean(str(value))[:80]!r}")
        return None
    # "-0000" means the zone is unknown; treat it as UTC rather than naive.
    return sent if sent.tzinfo else sent.replace(tzinfo=UTC)


# --- auto-mail (RFC 3834) ------------------------------------------------------


def no_ack_reason(msg: Message, from_addr: str, own_addresses: Iterable[str] = ()) -> str | None:
    """Why this message must not be answered automatically, or None.
    Answering bounces, auto-replies and list mail causes loops and spam complaints."""
    header = _auto_header_reason(msg)
    if header:
        return header
    local = from_addr.split("@", 1)[0]
    if local.lower() in _DAEMON_LOCALPARTS:
        return f"sender is {local}"
    if _NOREPLY_RE.match(local):
        return f"no-reply sender {from_addr}"
    if from_addr and from_addr in {a.strip().lower() for a in own_addresses}:
        return "sent from our own support address (mail loop)"
    return None


def _auto_header_reason(msg: Message) -> str | None:
    def get(name: str) -> str:
        return _unfold(str(msg.get(name, "")))

    if msg.get("Return-Path") is not None and get("Return-Path").strip("<> ") == "":
        return "empty Return-Path (a bounce)"
    if msg.get_content_type() == "multipart/report":
        return "delivery or read report (multipart/report)"
    auto = get("Auto-Submitted").lower()
    if auto and not auto.startswith("no"):
        return f"Auto-Submitted: {auto}"
    precedence = get("Precedence").lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return f"Precedence: {precedence}"
    for name in ("List-Id", "List-Unsubscribe", "X-Autoreply", "X-Autorespond", "X-Failed-Recipients"):
        if msg.get(name) is not None:
            return f"{name} header present"
    suppress = get("X-Auto-Response-Suppress").lower()
    if any(word in suppress for word in ("all", "oof", "autoreply")):
        return f"X-Auto-Response-Suppress: {suppress}"
    return None


# --- body ----------------------------------------------------------------------


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
    return Attachment(filename=_clean(_filename(part) or default), content_type=content_type, size=size, url=url)


def _clean(text: str) -> str:
    """Lone surrogates (from undecodable bytes) cannot be stored or sent as UTF-8."""
    return text.encode("utf-8", errors="replace").decode("utf-8").replace("\x00", "")


# --- HTML to text ----------------------------------------------------------------

_BLOCK_TAGS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "hr"}
# Not "head": mail with an unclosed <head> would lose its whole body.
_SKIP_TAGS = {"script", "style", "title", "template", "noscript"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(data)


def html_to_text(html: str) -> str:
    """Readable text from HTML: tags dropped, script/style content dropped, blocks on lines."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser is lenient, but a half-parsed text beats none
        pass
    lines = (re.sub(r"[ \t\r\f\v\xa0]+", " ", line).strip() for line in "".join(parser.out).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- bounces -----------------------------------------------------------------------

_BOUNCE_SCAN_BYTES = 300_000
_EMBEDDED_MSGID_RE = re.compile(rb"^Message-ID:[ \t]*(?:\r?\n[ \t]+)?<([^<>\s]+)>", re.I | re.M)
_DSN_FIELD_RE = re.compile(rb"^(Diagnostic-Code|Status|Action):[ \t]*([^\r\n]*(?:\r?\n[ \t]+[^\r\n]*)*)", re.I | re.M)
_SMTP_REPLY_RE = re.compile(rb"^\s*([45]\d\d[ -][45]\.\d{1,3}\.\d{1,3}\b[^\r\n]*)", re.M)


def _is_bounce(msg: Message, from_addr: str) -> bool:
    """A delivery failure report (not an auto-reply, not a list message)."""
    if msg.get_content_type() == "multipart/report":
        return (msg.get_param("report-type") or "").lower() in ("delivery-status", "")
    if msg.get("X-Failed-Recipients") is not None:
        return True
    if msg.get("Return-Path") is not None and _unfold(str(msg.get("Return-Path"))).strip("<> ") == "":
        return True
    return from_addr.split("@", 1)[0].lower() in _DAEMON_LOCALPARTS


def bounce_hints(msg: Message, data: bytes) -> dict[str, str]:
    """What a bounce says about the mail it returns: {"bounce_of": Message-IDs, "bounce_reason": text}.
    The returned mail's Message-ID is in In-Reply-To/References (rarely) or in the
    enclosed original (a message/rfc822 or text/rfc822-headers part, or quoted text)."""
    own_id = _unfold(str(msg.get("Message-ID") or "")).strip("<> ")
    head_end = _BLANK_LINE_RE.search(data)
    body = data[head_end.end() if head_end else 0 :][:_BOUNCE_SCAN_BYTES]
    ids = [*_references(msg)]
    for found in _EMBEDDED_MSGID_RE.findall(body):
        msgid = found.decode("utf-8", "replace")
        if msgid != own_id and msgid not in ids:
            ids.append(msgid)
    fields = {name.decode().lower(): _unfold(value.decode("utf-8", "replace")) for name, value in _DSN_FIELD_RE.findall(body)}
    reason = fields.get("diagnostic-code") or ""
    if not reason:
        smtp = _SMTP_REPLY_RE.search(body)
        reason = smtp.group(1).decode("utf-8", "replace").strip() if smtp else ""
    if fields.get("status") and fields["status"] not in reason:
        reason = f"{fields['status']} {reason}".strip()
    if not reason:
        reason = decode_words(str(msg.get("Subject") or "delivery failed"))
    hints = {"bounce_reason": _clean(reason)[:500]}
    if fields.get("action"):
        hints["bounce_action"] = fields["action"].lower()[:40]
    if ids:
        hints["bounce_of"] = " ".join(ids[:20])
    return hints


# --- quoted history and signatures --------------------------------------------------

_ATTRIBUTION_RE = re.compile(
    r"^\s*(On\b.{0,300}\bwrote|Le\b.{0,300}\ba écrit|Am\b.{0,300}\bschrieb|El\b.{0,300}\bescribió"
    r"|Op\b.{0,300}\bschreef|Il\b.{0,300}\bha scritto|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}.{0,200}"
    r"(wrote|написал|napisał|skrev|kirjoitti|schrieb))\s*:?\s*$",
    re.I,
)
_SEPARATOR_RE = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original|Forwarded message)"
    r"\s*-{2,}|_{20,}|Begin forwarded message:)\s*$",
    re.I,
)
_HEADER_BLOCK_RE = re.compile(r"^\s*\**(From|De|Von|Van|Da)\**\s*:\s*\S", re.I)
_HEADER_FOLLOW_RE = re.compile(r"^\s*\**(Sent|Date|Envoyé|Gesendet|To|Subject|Objet|Betreff|Cc)\**\s*:", re.I)
_MOBILE_SIG_RE = re.compile(r"^\s*(Sent from my \w+|Sent from (Mail|Outlook|Yahoo Mail)\b|Get Outlook for \w+).*$", re.I)


def strip_reply(text: str) -> str:
    """The new part of a reply: quoted history and the signature removed. Interleaved
    answers (quotes between new text) are kept whole; an all-quote text is kept as is."""
    lines = text.split("\n")
    cut = len(lines)
    for index, line in enumerate(lines):
        if _is_history_start(lines, index):
            cut = index
            break
    kept = lines[:cut]
    # A trailing run of quoted lines (and blank ones) is history too.
    end = len(kept)
    while end and (not kept[end - 1].strip() or kept[end - 1].lstrip().startswith(">")):
        end -= 1
    if any(line.lstrip().startswith(">") for line in kept[end:]):
        kept = kept[:end]
    kept = _strip_signature(kept)
    result = "\n".join(kept).strip()
    if not result and cut < len(lines):
        # Bottom-posted: the quote comes first, the answer below it.
        below = [x for x in lines[cut + 1 :] if not x.lstrip().startswith(">") and not _is_history_start([x], 0)]
        result = "\n".join(_strip_signature(below)).strip()
    return result if result else text.strip()


def _is_history_start(lines: list[str], index: int) -> bool:
    line = lines[index]
    if _SEPARATOR_RE.match(line):
        return True
    joined = line if len(line) > 300 else " ".join(x.strip() for x in lines[index : index + 3] if x.strip())
    if line.strip() and (_ATTRIBUTION_RE.match(line) or (_ATTRIBUTION_RE.match(joined) and not line.lstrip().startswith(">"))):
        # "On Mon, ... wrote:" must end a line (or the two or three lines joined).
        return _attribution_ends(lines, index)
    if _HEADER_BLOCK_RE.match(line):
        follow = [x for x in lines[index + 1 : index + 5] if x.strip()]
        return sum(1 for x in follow if _HEADER_FOLLOW_RE.match(x)) >= 2
    return False


def _attribution_ends(lines: list[str], index: int) -> bool:
    for offset in range(3):
        if index + offset < len(lines) and lines[index + offset].rstrip().endswith(":"):
            return True
    return False


def _strip_signature(lines: list[str]) -> list[str]:
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].rstrip() in ("--", "-- ") and len(lines) - index <= 15:
            return lines[:index]
    while lines and (not lines[-1].strip() or _MOBILE_SIG_RE.match(lines[-1])):
        lines = lines[:-1]
    return lines
