"""Edits and deletions of Discord messages, recorded against the stored messages.

An edit replaces the stored text and keeps the previous one in `message_revisions`;
a deletion is recorded there and the text is kept (the ticket still needs it). A
change may arrive before its message is ingested (staging is asynchronous): it waits
as "pending" and is applied by a later call; a change for a message the hub never
stored and never will (older than the connector) is marked "orphan".
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import transaction
from storage.models.intake import InboundQueue
from storage.models.tickets import Message, MessageRevision
from storage.queries import append_search_text
from trkv.settings import Settings, get_settings

log = logging.getLogger(__name__)


def apply_changes(changes: list[dict], settings: Settings | None = None, channel: str = "discord") -> int:
    """Record `changes` (from `connectors.discord_bot.parse_change`) and apply every
    pending change whose message is stored; returns how many are still pending."""
    settings = settings or get_settings()
    with transaction(settings.db_url) as session:
        for change in changes:
            session.add(MessageRevision(
                channel=channel, external_id=str(change["external_id"])[:500], kind=change["kind"],
                new_text=change.get("text"), changed_at=_when(change.get("at")), raw=change.get("raw"),
                status="pending",
            ))
        session.flush()
        return _apply_pending(session, channel)


def _apply_pending(session: Session, channel: str) -> int:
    pending = session.execute(
        select(MessageRevision).where(MessageRevision.status == "pending", MessageRevision.channel == channel)
        .order_by(MessageRevision.id)
    ).scalars().all()
    if not pending:
        return 0
    ids = sorted({r.external_id for r in pending})
    messages = {m.external_id: m for m in session.execute(
        select(Message).where(Message.channel == channel, Message.external_id.in_(ids))).scalars()}
    staged = set(session.execute(
        select(InboundQueue.external_id).where(InboundQueue.channel == channel, InboundQueue.status == "pending",
                                               InboundQueue.external_id.in_(ids))).scalars())
    left = 0
    for revision in pending:
        message = messages.get(revision.external_id)
        if message is None:
            if revision.external_id in staged:
                left += 1
            else:
                revision.status = "orphan"
            continue
        revision.message_id, revision.status = message.id, "applied"
        if revision.kind == "edit":
            revision.old_text, message.text = message.text, revision.new_text or ""
            append_search_text(session, {message.ticket_id: message.text})  # the old words stay findable too
        log.info("Discord message %s %s", revision.external_id, "edited" if revision.kind == "edit" else "deleted")
    return left


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
