"""One person across channels: the contact view (identities, tickets, one timeline),
suggestions that two contacts are one person, each with its reason, and link/unlink.

Suggestions come from three signals, cheapest first, each an indexed lookup from the
contact outwards (nothing is precomputed, so a link or a new message shows at once):
  - an address or handle the person stated in a message ("my email is …", "I'm @… on X");
  - the same normalised handle on Discord, X and as an email's local part;
  - the same display name writing about the same category within a day.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from storage.db import session_factory, transaction
from storage.models.accounts import User
from storage.models.contacts import Contact, Identity
from storage.models.feedback import ContactLink, Survey
from storage.models.tickets import Message, Ticket
from support.feedback import people
from trkv.settings import Settings

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_HANDLE = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{3,30})\b")
_SCAN_MESSAGES = 50
_TIMELINE = 300


class LinkError(ValueError):
    """The link cannot be made or undone; the message says why."""


def normalise(handle: str) -> str:
    """'@Ada_L' / 'ada.l@example.com' / 'ada_l' → 'adal': case, '@', dots, dashes and
    underscores differ between platforms, the name does not."""
    handle = handle.strip().lower().lstrip("@").split("@", 1)[0]
    return re.sub(r"[^a-z0-9]", "", handle)


def view(contact_id: int, settings: Settings) -> dict | None:
    with session_factory(settings.db_url, readonly=True)() as session:
        contact = session.get(Contact, contact_id)
        if contact is None:
            return None
        group = people.group_of(session, contact_id)
        identities = session.execute(
            select(Identity).where(Identity.contact_id.in_(group)).order_by(Identity.id)).scalars().all()
        tickets = session.execute(
            select(Ticket).where(Ticket.contact_id.in_(group)).order_by(Ticket.created_at.desc()).limit(200)
        ).scalars().all()
        root = session.get(Contact, group[0])
        return {
            "id": contact.id, "name": root.name or contact.name, "email": root.email or contact.email,
            "person_id": group[0], "linked": [i for i in group if i != contact.id],
            "identities": [{"channel": i.channel, "handle": i.handle or i.external_user_id,
                            "contact_id": i.contact_id} for i in identities],
            "tickets": [{"ref": t.ref, "subject": t.subject, "channel": t.channel, "status": t.status,
                         "category": t.category, "created_at": t.created_at.isoformat()} for t in tickets],
            "suggestions": suggestions(session, group, identities),
            "timeline": _timeline(session, [t.id for t in tickets]),
        }


def _timeline(session: Session, ticket_ids: list[int]) -> list[dict]:
    """Messages and survey answers of the person's tickets, oldest first, across channels."""
    if not ticket_ids:
        return []
    messages = session.execute(
        select(Message.ticket_id, Message.channel, Message.direction, Message.author, Message.text,
               Message.sentiment, Message.received_at)
        .where(Message.ticket_id.in_(ticket_ids)).order_by(Message.received_at.desc()).limit(_TIMELINE)
    ).all()
    items = [{"kind": "message", "ref": f"TRKV-{m.ticket_id}", "channel": m.channel, "direction": m.direction,
              "author": m.author, "text": m.text[:500], "sentiment": m.sentiment, "at": m.received_at.isoformat()}
             for m in messages]
    answered = session.execute(
        select(Survey).where(Survey.ticket_id.in_(ticket_ids), Survey.answered_at.is_not(None))).scalars()
    items += [{"kind": "survey", "ref": f"TRKV-{s.ticket_id}", "channel": s.channel, "direction": "in",
               "author": "", "text": f"rated {s.score}/5" + (f": {s.comment}" if s.comment else ""),
               "sentiment": None, "at": s.answered_at.isoformat()} for s in answered]
    return sorted(items, key=lambda i: i["at"])


def suggestions(session: Session, group: list[int], identities: list[Identity]) -> list[dict]:
    found: dict[int, str] = {}
    for other, reason in (_stated(session, group) + _same_handle(session, identities)
                          + _same_name_and_topic(session, group, identities)):
        root = people.root_of(session, other)
        if root not in group and other not in group:
            found.setdefault(root, reason)
    return [{"contact_id": cid, "reason": reason} for cid, reason in found.items()]


def _stated(session: Session, group: list[int]) -> list[tuple[int, str]]:
    texts = session.execute(
        select(Message.text, Message.ticket_id).join(Ticket, Ticket.id == Message.ticket_id)
        .where(Ticket.contact_id.in_(group), Message.direction == "in")
        .order_by(Message.id.desc()).limit(_SCAN_MESSAGES)
    ).all()
    out: list[tuple[int, str]] = []
    for text, ticket_id in texts:
        for address in {a.lower() for a in _EMAIL.findall(text or "")}:
            for cid in session.execute(select(Identity.contact_id).where(
                    func.lower(Identity.external_user_id) == address, Identity.channel.in_(("email", "api")))
                    ).scalars():
                out.append((cid, f"stated the address {address} in TRKV-{ticket_id}"))
            for cid in session.execute(select(Contact.id).where(func.lower(Contact.email) == address)).scalars():
                out.append((cid, f"stated the address {address} in TRKV-{ticket_id}"))
        for handle in {h.lower() for h in _HANDLE.findall(text or "")}:
            for cid in session.execute(select(Identity.contact_id).where(
                    func.lower(Identity.handle).in_((handle, f"@{handle}")), Identity.channel.in_(("x", "discord")))
                    ).scalars():
                out.append((cid, f"stated the handle @{handle} in TRKV-{ticket_id}"))
    return out


def _same_handle(session: Session, identities: list[Identity]) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for identity in identities:
        key = normalise(identity.handle or identity.external_user_id)
        if len(key) < 3:
            continue
        lowered = func.lower(Identity.handle)
        for char in "._-":  # normalise() in SQL, short of the local part
            lowered = func.replace(lowered, char, "")
        rows = session.execute(select(Identity.contact_id, Identity.channel, Identity.handle).where(
            Identity.channel != identity.channel,
            or_(lowered.in_((key, f"@{key}")), lowered.like(f"{key}@%")),
        ).limit(20)).all()
        for cid, channel, handle in rows:
            if normalise(handle) == key:
                out.append((cid, f"the same handle “{key}” on {identity.channel} and {channel}"))
    return out


def _same_name_and_topic(session: Session, group: list[int], identities: list[Identity]) -> list[tuple[int, str]]:
    names = {i.display_name.strip().lower() for i in identities if len(i.display_name.strip()) >= 3}
    if not names:
        return []
    mine = session.execute(select(Ticket.category, Ticket.created_at).where(Ticket.contact_id.in_(group))
                           .order_by(Ticket.id.desc()).limit(20)).all()
    out: list[tuple[int, str]] = []
    for cid, name, channel in session.execute(select(Identity.contact_id, Identity.display_name, Identity.channel)
                                              .where(func.lower(Identity.display_name).in_(names),
                                                     Identity.contact_id.not_in(group)).limit(20)).all():
        for category, created in mine:
            near = session.execute(select(Ticket.id).where(
                Ticket.contact_id == cid, Ticket.category == category,
                Ticket.created_at.between(created - timedelta(days=1), created + timedelta(days=1))).limit(1)).first()
            if near:
                out.append((cid, f"the same name “{name}” on {channel}, about {category.replace('_', ' ')} "
                                 f"within a day"))
                break
    return out


def _agent(session: Session, contact_ids: list[int]) -> int | None:
    """The user (agent) a person is, by any of their addresses; None for a customer."""
    addresses = set(session.execute(select(func.lower(Contact.email)).where(
        Contact.id.in_(contact_ids), Contact.email.is_not(None))).scalars())
    addresses |= set(session.execute(select(func.lower(Identity.external_user_id)).where(
        Identity.contact_id.in_(contact_ids), Identity.channel == "email")).scalars())
    if not addresses:
        return None
    return session.execute(select(User.id).where(func.lower(User.email).in_(addresses)).limit(1)).scalar()


def link(contact_id: int, other_id: int, *, user_id: int | None, reason: str, settings: Settings) -> int:
    """Link `other_id`'s person to `contact_id`'s; returns the person's root contact."""
    with transaction(settings.db_url) as session:
        if session.get(Contact, contact_id) is None or session.get(Contact, other_id) is None:
            raise LinkError("no such contact")
        root, other_root = people.root_of(session, contact_id), people.root_of(session, other_id)
        if root == other_root:
            return root  # linked before: a second click is a no-op
        agents = (_agent(session, people.group_of(session, root)), _agent(session, people.group_of(session, other_root)))
        if None not in agents and agents[0] != agents[1]:
            raise LinkError("these are two different agents: they cannot be one person")
        session.get(Contact, other_root).merged_into_id = root
        session.add(ContactLink(contact_id=other_root, linked_to_id=root, action="link", reason=reason[:300],
                                user_id=user_id))
        return root


def unlink(contact_id: int, *, user_id: int | None, settings: Settings) -> None:
    """Undo a link: the contact (and whatever was linked to it) is a person of its own again."""
    with transaction(settings.db_url) as session:
        contact = session.get(Contact, contact_id)
        if contact is None:
            raise LinkError("no such contact")
        if contact.merged_into_id is None:
            raise LinkError(f"contact {contact_id} is not linked to anyone")
        session.add(ContactLink(contact_id=contact.id, linked_to_id=contact.merged_into_id, action="unlink",
                                user_id=user_id))
        contact.merged_into_id = None
