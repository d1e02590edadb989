"""Release notes: a release (version exactly as given, Markdown notes, linked tickets) is
put on /kb/releases and its Atom feed, announced on Discord #announcements and X, and
answered into each linked ticket's own conversation, once each.

Every send is an outbox row with an idempotency key per (release, destination), written
before anything is sent, so a fan-out interrupted anywhere (a killed process) is finished
by running it again: `POST /api/releases` with the same version resumes it, and rows
already written are not written twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from storage.db import session_factory, transaction
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.kb import KbArticle, Release, ReleaseTicket
from storage.models.tickets import Ticket
from storage.queries import insert_ignoring_conflicts, ticket_id_from_ref
from support.delivery import acks as templates
from support.delivery import kicks as kick
from support.intake.sanitize import clean_text
from support.kb import render
from support.tickets.replies import reply, scoped_key
from trkv.settings import Settings

MAX_NOTES = 100_000
MAX_TICKETS = 5_000
TICKET_REPLY = "Good news: what you asked for shipped in TRKV {version}. Release notes: {url}"


class ReleaseError(ValueError):
    status = 422


def url(settings: Settings, version: str) -> str:
    from urllib.parse import quote

    return f"{settings.public_url.rstrip('/')}/kb/releases#v{quote(version, safe='')}"


def _ticket_ids(refs: list[str]) -> list[int]:
    ids, bad = [], []
    for ref in refs:
        ticket_id = ticket_id_from_ref(ref.strip()) if len(ref) <= 40 else None
        (ids if ticket_id else bad).append(ticket_id or ref[:40])
    if bad:
        raise ReleaseError(f"not ticket references: {', '.join(map(str, bad[:10]))}")
    return list(dict.fromkeys(ids))


def publish(settings: Settings, *, version: str, title: str, notes: str, ticket_refs: list[str],
            publish: bool = True, author: str) -> tuple[dict[str, Any], bool]:
    """(the release, created?) — a second call with the same version finishes its fan-out."""
    version, title, notes = (clean_text(v)[0] for v in (version.strip(), title.strip(), notes))
    if not version or len(version) > 50:
        raise ReleaseError("version: 1 to 50 characters")
    if not title or len(title) > 200:
        raise ReleaseError("title: 1 to 200 characters")
    if len(notes.encode()) > MAX_NOTES or len(ticket_refs) > MAX_TICKETS:
        raise ReleaseError(f"the notes are limited to {MAX_NOTES:,} bytes and the tickets to {MAX_TICKETS:,}")
    ids = _ticket_ids(ticket_refs)
    with transaction(settings.db_url) as session:
        found = set(session.execute(select(Ticket.id).where(Ticket.id.in_(ids))).scalars()) if ids else set()
        if missing := [f"TRKV-{i}" for i in ids if i not in found]:
            raise ReleaseError(f"no such tickets: {', '.join(missing[:10])}")
        release = session.execute(select(Release).where(Release.version == version)).scalar_one_or_none()
        created = release is None
        if created:
            release = Release(version=version, title=title, notes=notes, html=render.to_html(notes),
                              created_by=author)
            session.add(release)
            session.flush()
            session.add_all([ReleaseTicket(release_id=release.id, ticket_id=i) for i in ids])
        if publish and release.published_at is None:
            release.published_at = utcnow()
        release_id = release.id
    if publish:
        fan_out(settings, release_id)
        if created:
            flag_articles(settings, version, f"{title}\n{notes}")
    return get(settings, version), created


def flag_articles(settings: Settings, version: str, text: str) -> list[str]:
    """Mark for review the published articles about what the release touched (those its
    notes confidently match); the weekly update lists them until someone saves them."""
    from support.kb import search

    slugs = [s["slug"] for s in search.suggest(settings, text, limit=5) if s["score"] >= search.CONFIDENT]
    if slugs:
        with transaction(settings.db_url) as session:
            session.execute(update(KbArticle).where(KbArticle.slug.in_(slugs))
                            .values(review_reason=f"release {version} changed what it describes"[:200]))
    return slugs


def fan_out(settings: Settings, release_id: int) -> None:
    """Queue the announcements and one reply per linked ticket (each once, by its key)."""
    with session_factory(settings.db_url, readonly=True)() as session:
        release = session.get(Release, release_id)
        links = session.execute(select(ReleaseTicket.ticket_id).where(ReleaseTicket.release_id == release_id)
                                .order_by(ReleaseTicket.ticket_id)).scalars().all()
        keys = {ticket_id: scoped_key(ticket_id, None, f"release:{release_id}:{ticket_id}") for ticket_id in links}
        done = set(session.execute(select(Outbox.idempotency_key).where(
            Outbox.idempotency_key.in_(list(keys.values())))).scalars()) if keys else set()
    link = url(settings, release.version)
    _announce(settings, release, link)
    for ticket_id in links:
        if keys[ticket_id] in done:
            continue  # queued before an interruption: the outbox sends it (once)
        reply(f"TRKV-{ticket_id}", TICKET_REPLY.format(version=release.version, url=link),
              key=f"release:{release.id}:{ticket_id}", settings=settings)
    with transaction(settings.db_url) as session:
        session.get(Release, release_id).fanned_out_at = utcnow()


def _announce(settings: Settings, release: Release, link: str) -> None:
    from connectors.base import Outbound

    notes = render.plain_snippet(release.notes, 1500)
    sends = [Outbound(channel="discord", kind="status", idempotency_key=f"release:{release.id}:discord",
                      text=f"**TRKV {release.version}: {release.title}**\n{notes}\n{link}"),
             Outbound(channel="x", kind="status", idempotency_key=f"release:{release.id}:x",
                      text=templates.fit_x(f"TRKV {release.version} is out: {release.title} {link}"))]
    now, ids = utcnow(), []
    with transaction(settings.db_url) as session:
        for outbound in sends:
            session.execute(insert_ignoring_conflicts(session, Outbox).values(
                ticket_id=None, kind="status", channel=outbound.channel, queue="default",
                idempotency_key=outbound.idempotency_key, payload=outbound.__dict__.copy(), status="queued",
                created_at=now, updated_at=now))
            ids.append(session.execute(select(Outbox.id, Outbox.status)
                                       .where(Outbox.idempotency_key == outbound.idempotency_key)).one())
    kick.dispatch([(row.id, "default") for row in ids if row.status == "queued"])


def _serialize(release: Release, refs: list[str], settings: Settings) -> dict[str, Any]:
    return {"version": release.version, "title": release.title, "notes": release.notes, "html": release.html,
            "ticket_refs": refs, "url": url(settings, release.version),
            "published_at": release.published_at.isoformat() if release.published_at else None,
            "created_at": release.created_at.isoformat()}


def get(settings: Settings, version: str) -> dict[str, Any] | None:
    with session_factory(settings.db_url, readonly=True)() as session:
        release = session.execute(select(Release).where(Release.version == version)).scalar_one_or_none()
        if release is None:
            return None
        refs = [f"TRKV-{i}" for i in session.execute(select(ReleaseTicket.ticket_id).where(
            ReleaseTicket.release_id == release.id).order_by(ReleaseTicket.ticket_id)).scalars()]
        return _serialize(release, refs, settings)


def published(settings: Settings, limit: int = 50) -> list[dict[str, Any]]:
    with session_factory(settings.db_url, readonly=True)() as session:
        rows = session.execute(select(Release).where(Release.published_at.is_not(None))
                               .order_by(Release.published_at.desc(), Release.id.desc()).limit(limit)).scalars()
        return [_serialize(r, [], settings) for r in rows]
