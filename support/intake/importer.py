"""`trkv import`: JSONL, mbox and Maildir into tickets through the bulk ingest path.

A line or message that cannot be parsed is quarantined with the reason, never
skipped in silence. Historical imports (the default) send nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import importlib
import json
import logging
import mailbox
import multiprocessing
import operator
import os
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import click

from connectors.base import Inbound
from support.intake.sanitize import sanitize
from trkv.settings import Settings, get_settings

# The write path (ingest, delivery, the models) is imported where it is first used: `trkv
# import` of a few mails, or of an empty folder, should not pay for what it does not run.

log = logging.getLogger(__name__)


@dataclass
class ImportReport:
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    tickets: int = 0
    quarantined: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        rate = self.read / self.seconds if self.seconds else 0.0
        return (f"{self.read} read, {self.stored} stored in {self.tickets} new tickets, "
                f"{self.duplicates} already present, {self.quarantined} quarantined ({rate:,.0f} msg/s)")


@dataclass
class _Bad:
    channel: str
    reason: str
    payload: str


def import_path(
    path: Path, *, live: bool = False, batch_size: int = 1000, settings: Settings | None = None,
    workers: int | None = None,
) -> ImportReport:
    """Import a file or folder. Parsing, sanitizing and triage (the slow part) run in
    `workers` processes (default: one per core on a multi-core machine) on the next batches
    while this process writes the current one; `workers=0` does it all inline."""
    settings = settings or get_settings()
    report = ImportReport()
    started = datetime.now()
    total = _count(path)
    if total <= batch_size:  # one batch: starting processes would cost more than it saves
        workers = 0
    gc.freeze()  # what start-up made (modules, the model) is not garbage: the collections of the import skip it
    try:
        with _Workers(workers) as pool, click.progressbar(
            length=total, label=f"importing {path.name}", show_pos=True, show_eta=True
        ) as bar:
            in_flight: deque[tuple[int, Future | _Prepared]] = deque()
            pace = _Pace()
            for chunk in _chunks(path, batch_size, None if live else settings.db_url):
                in_flight.append((len(chunk.raws), pool.submit(chunk)))
                while len(in_flight) > pool.depth:
                    pace.get_ready(settings)
                    _write(*in_flight.popleft(), live, settings, report, bar, pace)
            while in_flight:
                pace.get_ready(settings)
                _write(*in_flight.popleft(), live, settings, report, bar, pace)
    finally:
        gc.unfreeze()
    report.seconds = (datetime.now() - started).total_seconds()
    if report.tickets and not live:  # its tickets wait for the search index: a worker indexes them
        from support.delivery import kicks

        kicks.search_index()
    return report


@dataclass
class _Chunk:
    """Raw items as read: JSONL lines (with their numbers) or mail files (with their keys);
    a mail that could not even be read is already a `_Bad`."""

    kind: str  # "jsonl" or "mail"
    raws: list[tuple[str | int, bytes] | _Bad]
    encode_for: str | None = None  # a historical import's database URL: raw payloads are stored as encoded here


@dataclass
class _Prepared:
    items: list[Inbound | _Bad]  # in the order read
    suggestions: dict | None  # by (channel, external id), or None: triage in the writer
    raw_encoded: bool = False  # the messages' raw payloads are `EncodedJSON` (or None)

    def __reduce__(self):
        """Pickled (a worker sends it to the writer) with each message as a row of its fields, and
        an encoded raw payload as a plain string: pickle's own way with a dataclass (a call and a
        dict per object) and with a str subclass took a fifth longer both ways (20,000 messages of
        bench/importer.py: 0.15 -> 0.12 CPU-s to pickle, 0.16 -> 0.13 to unpickle)."""
        raws = [item.raw for item in self.items if not isinstance(item, _Bad)]
        if self.raw_encoded:
            raws = [None if raw is None else str(raw) for raw in raws]
        rows = [item if isinstance(item, _Bad) else _inbound_row(item) for item in self.items]
        return _prepared, (rows, raws, self.raw_encoded, self.suggestions)


_INBOUND_FIELDS = tuple(field.name for field in dataclasses.fields(Inbound) if field.name != "raw")
_inbound_row = operator.attrgetter(*_INBOUND_FIELDS)


def _prepared(rows: list[tuple | _Bad], raws: list, raw_encoded: bool, suggestions: dict | None) -> _Prepared:
    from storage.queries import EncodedJSON

    raws = iter([None if raw is None else EncodedJSON(raw) for raw in raws] if raw_encoded else raws)
    items: list[Inbound | _Bad] = []
    new = object.__new__
    for row in rows:
        if isinstance(row, _Bad):
            items.append(row)
            continue
        inbound = new(Inbound)  # as pickle itself restores a dataclass: its attributes, no __init__
        inbound.__dict__.update(zip(_INBOUND_FIELDS, row))
        inbound.raw = next(raws)
        items.append(inbound)
    return _Prepared(items, suggestions, raw_encoded)


def _prepare(chunk: _Chunk, triage: bool = True) -> _Prepared:
    """Parse, sanitize and (in a worker) triage one chunk: everything but the write."""
    settings = get_settings()
    parsed = (_parse_line(*raw) if chunk.kind == "jsonl" else _parse_mail(*raw) if not isinstance(raw, _Bad) else raw
              for raw in chunk.raws)
    items = [_sanitized(item, settings, chunk.encode_for) for item in parsed]
    good = [item for item in items if not isinstance(item, _Bad)]
    suggestions = None
    if triage and good:
        from support.intake.suggest import suggest_for

        suggestions = suggest_for(good)
    return _Prepared(items, suggestions, raw_encoded=bool(chunk.encode_for))


def _sanitized(item: Inbound | _Bad, settings: Settings, encode_for: str | None) -> Inbound | _Bad:
    """With `encode_for`, each raw payload is serialized for the messages table, once and here (in
    a worker): the writing process then stores it as it is. Not for a live import: its
    acknowledgements read the payload (a Discord message's channel), so it stays a dict."""
    if isinstance(item, _Bad):
        return item
    try:
        return sanitize(item, max_text_bytes=settings.max_text_bytes, encode_raw_for=encode_for)
    except ValueError as exc:
        return _Bad(item.channel, str(exc), json.dumps(item.to_dict(), default=str)[:100_000])


class _Workers:
    """Chunks prepared in other processes meanwhile (or here, with no workers)."""

    def __init__(self, workers: int | None):
        if workers is None:  # measured (bench/importer.py): one per core beats cores - 1 on two cores
            cores = os.cpu_count() or 1
            workers = cores if cores > 1 else 0
        self.workers = workers
        self.depth = max(1, workers)  # chunks prepared ahead of the one being written
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> _Workers:
        if self.workers > 0:
            # The model (and scikit-learn) is loaded here, once, before the workers fork:
            # they share it instead of each importing and loading it again.
            from triage.classifier import active_model

            active_model()
            # So are the modules a worker needs and this process imports anyway to write: imported
            # after the fork, each worker spent up to 0.4 CPU-s on them (storage.db and SQLAlchemy,
            # where nothing had opened the database yet; storage.queries, 0.08 s, always).
            for module in ("storage.db", "storage.queries", "support.intake.suggest", "threadpoolctl"):
                importlib.import_module(module)
            # import_path froze what start-up made; the model and scikit-learn came after (~60,000
            # objects): frozen too, or every worker's full collections walk them (bench/triage.py)
            gc.freeze()
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context, initializer=_forget_connections)
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, chunk: _Chunk) -> Future | _Prepared:
        if self.pool is None:
            return _prepare(chunk, triage=False)  # ingest_batch triages it, before its transaction
        future = self.pool.submit(_prepare, chunk)
        future.chunk = chunk  # kept to be prepared here if the worker fails
        return future


def _forget_connections() -> None:
    """A worker's start: no database connection of the parent's, and one BLAS thread (numpy's
    BLAS threads spin-wait; with a worker per core they fought over the cores and halved triage's
    throughput in bench/triage.py's pool), and fewer garbage collections: a batch of short messages
    makes ~10,000 containers, nearly all freed once its result is sent; collected every 700 (the
    default), they were walked ~15 times a batch (bench/triage.py's pool: +4 to +19 %)."""
    from threadpoolctl import threadpool_limits

    from storage.db import dispose_engines

    dispose_engines(close=False)
    threadpool_limits(1)
    gc.set_threshold(10_000, 10, 10)


def _write(size: int, pending: Future | _Prepared, live: bool, settings: Settings, report: ImportReport, bar,
           pace: _Pace) -> None:
    if isinstance(pending, Future):
        try:
            prepared = pending.result()
        except Exception:  # noqa: BLE001 - a broken pool costs speed, never messages
            log.warning("a worker process failed to prepare a chunk; preparing it here", exc_info=True)
            prepared = _prepare(pending.chunk, triage=False)
    else:
        prepared = pending
    report.read += size
    bar.update(size)
    bad = [item for item in prepared.items if isinstance(item, _Bad)]
    batch = [item for item in prepared.items if not isinstance(item, _Bad)]
    if bad:
        _quarantine(settings, bad)
        report.quarantined += len(bad)
    if not batch:
        return
    from storage.db import bulk_writer
    from support.delivery import kicks as kick
    from support.intake.ingest import ingest_batch

    yielding = not live and settings.db_url.startswith("sqlite")
    rows = pace.rows(len(batch)) if yielding else len(batch)
    for start in range(0, len(batch), rows):
        part = batch[start : start + rows]
        with bulk_writer() if yielding else contextlib.nullcontext() as bulk:
            results = ingest_batch(part, live=live, settings=settings, suggestions=prepared.suggestions, bulk=True)
        if bulk is not None and bulk.made_way:
            pace.saw_live()
        report.duplicates += sum(r.duplicate for r in results)
        report.stored += sum(not r.duplicate for r in results)
        report.tickets += sum(r.created_ticket for r in results)
        if live:
            kick.dispatch([pair for r in results for pair in r.outbox])
        elif make_way(settings):  # a historical import, on either database
            pace.saw_live()


# While live work is about, a historical import on SQLite writes a batch in transactions of this
# many messages, and makes way for live work between them: SQLite has one writer, and a live page
# waits for the write transaction under way (1,000 messages: about 0.5 s, longer with the cores
# busy). Without live work, whole batches: short transactions cost a fifth of the import's speed.
SQLITE_WRITE_ROWS = 250
SHORT_FOR_S = 60.0  # how long after live work was last seen the transactions stay short


@dataclass
class _Pace:
    short_until: float = 0.0
    ready: bool = False

    def get_ready(self, settings: Settings) -> None:
        """Before the first write, while the workers prepare the first chunks: import the write
        path and the Celery app (the kicks), and open the database connection. Done after the
        first chunk came back, it kept the writer, whose work does not spread over cores, ~0.2 s
        longer (bench/importer.py on PostgreSQL: 0.06 s ingest, 0.05 s Celery, 0.07 s psycopg)."""
        if self.ready:
            return
        self.ready = True
        from sqlalchemy import select

        import support.intake.ingest  # noqa: F401 - imported now rather than on the first write
        import trkv.celery_app  # noqa: F401
        from storage.db import session_factory

        with session_factory(settings.db_url, readonly=True)() as session:  # the pool keeps it for the batches
            session.execute(select(1))

    def rows(self, batch: int) -> int:
        return SQLITE_WRITE_ROWS if time.monotonic() < self.short_until else batch

    def saw_live(self) -> None:
        self.short_until = time.monotonic() + SHORT_FOR_S


def make_way(settings: Settings) -> bool:
    """SQLite has one writer. A historical import that starts its next batch the moment it
    commits one keeps the write lock nearly all the time, and a live worker, whose busy handler
    sleeps between its tries, misses every gap: bench/paging.py saw pages held back 13-24 s
    during an import. Between two batches the import therefore waits while live work is about
    (storage/live_work.py). Returns whether it saw any."""
    from storage import live_work

    return live_work.make_way(settings.db_url)


def _chunks(path: Path, size: int, encode_for: str | None = None) -> Iterator[_Chunk]:
    """The raw items, `size` at a time: only reading happens in this process."""
    if path.is_dir() or path.suffix not in (".jsonl", ".json", ".ndjson"):
        kind, raws = "mail", _raw_mails(_folder(path) if path.is_dir() else mailbox.mbox(path, factory=None, create=False))
    else:
        kind, raws = "jsonl", _raw_lines(path)
    chunk: list = []
    for raw in raws:
        chunk.append(raw)
        if len(chunk) >= size:
            yield _Chunk(kind, chunk, encode_for)
            chunk = []
    if chunk:
        yield _Chunk(kind, chunk, encode_for)


class _MailFolder:
    """A folder of mail files (`*.eml` exports, one message a file) that is not a
    Maildir; read like one, in name order. An empty folder imports nothing."""

    def __init__(self, path: Path):
        self.files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))

    def __len__(self) -> int:
        return len(self.files)

    def iterkeys(self) -> Iterator[str]:
        return (p.name for p in self.files)

    def get_bytes(self, key: str) -> bytes:
        return next(p for p in self.files if p.name == key).read_bytes()


def _folder(path: Path):
    """A Maildir (it has cur/ or new/), else a plain folder of mail files."""
    if (path / "cur").is_dir() or (path / "new").is_dir():
        return mailbox.Maildir(path, factory=None, create=False)
    return _MailFolder(path)


def _count(path: Path) -> int:
    if path.is_dir():
        return len(_folder(path))
    if path.suffix in (".jsonl", ".json", ".ndjson"):
        with open(path, "rb") as handle:
            return sum(1 for line in handle if line.strip())
    return len(mailbox.mbox(path, factory=None, create=False))


def _raw_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield number, line


def _parse_line(number: int, line: bytes) -> Inbound | _Bad:
    try:
        return inbound_from_json(json.loads(line.decode("utf-8")))
    except (ValueError, TypeError, KeyError) as exc:
        return _Bad("import", f"line {number}: {exc}", line.decode("utf-8", "replace")[:100_000])


def inbound_from_json(data: dict) -> Inbound:
    """An `Inbound` from its own JSON form, or from the POST /api/inbound shape."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if isinstance(data.get("author"), dict):
        author = data["author"]
        data = {**data, "author_id": author.get("email") or author.get("handle"),
                "author_handle": author.get("handle", ""), "author_name": author.get("name", ""),
                "author_email": author.get("email"), "channel": data.get("channel", "api")}
    for name in ("channel", "external_id", "text"):
        if not isinstance(data.get(name), str) or not data[name]:
            raise ValueError(f"{name} is missing or not a string")
    inbound = Inbound.from_dict(data)
    inbound.raw = inbound.raw if inbound.raw is not None else data
    return inbound


def _raw_mails(box) -> Iterator[tuple[str, bytes] | _Bad]:
    for key in box.iterkeys():
        try:
            yield key, box.get_bytes(key)
        except Exception as exc:  # an unreadable file in a Maildir
            yield _Bad("email", f"{key}: unreadable: {exc}", "")


_OWN_ADDRESSES: dict[int, list[str]] = {}


def _parse_mail(key: str, raw: bytes) -> Inbound | _Bad:
    from connectors.mail.parse import parse_email
    from support.channels.email import own_addresses

    settings = get_settings()
    ours = _OWN_ADDRESSES.get(id(settings))
    if ours is None:
        _OWN_ADDRESSES.clear()
        ours = _OWN_ADDRESSES[id(settings)] = own_addresses(settings)
    try:
        return parse_email(raw, own_addresses=ours, attachment_max_bytes=settings.email_attachment_max_bytes)
    except ValueError as exc:
        return _Bad("email", f"{key}: {exc}", raw.decode("utf-8", "replace")[:1_000_000])


def _quarantine(settings: Settings, bad: list[_Bad]) -> None:
    from sqlalchemy import insert

    from storage.db import transaction
    from storage.models.intake import Quarantine

    with transaction(settings.db_url) as session:
        session.execute(insert(Quarantine), [{"channel": b.channel, "reason": b.reason, "payload": b.payload} for b in bad])
    for b in bad:
        log.warning("quarantined: %s", b.reason)
