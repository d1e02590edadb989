"""Database locks for work that must not run twice at once on several hosts.

PostgreSQL: transaction-scoped advisory locks on a 64-bit hash of a name, released
by the commit or rollback. SQLite needs none: every writing transaction begins
IMMEDIATE (storage/db.py), so writers run one after another and the second one's
reads see what the first committed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `name` (Python's hash() differs per process)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8", "surrogatepass")).digest()[:8], "big", signed=True)


def hold(session: Session, names: Iterable[str]) -> None:
    """Wait for and take the locks of `names` until the transaction ends. Taken in
    sorted key order, so two transactions wanting overlapping sets cannot deadlock."""
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({lock_key(n) for n in names})
    if keys:
        session.execute(
            text("SELECT count(pg_advisory_xact_lock(k)) FROM "
                 "(SELECT k FROM unnest(CAST(:keys AS bigint[])) AS k ORDER BY k) AS ordered"),
            {"keys": keys},
        )


def try_hold(session: Session, name: str) -> bool:
    """Take the lock of `name` for the transaction if nobody holds it; False if someone does."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": lock_key(name)}).scalar())
