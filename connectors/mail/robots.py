"""Mail from robots (RFC 3834): bounces, delivery and complaint reports, auto-replies and
list mail, which must never get an automatic answer: answering them starts mail loops."""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.message import Message

from connectors.mail.headers import unfold

_NOREPLY_RE = re.compile(r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|bounces?)([-+_.].*)?$", re.I)
_DAEMON_LOCALPARTS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}


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
        return unfold(str(msg.get(name, "")))

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


def is_bounce(msg: Message, from_addr: str) -> bool:
    """A delivery failure report (not an auto-reply, not a list message)."""
    if msg.get_content_type() == "multipart/report":
        return (msg.get_param("report-type") or "").lower() in ("delivery-status", "")
    if msg.get("X-Failed-Recipients") is not None:
        return True
    if msg.get("Return-Path") is not None and unfold(str(msg.get("Return-Path"))).strip("<> ") == "":
        return True
    return from_addr.split("@", 1)[0].lower() in _DAEMON_LOCALPARTS
