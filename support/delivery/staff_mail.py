"""Mail to the hub's own people (the weekly KB update to engineers and leads, the weekly
review to the leads): one email outbox row per recipient under the key
`<key_prefix>:<user id>`, the outbox's unique key, so a later run, a second beat or a
worker killed halfway queues nothing twice; the outbox sends each row once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from html import escape

from storage.db import transaction
from storage.models.delivery import Outbox
from storage.queries import insert_ignoring_conflicts
from support.delivery import kicks as kick
from trkv.settings import Settings


def queue_to_staff(settings: Settings, people: Iterable[tuple[int, str]], *, kind: str, key_prefix: str,
                   subject: str, body: str, now: datetime) -> list[int]:
    """Queue `body` (plain text; the HTML part shows it preformatted) to each (user id, email)
    in `people` and kick the dispatch; the outbox ids this call queued (none for a key
    already queued, by an earlier run or by another one since the caller looked)."""
    html = f"<!doctype html><html><body><pre>{escape(body)}</pre></body></html>"
    queued = []
    with transaction(settings.db_url) as session:
        for user_id, email in people:
            key = f"{key_prefix}:{user_id}"
            payload = {"channel": "email", "kind": kind, "idempotency_key": key, "text": body, "to": email,
                       "subject": subject, "html": html, "meta": {"auto_submitted": "auto-generated"}}
            # RETURNING, not rowcount: on PostgreSQL (psycopg) rowcount comes back -1 here, written or not.
            inserted = session.execute(insert_ignoring_conflicts(session, Outbox).values(
                ticket_id=None, kind=kind, channel="email", queue="default", idempotency_key=key,
                payload=payload, status="queued", created_at=now, updated_at=now, recipient=email.lower(),
            ).returning(Outbox.id)).first()
            if inserted is not None:
                queued.append(inserted[0])
    kick.dispatch([(i, "default") for i in queued])
    return queued
