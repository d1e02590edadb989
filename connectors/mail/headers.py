"""Email header fields: RFC 2047 words and 8-bit bytes decoded with charset fallbacks,
addresses, Message-ID, references and Date read from what mail in the wild really sends."""

from __future__ import annotations

import codecs
import hashlib
import re
from datetime import UTC, datetime
from email.header import Header, decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

MSGID_RE = re.compile(r"<([^<>]+)>")
_ADDR_RE = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+")
BLANK_LINE_RE = re.compile(rb"\r?\n\r?\n")


def header_text(msg: Message, name: str, problems: list[str]) -> str:
    value = msg.get(name)
    return decode_words(value, problems, name) if value is not None else ""


def decode_words(value: str | Header, problems: list[str] | None = None, name: str = "header") -> str:
    """Decode RFC 2047 encoded words and raw 8-bit bytes (RFC 6532) to text."""
    try:
        chunks = decode_header(value)
    except Exception as exc:  # the stdlib raises several types on broken words
        if problems is not None:
            problems.append(f"{name}: undecodable encoded words ({exc})")
        return unfold(str(value))
    parts = [_decode_chunk(chunk, charset) for chunk, charset in chunks]
    return clean(unfold("".join(parts)))


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


def unfold(text: str) -> str:
    return re.sub(r"\s*\r?\n\s*", " ", text).strip()


def address(msg: Message, name: str, problems: list[str]) -> tuple[str, str]:
    """(display name, lowercased address) of the first address in a header."""
    value = msg.get(name)
    if value is None:
        return "", ""
    raw = unfold(decode_words(value) if isinstance(value, Header) else str(value))
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
    problems.append(f"{name}: no address in {clean(raw)[:80]!r}")
    return decode_words(raw), ""


def message_id(msg: Message, data: bytes, problems: list[str]) -> str:
    value = unfold(str(msg.get("Message-ID") or ""))
    found = MSGID_RE.search(value)
    msgid = re.sub(r"\s+", "", found.group(1) if found else value)
    if msgid:
        return msgid
    # A redelivery of the same bytes must map to the same id, or it would be stored twice.
    problems.append("no Message-ID; id derived from the content")
    return "sha256:" + hashlib.sha256(data).hexdigest()


def references(msg: Message) -> list[str]:
    ids: list[str] = []
    for name in ("In-Reply-To", "References"):
        for value in msg.get_all(name) or []:
            for found in MSGID_RE.findall(unfold(str(value))):
                ref = re.sub(r"\s+", "", found)
                if ref and ref not in ids:
                    ids.append(ref)
    return ids


def sent_at(msg: Message, problems: list[str]) -> datetime | None:
    value = msg.get("Date")
    if value is None:
        problems.append("no Date header")
        return None
    try:
        sent = parsedate_to_datetime(unfold(str(value)))
    except (TypeError, ValueError, IndexError, OverflowError):
        problems.append(f"unparseable Date: {clean(str(value))[:80]!r}")
        return None
    # "-0000" means the zone is unknown; treat it as UTC rather than naive.
    return sent if sent.tzinfo else sent.replace(tzinfo=UTC)


def clean(text: str) -> str:
    """Lone surrogates (from undecodable bytes) cannot be stored or sent as UTF-8."""
    return text.encode("utf-8", errors="replace").decode("utf-8").replace("\x00", "")
