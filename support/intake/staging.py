"""Intake: accept inbound messages durably, then ingest them on a worker.

`submit` writes each message to the `inbound_queue` table and commits, which is the
moment a connector may advance its cursor; a Celery kick then has a worker call
`process`, which ingests the rows and marks them done in the same transaction.
A row that cannot be ingested is quarantined with the reason, never dropped.
"""

from __future__ import annotations

import functools
import json
import logging

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from connectors.base import Inbound
from storage import locks
from storage.db import (
    durable,
    get_engine,
    no_flush_wait,
    session_factory,
    single_statement,
    skip_flush_wait,
    transaction,
)
from storage.models.base import utcnow
from storage.models.intake import InboundQueue, Quarantine
from storage.queries import bulk_insert_returning_ids
from support.delivery import kicks as kick
from support.intake import bounces
from support.intake.ingest import IngestResult, conversation_locks, ingest_in
from support.intake.sanitize import clean_json, sanitize
from support.intake.suggest import suggest_for
from trkv.settings import Settings, get_settings

log = logging.getLogger(__name__)


def submit(inbounds: list[Inbound], *, live: bool = True, settings: Settings | None = None) -> list[int]:
    """Stage messages durably and kick a worker; returns the staged ids once they are durable,
    the moment a connector may advance its cursor or flag a mail.

    On PostgreSQL the worker need not wait for that: the rows are committed without waiting
    for the WAL flush, the worker is kicked, and only then does `submit` wait for the flush
    (`durable`), while the worker already reads them. During an import, waiting for that flush
    was most of submit's ~6 ms (p50, bench/paging.py). Nothing is lost to a crash meanwhile: a row
    whose flush never came was never acknowledged to its platform, which delivers it again;
    and whatever a worker made of it commits after it in the WAL, so never without it."""
    settings = settings or get_settings()
    if not inbounds:
        return []
    now = utcnow()
    rows = [
        {"channel": i.channel, "external_id": i.external_id[:500], "payload": _payload(i), "live": live,
         "status": "pending", "created_at": now, "updated_at": now}
        for i in inbounds
    ]
    server = _server(settings)
    if len(rows) == 1 and server:  # a live message: one round trip, no BEGIN and COMMIT
        with single_statement(settings.db_url) as connection:
            ids = [connection.execute(_stage_one(), rows[0]).scalar_one()]
            kick.ingest(ids)
            durable(connection)
        return ids
    with transaction(settings.db_url) as session:
        if server:
            skip_flush_wait(session)
        ids = list(bulk_insert_returning_ids(session, InboundQueue, rows))
    kick.ingest(ids)
    if server:
        with single_statement(settings.db_url) as connection:
            durable(connection)
    return ids


@functools.cache
def _stage_one():
    """INSERT one staged row, committed without waiting for the WAL flush."""
    staged = InboundQueue.__table__
    columns = ("channel", "external_id", "payload", "live", "status", "created_at", "updated_at")
    values = select(*(bindparam(c, type_=staged.c[c].type) for c in columns)).where(no_flush_wait())
    return insert(staged).from_select([staged.c[c] for c in columns], values).returning(staged.c.id)


def _payload(inbound: Inbound) -> dict:
    # Round-trip through JSON so that what is staged is exactly what a worker will read.
    return clean_json(json.loads(json.dumps(inbound.to_dict(), default=str)))


def process(staged_ids: list[int], settings: Settings | None = None) -> list[IngestResult]:
    """Ingest staged rows that are still pending; kicks dispatch for what they queued."""
    settings = settings or get_settings()
    payloads = _count_attempt(settings, staged_ids)
    return _run(staged_ids, settings, payloads)


def _count_attempt(settings: Settings, staged_ids: list[int]) -> list[dict]:
    """A worker took the rows: that is an attempt, committed before the work, so a message
    that kills its worker is counted and quarantined by the sweep after `max_deliveries`
    (the sweep's re-kicks are not attempts; a row no worker took is never quarantined).
    Returns the pending rows' payloads, for triage before the write transaction: read by the
    same statement (a live message's transaction fewer, ~2 ms of its ~17 on PostgreSQL).
    On PostgreSQL its commit does not wait for the WAL flush: during an import that flush
    carries the import's WAL too. The count guards against a message that kills its worker,
    not against a crash of the database, and the next commit that waits flushes it anyway."""
    staged = InboundQueue.__table__
    counted = (update(staged).where(staged.c.id.in_(staged_ids), staged.c.status == "pending")
               .values(attempts=staged.c.attempts + 1, updated_at=utcnow()).returning(staged.c.payload))
    if _server(settings):
        # One statement in autocommit: one round trip, where BEGIN, SET and COMMIT took three more.
        with single_statement(settings.db_url) as connection:
            return list(connection.execute(
                counted.where(no_flush_wait())).scalars())
    with transaction(settings.db_url) as session:
        return list(session.execute(counted).scalars())


def _server(settings: Settings) -> bool:
    return get_engine(settings.db_url).dialect.name == "postgresql"


def _run(staged_ids: list[int], settings: Settings, payloads: list[dict] | None = None) -> list[IngestResult]:
    Session = session_factory(settings.db_url)
    inbounds, suggestions = _presuggest(settings, staged_ids, payloads)
    try:
        with Session() as session, session.begin():
            results = _process(session, staged_ids, settings, suggestions, conversation_locks(inbounds) if inbounds else None)
    except Exception as exc:
        if _lost_database(exc):
            # The database went away under us (a restart, a broken connection): the message is
            # not at fault. It stays staged with the reason; the sweep kicks it again, and its
            # attempts still count towards `max_deliveries`.
            _keep_staged(Session, staged_ids, f"{type(exc).__name__}: {exc}"[:2000])
            return []
        if len(staged_ids) == 1:
            _quarantine_staged(Session, staged_ids[0], f"{type(exc).__name__}: {exc}"[:2000])
            return []
        # One bad row must not block its neighbours: retry them one at a time.
        log.warning("a batch of %d staged messages failed; retrying one by one", len(staged_ids), exc_info=True)
        results = [r for staged_id in staged_ids for r in _run([staged_id], settings)]
        return results
    kick.dispatch([pair for r in results for pair in r.outbox])
    return results


def _presuggest(settings: Settings, staged_ids: list[int],
                payloads: list[dict] | None = None) -> tuple[list[Inbound] | None, dict]:
    """Triage before the write transaction (the model is the slow part; SQLite has one
    writer): the pending rows' messages and their suggestions. Best effort: whatever fails
    here is triaged, or quarantined, inside it. `payloads`: the rows' payloads where the
    caller read them already."""
    try:
        if payloads is None:
            with session_factory(settings.db_url, readonly=True)() as session:
                payloads = session.execute(
                    select(InboundQueue.payload).where(InboundQueue.id.in_(staged_ids), InboundQueue.status == "pending")
                ).scalars().all()
        inbounds = [sanitize(Inbound.from_dict(p), max_text_bytes=settings.max_text_bytes) for p in payloads]
        return inbounds, suggest_for(inbounds)
    except Exception:  # noqa: BLE001 - the transaction below reports the real error
        log.debug("triage before the transaction failed; it runs inside it", exc_info=True)
        return None, {}


def _process(session: Session, staged_ids: list[int], settings: Settings, suggestions: dict | None = None,
             lock_names: set[str] | None = None) -> list[IngestResult]:
    """`lock_names`: the conversations of the rows' messages (ingest.conversation_locks), when
    they were read before the transaction: on PostgreSQL the statement that claims the rows
    takes their locks too, a round trip fewer for each live message."""
    staged = InboundQueue.__table__  # rows, not ORM objects: nothing here changes them through the session
    query = select(staged.c.id, staged.c.live, staged.c.payload).where(staged.c.id.in_(staged_ids), staged.c.status == "pending")
    locked = False
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # two workers never take the same row
        taking = locks.taking(lock_names or ())
        if taking is not None:
            query, locked = query.where(taking), True
    rows = session.execute(query.order_by(staged.c.id)).all()
    results: list[IngestResult] = []
    for live in (True, False):
        batch = [r for r in rows if r.live is live]
        if batch:
            inbounds = [sanitize(Inbound.from_dict(r.payload), max_text_bytes=settings.max_text_bytes) for r in batch]
            inbounds = bounces.absorb(session, inbounds)  # a bounce of our own mail fails its outbox row, opens no ticket
            results += ingest_in(session, inbounds, live, settings, suggestions, locked=locked) if inbounds else []
    if rows:
        session.execute(
            update(staged).where(staged.c.id.in_([r.id for r in rows])).values(status="done", updated_at=utcnow())
        )
    return results


def _lost_database(exc: Exception) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError)) or getattr(exc, "connection_invalidated", False)


def _keep_staged(Session, staged_ids: list[int], reason: str) -> None:
    log.warning("staged message(s) %s left for a retry, the database failed: %s", staged_ids, reason)
    try:
        with Session() as session, session.begin():
            session.execute(update(InboundQueue)
                            .where(InboundQueue.id.in_(staged_ids), InboundQueue.status == "pending")
                            .values(error=reason))
    except Exception:  # noqa: BLE001 - still away: the row keeps its old reason, and stays pending
        log.debug("the reason could not be recorded", exc_info=True)


def _quarantine_staged(Session, staged_id: int, reason: str) -> None:
    with Session() as session, session.begin():
        row = session.get(InboundQueue, staged_id)
        if row is not None and row.status == "pending":
            quarantine_staged(session, row, reason)


def quarantine_staged(session: Session, row: InboundQueue, reason: str) -> None:
    """Move a staged message to the quarantine with the reason, in the caller's transaction."""
    session.add(Quarantine(channel=row.channel, external_id=row.external_id, reason=reason,
                           payload=json.dumps(row.payload, ensure_ascii=False, default=str)))
    row.status, row.error, row.updated_at = "quarantined", reason, utcnow()
    log.error("staged message %s (%s) quarantined: %s", row.id, row.channel, reason)
