"""Reads of articles, and "read, then a ticket": the articles people read and still had to
write to us about, within `WINDOW` of reading (the weekly update's weak articles).

A public page view is a read by an anonymous client (its address, hashed). The links the
hub sends name their reader with a signed ref, `/kb/go/{slug}?r=<ref>`: `t<ticket id>` in
an acknowledgement, `d<Discord user id>` in the `/kb` slash command's answer. A click
through one is a read by that ticket's customer or that Discord user; when the same
customer (their contact, across every channel they are known on) opens a ticket within
`WINDOW` after it, the article did not answer them. A ref that does not verify still
counts the click, without a reader. Nothing personal goes in the URL: a ticket number or
a Discord id, both meaningless without the hub's database, and the signature stops anyone
from attributing reads to others.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from storage.db import session_factory, transaction
from storage.models.contacts import Identity
from storage.models.kb import KbArticle, KbRead
from storage.models.tickets import Ticket
from trkv.settings import Settings

WINDOW = timedelta(hours=24)
CHUNK = 500  # ids per IN (...)
_REF = re.compile(r"^([td])(\d{1,20})\.([A-Za-z0-9_-]{22})$")
VIA = {"t": "ack", "d": "discord"}


def _sign(settings: Settings, payload: str) -> str:
    key = hashlib.sha256(b"trkv-kb-read:" + settings.session_secret().encode()).digest()
    return base64.urlsafe_b64encode(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:16]).decode().rstrip("=")


def ticket_ref(settings: Settings, ticket_id: int) -> str:
    """The ref an acknowledgement's article link carries."""
    return f"t{int(ticket_id)}.{_sign(settings, f't{int(ticket_id)}')}"


def discord_ref(settings: Settings, user_id: str) -> str | None:
    """The ref the `/kb` answer's links carry for the Discord user who asked."""
    return f"d{user_id}.{_sign(settings, f'd{user_id}')}" if str(user_id).isdigit() else None


def go_url(settings: Settings, slug: str, ref: str | None) -> str:
    """The counting redirect to an article, naming its reader when `ref` is given."""
    return f"{settings.public_url.rstrip('/')}/kb/go/{slug}" + (f"?r={ref}" if ref else "")


def verify(settings: Settings, ref: str | None) -> tuple[str, str] | None:
    """("t", ticket id) or ("d", Discord user id) for a ref the hub signed, else None."""
    match = _REF.match(ref or "")
    if not match or not hmac.compare_digest(_sign(settings, match.group(1) + match.group(2)), match.group(3)):
        return None
    return match.group(1), match.group(2)


def client_key(host: str) -> str:
    """A page reader, without storing the address itself."""
    return hashlib.sha256(f"kb-read:{host}".encode()).hexdigest()[:32]


def record_view(settings: Settings, slug: str, host: str) -> bool:
    """A public page view: one read and one more `views`; False for no published article."""
    return _record(settings, slug, "views", {"via": "page", "client": client_key(host)})


def record_click(settings: Settings, slug: str, ref: str | None) -> bool:
    """A click through `/kb/go/{slug}`: one more `clicks`, and a read by the reader `ref` names."""
    found = verify(settings, ref)
    fields: dict[str, Any] = {"via": "link"}
    if found is not None:
        kind, value = found
        fields = {"via": VIA[kind], **({"ticket_id": int(value)} if kind == "t" else {"reader": f"discord:{value}"})}
    return _record(settings, slug, "clicks", fields)


def _record(settings: Settings, slug: str, counter: str, fields: dict[str, Any]) -> bool:
    column = getattr(KbArticle, counter)
    with transaction(settings.db_url) as session:
        article_id = session.execute(select(KbArticle.id).where(
            KbArticle.slug == slug[:120], KbArticle.status == "published")).scalar_one_or_none()
        if article_id is None:
            return False
        if fields.get("ticket_id") is not None and session.get(Ticket, fields["ticket_id"]) is None:
            fields = {**fields, "ticket_id": None}  # a ticket deleted since the link was sent
        session.execute(update(KbArticle).where(KbArticle.id == article_id).values({column: column + 1}))
        session.add(KbRead(article_id=article_id, **fields))
    return True


def weak_articles(settings: Settings, since: datetime, until: datetime, limit: int = 10) -> list[dict[str, Any]]:
    """Articles read by known readers in [since, until) who opened a ticket within WINDOW after:
    [{slug, title, reads, tracked_reads, followed_by_ticket, rate}], worst first. `reads` counts
    page views; `rate` is the share of tracked reads followed by a ticket."""
    with session_factory(settings.db_url, readonly=True)() as session:
        tracked = session.execute(select(KbRead.article_id, KbRead.created_at, KbRead.ticket_id, KbRead.reader).where(
            KbRead.created_at >= since, KbRead.created_at < until,
            (KbRead.ticket_id.is_not(None)) | (KbRead.reader.is_not(None)))).all()
        if not tracked:
            return []
        contact_of_ticket = _contacts_of_tickets(session, {r.ticket_id for r in tracked if r.ticket_id})
        contact_of_reader = _contacts_of_readers(session, {r.reader for r in tracked if r.reader})
        contacts = {c for c in [*contact_of_ticket.values(), *contact_of_reader.values()] if c is not None}
        opened = _tickets_of(session, contacts, since, until + WINDOW)
        counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for read in tracked:
            contact = contact_of_ticket.get(read.ticket_id) if read.ticket_id else contact_of_reader.get(read.reader)
            counts[read.article_id][0] += 1
            counts[read.article_id][1] += any(
                ticket_id != read.ticket_id and read.created_at < created <= read.created_at + WINDOW
                for ticket_id, created in opened.get(contact, ()))
        weak = {a: c for a, c in counts.items() if c[1]}
        if not weak:
            return []
        articles = {r.id: r for r in session.execute(select(KbArticle.id, KbArticle.slug, KbArticle.title).where(
            KbArticle.id.in_(list(weak))))}
        views = dict(session.execute(select(KbRead.article_id, func.count()).where(
            KbRead.article_id.in_(list(weak)), KbRead.via == "page", KbRead.created_at >= since,
            KbRead.created_at < until).group_by(KbRead.article_id)).all())
    rows = [{"slug": articles[a].slug, "title": articles[a].title, "reads": views.get(a, 0), "tracked_reads": n,
             "followed_by_ticket": followed, "rate": round(followed / n, 2)}
            for a, (n, followed) in weak.items() if a in articles]
    return sorted(rows, key=lambda r: (-r["rate"], -r["followed_by_ticket"], r["slug"]))[:limit]


def _chunks(values: set) -> list[list]:
    items = sorted(values)
    return [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]


def _contacts_of_tickets(session, ticket_ids: set[int]) -> dict[int, int | None]:
    found: dict[int, int | None] = {}
    for chunk in _chunks(ticket_ids):
        found.update(session.execute(select(Ticket.id, Ticket.contact_id).where(Ticket.id.in_(chunk))).all())
    return found


def _contacts_of_readers(session, readers: set[str]) -> dict[str, int]:
    by_channel: dict[str, set[str]] = defaultdict(set)
    for reader in readers:
        channel, _, user = reader.partition(":")
        by_channel[channel].add(user)
    found: dict[str, int] = {}
    for channel, users in by_channel.items():
        for chunk in _chunks(users):
            found.update({f"{channel}:{user}": contact for user, contact in session.execute(
                select(Identity.external_user_id, Identity.contact_id).where(
                    Identity.channel == channel, Identity.external_user_id.in_(chunk)))})
    return found


def _tickets_of(session, contacts: set[int], since: datetime, until: datetime) -> dict[int, list[tuple]]:
    """Each contact's tickets opened in [since, until): [(ticket id, created_at)]."""
    opened: dict[int, list[tuple]] = defaultdict(list)
    for chunk in _chunks(contacts):
        for contact, ticket_id, created in session.execute(select(Ticket.contact_id, Ticket.id, Ticket.created_at).where(
                Ticket.contact_id.in_(chunk), Ticket.created_at >= since, Ticket.created_at < until)):
            opened[contact].append((ticket_id, created))
    return opened
