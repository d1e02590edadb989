"""What a bounce says about the mail it returns: the returned Message-IDs and the reason."""

from __future__ import annotations

import re
from email.message import Message

from connectors.mail.headers import BLANK_LINE_RE, clean, decode_words, references, unfold

_BOUNCE_SCAN_BYTES = 300_000
_EMBEDDEDMSGID_RE = re.compile(rb"^Message-ID:[ \t]*(?:\r?\n[ \t]+)?<([^<>\s]+)>", re.I | re.M)
_DSN_FIELD_RE = re.compile(rb"^(Diagnostic-Code|Status|Action):[ \t]*([^\r\n]*(?:\r?\n[ \t]+[^\r\n]*)*)", re.I | re.M)
_SMTP_REPLY_RE = re.compile(rb"^\s*([45]\d\d[ -][45]\.\d{1,3}\.\d{1,3}\b[^\r\n]*)", re.M)

def bounce_hints(msg: Message, data: bytes) -> dict[str, str]:
    """What a bounce says about the mail it returns: {"bounce_of": Message-IDs, "bounce_reason": text}.
    The returned mail's Message-ID is in In-Reply-To/References (rarely) or in the
    enclosed original (a message/rfc822 or text/rfc822-headers part, or quoted text)."""
    own_id = unfold(str(msg.get("Message-ID") or "")).strip("<> ")
    head_end = BLANK_LINE_RE.search(data)
    body = data[head_end.end() if head_end else 0 :][:_BOUNCE_SCAN_BYTES]
    ids = [*references(msg)]
    for found in _EMBEDDEDMSGID_RE.findall(body):
        msgid = found.decode("utf-8", "replace")
        if msgid != own_id and msgid not in ids:
            ids.append(msgid)
    fields = {name.decode().lower(): unfold(value.decode("utf-8", "replace")) for name, value in _DSN_FIELD_RE.findall(body)}
    reason = fields.get("diagnostic-code") or ""
    if not reason:
        smtp = _SMTP_REPLY_RE.search(body)
        reason = smtp.group(1).decode("utf-8", "replace").strip() if smtp else ""
    if fields.get("status") and fields["status"] not in reason:
        reason = f"{fields['status']} {reason}".strip()
    if not reason:
        reason = decode_words(str(msg.get("Subject") or "delivery failed"))
    hints = {"bounce_reason": clean(reason)[:500]}
    if fields.get("action"):
        hints["bounce_action"] = fields["action"].lower()[:40]
    if ids:
        hints["bounce_of"] = " ".join(ids[:20])
    return hints
