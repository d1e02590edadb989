"""Sending email over SMTP: agent replies and acknowledgements from outbox rows.

Each outbox row's idempotency key fixes the Message-ID, so a resend after a crash
carries the same Message-ID as the first attempt and a mail client (or our own
threading) sees one message, not two. Acknowledgements are marked
`Auto-Submitted: auto-replied` and go out with an empty envelope sender (RFC 3834
section 3.3), so that a failure to deliver them can never start a bounce loop;
agent replies use the support address, so that their bounces come back to us and
mark the row failed.

Errors: 5xx answers (bad credentials, refused recipient, refused content) are
permanent; 4xx answers and connection trouble are transient, retried by dispatch.
"""

from __future__ import annotations

import hashlib
import html as html_module
import logging
import re
import smtplib
import socket
import ssl as ssl_module
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, localtime

from connectors.base import ConnectorError, Outbound, SendResult

log = logging.getLogger(__name__)

_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9.\-_+=]")
MAX_REFERENCES = 20


_LIST_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post", "List-Id")


def message_id_for(idempotency_key: str, domain: str) -> str:
    """The Message-ID (without angle brackets) of the mail sent for an outbox row."""
    readable = _UNSAFE_ID_CHARS.sub(".", idempotency_key)[:60].strip(".")
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:16]
    return f"trkv.{readable}.{digest}@{domain}"


def text_to_html(text: str) -> str:
    """Plain text as simple HTML paragraphs (escaped, line breaks kept)."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    body = "\n".join("<p>" + html_module.escape(p).replace("\n", "<br>\n") + "</p>" for p in paragraphs)
    return f'<!doctype html>\n<html><body style="font-family: sans-serif; line-height: 1.4">\n{body}\n</body></html>\n'


def build_message(outbound: Outbound, from_address: str, from_name: str = "TRKV Support") -> tuple[EmailMessage, str]:
    """The RFC 5322 message for an outbound email, and its Message-ID."""
    if not outbound.to:
        raise ConnectorError(f"email {outbound.idempotency_key}: no recipient address", permanent=True)
    domain = from_address.rsplit("@", 1)[-1] or "localhost"
    msgid = message_id_for(outbound.idempotency_key, domain)
    msg = EmailMessage()
    msg["From"] = formataddr((from_name, from_address))
    msg["To"] = outbound.to
    msg["Subject"] = outbound.subject or "Your TRKV support request"
    msg["Date"] = format_datetime(localtime())
    msg["Message-ID"] = f"<{msgid}>"
    if outbound.in_reply_to:
        msg["In-Reply-To"] = f"<{outbound.in_reply_to}>"
    references = _references(outbound)
    if references:
        msg["References"] = " ".join(f"<{r}>" for r in references)
    auto = outbound.meta.get("auto_submitted") or ("auto-replied" if outbound.kind == "ack" else None)
    if auto:
        msg["Auto-Submitted"] = auto
        msg["X-Auto-Response-Suppress"] = "All"  # Exchange: no out-of-office answers to our acknowledgement
    if outbound.meta.get("ref"):
        msg["X-TRKV-Ticket"] = str(outbound.meta["ref"])
    for name, value in (outbound.meta.get("headers") or {}).items():
        if name in _LIST_HEADERS:  # status subscribers' one-click unsubscribe (RFC 8058)
            msg[name] = str(value)
    msg.set_content(outbound.text)
    msg.add_alternative(outbound.html or text_to_html(outbound.text), subtype="html")
    return msg, msgid


def _references(outbound: Outbound) -> list[str]:
    ids: list[str] = []
    for ref in [*outbound.references, *([outbound.in_reply_to] if outbound.in_reply_to else [])]:
        if ref and ref not in ids and "@" in ref and not re.search(r"[\s<>]", ref):
            ids.append(ref)
    if len(ids) > MAX_REFERENCES:  # RFC 5322 3.6.4: keep the first, trim the middle
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1) :]
    return ids


class SmtpSender:
    channel = "email"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        from_address: str,
        from_name: str = "TRKV Support",
        user: str | None = None,
        password: str | None = None,
        ssl: bool = False,
        starttls: bool = True,
        ssl_context: ssl_module.SSLContext | None = None,
        timeout: float = 30.0,
    ):
        self.host, self.port = host, port
        self.from_address, self.from_name = from_address, from_name
        self.user, self._password = user, password
        self.ssl, self.starttls = ssl, starttls
        self.ssl_context = ssl_context
        self.timeout = timeout

    def __repr__(self) -> str:  # never the password
        return f"SmtpSender({self.user or ''}@{self.host}:{self.port})"

    def send(self, outbound: Outbound) -> SendResult:
        msg, msgid = build_message(outbound, self.from_address, self.from_name)
        # RFC 3834 3.3: an automatic answer goes out with an empty return path.
        envelope_from = "" if msg.get("Auto-Submitted") else self.from_address
        try:
            with self._connect() as smtp:
                refused = smtp.send_message(msg, from_addr=envelope_from, to_addrs=[outbound.to])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise ConnectorError(f"recipient refused: {_describe(exc.recipients)}",
                                 permanent=all(code >= 500 for code in codes)) from exc
        except smtplib.SMTPResponseException as exc:
            detail = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
            raise ConnectorError(f"SMTP {self.host} answered {exc.smtp_code} {detail}",
                                 permanent=exc.smtp_code >= 500) from exc
        except ssl_module.SSLCertVerificationError as exc:
            raise ConnectorError(f"SMTP {self.host}: TLS certificate rejected: {exc}", permanent=True) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise ConnectorError(f"SMTP {self.host}: {exc}", permanent=True) from exc
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            raise ConnectorError(f"SMTP {self.host}:{self.port}: {type(exc).__name__}: {exc}") from exc
        if refused:
            raise ConnectorError(f"recipient refused: {_describe(refused)}", permanent=True)
        log.info("email %s sent as <%s>", outbound.kind, msgid)  # no address: customers' addresses stay out of INFO logs
        return SendResult(external_id=msgid)

    def _connect(self) -> smtplib.SMTP:
        context = self.ssl_context or ssl_module.create_default_context()
        if self.ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.starttls and not self.ssl:
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.user:
                smtp.login(self.user, self._password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp


def _describe(recipients: dict) -> str:
    parts = []
    for address, (code, message) in recipients.items():
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
        parts.append(f"{address}: {code} {text}")
    return "; ".join(parts)
