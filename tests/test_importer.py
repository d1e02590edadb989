"""`trkv import` of mail archives: mbox and Maildir through the bulk ingest path."""

from __future__ import annotations

import gc
import json
import mailbox
import pickle

import pytest
from sqlalchemy import func, select

from storage.db import session_factory
from storage.models.delivery import Outbox
from storage.models.tickets import Message, Ticket
from support.intake.importer import _Chunk, _prepare, _Workers, import_path
from triage.classifier import active_model, suggest
from triage.types import TriageInput

FIRST = b"""From: Ada Lovelace <ada@example.com>
To: support@trkv-web.app
Subject: Export fails with a timeout
Date: Mon, 23 Nov 2026 09:00:00 +0000
Message-ID: <first@example.com>

Exporting our projects to CSV times out after a minute.
"""

REPLY = b"""From: Ada Lovelace <ada@example.com>
To: support@trkv-web.app
Subject: Re: Export fails with a timeout
Date: Mon, 23 Nov 2026 10:00:00 +0000
Message-ID: <second@example.com>
In-Reply-To: <first@example.com>
References: <first@example.com>

It also happens with the JSON export.
"""

OTHER = """From: =?utf-8?q?J=C3=BCrgen?= <juergen@example.de>
To: someone-else@trkv-web.app
Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=
Date: Tue, 24 Nov 2026 08:00:00 +0100
Message-ID: <third@example.de>
Content-Type: text/plain; charset=utf-8

Wie ändere ich die Rechnungsadresse?
""".encode()


def _counts(settings):
    with session_factory(settings.db_url)() as session:
        return [session.execute(select(func.count()).select_from(m)).scalar_one() for m in (Message, Ticket, Outbox)]


def test_a_maildir_import_threads_replies_and_sends_nothing(sqlite_settings, tmp_path):
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for raw in (FIRST, REPLY, OTHER):
        box.add(raw)
    report = import_path(tmp_path / "Maildir", settings=sqlite_settings)
    assert (report.read, report.stored, report.tickets) == (3, 3, 2)
    assert _counts(sqlite_settings) == [3, 2, 0]  # historical: no acknowledgements


def test_an_mbox_import_is_idempotent_and_live_imports_acknowledge(sqlite_settings, tmp_path):
    box = mailbox.mbox(tmp_path / "support.mbox", create=True)
    for raw in (FIRST, OTHER):
        box.add(raw)
    box.flush()
    first = import_path(tmp_path / "support.mbox", live=True, settings=sqlite_settings)
    again = import_path(tmp_path / "support.mbox", live=True, settings=sqlite_settings)
    assert first.stored == 2 and again.duplicates == 2 and again.stored == 0
    assert _counts(sqlite_settings) == [2, 2, 2]  # one acknowledgement per ticket, whatever address


@pytest.mark.parametrize("workers", [0, 2])
def test_an_import_triaged_in_other_processes_stores_what_an_inline_one_does(settings, tmp_path, workers):
    """Triage runs in worker processes while this one writes: same tickets, same suggestions."""
    lines = [
        {"channel": "api", "external_id": f"form-{n}", "text": text, "author": {"handle": f"user{n}"}}
        for n, text in enumerate([
            "The whole site is down, every page answers 502",
            "How do I export my projects to CSV?",
            "Please add a dark mode to the mobile app",
        ] * 5)
    ]
    path = tmp_path / "forms.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    report = import_path(path, batch_size=4, settings=settings, workers=workers)
    assert (report.read, report.stored, report.tickets) == (15, 15, 15)
    with session_factory(settings.db_url)() as session:
        rows = session.execute(select(Ticket.snippet, Ticket.priority, Ticket.category, Ticket.model_version)).all()
    assert {row.priority for row in rows if "502" in row.snippet} == {"critical"}
    for row in rows:  # exactly what triage in this process suggests
        here = suggest(TriageInput(text=row.snippet, channel="api"))
        assert (row.priority, row.category, row.model_version) == (here.priority, here.category, here.model_version)


def test_the_import_workers_fork_with_the_model_frozen(sqlite_settings):
    """Their full collections skip the model: walking it took a fifth of a worker's triage time."""
    try:
        with _Workers(1):
            model = active_model()
            assert not any(o is model for o in gc.get_objects())  # the collectors' generations
    finally:
        gc.unfreeze()  # as import_path does


def test_an_import_worker_collects_its_garbage_a_batch_at_a_time(sqlite_settings):
    """Not every 700 containers: triage makes ~10,000 a batch, nearly all freed with its result."""
    try:
        with _Workers(1) as workers:
            assert workers.pool.submit(gc.get_threshold).result()[0] >= 10_000
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("encode_for", [None, "sqlite:///trkv.db"])
def test_a_prepared_chunk_reaches_the_writer_as_it_was_made(encode_for):
    """Pickled as rows: every field, the raw payload's type (encoded or not) and the quarantined lines."""
    from storage.queries import EncodedJSON

    lines = [(1, b'{"channel": "api", "external_id": "1", "author_id": "ada", "text": "Export fails",'
                 b' "sent_at": "2026-11-23T09:00:00Z", "attachments": [{"filename": "a.log"}], "hints": {"x": "y"}}'),
             (2, b"not json"),
             (3, b'{"channel": "api", "external_id": "2", "author_id": "bo", "text": "caf\\u00e9 \\u0000"}')]
    prepared = _prepare(_Chunk("jsonl", lines, encode_for))
    back = pickle.loads(pickle.dumps(prepared, pickle.HIGHEST_PROTOCOL))
    assert back == prepared and back.items[1].reason.startswith("line 2")
    raw_types = [type(getattr(item, "raw", None)) for item in prepared.items]
    assert [type(getattr(item, "raw", None)) for item in back.items] == raw_types
    assert isinstance(back.items[0].raw, EncodedJSON) == bool(encode_for)


def test_a_reply_in_the_same_batch_is_found_by_search_on_its_ticket(settings, tmp_path):
    """The reply's words reach the ticket's search text whether it arrives with the original or later."""
    from support.tickets.queries import TicketFilters, list_tickets

    box = mailbox.mbox(tmp_path / "thread.mbox", create=True)
    for raw in (FIRST, REPLY, OTHER):
        box.add(raw)
    box.flush()
    report = import_path(tmp_path / "thread.mbox", settings=settings, workers=0)
    assert (report.stored, report.tickets) == (3, 2)
    found = list_tickets(TicketFilters(q="JSON"), settings=settings).items
    assert [item["subject"] for item in found] == ["Export fails with a timeout"]
    with session_factory(settings.db_url)() as session:
        words = session.execute(select(Ticket.search_text).where(Ticket.subject == "Export fails with a timeout")).scalar_one()
    assert words == "Exporting our projects to CSV times out after a minute.\nIt also happens with the JSON export."


def test_a_blocked_contacts_ticket_is_closed_when_others_come_first_in_the_batch(settings, tmp_path):
    """A muted ticket records when it was closed, wherever it sits in the batch."""
    from storage.models.contacts import Contact, Identity

    lines = [{"channel": "api", "external_id": f"line-{n}", "text": f"Question number {n} about exports",
              "author": {"handle": handle}} for n, handle in enumerate(["ada", "spammer"])]
    path = tmp_path / "lines.jsonl"
    path.write_text(json.dumps(lines[0]) + "\n")
    import_path(path, settings=settings, workers=0)  # makes the contact, so it can be blocked
    with session_factory(settings.db_url)() as session, session.begin():
        session.add(Contact(id=999, name="Spammer", blocked=True))
        session.flush()
        session.add(Identity(contact_id=999, channel="api", external_user_id="spammer", handle="spammer",
                             display_name="Spammer"))
    lines[0]["external_id"] = "line-again"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    import_path(path, settings=settings, workers=0)
    with session_factory(settings.db_url)() as session:
        muted = session.execute(select(Ticket.status, Ticket.closed_at).where(Ticket.contact_id == 999)).one()
    assert muted.status == "closed" and muted.closed_at is not None


def test_a_historical_import_on_sqlite_makes_way_for_live_work_between_batches(sqlite_settings, monkeypatch):
    """SQLite has one writer: between two batches the import waits while a fresh live message
    is staged and not yet stored (bench/paging.py saw pages held back 13-24 s without it), but
    not for a stale one that no worker is taking."""
    import threading
    from datetime import timedelta

    from sqlalchemy import update

    from connectors.base import Inbound
    from storage.db import transaction
    from storage.models.base import utcnow
    from storage.models.intake import InboundQueue
    from support.delivery import kicks
    from support.intake import importer, staging

    monkeypatch.setattr(kicks, "ingest", lambda ids: None)  # no worker: the test plays it
    sleeps: list[float] = []
    monkeypatch.setattr("time.sleep", lambda s: sleeps.append(s) or _real_sleep(0.005))

    importer.make_way(sqlite_settings)
    assert sleeps == []  # nothing waits: the next batch starts at once

    staged = staging.submit([Inbound(channel="discord", external_id="live-1", author_id="u1", author_handle="amy",
                                     text="the checkout page is down for everyone")], settings=sqlite_settings)
    stored = []

    def worker() -> None:  # a live worker gets the lock once the import pauses
        for _ in range(1000):
            if sleeps:
                break
            _real_sleep(0.005)
        with transaction(sqlite_settings.db_url) as session:
            session.execute(update(InboundQueue).where(InboundQueue.id.in_(staged)).values(status="done"))
        stored.append(len(sleeps))

    thread = threading.Thread(target=worker)
    thread.start()
    importer.make_way(sqlite_settings)
    stored_before_the_import_went_on = list(stored)
    thread.join()
    assert stored_before_the_import_went_on  # the import waited until the live message was stored

    sleeps.clear()
    more = staging.submit([Inbound(channel="discord", external_id="live-2", author_id="u2", author_handle="bo",
                                   text="hello?")], settings=sqlite_settings)
    with transaction(sqlite_settings.db_url) as session:  # staged long ago, and no worker took it
        session.execute(update(InboundQueue).where(InboundQueue.id.in_(more))
                        .values(updated_at=utcnow() - timedelta(minutes=5)))
    importer.make_way(sqlite_settings)
    assert sleeps == []


_real_sleep = __import__("time").sleep


def test_a_historical_import_on_sqlite_writes_short_transactions_only_while_live_work_is_about(
        sqlite_settings, tmp_path, monkeypatch):
    """A live page waits for the import's transaction under way, so while live work is about
    (seen waiting between batches) the import writes 250 messages at a time; without it, whole
    batches (short transactions cost a fifth of the import's speed)."""
    from support.intake import importer, ingest

    path = tmp_path / "messages.jsonl"
    path.write_text("".join(json.dumps({"channel": "discord", "external_id": f"m{n}", "author_id": f"u{n}",
                                        "author_handle": f"user{n}", "text": f"question number {n}"}) + "\n"
                            for n in range(1500)))
    parts: list[int] = []
    real = ingest.ingest_batch
    monkeypatch.setattr(ingest, "ingest_batch", lambda batch, **kw: parts.append(len(batch)) or real(batch, **kw))
    seen = iter([True])  # live work waited after the first batch, and not again
    monkeypatch.setattr(importer, "make_way", lambda settings: next(seen, False))
    report = import_path(path, batch_size=500, settings=sqlite_settings, workers=0)
    assert report.stored == 1500 and parts == [500, 250, 250, 250, 250]


def _bulk_writes(db_url: str, started, count: int) -> None:
    """A bulk writer in its own process: `count` transactions of ~30 ms, back to back."""
    from storage.db import bulk_writer, dispose_engines, transaction

    dispose_engines(close=False)
    started.set()
    for n in range(count):
        with bulk_writer(), transaction(db_url) as session:
            session.connection().exec_driver_sql("INSERT INTO gate_log (who) VALUES ('bulk')")
            _real_sleep(0.03)


def test_a_live_writer_waiting_for_the_sqlite_lock_goes_before_the_next_bulk_transaction(sqlite_settings, monkeypatch):
    """SQLite's busy handler is no queue: a live writer sleeps between its tries and a bulk
    import that begins again the moment it commits wins nearly every race (bench/paging.py
    saw a live message wait 2.5 s to be staged). A live writer that waits says so, and the
    bulk writer's next transaction begins after it: at most the one under way goes first."""
    import multiprocessing

    from storage.db import session_factory, transaction

    monkeypatch.setattr("storage.db.BULK_YIELD_S", 30.0)  # a loaded machine may be slow to run the live writer
    url = sqlite_settings.db_url
    with transaction(url) as session:
        session.connection().exec_driver_sql("CREATE TABLE gate_log (id INTEGER PRIMARY KEY, who TEXT)")
    context = multiprocessing.get_context("fork")
    started = context.Event()
    bulk = context.Process(target=_bulk_writes, args=(url, started, 60))
    bulk.start()
    lives = []  # (last row committed when the live writer asked, its own row)
    try:
        started.wait(30)
        _real_sleep(0.2)  # the bulk writer is under way
        for _ in range(3):
            with session_factory(url, readonly=True)() as session:
                asked = session.connection().exec_driver_sql("SELECT coalesce(max(id), 0) FROM gate_log").scalar()
            with transaction(url) as session:
                session.connection().exec_driver_sql("INSERT INTO gate_log (who) VALUES ('live')")
                lives.append((asked, session.connection().exec_driver_sql("SELECT last_insert_rowid()").scalar()))
            _real_sleep(0.05)
    finally:
        bulk.join(60)
    assert bulk.exitcode == 0
    # Bulk transactions committed while each live writer waited: the one under way, perhaps
    # one that began as it asked; without the gate, most of the import.
    waited = [mine - asked - 1 for asked, mine in lives]
    assert len(waited) == 3 and max(waited) <= 2, waited


@pytest.mark.parametrize("workers", [0, 2])
def test_a_historical_import_stores_raw_payloads_as_given(settings, tmp_path, workers):
    """Raw payloads are encoded where the batch is prepared and stored as they are: the same
    JSON an insert of the dict stores, non-ASCII text and nested values included."""
    from sqlalchemy import text

    from support.intake.importer import inbound_from_json

    lines = [{"channel": "api", "external_id": f"form-{n}", "text": f"Grüße, Frage {n} 🙂",
              "author": {"handle": f"user{n}"}, "meta": {"tags": ["ä", n], "none": None}} for n in range(3)]
    path = tmp_path / "forms.jsonl"
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    import_path(path, batch_size=2, settings=settings, workers=workers)
    with session_factory(settings.db_url)() as session:
        stored = session.execute(select(Message.raw).order_by(Message.external_id)).scalars().all()
        as_text = session.execute(text("SELECT raw FROM messages ORDER BY external_id")).scalars().all()
    expected = [inbound_from_json(line).raw for line in lines]  # the line, with its author's fields
    assert stored == expected and "meta" in stored[0]
    if settings.db_url.startswith("sqlite"):  # byte for byte what SQLAlchemy's JSON type writes
        assert as_text == [json.dumps(raw) for raw in expected]


def test_a_bulk_transaction_on_sqlite_journals_in_memory_and_the_next_one_does_not(sqlite_settings):
    """temp_store is the connection's: the bulk load sets it for its transaction only."""
    from storage.db import transaction, tune_for_bulk_load

    seen = []
    for bulk in (True, False):
        with transaction(sqlite_settings.db_url) as session:
            if bulk:
                tune_for_bulk_load(session)
            seen.append(session.connection().exec_driver_sql("PRAGMA temp_store").scalar())
    assert seen == [2, 0]  # MEMORY, then the default again
