"""One person across channels: contacts linked to one another.

A link sets `contacts.merged_into_id` to the person's root contact and moves nothing:
identities, tickets and messages stay where they are, so replies still go where each
message came from, and an unlink is exact. (`support.ticket_actions.merge_contacts`
moves identities and tickets for good; linking is the reversible form.)
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.models.contacts import Contact


def root_of(session: Session, contact_id: int | None) -> int | None:
    """The person's root contact (merges and links may chain: followed a few steps)."""
    seen: set[int] = set()
    while contact_id is not None and contact_id not in seen:
        seen.add(contact_id)
        parent = session.execute(select(Contact.merged_into_id).where(Contact.id == contact_id)).scalar()
        if parent is None:
            return contact_id
        contact_id = parent
    return contact_id


def group_of(session: Session, contact_id: int | None) -> list[int]:
    """Every contact id of the person `contact_id` belongs to, the root first."""
    root = root_of(session, contact_id)
    if root is None:
        return []
    found, frontier = [root], [root]
    while frontier:
        children = session.execute(
            select(Contact.id).where(Contact.merged_into_id.in_(frontier), Contact.id.not_in(found))
        ).scalars().all()
        found.extend(children)
        frontier = list(children)
    return found


def any_blocked(session: Session, contact_ids: list[int]) -> bool:
    if not contact_ids:
        return False
    return session.execute(
        select(Contact.id).where(Contact.id.in_(contact_ids), or_(Contact.blocked.is_(True))).limit(1)
    ).first() is not None
