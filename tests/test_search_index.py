"""A historical import's tickets wait for the search index, are found meanwhile, and are
indexed afterwards (migration 0020, support/tickets/search_index.py)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import text, update

from storage.db import session_factory, transaction
from storage.models.tickets import Ticket
from storage.queries import SEARCH_CHARS
from support.intake.importer import import_path
from support.intake.ingest import ingest_batch
from support.tickets.queries import TicketFilters, list_tickets
from support.tickets.search_index import index_pending, pending
from connectors.base import Inbound


def _jsonl(path, messages):
    path.write_text("".join(json.dumps(m) + "\n" for m in messages))
    return path


def _message(n: int, text_: str, thread: str | None = None) -> dict:
    return {"channel": "email", "external_id": f"<m{n}@example.com>", "author_id": f"user{n}@example.com",
            "author_name": f"User {n}", "text": text_, "subject": text_,
            "conversation_key": thread or f"<m{n}@example.com>", "references": [thread] if thread else []}


def _found(settings, q: str) -> set[str]:
    return {item["subject"] for item in list_tickets(TicketFilters(q=q), settings=settings).items}


def _fts_is_sound(settings) -> None:
    """FTS5's external content index must hold exactly what its triggers were told."""
    if settings.db_url.startswith("sqlite"):
        with transaction(settings.db_url) as session:
            session.execute(text("INSERT INTO tickets_fts(tickets_fts, rank) VALUES ('integrity-check', 1)"))


def test_imported_tickets_are_found_before_and_after_indexing(settings, tmp_path):
    path = _jsonl(tmp_path / "archive.jsonl", [
        _message(1, "Refunds for the annual plan never arrived"),
        _message(2, "Exporting invoices to CSV fails"),
    ])
    report = import_path(path, settings=settings, workers=0)
    assert report.tickets == 2
    assert pending(settings) == 2

    # Before indexing: found by substring, and only what matches every word.
    assert _found(settings, "refunds annual") == {"Refunds for the annual plan never arrived"}
    assert _found(settings, "csv") == {"Exporting invoices to CSV fails"}
    assert _found(settings, "nothing like it") == set()

    assert index_pending(settings) == 2
    assert pending(settings) == 0
    # Indexed: the full-text index finds them, stemmed ("refund" finds "Refunds"), and only once.
    assert _found(settings, "refund") == {"Refunds for the annual plan never arrived"}
    page = list_tickets(TicketFilters(q="export"), settings=settings)
    assert [item["subject"] for item in page.items] == ["Exporting invoices to CSV fails"]
    _fts_is_sound(settings)


def test_a_follow_up_to_a_waiting_ticket_is_indexed_with_the_whole_conversation(settings, tmp_path):
    """A follow-up rewrites the ticket's search text while it waits: the index, filled later,
    must hold the new words and the old."""
    path = _jsonl(tmp_path / "archive.jsonl", [
        _message(1, "The dashboard shows a blank page"),
        _message(2, "Second ticket about webhooks"),
    ])
    import_path(path, settings=settings, workers=0)
    path = _jsonl(tmp_path / "more.jsonl", [_message(3, "Still blank after clearing the cache", thread="<m1@example.com>")])
    import_path(path, settings=settings, workers=0)
    index_pending(settings)
    assert _found(settings, "cache") == {"The dashboard shows a blank page"}
    assert _found(settings, "dashboard") == {"The dashboard shows a blank page"}
    assert _found(settings, "webhook") == {"Second ticket about webhooks"}
    _fts_is_sound(settings)

    # Once indexed, an update goes through the index as before: old words out, new words in.
    with transaction(settings.db_url) as session:
        session.execute(update(Ticket).where(Ticket.subject.like("The dashboard%"))
                        .values(subject="Renamed", snippet="nothing", search_text="quartz"))
    assert _found(settings, "quartz") == {"Renamed"}
    assert _found(settings, "cache") == set()
    _fts_is_sound(settings)


def test_an_imported_follow_up_to_an_indexed_ticket_waits_for_the_index_and_is_found_meanwhile(settings, tmp_path):
    """Importing into a hub whose tickets are indexed: a follow-up does not re-index its ticket
    in the import's transaction (its whole text vector, per follow-up); the backlog does."""
    ingest_batch([Inbound(channel="email", external_id="<m1@example.com>", author_id="user1@example.com",
                          text="The dashboard shows a blank page", subject="The dashboard shows a blank page",
                          conversation_key="<m1@example.com>")], live=True, settings=settings)
    assert pending(settings) == 0
    path = _jsonl(tmp_path / "archive.jsonl", [_message(2, "Still blank after clearing the cache", thread="<m1@example.com>")])
    import_path(path, settings=settings, workers=0)
    assert pending(settings) == 1
    page = list_tickets(TicketFilters(q="clearing cache"), settings=settings)  # by substring, and the page says so
    assert [item["subject"] for item in page.items] == ["The dashboard shows a blank page"]
    assert _found(settings, "dashboard") == {"The dashboard shows a blank page"}

    assert index_pending(settings) == 1
    assert _found(settings, "caches") == {"The dashboard shows a blank page"}  # stemmed: the index again
    assert _found(settings, "dashboard") == {"The dashboard shows a blank page"}
    _fts_is_sound(settings)


def test_an_imported_follow_up_to_a_ticket_whose_search_text_is_full_leaves_it_indexed(settings, tmp_path):
    """A ticket's search text stops at SEARCH_CHARS: a follow-up then adds no words, and the
    ticket is not sent through the backlog again for an index that would come out the same."""
    long_text = ("The export job times out on every large workspace we have. " * 600)[:SEARCH_CHARS + 100]
    ingest_batch([Inbound(channel="email", external_id="<full@example.com>", author_id="user1@example.com",
                          text=long_text, subject="Export times out", conversation_key="<full@example.com>")],
                 live=True, settings=settings)
    assert pending(settings) == 0
    with session_factory(settings.db_url)() as session:
        first_activity = session.query(Ticket).one().last_message_at
    path = _jsonl(tmp_path / "archive.jsonl", [_message(3, "Any news on the export?", thread="<full@example.com>")])
    import_path(path, settings=settings, workers=0)
    assert pending(settings) == 0  # was 1: re-indexed for nothing
    assert _found(settings, "exports") == {"Export times out"}
    with session_factory(settings.db_url)() as session:
        assert session.query(Ticket).one().last_message_at > first_activity  # the follow-up still counts as activity


def test_live_and_ingested_tickets_are_indexed_at_once(settings):
    """Only a historical import defers: a live message (and an ordinary ingest) is searchable when stored."""
    ingest_batch([Inbound(channel="email", external_id="<live@example.com>", author_id="a@example.com",
                          text="Password reset mail never arrives", subject="Password reset")],
                 live=True, settings=settings)
    assert pending(settings) == 0
    assert _found(settings, "resets") == {"Password reset"}  # stemmed: the index, not a substring


def test_a_live_import_is_indexed_at_once(settings, tmp_path):
    path = _jsonl(tmp_path / "live.jsonl", [_message(1, "Webhooks stopped firing")])
    import_path(path, live=True, settings=settings, workers=0)
    assert pending(settings) == 0
    assert _found(settings, "webhook") == {"Webhooks stopped firing"}


def test_the_import_command_says_what_waits_and_index_now_indexes(sqlite_settings, tmp_path, monkeypatch):
    from trkv.cli import main
    from trkv.settings import reset_settings

    monkeypatch.setenv("TRKV_IMPORT_NICE", "0")  # a nice value cannot be lowered again: it would stay for later tests
    reset_settings()

    runner = CliRunner()
    path = _jsonl(tmp_path / "a.jsonl", [_message(1, "Invoices are wrong"), _message(2, "Login loops")])
    result = runner.invoke(main, ["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 tickets wait for the search index" in result.output
    path = _jsonl(tmp_path / "b.jsonl", [_message(3, "Exports time out")])
    result = runner.invoke(main, ["import", "--index-now", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 tickets indexed for search" in result.output
    assert pending(sqlite_settings) == 0
    assert _found(sqlite_settings, "invoice") == {"Invoices are wrong"}


def test_the_worker_task_indexes_the_backlog(settings, tmp_path):
    import worker

    import_path(_jsonl(tmp_path / "a.jsonl", [_message(1, "Invoices are wrong")]), settings=settings, workers=0)
    assert worker.search_index.apply().get() == 1
    assert pending(settings) == 0
    assert worker.app.conf.beat_schedule["search-index"]["task"] == "trkv.search_index"


def test_the_backlog_is_read_through_its_partial_index(sqlite_settings):
    with session_factory(sqlite_settings.db_url, readonly=True)() as session:
        plan = " ".join(str(row[-1]) for row in session.execute(
            text("EXPLAIN QUERY PLAN SELECT id FROM tickets WHERE search_pending = 1 ORDER BY id LIMIT 5")))
    assert "ix_tickets_search_pending" in plan


def test_the_inbox_and_the_api_say_when_search_matched_waiting_tickets(sqlite_settings, tmp_path):
    from fastapi.testclient import TestClient

    from inbox.app import create_app
    from support import accounts
    from tests.test_accounts import log_in

    accounts.create_user("lena.lead@trkv.test", "lead", "correct horse battery", settings=sqlite_settings)
    token = accounts.create_token("lena.lead@trkv.test", settings=sqlite_settings)
    import_path(_jsonl(tmp_path / "a.jsonl", [_message(1, "Refunds never arrived"), _message(2, "Login loops")]),
                settings=sqlite_settings, workers=0)
    with TestClient(create_app(sqlite_settings), headers={"Authorization": f"Bearer {token}"}) as api:
        body = api.get("/api/tickets", params={"q": "refunds"}).json()
        assert [item["subject"] for item in body["items"]] == ["Refunds never arrived"]
        assert body["search_pending"] == 2
        assert "search_pending" not in api.get("/api/tickets").json()  # no search, nothing to say
    with TestClient(create_app(sqlite_settings)) as browser:
        log_in(browser, "lena.lead@trkv.test", "correct horse battery")
        page = browser.get("/", params={"q": "refunds", "status": "all"}).text
        assert "2 imported tickets are still being indexed for search" in page
        index_pending(sqlite_settings)
        page = browser.get("/", params={"q": "refund", "status": "all"}).text
        assert "still being indexed" not in page
        assert "Refunds never arrived" in page


def test_one_indexer_at_a_time_and_a_few_seconds_per_task(settings, tmp_path, monkeypatch):
    """The worker serves default and bulk with two processes: a backlog of a million tickets
    must not hold both for minutes. A second task finds the first at work and returns; a task
    stops after its budget and queues its sequel."""
    from storage import locks
    from support.delivery import kicks
    from support.tickets import search_index

    import_path(_jsonl(tmp_path / "a.jsonl", [_message(n, f"Ticket number {n}") for n in range(1, 4)]),
                settings=settings, workers=0)
    sequels = []
    monkeypatch.setattr(kicks, "search_index", lambda: sequels.append(1))
    with locks.single_flight(settings.db_url, "search-index") as first:
        assert first
        assert search_index.run_task(settings) == 0  # another indexer is at work
    assert pending(settings) == 3 and sequels == []

    monkeypatch.setitem(search_index.BATCH, settings.db_url.split(":")[0].split("+")[0], 1)
    monkeypatch.setattr(search_index, "TASK_BUDGET_S", 0.0)
    assert search_index.run_task(settings) == 1  # one batch, then the budget is spent
    assert pending(settings) == 2 and sequels == [1]
    monkeypatch.setattr(search_index, "TASK_BUDGET_S", 60.0)
    assert search_index.run_task(settings) == 2
    assert pending(settings) == 0 and sequels == [1]  # nothing left: no sequel


def test_a_backlog_too_large_to_scan_is_left_out_and_the_search_says_so(sqlite_settings, tmp_path, monkeypatch):
    from support.tickets import search_index

    import_path(_jsonl(tmp_path / "a.jsonl", [_message(n, f"Refund number {n}") for n in range(1, 4)]),
                settings=sqlite_settings, workers=0)
    monkeypatch.setattr(search_index, "SCAN_AT_MOST", 2)
    page = list_tickets(TicketFilters(q="refund"), settings=sqlite_settings)
    assert page.items == [] and page.search_backlog == 3 and not page.search_backlog_scanned
    monkeypatch.setattr(search_index, "SCAN_AT_MOST", 3)
    page = list_tickets(TicketFilters(q="refund"), settings=sqlite_settings)
    assert len(page.items) == 3 and page.search_backlog_scanned


def test_the_task_indexes_at_the_import_s_lower_cpu_priority_and_leaves_the_worker_s_own(settings, tmp_path,
                                                                                       monkeypatch):
    """The worker process that runs it serves live ingest next: only the indexing thread is niced."""
    import os
    import threading

    from support.tickets import search_index

    import_path(_jsonl(tmp_path / "a.jsonl", [_message(1, "Invoices are wrong")]), settings=settings, workers=0)
    seen = {}
    real = search_index.index_pending

    def spy(*args, **kwargs):
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        return real(*args, **kwargs)

    monkeypatch.setattr(search_index, "index_pending", spy)
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert search_index.run_task(settings) == 1
    assert seen["nice"] == min(19, before + settings.import_nice) > before
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before


def test_a_downgrade_puts_the_waiting_tickets_into_the_index(settings, tmp_path):
    """Below 0020 nothing knows of a backlog: the downgrade indexes it, so no ticket is lost to search."""
    from alembic import command
    from sqlalchemy import create_engine, select

    from storage.db import dispose_engines
    from storage.migrate import alembic_config
    from support.tickets.queries import search_clause

    import_path(_jsonl(tmp_path / "a.jsonl", [_message(1, "Refunds never arrived")]), settings=settings, workers=0)
    dispose_engines()
    config = alembic_config(settings.db_url)
    command.downgrade(config, "0019_historical_tickets")
    engine = create_engine(settings.db_url)
    try:
        with engine.connect() as conn:
            found = conn.execute(select(Ticket.id).where(search_clause("refund", engine.dialect.name))).scalars().all()
    finally:
        engine.dispose()
        command.upgrade(config, "heads")  # the session's PostgreSQL database stays at the head for the next test
    assert len(found) == 1


def test_a_running_worker_indexes_an_import_s_tickets_on_its_own(monkeypatch, tmp_path, request):
    """The import's kick reaches a real worker on the bulk queue (embedded broker, SQLite):
    nobody runs --index-now, and the tickets become searchable by stemmed words."""
    import time

    import pytest

    from tests.conftest import make_db_url, settings_for
    from tests.workers import Worker, make_broker, worker_env

    broker = make_broker("filesystem")
    settings = settings_for(monkeypatch, tmp_path, make_db_url("sqlite", request, tmp_path),
                            queue_prefix=broker.prefix)
    worker = Worker(worker_env(settings, broker), tmp_path / "worker.log", queues=("default", "bulk")).start()
    try:
        import_path(_jsonl(tmp_path / "a.jsonl", [_message(n, f"Refunding failed, case {n}") for n in range(1, 6)]),
                    settings=settings, workers=0)
        deadline = time.monotonic() + 120
        while pending(settings):  # a hang guard, not a speed check
            if time.monotonic() > deadline:
                pytest.fail(f"the worker did not index the import:\n{(tmp_path / 'worker.log').read_text()[-3000:]}")
            time.sleep(0.25)
    finally:
        worker.stop()
        broker.cleanup()
    assert len(_found(settings, "refunds")) == 5  # stemmed ("refunds" is no substring of "Refunding"): the index


def test_indexing_leaves_postgresql_no_pending_list_for_a_live_statement_to_move(monkeypatch, request, tmp_path):
    """GIN's pending list is moved into the index by whichever statement finds it over its limit:
    the indexer empties it after each batch, so that statement is not a live message's."""
    from tests.conftest import make_db_url, settings_for

    settings = settings_for(monkeypatch, tmp_path, make_db_url("postgresql", request, tmp_path))
    words = "outage refund invoice export login password webhook billing dashboard latency".split()
    path = _jsonl(tmp_path / "archive.jsonl", [
        _message(n, f"{words[n % 10]} {words[(n * 7) % 10]} problem, case marker{n}")
        for n in range(600)
    ])
    import_path(path, settings=settings, workers=0)
    assert index_pending(settings) == 600
    with transaction(settings.db_url) as session:
        moved = session.execute(text("SELECT gin_clean_pending_list('ix_tickets_fts'::regclass)")).scalar_one()
    assert moved == 0  # the indexer left nothing pending
    assert _found(settings, "marker599") == {"latency export problem, case marker599"}  # and the index answers
