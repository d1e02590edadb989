"""Outbox rows: what the hub must send, written in the same transaction as the
ticket that needs it. Each row's idempotency key is derived from what it is for
(`ack:<ticket>`), so writing it twice is impossible and a resend is recognisable."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import Outbound
from storage.models.delivery import Outbox
from storage.queries import bulk_insert_returning_ids
from support.delivery import acks as templates
from triage.sla import promised_response
from trkv.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "default"


def for_new_tickets(session: Session, tickets: list, settings: Settings, now: datetime,
                    incidents: dict | None = None) -> dict[int, list[tuple[int, str]]]:
    """Acknowledgements for freshly opened tickets: {ticket id: [(outbox id, queue)]}.
    `incidents` ({ticket id: incidents.detect.Notice}): those of an open incident are
    acknowledged naming it."""
    rows: list[dict[str, Any]] = []
    incidents = incidents or {}
    acks = {ticket.id: templates.incident_ack(acknowledgement(ticket, settings, now, session), incidents.get(ticket.id),
                                              settings)
            for ticket in tickets}
    acknowledged = _recently_acknowledged(session, acks.values(), settings, now)
    for ticket in tickets:
        ack = acks[ticket.id]
        if ack is not None and ack.channel == "email":
            # RFC 3834: at most one automatic answer per sender per window, whatever they send.
            if ack.to.lower() in acknowledged:
                log.info("TRKV-%s: its sender was acknowledged recently; no second acknowledgement", ticket.id)
                ack = None
            else:
                acknowledged.add(ack.to.lower())
        if ack is not None:
            rows.append(_row(ticket.id, ack, DEFAULT_QUEUE, now))
    queued: dict[int, list[tuple[int, str]]] = {}
    ids = bulk_insert_returning_ids(session, Outbox, rows) if rows else []
    for row, outbox_id in zip(rows, ids, strict=True):
        queued.setdefault(row["ticket_id"], []).append((outbox_id, row["queue"]))
    return queued


def _row(ticket_id: int, outbound: Outbound, queue: str, now: datetime) -> dict[str, Any]:
    payload = outbound.__dict__.copy()
    return {
        "ticket_id": ticket_id,
        "kind": outbound.kind,
        "channel": outbound.channel,
        "queue": queue,
        "idempotency_key": outbound.idempotency_key,
        "payload": payload,
        "status": "queued",
        "created_at": now,
        "updated_at": now,
        "recipient": outbound.to.lower()[:320] if outbound.channel == "email" and outbound.to else None,
    }


def _recently_acknowledged(session: Session, acks, settings: Settings, now: datetime) -> set[str]:
    """The addresses among `acks` that got an acknowledgement within the window."""
    addresses = sorted({a.to.lower() for a in acks if a is not None and a.channel == "email" and a.to})
    if not addresses or settings.email_ack_window_minutes <= 0:
        return set()
    since = now - timedelta(minutes=settings.email_ack_window_minutes)
    found: set[str] = set()
    for start in range(0, len(addresses), 400):
        found.update(session.execute(
            select(Outbox.recipient).where(
                Outbox.recipient.in_(addresses[start : start + 400]), Outbox.kind == "ack", Outbox.created_at >= since
            )
        ).scalars())
    return found


def acknowledgement(ticket, settings: Settings, now: datetime, session: Session | None = None) -> Outbound | None:
    """The first automatic answer, or None when one must not be sent (`session`: the caller's,
    for the templates it reads)."""
    first = ticket.first
    if first.no_ack_reason:
        return None
    if ticket.category == "no_action" and not ticket.needs_triage:
        # Only a confident "no action needed" (spam, praise, chatter) goes unacknowledged:
        # when the model is unsure, a person who wrote to us hears back. Public praise on
        # X and Discord gets a short thank-you instead, in the acknowledgement's place.
        if getattr(ticket, "praise", False) and settings.thank_praise and first.channel in ("x", "discord"):
            return _thanks(first, f"ack:{ticket.id}", f"TRKV-{ticket.id}")
        return None
    ref = f"TRKV-{ticket.id}"
    promise = promised_response(ticket.first_response_due_at, now)
    from support.kb.acks import ack_article, open_questions

    article, questions = ack_article(ticket, settings), open_questions(ticket, settings, session)
    key = f"ack:{ticket.id}"
    name = first.author_name or first.author_handle or "there"
    if first.channel in ("email", "api"):
        address = first.author_email or (first.author_id if first.channel == "email" else None)
        if not address:
            return None  # an api author without an address cannot be reached
        from support.channels.email import reply_subject

        subject = reply_subject(first.subject, ref)
        text = templates.ACK_EMAIL.format(name=name, ref=ref, promise=promise, public_url=settings.public_url)
        text = text.replace("\n\nTo add details", templates.kb_part("email", article)
                            + templates.questions_part("email", questions) + "\n\nTo add details", 1)
        return Outbound(
            channel="email", kind="ack", idempotency_key=key, text=text, to=address, subject=subject,
            html=templates.ack_email_html(name, ref, promise, settings.public_url).replace(
                "<p>To add details", templates.kb_part_html(article) + "<p>To add details", 1),
            in_reply_to=first.external_id if first.channel == "email" else None,
            references=[*first.references, first.external_id] if first.channel == "email" else [],
            meta={"auto_submitted": "auto-replied", "ref": ref},
        )
    if first.channel == "discord":
        from support.channels.discord import ack_outbound

        text = templates.ACK_DISCORD.format(mention=f"<@{first.author_id}>", ref=ref, priority=ticket.priority, promise=promise)
        text += templates.kb_part("discord", article) + templates.questions_part("discord", questions)
        return ack_outbound(first, key, text)  # in the thread it opens, the forum post or the DM
    if first.channel == "x":
        from support.channels.x import ack_outbound

        handle = first.author_handle.lstrip("@") or first.author_id
        text = templates.fit_x(templates.ACK_X.format(handle=handle, ref=ref, promise=promise)
                               + templates.kb_part("x", article))
        return ack_outbound(first, key, text, ref)  # a reply tweet, or a DM to a DM
    return Outbound(channel="log", kind="ack", idempotency_key=key, text=f"{ref} acknowledged")


def _thanks(first, key: str, ref: str) -> Outbound:
    """A thank-you for praise, where the customer wrote it (a reply tweet or DM, the Discord thread)."""
    if first.channel == "discord":
        from support.channels.discord import ack_outbound

        outbound = ack_outbound(first, key, templates.THANKS_DISCORD.format(mention=f"<@{first.author_id}>"))
    else:
        from support.channels.x import ack_outbound

        handle = first.author_handle.lstrip("@") or first.author_id
        outbound = ack_outbound(first, key, templates.fit_x(templates.THANKS_X.format(handle=handle)), ref)
    outbound.meta = {**outbound.meta, "thanks": True}
    return outbound

