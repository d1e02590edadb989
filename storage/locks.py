"""Database locks for work that must not run twice at once on several hosts.

PostgreSQL: transaction-scoped advisory locks on a 64-bit hash of a name, released
by the commit or rollback. SQLite needs none: every writing transaction begins
IMMEDIATE (storage/db.py), so writers run one after another and the second one's
reads see what the first committed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
from collections.abc import Iterable, Iterator

from sqlalchemy import BigInteger, TextClause, bindparam, select, text
from sqlalchemy.orm import Session


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `name` (Python's hash() differs per process)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8", "surrogatepass")).digest()[:8], "big", signed=True)


def hold(session: Session, names: Iterable[str]) -> None:
    """Wait for and take the locks of `names` until the transaction ends. Taken in
    sorted key order, so two transactions wanting overlapping sets cannot deadlock."""
    if session.get_bind().dialect.name != "postgresql":
        return
    taken = taking(names)
    if taken is not None:
        session.execute(select(taken))


def taking(names: Iterable[str]) -> TextClause | None:
    """PostgreSQL: a condition, always true, that takes the locks of `names` as `hold` does,
    for the WHERE clause of a statement the transaction runs anyway (one round trip, not two).
    None when there is nothing to lock."""
    keys = sorted({lock_key(n) for n in names})
    if not keys:
        return None
    from storage.queries import BinaryArray  # a batch's thousands of keys: a binary array

    return text("(SELECT count(pg_advisory_xact_lock(k)) FROM "
                "(SELECT k FROM unnest(CAST(:lock_keys AS bigint[])) AS k ORDER BY k) AS ordered) >= 0").bindparams(
        bindparam("lock_keys", keys, type_=BinaryArray(BigInteger)))


def try_hold(session: Session, name: str) -> bool:
    """Take the lock of `name` for the transaction if nobody holds it; False if someone does."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": lock_key(name)}).scalar())


@contextlib.contextmanager
def single_flight(url: str, name: str) -> Iterator[bool]:
    """For work longer than a transaction that one process at a time should do (on any
    host): yields True to the one that got the lock, False to the others, which return at
    once. PostgreSQL: a session advisory lock on a connection of its own, held throughout;
    SQLite (one host): a flock on `<database>-<name>`. Either ends with the process."""
    from storage.db import get_engine

    engine = get_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key(name)}).scalar())
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(name)})
                    conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield True
        return
    try:
        handle = open(f"{database}-{name}", "a")  # noqa: SIM115 - closed below
    except OSError:  # a read-only folder: no lock file, so gating is off
        yield True
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
