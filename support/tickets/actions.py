"""What agents do to tickets: confirm or change triage, assign, change status, add
notes, merge tickets and contacts, block contacts, and the same in bulk.

The web inbox and the JSON API call these; each action is one transaction with its
audit event. Triage decisions are recorded as `TicketEvent(kind="triage")` with the
suggestion next to the final value: the classifier trains on them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.db import transaction
from storage.models.accounts import User
from storage.models.base import CATEGORIES, PRIORITIES, STATUSES, utcnow
from storage.models.contacts import Contact, ContactBlock, Identity
from storage.models.tickets import Message, Ticket, TicketEvent, TicketNote
from storage.queries import append_search_text
from support.oncall import sla
from support.tickets.queries import ACTIVE_STATUSES, ticket_id_from_ref_checked
from trkv.settings import Settings, get_settings

log = logging.getLogger(__name__)

MAX_NOTE_CHARS = 20_000
BULK_ACTIONS = ("assign", "unassign", "status", "priority", "category", "accept")


class ActionError(ValueError):
    """The action cannot be done (unknown ticket, invalid value); the message says why."""


@dataclass
class BulkResult:
    done: list[str]
    failed: dict[str, str]


def _ticket(session: Session, ref: str, *, lock: bool = True) -> Ticket:
    ticket_id = ticket_id_from_ref_checked(ref)
    ticket = None
    if ticket_id is not None:
        query = select(Ticket).where(Ticket.id == ticket_id)
        if lock and session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        ticket = session.execute(query).scalar_one_or_none()
    if ticket is None:
        raise ActionError(f"no ticket {ref[:40]}")
    return ticket


# triage ----------------------------------------------------------------------------


def set_triage(ref: str, field: str, value: str, *, user_id: int | None, settings: Settings | None = None) -> None:
    """Set priority or category; records the correction (or confirmation) for training."""
    settings = settings or get_settings()
    with transaction(settings.db_url) as session:
        _set_triage(session, _ticket(session, ref), field, value, user_id, settings)


def accept_suggestion(ref: str, *, user_id: int | None, fields: Iterable[str] = ("priority", "category"),
                      settings: Settings | None = None) -> None:
    """One click: the suggested values become the ticket's confirmed ones."""
    settings = settings or get_settings()
    with transaction(settings.db_url) as session:
        ticket = _ticket(session, ref)
        for field in fields:
            suggested = _suggested(ticket, field)
            if suggested is None:
                raise ActionError(f"{ticket.ref} has no suggested {field}")
            _set_triage(session, ticket, field, suggested, user_id, settings)


def _suggested(ticket: Ticket, field: str) -> str | None:
    return ticket.suggested_priority if field == "priority" else ticket.suggested_category


def _set_triage(session: Session, ticket: Ticket, field: str, value: str, user_id: int | None,
                settings: Settings) -> None:
    allowed = {"priority": PRIORITIES, "category": CATEGORIES}.get(field)
    if allowed is None:
        raise ActionError(f"{field!r} is not a triage field (priority or category)")
    if value not in allowed:
        raise ActionError(f"{value!r} is not a {field}: use one of {', '.join(allowed)}")
    old = getattr(ticket, field)
    session.add(TicketEvent(ticket_id=ticket.id, kind="triage", field=field, suggested=_suggested(ticket, field),
                            old_value=old, new_value=value, user_id=user_id, model_version=ticket.model_version))
    setattr(ticket, field, value)
    ticket.needs_triage = False  # a person has looked at it
    ticket.updated_at = utcnow()
    if field == "priority" and old != value:
        sla.priority_changed(session, ticket, old, settings=settings, user_id=user_id)  # due times follow


# assignment, status, notes ------------------------------------------------------


def assign(ref: str, assignee_id: int | None, *, user_id: int | None, settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    with transaction(settings.db_url) as session:
        _assign(session, _ticket(session, ref), assignee_id, user_id)


def _assign(session: Session, ticket: Ticket, assignee_id: int | None, user_id: int | None) -> None:
    new_email = None
    if assignee_id is not None:
        assignee = session.get(User, assignee_id)
        if assignee is None or not assignee.active:
            raise ActionError(f"no active user {assignee_id}")
        new_email = assignee.email
    old_email = session.get(User, ticket.assignee_id).email if ticket.assignee_id else None
    if ticket.assignee_id == assignee_id:
        return
    session.add(TicketEvent(ticket_id=ticket.id, kind="assign", old_value=(old_email or "")[:64] or None,
                            new_value=(new_email or "")[:64] or None, user_id=user_id))
    ticket.assignee_id = assignee_id
    ticket.updated_at = utcnow()


def set_status(ref: str, status: str, *, user_id: int | None, settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    with transaction(settings.db_url) as session:
        _set_status(session, _ticket(session, ref), status, user_id, settings=settings)


def _set_status(session: Session, ticket: Ticket, status: str, user_id: int | None, detail: dict | None = None,
                settings: Settings | None = None) -> None:
    if status not in STATUSES:
        raise ActionError(f"{status!r} is not a status: use one of {', '.join(STATUSES)}")
    if ticket.status == status:
        return
    now, old = utcnow(), ticket.status
    session.add(TicketEvent(ticket_id=ticket.id, kind="status", old_value=ticket.status, new_value=status,
                            user_id=user_id, detail=detail))
    ticket.status = status
    ticket.updated_at = now
    if status == "resolved":
        ticket.resolved_at = now
    elif status == "closed":
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    else:  # reopened
        ticket.resolved_at = ticket.closed_at = None
    # pending pauses the clocks, resolving stops them
    sla.status_changed(session, ticket, old, settings=settings or get_settings(), now=now)


def add_note(ref: str, text: str, *, user_id: int | None, settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    text = text.strip()
    if not text:
        raise ActionError("a note needs text")
    if len(text) > MAX_NOTE_CHARS:
        raise ActionError(f"a note holds at most {MAX_NOTE_CHARS} characters")
    with transaction(settings.db_url) as session:
        ticket = _ticket(session, ref, lock=False)
        session.add(TicketNote(ticket_id=ticket.id, user_id=user_id, text=text))
        ticket.updated_at = utcnow()


# merging -------------------------------------------------------------------------------


def merge_tickets(source_ref: str, target_ref: str, *, user_id: int | None, settings: Settings | None = None) -> str:
    """Move the source ticket's messages and notes into the target; the source is closed
    and points at the target. Returns the target's ref."""
    settings = settings or get_settings()
    with transaction(settings.db_url) as session:
        source, target = _ticket(session, source_ref), _ticket(session, target_ref)
        if source.id == target.id:
            raise ActionError("a ticket cannot be merged into itself")
        if source.parent_id == target.id and source.status == "closed":
            return target.ref  # merged before: a resubmitted form is a no-op
        moved = session.execute(
            update(Message).where(Message.ticket_id == source.id).values(ticket_id=target.id)
        ).rowcount
        session.execute(update(TicketNote).where(TicketNote.ticket_id == source.id).values(ticket_id=target.id))
        append_search_text(session, {target.id: source.search_text or ""})  # the moved messages' words
        target.last_message_at = max(target.last_message_at, source.last_message_at)
        target.updated_at = utcnow()
        if target.status in ("resolved", "closed") and source.status in ACTIVE_STATUSES:
            _set_status(session, target, "open", user_id, {"reason": f"merged {source.ref}"}, settings)
        _set_status(session, source, "closed", user_id, {"reason": f"merged into {target.ref}"}, settings)
        source.parent_id = target.id
        for ticket, other in ((source, target), (target, source)):
            session.add(TicketEvent(ticket_id=ticket.id, kind="merge", old_value=source.ref, new_value=target.ref,
                                    user_id=user_id, detail={"messages_moved": moved, "other": other.ref}))
        return target.ref


def merge_contacts(source_id: int, target_id: int, *, user_id: int | None, settings: Settings | None = None) -> None:
    """The same person on two platforms: identities and tickets move to the target contact."""
    settings = settings or get_settings()
    if source_id == target_id:
        raise ActionError("a contact cannot be merged into itself")
    with transaction(settings.db_url) as session:
        source, target = session.get(Contact, source_id), session.get(Contact, target_id)
        if source is None or target is None:
            raise ActionError("no such contact")
        if target.merged_into_id is not None:
            raise ActionError(f"contact {target_id} was itself merged into {target.merged_into_id}")
        session.execute(update(Identity).where(Identity.contact_id == source.id).values(contact_id=target.id))
        ticket_ids = session.execute(select(Ticket.id).where(Ticket.contact_id == source.id)).scalars().all()
        session.execute(update(Ticket).where(Ticket.contact_id == source.id).values(contact_id=target.id))
        for ticket_id in ticket_ids:
            session.add(TicketEvent(ticket_id=ticket_id, kind="contact_merge", old_value=str(source.id),
                                    new_value=str(target.id), user_id=user_id))
        source.merged_into_id = target.id
        target.email = target.email or source.email
        target.name = target.name or source.name
        target.blocked = target.blocked or source.blocked
    log.info("contact %s merged into %s by user %s", source_id, target_id, user_id)


def find_contacts(query: str, settings: Settings | None = None, limit: int = 10) -> list[dict]:
    """Contacts by name, email or a platform handle (for the manual merge form)."""
    settings = settings or get_settings()
    query = query.strip()
    if not query:
        return []
    from storage.db import session_factory

    with session_factory(settings.db_url, readonly=True)() as session:
        like = f"%{query.lower()}%"
        by_identity = select(Identity.contact_id).where(func.lower(Identity.handle).like(like))
        rows = session.execute(
            select(Contact).where(
                Contact.merged_into_id.is_(None),
                (func.lower(Contact.name).like(like)) | (func.lower(Contact.email).like(like))
                | Contact.id.in_(by_identity),
            ).order_by(Contact.id).limit(limit)
        ).scalars().all()
        return [{"id": c.id, "name": c.name, "email": c.email, "blocked": c.blocked} for c in rows]


# blocking --------------------------------------------------------------------------


def block_contact(contact_id: int, reason: str, *, user_id: int | None, settings: Settings | None = None) -> int:
    """Block a contact (spam, abuse): their open tickets close, with the reason recorded.
    Returns how many tickets closed."""
    settings = settings or get_settings()
    reason = reason.strip() or "no reason given"
    with transaction(settings.db_url) as session:
        contact = session.get(Contact, contact_id)
        if contact is None:
            raise ActionError(f"no contact {contact_id}")
        if contact.blocked:
            return 0
        contact.blocked = True
        session.add(ContactBlock(contact_id=contact.id, user_id=user_id, reason=reason[:2000]))
        tickets = session.execute(
            select(Ticket).where(Ticket.contact_id == contact.id, Ticket.status.in_(ACTIVE_STATUSES))
        ).scalars().all()
        for ticket in tickets:
            _set_status(session, ticket, "closed", user_id, {"reason": "contact blocked"}, settings)
        return len(tickets)


def unblock_contact(contact_id: int, *, user_id: int | None, settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    with transaction(settings.db_url) as session:
        contact = session.get(Contact, contact_id)
        if contact is None:
            raise ActionError(f"no contact {contact_id}")
        contact.blocked = False
        session.execute(
            update(ContactBlock).where(ContactBlock.contact_id == contact_id, ContactBlock.lifted_at.is_(None))
            .values(lifted_at=utcnow())
        )


# bulk ----------------------------------------------------------------------------------


def bulk(refs: list[str], action: str, value: str | None, *, user_id: int | None,
         settings: Settings | None = None) -> BulkResult:
    """One action on many tickets, each in its own transaction: one bad ticket does not
    undo the others, and the result says which failed and why."""
    settings = settings or get_settings()
    if action not in BULK_ACTIONS:
        raise ActionError(f"{action!r} is not a bulk action: use one of {', '.join(BULK_ACTIONS)}")
    result = BulkResult(done=[], failed={})
    for ref in dict.fromkeys(refs):  # in order, once each
        try:
            if action == "assign":
                assign(ref, int(value or 0) or user_id, user_id=user_id, settings=settings)
            elif action == "unassign":
                assign(ref, None, user_id=user_id, settings=settings)
            elif action == "status":
                set_status(ref, value or "", user_id=user_id, settings=settings)
            elif action in ("priority", "category"):
                set_triage(ref, action, value or "", user_id=user_id, settings=settings)
            else:
                accept_suggestion(ref, user_id=user_id, settings=settings)
            result.done.append(ref)
        except (ActionError, ValueError) as exc:
            result.failed[ref] = str(exc)
    return result
