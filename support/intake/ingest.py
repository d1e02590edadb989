"""Ingest: an `Inbound` becomes a stored message in a ticket, in one transaction.

The same code serves one live message and a bulk import: `ingest_batch` works on a
list with a fixed number of statements per batch (Core inserts, batch triage), and
`ingest` is a batch of one. A redelivered message is recognized by the unique key
on (channel, external_id); if a concurrent worker stores the same message between
our read and our insert, the unique key rejects our insert and the batch is retried.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connectors.base import Inbound
from storage import locks
from storage.db import transaction, tune_for_bulk_load
from storage.models.base import utcnow
from storage.models.contacts import Contact
from storage.models.tickets import Message, Ticket, TicketEvent
from storage.queries import (
    SEARCH_CHARS,
    append_search_text,
    bulk_insert_returning_ids,
    ids_in,
    insert_with_child,
    pair_chunks,
    pairs_in,
)
from support.delivery import outbox as outbox_rows
from support.incidents import detect
from support.intake import lookup
from support.intake import retriage as resuggest
from support.intake import tags
from support.intake.suggest import suggest_for
from support.oncall import paging, sla
from triage.types import Suggestion
from trkv.settings import Settings, get_settings

log = logging.getLogger(__name__)

_TAG = re.compile(r"\[TRKV-(\d+)\]", re.IGNORECASE)
_MAX_RETRIES = 3


@dataclass
class IngestResult:
    ticket_id: int
    message_id: int
    created_ticket: bool = False
    duplicate: bool = False
    outbox: list[tuple[int, str]] = field(default_factory=list)  # (outbox id, queue) to kick

    @property
    def ref(self) -> str:
        return f"TRKV-{self.ticket_id}"


@dataclass
class _Item:
    inbound: Inbound
    ticket_id: int | None = None
    new_ticket: _NewTicket | None = None
    reopen: bool = False
    duplicate_of: _Item | None = None
    result: IngestResult | None = None


@dataclass
class _NewTicket:
    first: Inbound
    parent_id: int | None = None
    id: int | None = None
    priority: str = ""
    category: str = ""
    needs_triage: bool = False
    praise: bool = False  # pure praise: thanked, not acknowledged (TRKV_THANK_PRAISE)
    muted: bool = False  # from a blocked contact
    refused_tag: str | None = None  # why it did not join the ticket its subject's tag names
    first_response_due_at: datetime | None = None


def ingest(inbound: Inbound, *, live: bool = True, settings: Settings | None = None) -> IngestResult:
    return ingest_batch([inbound], live=live, settings=settings)[0]


def ingest_batch(
    inbounds: list[Inbound], *, live: bool = True, settings: Settings | None = None,
    suggestions: dict[tuple[str, str], Suggestion] | None = None, bulk: bool = False,
) -> list[IngestResult]:
    """Store a batch in its own transaction; one result per inbound, in order
    (duplicates included). `suggestions` (from `suggest_for`) may come from elsewhere,
    e.g. another process; by default they are computed here, before the transaction.
    `bulk`: a historical import's batch (storage.db.tune_for_bulk_load; its tickets are indexed
    for search afterwards, support/tickets/search_index.py); never live work."""
    settings = settings or get_settings()
    if suggestions is None:
        suggestions = suggest_for(inbounds)
    for attempt in range(_MAX_RETRIES):
        try:
            with transaction(settings.db_url) as session:
                if bulk and not live:
                    tune_for_bulk_load(session)
                return ingest_in(session, inbounds, live, settings, suggestions, search_later=bulk and not live)
        except IntegrityError:
            # A concurrent ingest stored one of these first: the next read sees it.
            if attempt == _MAX_RETRIES - 1:
                raise
            log.info("ingest raced a concurrent writer; retrying a batch of %d", len(inbounds))
    raise AssertionError("unreachable")


def ingest_in(
    session: Session, inbounds: list[Inbound], live: bool, settings: Settings,
    suggestions: dict[tuple[str, str], Suggestion] | None = None, *, search_later: bool = False,
    locked: bool = False,
) -> list[IngestResult]:
    """The batch's work inside the caller's transaction (`suggestions`: from
    `suggest_for`, computed before it; whatever is missing is computed here). `search_later`:
    new tickets wait for the search index's backlog instead of being indexed as they are written.
    `locked`: the caller's transaction holds `conversation_locks(inbounds)` already."""
    now = utcnow()
    items = [_Item(inbound) for inbound in inbounds]
    if not locked:
        locks.hold(session, conversation_locks(inbounds))
    stored = lookup.stored_for(session, inbounds)
    fresh = _mark_duplicates(items, stored.messages)
    identity_ids = lookup.upsert_identities(session, [item.inbound for item in fresh], now, stored.unblocked, stored.identities)
    _thread(session, fresh, settings, now, stored)
    new_tickets, message_ids = _insert_tickets(session, fresh, identity_ids, settings, now, suggestions,
                                               historical=not live, search_later=search_later, unblocked=stored.unblocked)
    if message_ids is None:
        message_ids = _insert_messages(session, fresh, identity_ids, now, suggestions)
    _touch_tickets(session, fresh, now, settings, search_later=search_later)
    if live:  # a follow-up that changes the picture ("now nobody can log in") escalates to Critical
        resuggest.escalate_on_follow_ups(session, _follow_ups(fresh), settings, now, suggestions)
    incidents = detect.observe(session, new_tickets, settings, now) if live else {}  # alike reports of an outage
    queued = _acknowledge_and_page(session, new_tickets, settings, now, incidents) if live else {}
    for item, message_id in zip(fresh, message_ids, strict=True):
        ticket_id = item.new_ticket.id if item.new_ticket else item.ticket_id
        created = item.new_ticket is not None and item.new_ticket.first is item.inbound
        item.result = IngestResult(ticket_id=ticket_id, message_id=message_id, created_ticket=created)
        if created:
            item.result.outbox = queued.get(ticket_id, [])
    for item in items:
        if item.duplicate_of is not None:
            first = item.duplicate_of.result
            item.result = IngestResult(ticket_id=first.ticket_id, message_id=first.message_id, duplicate=True)
    return [item.result for item in items]


def conversation_locks(inbounds: list[Inbound]) -> set[str]:
    """What two concurrent ingests must not thread at once: each message's conversation,
    itself and what it replies to. Held until commit, so a second worker's reads see the
    ticket the first one opened (PostgreSQL; SQLite's writers are serialised anyway)."""
    names = set()
    for inbound in inbounds:
        names.add(f"message:{inbound.channel}:{inbound.external_id}")
        names.update(f"message:{inbound.channel}:{ref}" for ref in inbound.references)
        if inbound.conversation_key:
            names.add(f"conversation:{inbound.channel}:{inbound.conversation_key}")
    return names


def _follow_ups(items: list[_Item]) -> list[tuple[int, Inbound]]:
    """(ticket id, message) for the messages that joined a ticket rather than opened it."""
    return [(item.ticket_id if item.ticket_id is not None else item.new_ticket.id, item.inbound) for item in items
            if item.ticket_id is not None or item.new_ticket.first is not item.inbound]


def _mark_duplicates(items: list[_Item], stored: dict[tuple[str, str], tuple[int, int]]) -> list[_Item]:
    """Resolve redeliveries (`stored` before, or twice in this batch); return the rest."""
    fresh: list[_Item] = []
    first_seen: dict[tuple[str, str], _Item] = {}
    for item in items:
        key = (item.inbound.channel, item.inbound.external_id)
        if key in stored:
            ticket_id, message_id = stored[key]
            item.result = IngestResult(ticket_id=ticket_id, message_id=message_id, duplicate=True)
        elif key in first_seen:
            item.duplicate_of = first_seen[key]
        else:
            first_seen[key] = item
            fresh.append(item)
    return fresh


def _thread(session: Session, items: list[_Item], settings: Settings, now: datetime, stored: lookup.Stored) -> None:
    """Find each message's ticket: replied-to message, [TRKV-n] tag, conversation key."""
    by_reference = stored.by_reference if stored.by_reference is not None else _tickets_of_messages(session, items)
    by_tag = _tickets_by_tag(session, items)
    allowed = tags.participants(session, sorted(by_tag))
    by_conversation = (stored.by_conversation if stored.by_conversation is not None
                       else _tickets_by_conversation(session, items))
    batch_messages: dict[tuple[str, str], _Item] = {}
    batch_conversations: dict[tuple[str, str], _Item] = {}
    reopen_before = now - timedelta(days=settings.reopen_days)
    for item in _parents_first(items):
        inbound = item.inbound
        earlier = _earlier_in_batch(inbound, batch_messages, batch_conversations)
        if earlier is not None:
            item.ticket_id, item.new_ticket = earlier.ticket_id, earlier.new_ticket
        else:
            ticket = _first_match(inbound, by_reference, by_tag, by_conversation)
            stranger = _tagged_by_stranger(inbound, ticket, by_reference, allowed)
            if stranger:
                item.new_ticket = _NewTicket(first=inbound, parent_id=ticket.id, refused_tag=stranger)
            elif ticket is None:
                item.new_ticket = _NewTicket(first=inbound)
            elif ticket.status == "closed" or (
                ticket.status == "resolved" and (ticket.resolved_at or now) < reopen_before
            ):
                item.new_ticket = _NewTicket(first=inbound, parent_id=ticket.id)
            else:
                item.ticket_id, item.reopen = ticket.id, ticket.status in ("resolved", "pending")
        batch_messages[(inbound.channel, inbound.external_id)] = item
        if inbound.conversation_key:
            batch_conversations[(inbound.channel, inbound.conversation_key)] = item


def _tagged_by_stranger(inbound: Inbound, ticket, by_reference: dict, allowed: dict[int, set[str]]) -> str | None:
    """The reason, when `ticket` was found by the subject's tag (not by the message it
    answers) and the sender is not one of its participants (support/intake/tags.py)."""
    tag = _TAG.search(inbound.subject or "")
    if ticket is None or tag is None or int(tag.group(1)) != ticket.id or ticket.id not in allowed:
        return None
    if any((inbound.channel, ref) in by_reference for ref in inbound.references):
        return None
    if tags.senders(inbound) & allowed[ticket.id]:
        return None
    return tags.refusal(inbound, ticket.id)


def _parents_first(items: list[_Item]) -> list[_Item]:
    """Order a batch so that a message comes after those it replies to: archives (a
    Maildir, above all) do not list a reply after its original."""
    index = {(i.inbound.channel, i.inbound.external_id): i for i in items}
    ordered: list[_Item] = []
    placed: set[int] = set()
    for item in items:
        chain = []
        while item is not None and id(item) not in placed and len(chain) < 100:
            chain.append(item)
            placed.add(id(item))
            item = next((index[k] for r in item.inbound.references if (k := (item.inbound.channel, r)) in index), None)
        ordered.extend(reversed(chain))
    return ordered


def _earlier_in_batch(inbound: Inbound, messages: dict, conversations: dict) -> _Item | None:
    for ref in inbound.references:
        if (inbound.channel, ref) in messages:
            return messages[(inbound.channel, ref)]
    if inbound.conversation_key:
        return conversations.get((inbound.channel, inbound.conversation_key))
    return None


def _first_match(inbound: Inbound, by_reference: dict, by_tag: dict, by_conversation: dict):
    for ref in inbound.references:
        if (inbound.channel, ref) in by_reference:
            return by_reference[(inbound.channel, ref)]
    tag = _TAG.search(inbound.subject or "")
    if tag and int(tag.group(1)) in by_tag:
        return by_tag[int(tag.group(1))]
    if inbound.conversation_key:
        return by_conversation.get((inbound.channel, inbound.conversation_key))
    return None


_TICKET_COLUMNS = (Ticket.id, Ticket.status, Ticket.resolved_at)


def _tickets_of_messages(session: Session, items: list[_Item]) -> dict:
    keys = sorted({(i.inbound.channel, ref) for i in items for ref in i.inbound.references})
    found = {}
    for chunk in pair_chunks(session, keys):
        rows = session.execute(
            select(Message.channel, Message.external_id, *_TICKET_COLUMNS)
            .join(Ticket, Ticket.id == Message.ticket_id)
            .where(pairs_in(session, Message.channel, Message.external_id, chunk))
        )
        found.update({(r.channel, r.external_id): r for r in rows})
    return found


def _tickets_by_tag(session: Session, items: list[_Item]) -> dict:
    ids = sorted({int(m.group(1)) for i in items if (m := _TAG.search(i.inbound.subject or ""))})
    if not ids:
        return {}
    return {r.id: r for r in session.execute(select(*_TICKET_COLUMNS).where(Ticket.id.in_(ids)))}


def _tickets_by_conversation(session: Session, items: list[_Item]) -> dict:
    keys = sorted({(i.inbound.channel, i.inbound.conversation_key) for i in items if i.inbound.conversation_key})
    found = {}
    for chunk in pair_chunks(session, keys):
        latest = (
            select(func.max(Ticket.id))
            .where(pairs_in(session, Ticket.channel, Ticket.conversation_key, chunk))
            .group_by(Ticket.channel, Ticket.conversation_key)
        )
        rows = session.execute(select(Ticket.channel, Ticket.conversation_key, *_TICKET_COLUMNS).where(Ticket.id.in_(latest)))
        found.update({(r.channel, r.conversation_key): r for r in rows})
    return found


def _acknowledge_and_page(session: Session, tickets: list, settings: Settings, now: datetime,
                          incidents: dict) -> dict[int, list]:
    """Outbox rows for freshly opened tickets: their acknowledgements, and the on-call
    pages of the critical ones: {ticket id: [(outbox id, queue)]}. A blocked contact pages
    no one, and a ticket linked to an incident neither (the incident paged once)."""
    queued = outbox_rows.for_new_tickets(session, tickets, settings, now, incidents)
    critical = [t for t in tickets if t.priority == "critical" and not t.muted and t.id not in incidents]
    for ticket_id, pages in (paging.page_new_tickets(session, critical, settings, now) if critical else {}).items():
        queued.setdefault(ticket_id, []).extend(pages)
    return queued


def _insert_tickets(
    session: Session, items: list[_Item], identity_ids: dict, settings: Settings, now: datetime,
    suggestions: dict[tuple[str, str], Suggestion] | None = None, historical: bool = False,
    search_later: bool = False, unblocked: set[int] | frozenset[int] = frozenset(),
) -> tuple[list[_NewTicket], list[int] | None]:
    """The new tickets of `items`, stored; and, where the batch is one message opening one
    ticket on PostgreSQL (a live message), the id of that message, stored with it."""
    new = list({id(i.new_ticket): i.new_ticket for i in items if i.new_ticket}.values())
    if not new:
        return [], None
    known = suggestions or {}
    missing = [t.first for t in new if (t.first.channel, t.first.external_id) not in known]
    if missing:
        known = {**known, **suggest_for(missing)}
    suggestions = [known[(t.first.channel, t.first.external_id)] for t in new]
    blocked = _blocked_contacts(session, {identity_ids[(t.first.channel, t.first.author_id)][1] for t in new}
                                - unblocked)  # made in this transaction, or read unblocked by it (lookup.stored_for)
    clocks = functools.cache(lambda priority, channel: sla.clock_fields(now, priority, channel, settings))  # one `now`
    later_words: dict[int, str] = {}  # id(new ticket) -> its follow-ups' words in this batch
    for item in items:
        if item.new_ticket is not None and item.new_ticket.first is not item.inbound:
            later = later_words.get(id(item.new_ticket))
            later_words[id(item.new_ticket)] = "\n".join(filter(None, (later, item.inbound.text)))
    rows = []
    for ticket, suggestion in zip(new, suggestions, strict=True):
        first = ticket.first
        muted = identity_ids[(first.channel, first.author_id)][1] in blocked
        if muted:  # kept for the record; no clock, no acknowledgement, no page
            first.no_ack_reason = first.no_ack_reason or "the contact is blocked"
        rows.append(
            {
                "channel": first.channel,
                "conversation_key": first.conversation_key,
                "subject": _subject(first),
                "snippet": first.text[:300],
                "search_text": _search_text(first, later_words.get(id(ticket))),
                "status": "new",
                "priority": suggestion.priority,
                "category": suggestion.category,
                "suggested_priority": suggestion.priority,
                "suggested_category": suggestion.category,
                "suggestion_confidence": suggestion.confidence,
                "suggestion_evidence": suggestion.evidence,
                "model_version": suggestion.model_version,
                "needs_triage": suggestion.needs_triage,
                "contact_id": identity_ids[(first.channel, first.author_id)][1],
                "parent_id": ticket.parent_id,
                "historical": historical,
                "search_pending": search_later,
                "created_at": now,
                "updated_at": now,
                "last_message_at": now,
                **clocks(suggestion.priority, first.channel),  # due times, sweep time
                **({"status": "closed", "closed_at": now, "sla_next_at": None} if muted else {}),
            }
        )
    message_ids = None
    if len(items) == 1 and session.get_bind().dialect.name == "postgresql":  # one round trip, not two
        ticket_id, message_id = insert_with_child(session, Ticket, rows[0], Message,
                                                  _message_row(items[0], identity_ids, now, known), "ticket_id")
        ids, message_ids = [ticket_id], [message_id]
    else:
        ids = bulk_insert_returning_ids(session, Ticket, rows)
    for ticket, ticket_id, row, suggestion in zip(new, ids, rows, suggestions, strict=True):
        ticket.id = ticket_id
        ticket.praise = bool(getattr(suggestion, "praise", False))
        if ticket.refused_tag:  # shown on the ticket page: why it did not join the tagged ticket
            session.add(TicketEvent(ticket_id=ticket_id, kind="tag_refused", old_value=f"TRKV-{ticket.parent_id}",
                                    detail={"reason": ticket.refused_tag}))
            log.info("TRKV-%s: a tag from a non-participant opened TRKV-%s", ticket.parent_id, ticket_id)
        ticket.priority = row["priority"]
        ticket.category = row["category"]
        ticket.needs_triage = row["needs_triage"]
        ticket.muted = row["status"] == "closed"
        ticket.first_response_due_at = row["first_response_due_at"]
    return new, message_ids


def _blocked_contacts(session: Session, contact_ids: set[int]) -> set[int]:
    ids = [i for i in contact_ids if i is not None]
    if not ids:
        return set()
    return set(session.execute(select(Contact.id).where(ids_in(session, Contact.id, ids), Contact.blocked.is_(True))).scalars())


def _subject(inbound: Inbound) -> str:
    if inbound.subject:
        return inbound.subject[:500]
    first_line = inbound.text.strip().split("\n", 1)[0]
    return first_line[:120]


def _insert_messages(session: Session, items: list[_Item], identity_ids: dict, now: datetime,
                     suggestions: dict | None = None) -> list[int]:
    if not items:
        return []
    return bulk_insert_returning_ids(session, Message, [_message_row(item, identity_ids, now, suggestions) for item in items])


def _message_row(item: _Item, identity_ids: dict, now: datetime, suggestions: dict | None = None) -> dict:
    """The message's row; its ticket's id is None while that ticket is being stored with it."""
    inbound = item.inbound
    return {
        "ticket_id": item.new_ticket.id if item.new_ticket else item.ticket_id,
        "direction": "in",
        "channel": inbound.channel,
        "external_id": inbound.external_id,
        "conversation_key": inbound.conversation_key,
        "identity_id": identity_ids[(inbound.channel, inbound.author_id)][0],
        "author": (inbound.author_name or inbound.author_handle or inbound.author_id)[:500],
        "subject": inbound.subject[:1000] if inbound.subject else None,
        "text": inbound.text,
        "html": inbound.html,
        "attachments": [a.__dict__ for a in inbound.attachments] or None,
        "raw": inbound.raw,
        "problems": inbound.problems or None,
        "permalink": inbound.permalink,
        "sent_at": inbound.sent_at,
        "received_at": now,
        "sentiment": getattr((suggestions or {}).get((inbound.channel, inbound.external_id)), "sentiment", None),
    }


def _follow_up_words(items) -> dict[int, str]:
    """Ticket id -> the words its follow-ups among `items` add, in arrival order."""
    words: dict[int, str] = {}
    for ticket_id, inbound in _follow_ups(list(items)):
        words[ticket_id] = "\n".join(filter(None, (words.get(ticket_id), inbound.text)))
    return words


def _search_text(first: Inbound, more: str | None) -> str:
    """A new ticket's search text: its first message, then the words of its follow-ups in
    the same batch, as `append_search_text` would have added them one UPDATE later."""
    text = first.text[:SEARCH_CHARS]
    if more and more.strip() and len(text) < SEARCH_CHARS:
        text = (text + "\n" + more)[:SEARCH_CHARS]
    return text


def _touch_tickets(session: Session, items: list[_Item], now: datetime, settings: Settings,
                   search_later: bool = False) -> None:
    """Follow-ups: bump activity, and reopen a resolved or pending ticket. `search_later` (a
    historical import): a ticket already indexed for search is indexed again by the search
    index's backlog, not by each follow-up's UPDATE. Importing into a hub whose tickets were
    indexed, PostgreSQL recomputed a ticket's whole text vector (and its GIN entries) for each
    follow-up: the largest server cost of an import running beside live work (bench/paging.py:
    ~51 ms a statement, 14 s of server time a minute)."""
    existing = {i.ticket_id for i in items if i.ticket_id is not None}
    reopen = {i.ticket_id for i in items if i.reopen}
    # Their words join the ticket's search text; a ticket opened in this batch got them in its INSERT.
    appended = append_search_text(session, _follow_up_words(item for item in items if item.ticket_id is not None),
                                  touched_at=now, search_pending=True if search_later else None)
    rest = existing - reopen - (appended or set())  # PostgreSQL says which it touched: no statement for those
    if rest:  # tickets whose search text is full, or whose follow-ups had no words:
        session.execute(  # their text did not change, so neither does their place in the search index
            update(Ticket)
            .where(ids_in(session, Ticket.id, sorted(rest)), or_(Ticket.last_message_at.is_(None), Ticket.last_message_at != now))
            .values(last_message_at=now, updated_at=now)
        )
    if reopen:
        sla.resume_many(session, sorted(reopen), settings, now)  # the customer answered: clocks run again
        session.execute(
            update(Ticket)
            .where(Ticket.id.in_(sorted(reopen)))
            .values(status="open", resolved_at=None, last_message_at=now, updated_at=now)
        )
