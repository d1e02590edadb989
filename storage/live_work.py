"""Bulk work makes way for live work.

A live message is staged, then stored by a worker, and its acknowledgement or page is queued,
then sent. Bulk work (a historical import, the search index's backlog) that starts its next
transaction while any of that is under way competes with it: for SQLite's one write lock, and
on PostgreSQL for the cores and the WAL flush a live commit waits on. Between two transactions
bulk work therefore calls `make_way`, which waits, up to a second, while fresh live work is
about. Stale rows (staged long ago, and no worker running) do not hold it back."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import or_, select

from storage.db import session_factory
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.intake import InboundQueue

FRESH_S = 5.0  # live work younger than this is under way (older: no worker is running)
MAX_PAUSE_S = 1.0
LOOK_EVERY_S = 0.02


def make_way(db_url: str, max_pause_s: float = MAX_PAUSE_S) -> bool:
    """Wait while a fresh live message is staged but not stored, or a page or acknowledgement
    is queued but not sent, up to `max_pause_s`. Returns whether it saw any."""
    deadline, saw = time.monotonic() + max_pause_s, False
    Session = session_factory(db_url, readonly=True)
    while time.monotonic() < deadline:
        if not _live_work(Session):
            return saw
        saw = True
        time.sleep(LOOK_EVERY_S)
    return saw


def _live_work(Session) -> bool:
    since = utcnow() - timedelta(seconds=FRESH_S)
    with Session() as session:  # a new read transaction per look: WAL readers see a snapshot
        return (session.execute(
            select(InboundQueue.id).where(InboundQueue.status == "pending", InboundQueue.live.is_(True),
                                          InboundQueue.updated_at >= since).limit(1)
        ).first() or session.execute(
            select(Outbox.id).where(or_(Outbox.status == "queued", Outbox.status == "sending"),
                                    Outbox.updated_at >= since).limit(1)
        ).first()) is not None
