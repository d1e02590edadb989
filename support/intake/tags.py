"""Who may join a ticket by writing its `[TRKV-n]` tag in a subject.

Ticket ids are sequential, so a tag alone proves nothing: a mail carrying one joins the
ticket only when its sender is a participant: the ticket's contact (its address or any
of its identities), a sender of one of the ticket's messages, an address in the
To/Cc of one of them, or an address the hub wrote to about it. Anyone else opens a
new ticket, linked to the tagged one, with the reason as an event (support/intake/ingest.py).
"""

from __future__ import annotations

from email.parser import HeaderParser
from email.utils import getaddresses

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import Inbound
from storage.models.contacts import Contact, Identity
from storage.models.delivery import Outbox
from storage.models.tickets import Message, Ticket

_HEADERS = ("From", "To", "Cc", "Reply-To")
_MAX_MESSAGES = 500  # the To/Cc of a ticket's first messages: who was on it from the start


def senders(inbound: Inbound) -> set[str]:
    """The addresses (or platform ids) the message comes from, lowercased."""
    return {a.strip().lower() for a in (inbound.author_id, inbound.author_email) if a and a.strip()}


def participants(session: Session, ticket_ids: list[int]) -> dict[int, set[str]]:
    """{ticket id: the lowercased addresses and ids of everyone on the ticket}."""
    found: dict[int, set[str]] = {t: set() for t in ticket_ids}
    if not ticket_ids:
        return found

    def add(rows) -> None:
        for ticket_id, value in rows:
            if value:
                found[ticket_id].add(str(value).strip().lower())

    add(session.execute(select(Ticket.id, Contact.email).join(Contact, Contact.id == Ticket.contact_id)
                        .where(Ticket.id.in_(ticket_ids))))
    add(session.execute(select(Ticket.id, Identity.external_user_id).join(Identity, Identity.contact_id == Ticket.contact_id)
                        .where(Ticket.id.in_(ticket_ids))))
    add(session.execute(select(Message.ticket_id, Identity.external_user_id).join(Identity, Identity.id == Message.identity_id)
                        .where(Message.ticket_id.in_(ticket_ids))))
    add(session.execute(select(Outbox.ticket_id, Outbox.recipient).where(Outbox.ticket_id.in_(ticket_ids),
                                                                       Outbox.recipient.is_not(None))))
    raws = session.execute(
        select(Message.ticket_id, Message.raw).where(Message.ticket_id.in_(ticket_ids), Message.channel == "email",
                                                     Message.direction == "in").order_by(Message.id).limit(_MAX_MESSAGES)
    )
    for ticket_id, raw in raws:
        found[ticket_id].update(header_addresses(raw))
    return found


def header_addresses(raw) -> set[str]:
    """The From/To/Cc/Reply-To addresses of a stored raw mail (a string), lowercased."""
    if not isinstance(raw, str) or not raw:
        return set()
    head = raw.replace("\r\n", "\n").split("\n\n", 1)[0]
    try:
        headers = HeaderParser().parsestr(head, headersonly=True)
        values = [str(v) for name in _HEADERS for v in headers.get_all(name, [])]
        return {addr.strip().lower() for _, addr in getaddresses(values) if "@" in addr}
    except Exception:  # noqa: BLE001 - a header we cannot read names nobody
        return set()


def refusal(inbound: Inbound, ticket_id: int) -> str:
    who = ", ".join(sorted(senders(inbound))) or "the sender"
    return f"{who} wrote [TRKV-{ticket_id}] in the subject but is not a participant of TRKV-{ticket_id}"
