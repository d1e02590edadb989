"""The search index's backlog: tickets a historical import stored, indexed afterwards.

Full-text indexing was half of a historical import's cost (migration 0020), so `trkv import`
marks its tickets `search_pending` and leaves them to `index_pending`: a `trkv.search_index`
task on the bulk queue, kicked when an import ends and run by beat every minute as the safety
net, or `trkv import --index-now` before the command returns. The inbox's search finds pending
tickets meanwhile, by substring (support/tickets/queries.py), so no ticket is unsearchable
while it waits; it is found by stemmed words ("refunds" for "refund") once indexed.

Indexing a ticket is clearing its mark: on SQLite the update trigger then adds it to FTS5,
on PostgreSQL the generated tsvector is computed and goes into the GIN index. Each batch is a
short transaction of its own, and between two the indexer makes way for live work under way
(storage/live_work.py). On SQLite it is bulk work, so a live writer waiting for the lock goes
first (storage.db.bulk_writer); on PostgreSQL, SKIP LOCKED lets several workers share the
backlog and never waits for a ticket a live follow-up is updating, and its commits do not wait
for the WAL flush (a batch a crash loses is still marked, and is indexed again).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

from storage import live_work, locks
from storage.db import bulk_writer, get_engine, session_factory, single_statement, skip_flush_wait, transaction
from trkv.settings import Settings, get_settings

log = logging.getLogger(__name__)

# How long one task indexes before it hands its pool process back and queues its sequel: the
# bulk queue's other tasks get their turn, and a worker serving default and bulk keeps a free slot.
TASK_BUDGET_S = 5.0

# The inbox's search reads the backlog's text by substring up to this many waiting tickets
# (~40 ms on SQLite, ~150 ms on PostgreSQL at 14,000); a larger backlog is left out of searches
# until indexed, and the search says so.
SCAN_AT_MOST = 50_000

# Tickets per transaction. SQLite holds its one write lock for a batch: ~500 tickets take
# ~30 ms there, about what a live writer may wait behind a batch already begun. On PostgreSQL
# a batch competes with live work for the cores and for the WAL flush a live commit waits on:
# 500 tickets take ~80 ms there, and the indexer makes way for live work between batches.
BATCH = {"sqlite": 500, "postgresql": 500}

_NEXT = {
    "sqlite": "UPDATE tickets SET search_pending = 0 WHERE id IN "
              "(SELECT id FROM tickets WHERE search_pending = 1 ORDER BY id LIMIT :n)",
    "postgresql": "UPDATE tickets SET search_pending = false WHERE id IN "
                  "(SELECT id FROM tickets WHERE search_pending ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED)",
}
# PostgreSQL's GIN index takes new entries into a pending list (fastupdate) and moves the list
# into the index when it outgrows gin_pending_list_limit (4 MB): in whichever statement tips it
# over, which during an import's indexing was a live follow-up's UPDATE, once 61 ms (bench/paging.py).
# The indexer moves the list itself after each batch, so live statements find it short.
_GIN_INDEX = "ix_tickets_fts"

_COUNT = {
    "sqlite": "SELECT count(*) FROM tickets WHERE search_pending = 1",
    "postgresql": "SELECT count(*) FROM tickets WHERE search_pending",
}


def pending_count(session: Session, at_most: int | None = None) -> int:
    """Tickets waiting for the search index (read through the partial index of the backlog);
    with `at_most`, counting stops after that many plus one."""
    statement = _COUNT[session.get_bind().dialect.name]
    if at_most is not None:
        statement = f"SELECT count(*) FROM ({statement.replace('count(*)', '1')} LIMIT {int(at_most) + 1}) AS waiting"
    return session.execute(text(statement)).scalar_one()


def any_pending(session: Session) -> bool:
    dialect = session.get_bind().dialect.name
    return session.execute(text(_COUNT[dialect].replace("count(*)", "1") + " LIMIT 1")).first() is not None


def index_pending(settings: Settings | None = None, *, progress: Callable[[int], None] | None = None,
                  budget_s: float | None = None) -> int:
    """Index the backlog, a batch per transaction, until none is left (or `budget_s` seconds
    have passed); returns how many. `progress` is called with each batch's count."""
    settings = settings or get_settings()
    dialect = get_engine(settings.db_url).dialect.name
    statement, done = text(_NEXT[dialect]).bindparams(n=BATCH[dialect]), 0
    until = time.monotonic() + budget_s if budget_s is not None else None
    while True:
        with bulk_writer(), transaction(settings.db_url) as session:
            if dialect == "postgresql":  # a batch lost to a crash is still marked, and indexed again
                skip_flush_wait(session)
            count = session.execute(statement).rowcount
        if dialect == "postgresql" and count:
            _clean_pending_list(settings.db_url)
        done += count
        if progress and count:
            progress(count)
        if not count or (until is not None and time.monotonic() >= until):
            break
        live_work.make_way(settings.db_url)
    if done:
        log.info("indexed %d imported tickets for search", done)
    return done


def _clean_pending_list(db_url: str) -> None:
    """Move the GIN index's pending list into the index, here rather than in a live statement.
    A live writer that finds the list over its limit meanwhile does not wait for this cleanup
    (PostgreSQL skips its own when one is under way). Best effort: a database user that does not
    own the index leaves the cleanup to PostgreSQL, as before."""
    try:
        with single_statement(db_url) as connection:
            connection.execute(text("SELECT gin_clean_pending_list(CAST(:index AS regclass))"), {"index": _GIN_INDEX})
    except Exception:  # noqa: BLE001 - not the owner, or no such index: autovacuum still cleans it
        log.debug("the search index's pending list was left to PostgreSQL", exc_info=True)


def run_task(settings: Settings | None = None) -> int:
    """The `trkv.search_index` task: one indexer at a time (a task that finds another at work
    returns at once), for TASK_BUDGET_S; what is left is queued again for a sequel."""
    settings = settings or get_settings()
    with locks.single_flight(settings.db_url, "search-index") as mine:
        if not mine:
            return 0
        done = _yielding(settings.import_nice, lambda: index_pending(settings, budget_s=TASK_BUDGET_S))
    if done and pending(settings):
        from support.delivery import kicks

        kicks.search_index()
    return done


def _yielding(nice: int, work: Callable[[], int]) -> int:
    """Run `work` in a thread of its own at `nice` (TRKV_IMPORT_NICE, as the import itself):
    the worker's pool process serves live ingest too, and on Linux a nice value belongs to a
    thread, so live tasks after this one run at the process's own priority. (SQLite's indexing
    runs in this thread; PostgreSQL's in its server, as during the import before.)"""
    outcome: dict[str, object] = {}

    def run() -> None:
        if nice > 0:
            try:
                me = threading.get_native_id()
                os.setpriority(os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me) + nice))
            except OSError:
                pass  # not Linux-like: the work still gets done, at the process's priority
        try:
            outcome["done"] = work()
        except BaseException as exc:  # noqa: BLE001 - raised again in the task's own thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="search-index")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["done"]


def pending(settings: Settings | None = None) -> int:
    settings = settings or get_settings()
    with session_factory(settings.db_url, readonly=True)() as session:
        return pending_count(session)
