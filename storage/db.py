"""Engine and sessions.

SQLite runs in WAL mode with a busy timeout, and every transaction starts with
BEGIN IMMEDIATE: two writers then queue for the lock instead of one failing with
"database is locked" when it tries to upgrade a read lock mid-transaction.

SQLite's busy handler is not a queue: a waiting writer sleeps (up to 100 ms at a time)
and retries, and a bulk import that begins its next transaction the moment it commits
wins nearly every race. Live writers therefore say that they wait (a shared lock on the
file `<database>-writers` while they wait for the write lock), and a bulk writer
(`bulk_writer()`) begins only when none does: bench/paging.py saw a live message's
staging wait up to 2.5 s for the lock during an import without it.
"""

from __future__ import annotations

import contextlib
import contextvars
import fcntl
import os
import select
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, exc, func, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


BULK_YIELD_S = 1.0  # a bulk writer waits at most this long for live writers before it begins anyway


@dataclass
class BulkWriter:
    made_way: bool = False  # a live writer was waiting when one of its transactions began


_bulk: contextvars.ContextVar[BulkWriter | None] = contextvars.ContextVar("trkv_bulk_writer", default=None)


@contextlib.contextmanager
def bulk_writer() -> Iterator[BulkWriter]:
    """Mark this context's SQLite write transactions as bulk work: each begins only when
    no live writer is waiting for the write lock (up to BULK_YIELD_S). No effect elsewhere."""
    token = _bulk.set(BulkWriter())
    try:
        yield _bulk.get()
    finally:
        _bulk.reset(token)


class _WriterGate:
    """Live writers hold a shared lock on `path` while they wait for SQLite's write lock; a
    bulk writer begins when it can take the file's exclusive lock (released at once). One
    descriptor per process: flock locks belong to the open file, which a fork shares."""

    def __init__(self, path: str):
        self.path = path
        self._fd: tuple[int, int] | None = None  # (pid, descriptor)

    def _descriptor(self) -> int | None:
        """This process's descriptor of the file; None where it cannot be made (a read-only
        folder): writers then take their turns as SQLite's busy handler gives them."""
        if self._fd is None or self._fd[0] != os.getpid():
            try:
                self._fd = (os.getpid(), os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            except OSError:
                self._fd = (os.getpid(), -1)
        return self._fd[1] if self._fd[1] >= 0 else None

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        fd = self._descriptor()
        if fd is None:
            yield
            return
        fcntl.flock(fd, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def clear(self) -> bool:
        """Wait (up to BULK_YIELD_S) until no live writer is waiting; whether one was."""
        fd = self._descriptor()
        if fd is None:
            return False
        deadline, waited = time.monotonic() + BULK_YIELD_S, False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return True
                waited = True
                time.sleep(0.001)
            else:
                fcntl.flock(fd, fcntl.LOCK_UN)
                return waited


def _begin_promptly(dbapi_conn, timeout_s: float = 60.0) -> None:
    """BEGIN IMMEDIATE, retried every millisecond rather than in SQLite's busy handler, whose
    sleeps grow to 100 ms: a bulk writer that makes way waits for this one to get in."""
    dbapi_conn.execute("PRAGMA busy_timeout = 0")
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                dbapi_conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.001)
    finally:
        dbapi_conn.execute("PRAGMA busy_timeout = 60000")


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    gate = None
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        gate = _WriterGate(f"{parsed.database}-writers")
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        options = conn.get_execution_options()
        _use_temp_store(conn, options.get("sqlite_temp_store", "DEFAULT"))
        mode = options.get("sqlite_begin", "IMMEDIATE")
        if mode != "IMMEDIATE" or gate is None:
            conn.exec_driver_sql(f"BEGIN {mode}")
        elif (bulk := _bulk.get()) is not None:
            bulk.made_way |= gate.clear()
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            with gate.waiting():
                _begin_promptly(conn.connection.dbapi_connection)

    return engine


def _use_temp_store(conn, store: str) -> None:  # noqa: ANN001
    """Where this connection's transaction keeps its temporary data (`tune_for_bulk_load`); only
    set between transactions, and set back to the default by the next one that asks nothing."""
    info = conn.connection.info  # lives as long as the database connection
    if info.get("sqlite_temp_store", "DEFAULT") != store:
        conn.exec_driver_sql(f"PRAGMA temp_store = {store}")
        info["sqlite_temp_store"] = store


class BinaryList(list):
    """A list that psycopg 3 sends as a binary array (storage.queries.BinaryArray makes them);
    plain lists keep their text form."""


def _binary_lists_context():
    """The adapters a psycopg 3 connection starts from: psycopg's own, and a BinaryList dumped as a
    binary array by `%s`. Given to each connection, not registered in psycopg's global map: no
    other code's connections change, and a connection copies its map when it opens."""
    import psycopg
    from psycopg.adapt import AdaptersMap
    from psycopg.types.array import ListBinaryDumper

    adapters = AdaptersMap(psycopg.adapters)
    adapters.register_dumper(BinaryList, ListBinaryDumper)
    return adapters


def _pg_connect_args(url: str) -> dict:
    if not url.startswith("postgresql"):
        return {}
    args: dict = {"connect_timeout": 5}
    if "psycopg2" not in url:
        # psycopg 3 prepares a statement after 5 runs, and PostgreSQL then may pick a
        # generic plan: for our IN lists of hundreds of keys that is a sequential scan,
        # and ingest slowed down as the tables grew.
        args["prepare_threshold"] = None
        args["context"] = _binary_lists_context()
    return args


# A pooled connection idle longer than this is pinged (a round trip) before use; one used more
# recently is checked without a round trip (`_alive`).
PING_IDLE_S = 30.0


def _server_engine(url: str) -> Engine:
    """PostgreSQL (or another server): a pool whose connections are checked before use.

    SQLAlchemy's `pool_pre_ping` pings every connection taken from the pool: with the reset on
    return, two of a live message's ~35 round trips per transaction, four transactions a
    message. Instead a connection is checked locally: a server that ended it (a restart,
    `pg_terminate_backend`, an idle timeout) has closed the socket or sent its last words
    there, so the socket reads ready; only a connection idle for PING_IDLE_S is pinged, for
    what the socket cannot tell (a peer gone without a word)."""
    engine = create_engine(url, pool_size=5, max_overflow=10, connect_args=_pg_connect_args(url))

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn, record) -> None:  # noqa: ANN001
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn, record, _proxy) -> None:  # noqa: ANN001
        idle_since = record.info.pop("idle_since", None)
        if not _alive(dbapi_conn):
            raise exc.DisconnectionError("the server closed the connection")
        if idle_since is not None and time.monotonic() - idle_since > PING_IDLE_S:
            try:
                alive = engine.dialect.do_ping(dbapi_conn)
            except Exception as error:  # noqa: BLE001 - any failure means: a new connection
                raise exc.DisconnectionError(str(error)) from error
            if not alive:
                raise exc.DisconnectionError("the connection failed its ping")

    return engine


def _alive(dbapi_conn) -> bool:  # noqa: ANN001
    """No round trip: an idle connection's socket has nothing to read unless the server
    closed it or sent an error (a notice on an idle pooled connection is as good a reason
    to start afresh); a driver without a socket to look at is taken as alive."""
    if getattr(dbapi_conn, "closed", False):
        return False
    try:
        fd = dbapi_conn.fileno()
    except Exception:  # noqa: BLE001 - closed or broken
        return False
    try:
        readable, _, failed = select.select([fd], [], [fd], 0)
    except (OSError, ValueError):
        return False
    return not readable and not failed


def get_engine(url: str | None = None) -> Engine:
    if url is None:
        from trkv.settings import get_settings

        url = get_settings().db_url
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                engine = _sqlite_engine(url)
            else:
                engine = _server_engine(url)
            _engines[url] = engine
        return engine


def dispose_engines(*, close: bool = True) -> None:
    """Close pooled connections (between tests). In a forked child, `close=False`
    forgets the parent's connections without touching them (they are the parent's)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose(close=close)
        _engines.clear()
        _factories.clear()


_factories: dict[tuple[int, bool], sessionmaker[Session]] = {}


def session_factory(url: str | None = None, *, readonly: bool = False) -> sessionmaker[Session]:
    """Sessions for writing (on SQLite: BEGIN IMMEDIATE), or with `readonly=True` for
    reading only (a deferred BEGIN, so that readers never wait for the write lock)."""
    engine = get_engine(url)
    factory = _factories.get((id(engine), readonly))
    if factory is None:
        bind = engine.execution_options(sqlite_begin="DEFERRED") if readonly else engine
        factory = _factories[(id(engine), readonly)] = sessionmaker(bind, expire_on_commit=False)
    return factory


@contextlib.contextmanager
def transaction(url: str | None = None) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any error."""
    with session_factory(url)() as session, session.begin():
        yield session


@contextlib.contextmanager
def single_statement(url: str | None = None) -> Iterator[Connection]:
    """A connection for one statement that is its own transaction (autocommit): on a server
    database no BEGIN and COMMIT round trips around it, and a single statement is atomic
    anyway. For the live path's one-row writes; anything of two statements or more takes
    `transaction`."""
    with get_engine(url).connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


def no_flush_wait():
    """PostgreSQL: a condition that is always true and makes the statement's own transaction
    commit without waiting for its WAL flush (set_config(..., true) is SET LOCAL), for the WHERE
    of a one-statement write in autocommit, where a SET LOCAL would cost a round trip of its own."""
    return func.set_config("synchronous_commit", "off", True).is_not(None)


def skip_flush_wait(session: Session) -> None:
    """PostgreSQL: this transaction commits without waiting for its WAL flush."""
    session.execute(text("SET LOCAL synchronous_commit TO off"))


def durable(connection: Connection) -> None:
    """Return once everything this database committed before the call is on disk (PostgreSQL):
    a transaction that writes a WAL record, committed synchronously, flushes the WAL up to its
    own commit record, and so every commit before it, made with `synchronous_commit` off or
    not. The record is a transactional logical message of a few bytes (any user may write one);
    a transaction that only takes an id writes nothing before its commit record, and its commit
    does not wait for the flush. Where the server waits for a synchronous standby, this waits
    for it too."""
    connection.execute(text("SELECT pg_logical_emit_message(true, 'trkv.durable', '')"))


def tune_for_bulk_load(session: Session) -> None:
    """Settings for one transaction of a historical import, and for nothing else.

    PostgreSQL: the commit does not wait for its WAL flush (`synchronous_commit` off, for
    this transaction only). A crash may lose the last batches acknowledged, never corrupt
    anything, and re-running the import stores exactly those again (messages are unique on
    channel + external id). Nothing was sent for them: a historical import sends nothing.
    SQLite: a larger page cache for the importing connection (64 MB instead of 2 MB), so the
    indexes of a table of a million tickets stay in memory; its commits already skip fsync
    (WAL, synchronous=NORMAL), and durability settings are left alone. Its statement journals
    stay in memory (temp_store, for this transaction): each row of the tickets INSERT (it fires
    the full-text trigger) journals the pages it changes, and spilled to a temporary file that
    cost 550,000 write calls, about 0.5 CPU-s, per 20,000 messages imported. Must come first
    in the transaction: SQLite sets temp_store only before BEGIN. The importing connection
    checkpoints the WAL every 10,000 pages (40 MB) rather than every 1,000: at a million
    tickets a batch's inserts dirty some 3,000 scattered index pages, so the default copied
    every batch into the database file at its commit; ten times the interval copies a page
    dirtied by several batches once (commits of 20,000 messages at 1 M tickets: 2.3-2.7 s
    -> 0.9-1.1 s).

    PostgreSQL also plans the transaction's joins as nested loops over indexes (hash and merge
    joins off, for this transaction only): a batch looks up a few thousand keys in large tables,
    and without fresh statistics (a new database, autovacuum off) the planner took the tables for
    small and hashed them whole, a sequential scan of tickets and messages per statement that
    grew with the table (the follow-ups' tickets: 6 -> 2.5 ms a batch at 14,000 tickets; their
    UPDATE: 16 -> 4.5 ms)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT set_config('synchronous_commit', 'off', true), "
                             "set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)"))
    else:
        connection = session.connection(execution_options={"sqlite_temp_store": "MEMORY"})
        connection.exec_driver_sql("PRAGMA cache_size = -65536")
        connection.exec_driver_sql("PRAGMA wal_autocheckpoint = 10000")
