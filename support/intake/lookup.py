"""What ingest reads before it writes: the batch's messages stored already (redeliveries),
their authors' identities (made here when missing) and the tickets of their conversations.

On PostgreSQL one written statement reads them all, where a live message spent a round trip on
each (bench/paging.py); on SQLite, where a statement costs no round trip, they are separate reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy.orm import Session

from connectors.base import Inbound
from storage.db import BinaryList
from storage.models.contacts import Contact, Identity
from storage.models.tickets import Message
from storage.queries import (
    bulk_insert_returning_ids,
    insert_many_ignoring_conflicts,
    insert_with_child,
    remember,
    rows_by_pairs,
)
from support.incidents import detect

# What a batch needs to know before it writes, in one statement on PostgreSQL (a live message
# spent a round trip on each): its messages stored already ('m': ticket, message), its authors'
# identities ('i': identity, contact, blocked), the tickets of the messages they reply to ('r')
# and the latest ticket of their conversations ('c'; both with status and `at`, resolved_at).
# Each set of keys is a pair of binary arrays, probed through the unique indexes as in
# storage.queries.rows_by_pairs.
_PAIRS = "IN (SELECT a, b FROM unnest(%({0}c)s::text[], %({0}k)s::text[]) AS k(a, b))"
_LOOKUP = " UNION ALL ".join((
    "SELECT 'm' AS kind, channel, external_id AS key, ticket_id AS a, id AS b, false AS blocked, "
    f"NULL::text AS status, NULL::timestamp AS at FROM messages WHERE (channel, external_id) {_PAIRS.format('m')}",
    "SELECT 'i', i.channel, i.external_user_id, i.id, i.contact_id, c.blocked, NULL, NULL "
    f"FROM identities AS i JOIN contacts AS c ON c.id = i.contact_id WHERE (i.channel, i.external_user_id) {_PAIRS.format('i')}",
    "SELECT 'r', m.channel, m.external_id, t.id, NULL, false, t.status, t.resolved_at "
    f"FROM messages AS m JOIN tickets AS t ON t.id = m.ticket_id WHERE (m.channel, m.external_id) {_PAIRS.format('r')}",
    "SELECT 'c', t.channel, t.conversation_key, t.id, NULL, false, t.status, t.resolved_at FROM tickets AS t "
    f"WHERE t.id IN (SELECT max(id) FROM tickets WHERE (channel, conversation_key) {_PAIRS.format('c')} "
    "GROUP BY channel, conversation_key)",
    # And for the steps after it (storage.queries.remember): how many incidents are active (a new
    # ticket is compared with none when none is), and the response templates' version (the
    # acknowledgement's are read again only when they changed).
    "SELECT 'a', NULL, NULL, count(*), NULL, false, NULL, NULL FROM incidents WHERE status = ANY(%(active)s)",
    "SELECT 'x', NULL, NULL, count(*), NULL, false, NULL, max(updated_at) FROM response_templates",
))


class TicketRow(NamedTuple):
    id: int
    status: str
    resolved_at: datetime | None


@dataclass
class Stored:
    """What `stored_for` found. `by_reference` and `by_conversation` are None where it did not
    look (SQLite, where a statement costs no round trip: `_thread` reads them itself)."""
    messages: dict[tuple[str, str], tuple[int, int]]
    identities: dict[tuple[str, str], tuple[int, int]]
    unblocked: set[int]  # contacts of `identities` that are not blocked (PostgreSQL)
    by_reference: dict[tuple[str, str], TicketRow] | None = None
    by_conversation: dict[tuple[str, str], TicketRow] | None = None


def stored_for(session: Session, inbounds: list[Inbound]) -> Stored:
    """What is stored already for the batch's messages (redeliveries), their authors, and the
    conversations they belong to. Read after the conversations' locks are taken."""
    messages = sorted({(i.channel, i.external_id) for i in inbounds})
    authors = sorted({(i.channel, i.author_id) for i in inbounds})
    if session.get_bind().dialect.name != "postgresql":
        rows = rows_by_pairs(session, Message.__table__, ("channel", "external_id", "ticket_id", "id"),
                             "channel", "external_id", messages)
        return Stored({(r.channel, r.external_id): (r.ticket_id, r.id) for r in rows},
                       load_identities(session, authors), set())
    references = sorted({(i.channel, ref) for i in inbounds for ref in i.references})
    conversations = sorted({(i.channel, i.conversation_key) for i in inbounds if i.conversation_key})
    params = {"active": list(detect.ACTIVE)}
    for prefix, pairs in (("m", messages), ("i", authors), ("r", references), ("c", conversations)):
        params[prefix + "c"], params[prefix + "k"] = BinaryList(a for a, _ in pairs), BinaryList(b for _, b in pairs)
    stored = Stored({}, {}, set(), {}, {})
    for r in session.connection().exec_driver_sql(_LOOKUP, params):
        key = (r.channel, r.key)
        if r.kind == "m":
            stored.messages[key] = (r.a, r.b)
        elif r.kind == "i":
            stored.identities[key] = (r.a, r.b)
            if not r.blocked:
                stored.unblocked.add(r.b)
        elif r.kind == "a":
            remember(session, active_incidents=r.a)
        elif r.kind == "x":
            remember(session, templates_version=(r.a, r.at))
        else:  # a ticket: timestamps are naive UTC in the database (storage.models.base.UTCDateTime)
            ticket = TicketRow(r.a, r.status, r.at.replace(tzinfo=UTC) if r.at else None)
            (stored.by_reference if r.kind == "r" else stored.by_conversation)[key] = ticket
    return stored


def upsert_identities(session: Session, inbounds: list[Inbound], now: datetime,
                      new_contacts: set[int] | None = None,
                      known: dict[tuple[str, str], tuple[int, int]] | None = None) -> dict[tuple[str, str], tuple[int, int]]:
    """(channel, author id) -> (identity id, contact id), creating what is missing; the
    contacts it created, which no one can have blocked yet, are added to `new_contacts`.
    `known`: the identities stored already, where the caller looked them up (`stored_for`)."""
    wanted = {(i.channel, i.author_id): i for i in inbounds}
    found = dict(known) if known is not None else load_identities(session, list(wanted))
    missing = [inbound for key, inbound in wanted.items() if key not in found]
    if not missing:
        return found
    contacts = [{"name": i.author_name or i.author_handle, "email": i.author_email, "created_at": now} for i in missing]
    rows = [{"contact_id": None, "channel": i.channel, "external_user_id": i.author_id, "handle": i.author_handle[:320],
             "display_name": i.author_name[:300], "created_at": now} for i in missing]
    if session.get_bind().dialect.name != "postgresql":
        # SQLite: this transaction has held the write lock since it began (IMMEDIATE), so
        # none of `missing` can have been stored since the read above: no read back.
        contact_ids = bulk_insert_returning_ids(session, Contact, contacts)
        ids = bulk_insert_returning_ids(session, Identity, [{**r, "contact_id": c} for r, c in zip(rows, contact_ids, strict=True)])
        found.update({(r["channel"], r["external_user_id"]): (i, c) for r, i, c in zip(rows, ids, contact_ids, strict=True)})
        if new_contacts is not None:
            new_contacts.update(contact_ids)
        return found
    if len(missing) == 1:  # a live message's new author: contact and identity in one round trip
        contact_id, identity_id = insert_with_child(session, Contact, contacts[0], Identity, rows[0], "contact_id",
                                                    child_may_conflict=True)
        inserted = [] if identity_id is None else [(rows[0]["channel"], rows[0]["external_user_id"], identity_id, contact_id)]
    else:
        contact_ids = bulk_insert_returning_ids(session, Contact, contacts)
        inserted = insert_many_ignoring_conflicts(
            session, Identity, [{**r, "contact_id": c} for r, c in zip(rows, contact_ids, strict=True)],
            returning=("channel", "external_user_id", "id", "contact_id"),
        )
    found.update({(channel, user): (identity_id, contact_id) for channel, user, identity_id, contact_id in inserted})
    if new_contacts is not None:  # not those of an identity a concurrent writer stored first
        new_contacts.update(contact_id for *_, contact_id in inserted)
    # Read back what a concurrent writer stored first.
    unresolved = [(i.channel, i.author_id) for i in missing if (i.channel, i.author_id) not in found]
    found.update(load_identities(session, unresolved))
    return found


def load_identities(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int]]:
    rows = rows_by_pairs(session, Identity.__table__, ("channel", "external_user_id", "id", "contact_id"),
                         "channel", "external_user_id", keys)
    return {(r.channel, r.external_user_id): (r.id, r.contact_id) for r in rows}
