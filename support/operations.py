"""Operations: quarantined input (release it for another try, or discard it) and
outbox rows that failed to send (retry them with the same idempotency key)."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import select, update

from connectors.base import Inbound
from storage.db import session_factory, transaction
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.intake import InboundQueue, Quarantine
from support.delivery import kicks as kick
from support.intake import staging as intake
from trkv.settings import Settings, get_settings

log = logging.getLogger(__name__)
PAGE = 100


class OperationError(ValueError):
    pass


def quarantined(settings: Settings | None = None, limit: int = PAGE) -> list[dict[str, Any]]:
    """Rows still waiting for a decision, newest first."""
    settings = settings or get_settings()
    with session_factory(settings.db_url, readonly=True)() as session:
        rows = session.execute(
            select(Quarantine).where(Quarantine.released_at.is_(None), Quarantine.discarded_at.is_(None))
            .order_by(Quarantine.id.desc()).limit(limit)
        ).scalars().all()
        return [{"id": r.id, "channel": r.channel, "external_id": r.external_id, "reason": r.reason,
                 "payload": r.payload[:2000], "created_at": r.created_at} for r in rows]


def release(quarantine_id: int, settings: Settings | None = None) -> list[int]:
    """Stage the quarantined message again (after a fix, say); returns the staged ids.
    Input that is not a stored message cannot be released and says why."""
    settings = settings or get_settings()
    with transaction(settings.db_url) as session:
        row = session.get(Quarantine, quarantine_id)
        if row is None or row.released_at is not None or row.discarded_at is not None:
            raise OperationError(f"no quarantined message {quarantine_id} waiting")
        try:
            inbound = Inbound.from_dict(json.loads(row.payload))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise OperationError(f"quarantined input {quarantine_id} is not a message the hub can ingest "
                                 f"({type(exc).__name__}: {exc}); discard it instead") from exc
        # Staged in the same transaction as the release: nothing is lost between the two.
        now = utcnow()
        staged = InboundQueue(channel=inbound.channel, external_id=inbound.external_id[:500],
                              payload=intake._payload(inbound), live=True, status="pending",
                              created_at=now, updated_at=now)
        session.add(staged)
        row.released_at = now
        session.flush()
        staged_id = staged.id
    kick.ingest([staged_id])
    log.info("quarantined message %s released (staged as %s)", quarantine_id, staged_id)
    return [staged_id]


def discard(quarantine_id: int, settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    with transaction(settings.db_url) as session:
        changed = session.execute(
            update(Quarantine).where(Quarantine.id == quarantine_id, Quarantine.released_at.is_(None),
                                     Quarantine.discarded_at.is_(None)).values(discarded_at=utcnow())
        ).rowcount
    if not changed:
        raise OperationError(f"no quarantined message {quarantine_id} waiting")


def failed_outbox(settings: Settings | None = None, limit: int = PAGE) -> list[dict[str, Any]]:
    settings = settings or get_settings()
    with session_factory(settings.db_url, readonly=True)() as session:
        rows = session.execute(
            select(Outbox).where(Outbox.status == "failed").order_by(Outbox.updated_at.desc()).limit(limit)
        ).scalars().all()
        return [{"id": r.id, "ref": f"TRKV-{r.ticket_id}" if r.ticket_id else None, "kind": r.kind,
                 "channel": r.channel, "attempts": r.attempts, "error": r.last_error or "",
                 "updated_at": r.updated_at} for r in rows]


def retry(outbox_id: int, settings: Settings | None = None) -> None:
    """Queue a failed row again with fresh attempts; its idempotency key is unchanged,
    so a receiver that saw an earlier try deduplicates."""
    settings = settings or get_settings()
    with transaction(settings.db_url) as session:
        row = session.execute(select(Outbox).where(Outbox.id == outbox_id, Outbox.status == "failed")).scalar()
        if row is None:
            raise OperationError(f"no failed outbox row {outbox_id}")
        row.status, row.attempts, row.updated_at = "queued", 0, utcnow()
        queue = row.queue
    kick.dispatch([(outbox_id, queue)])
