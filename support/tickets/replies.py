"""Agent replies: one workflow function that the web inbox, the API and the CLI call.

A reply is an outbox row, written in one transaction with the audit event; dispatch
sends it through the ticket's channel. The row's idempotency key comes from the
caller (a form's one-time token, an API client's key) or is generated, so a form
submitted twice sends one reply. The key is scoped to the ticket and the caller: the
same client key on another ticket, or from another agent, is another reply.

A reply longer than its channel carries in one message (X: 280 as X counts, the
@handle included; Discord: 2000) is refused with the limit, never cut.

How the reply is addressed is the channel's business: `support.channels.<channel>`
may define `reply_outbound(ticket, last_in, text, key, settings) -> Outbound`; the
default below answers the last inbound message on the ticket's channel.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from connectors.base import Outbound
from storage.db import transaction
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.tickets import Message, Ticket, TicketEvent
from storage.queries import insert_ignoring_conflicts, ticket_id_from_ref
from support.delivery import acks as templates
from support.delivery import kicks as kick
from trkv.settings import Settings, get_settings


class ReplyError(ValueError):
    """The reply cannot be sent (unknown ticket, empty text)."""


# Characters one message carries, as the platform counts them (X: links 23, CJK 2).
LIMITS = {"discord": 2000, "x": templates.X_LIMIT}
X_DM_LIMIT = 10_000


class ReplyTooLong(ReplyError):
    """Longer than the channel carries in one message; `limit` is the most it takes."""

    def __init__(self, channel: str, limit: int, length: int):
        super().__init__(f"a reply on {channel} holds at most {limit} characters (this one has {length})")
        self.channel, self.limit, self.length = channel, limit, length


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
    with transaction(settings.db_url) as session:
        ticket = session.get(Ticket, ticket_id) if ticket_id else None
        if ticket is None:
            raise ReplyError(f"no ticket {ref}")
        key = scoped_key(ticket.id, user_id, key or uuid.uuid4().hex)
        last_in = session.execute(
            select(Message)
            .where(Message.ticket_id == ticket.id, Message.direction == "in")
            .order_by(Message.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        outbound = build_outbound(ticket, last_in, text, key, settings)
        check_length(outbound)
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


def scoped_key(ticket_id: int, user_id: int | None, client_key: str) -> str:
    """`reply:<ticket>:<caller>:<client key>`, hashed when it would not fit the column."""
    key = f"reply:{ticket_id}:{user_id or 0}:{client_key}"
    if len(key) > 100:
        key = f"reply:{ticket_id}:{user_id or 0}:{hashlib.sha256(client_key.encode()).hexdigest()[:40]}"
    return key


def check_length(outbound: Outbound) -> None:
    """Refuse what the platform would cut or reject (the text as sent, @handle included)."""
    if outbound.channel == "x":
        limit = X_DM_LIMIT if (outbound.meta or {}).get("dm") else LIMITS["x"]
        length = templates.x_length(outbound.text)
    elif outbound.channel in LIMITS:
        limit, length = LIMITS[outbound.channel], len(outbound.text)
    else:
        return
    if length > limit:
        raise ReplyTooLong(outbound.channel, limit, length)


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
