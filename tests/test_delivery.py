"""Delivery under trouble, on a real database (SQLite, then PostgreSQL): a worker that is
down longer than the lease, a send that outlives its lease, a page acknowledged while
its send is in flight, a staged message no worker took yet."""

from __future__ import annotations

from datetime import timedelta

import psycopg
from sqlalchemy import event, func, select, update

from connectors.base import ConnectorError
from connectors.logsink import read_deliveries
from storage.db import get_engine, session_factory
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.intake import InboundQueue, Quarantine
from storage.models.oncall import Alert
from support import operations
from support.delivery import dispatch as dispatching
from support.delivery import senders
from support.delivery.dispatch import dispatch
from support.intake import staging as intake
from support.oncall import paging
from support.oncall.sweep import sweep
from tests.cast import ada_email
from tests.conftest import make_db_url, settings_for
from tests.services import require


def _page(settings, alert_status: str = "triggered") -> tuple[int, int]:
    """An alert and one page for it on the critical queue, sent to the `log` receiver."""
    now = utcnow()
    with session_factory(settings.db_url)() as session, session.begin():
        alert = Alert(severity="critical", status=alert_status, title="checkout down", fingerprint=[], channels=["email"])
        session.add(alert)
        session.flush()
        row = Outbox(alert_id=alert.id, kind="page", channel="log", queue="critical",
                     idempotency_key=f"page:{alert.id}:1:0", status="queued", created_at=now, updated_at=now,
                     payload={"channel": "log", "kind": "page", "idempotency_key": f"page:{alert.id}:1:0",
                              "text": "checkout down"})
        session.add(row)
        session.flush()
        return alert.id, row.id


def _row(settings, outbox_id: int) -> Outbox:
    with session_factory(settings.db_url)() as session:
        row = session.get(Outbox, outbox_id)
        session.expunge(row)
        return row


def _set(settings, model, row_id: int, **values) -> None:
    with session_factory(settings.db_url)() as session, session.begin():
        session.execute(update(model).where(model.id == row_id).values(**values))


def _sweeps(settings, count: int, step: float):
    """`count` sweeps, the clock moving `step` seconds between them; returns the last `now`."""
    now = utcnow()
    for _ in range(count):
        now += timedelta(seconds=step)
        sweep(settings, now=now)
    return now


def _keys(settings) -> list[str]:
    return [d["key"] for d in read_deliveries(settings.home_path / "sent.jsonl") if not d["duplicate"]]


def test_a_page_nobody_took_for_longer_than_the_lease_is_sent_once_a_worker_comes(settings):
    _, page_id = _page(settings)
    # The critical worker is down: kicks are lost, and the sweep re-kicks many times over the lease.
    _sweeps(settings, settings.max_send_attempts + 4, settings.requeue_after + 1)
    assert (settings.max_send_attempts + 4) * (settings.requeue_after + 1) > settings.send_lease
    assert _row(settings, page_id).attempts == 0  # re-kicks are not attempts
    assert dispatch(page_id, settings).status == "sent"
    assert len(_keys(settings)) == 1


def test_a_row_past_its_attempt_limit_fails_with_its_reason_and_operations_lists_it(settings):
    _, page_id = _page(settings)
    old = utcnow() - timedelta(seconds=settings.requeue_after + 5)  # stale, but younger than the lease
    _set(settings, Outbox, page_id, attempts=settings.max_send_attempts, last_error="gateway timeout", updated_at=old)
    _sweeps(settings, 3, settings.requeue_after + 1)
    row = _row(settings, page_id)
    assert row.status == "failed"
    assert "gateway timeout" in row.last_error and str(settings.max_send_attempts) in row.last_error
    listed = {f["id"]: f["error"] for f in operations.failed_outbox(settings)}
    assert "gateway timeout" in listed[page_id]
    operations.retry(page_id, settings)  # the retry button: a fresh set of attempts
    assert dispatch(page_id, settings).status == "sent"


def test_a_staged_message_no_worker_took_is_not_quarantined_by_rekicks(settings):
    staged = intake.submit([ada_email()], settings=settings)
    _sweeps(settings, settings.max_deliveries + 3, settings.requeue_after + 1)
    with session_factory(settings.db_url)() as session:
        row = session.execute(select(InboundQueue).where(InboundQueue.id == staged[0])).scalar_one()
    assert (row.status, row.attempts) == ("pending", 0)
    assert len(intake.process(staged, settings)) == 1


class _SlowThenFailing:
    """A send that outlives its lease: meanwhile the sweep hands the row back and another
    worker sends it; then this one fails late."""

    def __init__(self, settings, outbox_id):
        self.settings, self.outbox_id, self.calls = settings, outbox_id, 0

    def send(self, outbound):
        self.calls += 1
        if self.calls == 1:
            sweep(self.settings, now=utcnow() + timedelta(seconds=self.settings.send_lease + 5))
            assert dispatch(self.outbox_id, self.settings).status == "sent"  # the other worker
            raise ConnectorError("gateway timeout")
        return senders.logsink.shared(str(self.settings.home_path / "sent.jsonl"), "log").send(outbound)


def test_a_late_failure_of_a_send_that_outlived_its_lease_does_not_undo_the_resend(settings, monkeypatch):
    _, page_id = _page(settings)
    slow = _SlowThenFailing(settings, page_id)
    monkeypatch.setattr(dispatching, "sender_for", lambda channel, settings: slow)
    assert dispatch(page_id, settings).status == "skipped"  # its claim was taken away: it records nothing
    row = _row(settings, page_id)
    assert (row.status, row.last_error) == ("sent", None)
    sweep(settings, now=utcnow() + timedelta(seconds=settings.send_lease * 3))
    assert dispatch(page_id, settings).status == "skipped"
    assert _keys(settings) == [row.idempotency_key]


def test_a_page_acknowledged_while_its_send_was_in_flight_does_not_go_out(settings):
    alert_id, page_id = _page(settings)
    claimed = dispatching._claim(session_factory(settings.db_url), page_id, settings.max_send_attempts)
    assert claimed is not None  # a worker took it, then died before sending
    assert paging.acknowledge(alert_id, "ana@example.com", "web", settings).outcome == "acknowledged"
    sweep(settings, now=utcnow() + timedelta(seconds=settings.send_lease + 5))  # the lease runs out
    assert dispatch(page_id, settings).status == "skipped"
    assert _keys(settings) == []
    assert _row(settings, page_id).status == "cancelled"


def test_submit_returns_once_the_staged_messages_are_on_disk(request, monkeypatch, tmp_path):
    # A connector advances its cursor (or flags the mail) when submit returns, so what it
    # staged must survive a crash of the database by then. On PostgreSQL the worker is kicked
    # before the WAL flush, which submit waits for afterwards: here the kick reads how far
    # the WAL reaches, and the flush must have passed that point when submit returns.
    require("postgresql")
    settings = settings_for(monkeypatch, tmp_path, make_db_url("postgresql", request, tmp_path))
    admin = psycopg.connect(settings.db_url.replace("postgresql+psycopg", "postgresql"), autocommit=True)
    kicked = []

    def kick(staged_ids):
        kicked.append(admin.execute("SELECT pg_current_wal_insert_lsn(), pg_current_wal_flush_lsn()").fetchone())

    monkeypatch.setattr(intake.kick, "ingest", kick)
    try:
        for i in range(20):
            inbounds = [ada_email(f"durable-{i}@mail.example")] if i % 2 else \
                [ada_email(f"durable-{i}-{n}@mail.example") for n in range(3)]  # a live message, and a batch
            intake.submit(inbounds, settings=settings)
            written, _ = kicked[-1]
            flushed = admin.execute("SELECT pg_current_wal_flush_lsn() >= %s::pg_lsn", (str(written),)).fetchone()[0]
            assert flushed, f"submit {i} returned before its rows were on disk"
    finally:
        admin.close()
    # and the worker was kicked before the flush, not after it
    assert any(str(written) != str(flushed) for written, flushed in kicked)
    with session_factory(settings.db_url)() as session:
        assert session.execute(select(func.count()).select_from(InboundQueue)).scalar_one() == 40


def test_a_database_connection_lost_during_ingest_keeps_the_message_staged(request, monkeypatch, tmp_path):
    # Found by the chaos run: a connection that broke under a worker ("another command is
    # already in progress", a server restart) quarantined a customer's good message after
    # one attempt, and the customer never heard back. Here PostgreSQL itself cuts the
    # worker's connection while it writes the ticket's first row.
    require("postgresql")
    settings = settings_for(monkeypatch, tmp_path, make_db_url("postgresql", request, tmp_path))
    staged = intake.submit([ada_email()], settings=settings)
    engine = get_engine(settings.db_url)
    cut = []

    def terminate(conn, cursor, statement, parameters, context, executemany):
        if "INSERT INTO IDENTITIES" in statement.upper() and not cut:  # on its own, or in a WITH with its contact
            cut.append(conn.connection.dbapi_connection.info.backend_pid)
            with psycopg.connect(settings.db_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (cut[0],))

    event.listen(engine, "before_cursor_execute", terminate)
    try:
        assert intake.process(staged, settings) == []
    finally:
        event.remove(engine, "before_cursor_execute", terminate)
    assert cut, "the ingest never wrote a ticket"
    with session_factory(settings.db_url)() as session:
        row = session.execute(select(InboundQueue).where(InboundQueue.id == staged[0])).scalar_one()
        assert row.status == "pending" and "terminating connection" in (row.error or "")  # the reason is kept
        assert session.execute(select(func.count()).select_from(Quarantine)).scalar_one() == 0
    assert len(intake.process(staged, settings)) == 1  # the next attempt (the sweep's re-kick) ingests it
