"""Kicks: Celery messages that tell a worker to look at rows in the database.

The database row is the work; a kick only makes it happen sooner. A lost kick is
made good by the sweep, so publishing never needs to be part of a transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

log = logging.getLogger(__name__)


def _app():
    from trkv.celery_app import app

    return app


def _queue(name: str) -> str:
    from trkv.celery_app import queue_name

    return queue_name(name)


def dispatch(outbox: Iterable[tuple[int, str]]) -> None:
    for outbox_id, queue in outbox:
        _send("trkv.dispatch", [outbox_id], queue)


def dispatch_after_commit(session, outbox: list[tuple[int, str]]) -> None:
    """Kick the dispatch of rows once the caller's transaction commits (a worker must
    find the rows it is kicked for; a rollback kicks nothing)."""
    if not outbox:
        return
    from sqlalchemy import event

    event.listen(session, "after_commit", lambda _session: dispatch(outbox), once=True)


def ingest(staged_ids: list[int]) -> None:
    if staged_ids:
        _send("trkv.ingest", [staged_ids], "default")


def search_index() -> None:
    """Index a historical import's tickets for search (support/tickets/search_index.py)."""
    _send("trkv.search_index", [], "bulk")


def _send(task: str, args: list, queue: str) -> None:
    try:
        _app().send_task(task, args=args, queue=_queue(queue))
    except Exception as exc:  # the broker is down: the sweep will kick again
        log.warning("could not publish %s to %s (%s); the sweep will retry", task, queue, exc)
