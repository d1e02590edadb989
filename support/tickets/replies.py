"""Agent replies: one workflow function that the web inbox, the API and the CLI call.

A reply is an outbox row, written in one transaction with the audit event; dispatch
sends it through the ticket's channel. The row's idempotency key comes from the
caller (a form's one-time token, an API client's key) or is generated, so a form
submitted twice sends one reply.

How the reply is addressed is the channel's business: `support.channels.<channel>`
may define `reply_outbound(ticket, last_in, text, key, settings) -> Outbound`; the
default below answers the last inbound message on the ticket's channel.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from connectors.base import Outbound
from storage.db import transaction
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.tickets import Message, Ticket, TicketEvent
from storage.queries import insert_ignoring_conflicts, ticket_id_from_ref
from support.delivery import kicks as kick
from trkv.settings import Settings, get_settings


class ReplyError(ValueError):
    """The reply cannot be sent (unknown ticket, empty text)."""


@dataclass
class Reply:
    outbox_id: int
    channel: str
    idempotency_key: str


def reply(
    ref: str,
    text: str,
    *,
    user_id: int | None = None,
    key: str | None = None,
    html: str | None = None,
    settings: Settings | None = None,
) -> Reply:
    settings = settings or get_settings()
    text = text.strip()
    if not text:
        raise ReplyError("a reply needs text")
    ticket_id = ticket_id_from_ref(ref)
    key = f"reply:{key or uuid.uuid4().hex}"[:100]
    with transaction(settings.db_url) as session:
        ticket = session.get(Ticket, ticket_id) if ticket_id else None
        if ticket is None:
            raise ReplyError(f"no ticket {ref}")
        last_in = session.execute(
            select(Message)
            .where(Message.ticket_id == ticket.id, Message.direction == "in")
            .order_by(Message.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        outbound = build_outbound(ticket, last_in, text, key, settings)
        if html is not None:
            outbound.html = html
        now = utcnow()
        session.execute(
            insert_ignoring_conflicts(session, Outbox).values(
                ticket_id=ticket.id, kind="reply", channel=outbound.channel, queue="default",
                idempotency_key=key, payload=outbound.__dict__.copy(), status="queued",
                created_at=now, updated_at=now,
            )
        )
        row = session.execute(select(Outbox).where(Outbox.idempotency_key == key)).scalar_one()
        session.add(TicketEvent(ticket_id=ticket.id, kind="reply", user_id=user_id, detail={"outbox_id": row.id}))
        if ticket.status in ("new", "open"):
            ticket.status = "open"
        ticket.updated_at = now
        result = Reply(row.id, row.channel, key)
    kick.dispatch([(result.outbox_id, "default")])
    return result


def build_outbound(ticket: Ticket, last_in: Message | None, text: str, key: str, settings: Settings) -> Outbound:
    from support.channels import registry as channels

    channel = last_in.channel if last_in is not None else ticket.channel
    wiring = channels.module(channel)
    if wiring is not None and hasattr(wiring, "reply_outbound"):
        return wiring.reply_outbound(ticket, last_in, text, key, settings)
    return Outbound(
        channel=channel, kind="reply", idempotency_key=key, text=text,
        conversation_key=ticket.conversation_key,
        in_reply_to=last_in.external_id if last_in is not None else None,
    )
