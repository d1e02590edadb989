"""Wiring of the email channel (and of the api channel, which answers by email):
IMAP receivers and the SMTP sender from the settings, and how an agent's reply is
addressed and threaded."""

from __future__ import annotations

import logging
import re

from sqlalchemy import select
from sqlalchemy.orm import object_session

from connectors.base import Outbound, Receiver, Sender
from storage.models.contacts import Contact, Identity
from storage.models.tickets import Message, Ticket
from trkv.settings import Settings

log = logging.getLogger(__name__)

_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|fw|fwd|antw|r)\s*(\[\d+\])?\s*:\s*)+", re.I)
_TAG = re.compile(r"\s*\[TRKV-\d+\]", re.I)


def own_addresses(settings: Settings) -> list[str]:
    """Every address of ours: mail from them is a loop, never to be acknowledged."""
    addresses = [settings.support_address, settings.imap_user or "", *settings.support_aliases.split(",")]
    return sorted({a.strip().lower() for a in addresses if a and "@" in a})


def folders(settings: Settings) -> list[str]:
    return [f.strip() for f in settings.imap_folders.split(",") if f.strip()] or ["INBOX"]


def receivers(settings: Settings, sink=None) -> list[Receiver]:
    """One IMAP receiver per folder in TRKV_IMAP_FOLDERS (each keeps its own cursor)."""
    if not (settings.imap_host and settings.imap_user):
        log.warning("email: TRKV_IMAP_HOST and TRKV_IMAP_USER are not set; the email connector is not started")
        return []
    from connectors.imap import ImapReceiver

    password = settings.imap_password.get_secret_value() if settings.imap_password else ""
    return [
        ImapReceiver(
            settings.imap_host, settings.imap_port, settings.imap_user, password,
            folder=folder, ssl=settings.imap_ssl, starttls=settings.imap_starttls,
            own_addresses=own_addresses(settings), attachment_max_bytes=settings.email_attachment_max_bytes,
            idle_renew=settings.imap_idle_renew, poll_interval=settings.imap_poll_interval,
            timeout=settings.imap_timeout,
        )
        for folder in folders(settings)
    ]


def sender(settings: Settings) -> Sender | None:
    if not settings.smtp_host:
        return None
    from connectors.smtp import SmtpSender

    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpSender(
        settings.smtp_host, settings.smtp_port, from_address=settings.support_address,
        from_name=settings.support_name, user=settings.smtp_user, password=password,
        ssl=settings.smtp_ssl, starttls=settings.smtp_starttls, timeout=settings.smtp_timeout,
    )


def reply_subject(subject: str | None, ref: str) -> str:
    """"Re: <subject> [TRKV-n]", with no pile-up of prefixes or tags."""
    base = _TAG.sub("", _REPLY_PREFIX.sub("", subject or "")).strip() or "your request"
    return f"Re: {base} [{ref}]"


def reply_outbound(ticket: Ticket, last_in: Message | None, text: str, key: str, settings: Settings) -> Outbound:
    """An agent's reply by email: to the customer's address, answering their last
    message, with the ticket's whole email thread in References."""
    from support.delivery import acks as templates

    session = object_session(ticket)
    address = _customer_address(session, ticket, last_in)
    thread = _thread_ids(session, ticket.id)
    in_reply_to = last_in.external_id if last_in is not None and last_in.channel == "email" else None
    subject = reply_subject(ticket.subject or (last_in.subject if last_in else None), ticket.ref)
    return Outbound(
        channel="email", kind="reply", idempotency_key=key, text=text, to=address, subject=subject,
        html=templates.reply_email_html(text, ticket.ref, settings.public_url),
        in_reply_to=in_reply_to, references=thread, meta={"ref": ticket.ref},
    )


def _customer_address(session, ticket: Ticket, last_in: Message | None) -> str | None:
    if last_in is not None and last_in.identity_id is not None:
        identity = session.get(Identity, last_in.identity_id)
        if identity is not None:
            contact = session.get(Contact, identity.contact_id)
            if contact is not None and contact.email:  # Reply-To when the first mail had one
                return contact.email
            if identity.channel == "email" and "@" in identity.external_user_id:
                return identity.external_user_id
    if ticket.contact_id is not None:
        contact = session.get(Contact, ticket.contact_id)
        if contact is not None and contact.email:
            return contact.email
    return None


def _thread_ids(session, ticket_id: int) -> list[str]:
    """Message-IDs of the ticket's email messages, oldest first: the References chain."""
    rows = session.execute(
        select(Message.external_id)
        .where(Message.ticket_id == ticket_id, Message.channel == "email")
        .order_by(Message.id)
    ).scalars()
    return [r for r in rows if "@" in r and not r.startswith("sha256:")]
