"""Intake, dispatch and the sweep on a real database (SQLite, then PostgreSQL)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update

from connectors.base import ConnectorError
from connectors.logsink import read_deliveries
from storage.db import session_factory
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.intake import InboundQueue, Quarantine
from storage.models.tickets import Ticket, TicketEvent
from support.delivery.dispatch import dispatch
from support.intake import staging as intake
from support.intake.ingest import ingest
from support.oncall.sweep import sweep
from tests.cast import ada_email, cy_tweet


def _rows(settings, model, *where):
    with session_factory(settings.db_url)() as session:
        return session.execute(select(model).where(*where)).scalars().all()


def _age(settings, model, seconds: float, *where) -> None:
    with session_factory(settings.db_url)() as session, session.begin():
        session.execute(update(model).where(*where).values(updated_at=utcnow() - timedelta(seconds=seconds)))


def test_a_staged_message_that_cannot_be_ingested_is_quarantined_and_its_neighbours_are_not(settings):
    good = intake.submit([cy_tweet()], settings=settings)
    bad = intake.submit([cy_tweet("1860000000000000077")], settings=settings)
    with session_factory(settings.db_url)() as session, session.begin():
        session.execute(update(InboundQueue).where(InboundQueue.id == bad[0]).values(payload={"channel": "x"}))
    results = intake.process(good + bad, settings)
    assert len(results) == 1 and results[0].created_ticket
    quarantined = _rows(settings, Quarantine)
    assert len(quarantined) == 1 and "TypeError" in quarantined[0].reason
    assert {r.status for r in _rows(settings, InboundQueue)} == {"done", "quarantined"}


def test_processing_a_staged_message_twice_stores_it_once(settings):
    staged = intake.submit([ada_email()], settings=settings)
    assert len(intake.process(staged, settings)) == 1
    assert intake.process(staged, settings) == []  # already done: a redelivered kick is a no-op


def test_the_sweep_rekicks_staged_messages_whose_kick_was_lost(settings):
    staged = intake.submit([ada_email()], settings=settings)
    _age(settings, InboundQueue, 3600, InboundQueue.id == staged[0])
    report = sweep(settings)
    assert report.rekicked_inbound == 1
    assert _rows(settings, InboundQueue)[0].attempts == 0  # a re-kick is not an attempt
    queue_files = list((settings.home_path / "broker" / "queue").iterdir())
    assert len(queue_files) >= 2  # the first kick and the sweep's, both on the broker


def test_a_message_that_keeps_failing_is_quarantined_by_the_sweep(settings):
    staged = intake.submit([ada_email()], settings=settings)
    with session_factory(settings.db_url)() as session, session.begin():
        session.execute(update(InboundQueue).values(attempts=settings.max_deliveries))
    _age(settings, InboundQueue, settings.requeue_after + 5)  # its last worker died, not at work on it now
    sweep(settings)
    assert _rows(settings, InboundQueue, InboundQueue.id == staged[0])[0].status == "quarantined"
    assert "attempts" in _rows(settings, Quarantine)[0].reason


def test_an_outbox_row_is_sent_once_however_often_it_is_dispatched(settings):
    result = ingest(cy_tweet())
    ack_id = result.outbox[0][0]
    assert dispatch(ack_id, settings).status == "sent"
    assert dispatch(ack_id, settings).status == "skipped"
    delivered = read_deliveries(settings.home_path / "sent.jsonl")
    assert [d["key"] for d in delivered] == [f"ack:{result.ticket_id}"]


def test_a_send_stuck_past_its_lease_is_retried_with_the_same_key(settings):
    result = ingest(cy_tweet())
    ack_id = result.outbox[0][0]
    dispatch(ack_id, settings)
    with session_factory(settings.db_url)() as session, session.begin():  # as if the worker died before commit
        session.execute(update(Outbox).where(Outbox.id == ack_id).values(status="sending"))
    _age(settings, Outbox, settings.send_lease + 5, Outbox.id == ack_id)
    assert sweep(settings).reclaimed_sending == 1
    assert dispatch(ack_id, settings).status == "sent"
    delivered = read_deliveries(settings.home_path / "sent.jsonl")
    assert [d["duplicate"] for d in delivered] == [False, True]  # the receiver deduplicated the resend


class _Failing:
    def __init__(self, permanent: bool):
        self.permanent = permanent

    def send(self, outbound):
        raise ConnectorError("Unknown Channel (10003)" if self.permanent else "gateway timeout", permanent=self.permanent)


@pytest.mark.parametrize("permanent, status", [(True, "failed"), (False, "queued")])
def test_a_send_error_marks_the_row_with_the_reason(settings, monkeypatch, permanent, status):
    result = ingest(cy_tweet())
    monkeypatch.setattr("support.delivery.dispatch.sender_for", lambda channel, settings: _Failing(permanent))
    outcome = dispatch(result.outbox[0][0], settings)
    row = _rows(settings, Outbox, Outbox.id == result.outbox[0][0])[0]
    assert row.status == status and row.last_error == outcome.error and outcome.error


class _RateLimited:
    def send(self, outbound):
        raise ConnectorError("over the posting budget", retry_after=900)


def test_a_rate_limited_send_waits_without_using_up_its_attempts(settings, monkeypatch):
    result = ingest(cy_tweet())
    outbox_id = result.outbox[0][0]
    monkeypatch.setattr("support.delivery.dispatch.sender_for", lambda channel, settings: _RateLimited())
    for _ in range(settings.max_send_attempts + 2):  # more deferrals than the retry limit allows failures
        assert dispatch(outbox_id, settings).status == "retry"
    row = _rows(settings, Outbox, Outbox.id == outbox_id)[0]
    assert (row.status, row.attempts) == ("queued", 0)
    monkeypatch.undo()
    assert dispatch(outbox_id, settings).status == "sent"


def test_a_breached_first_response_is_recorded_once_with_how_late(settings):
    result = ingest(ada_email())
    with session_factory(settings.db_url)() as session, session.begin():
        late = utcnow() - timedelta(minutes=10)  # sla_next_at: the sweep reads due tickets through its index
        session.execute(update(Ticket).values(first_response_due_at=late, sla_next_at=late))
    assert sweep(settings).breaches == [result.ticket_id]
    assert sweep(settings).breaches == []
    event = _rows(settings, TicketEvent, TicketEvent.kind == "sla_breach")[0]
    assert event.field == "first_response" and event.detail["late_by_seconds"] >= 600


class _Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append((dict(self.headers), body))
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    _Hook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/page", _Hook.received
    server.shutdown()


def test_a_critical_page_goes_to_the_webhook_signed_and_keyed(settings, webhook, monkeypatch):
    url, received = webhook
    monkeypatch.setattr(settings, "oncall_webhook_url", url)
    from pydantic import SecretStr

    monkeypatch.setattr(settings, "oncall_webhook_secret", SecretStr("s3cret"))
    result = ingest(cy_tweet(text="@trkvbot all my data is gone after the update!!"))
    page_id = [i for i, queue in result.outbox if queue == "critical"][0]
    assert dispatch(page_id, settings).status == "sent"
    headers, body = received[0]
    assert headers["Idempotency-Key"] == _rows(settings, Outbox, Outbox.id == page_id)[0].idempotency_key
    expected = hmac.new(b"s3cret", headers["X-TRKV-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-TRKV-Signature"] == f"sha256={expected}"
    assert json.loads(body)["ref"] == result.ref


def test_a_resolved_ticket_closes_after_its_quiet_period_and_a_later_reply_opens_a_linked_ticket(settings):
    from support.tickets.actions import set_status

    first = ingest(cy_tweet())
    set_status(first.ref, "resolved", user_id=None, settings=settings)
    now = utcnow()
    assert sweep(settings, now=now + timedelta(days=6)).closed == 0
    assert _rows(settings, Ticket, Ticket.id == first.ticket_id)[0].status == "resolved"
    assert sweep(settings, now=now + timedelta(days=7, minutes=1)).closed == 1
    closed = _rows(settings, Ticket, Ticket.id == first.ticket_id)[0]
    assert closed.status == "closed" and closed.closed_at is not None
    events = _rows(settings, TicketEvent, TicketEvent.ticket_id == first.ticket_id, TicketEvent.kind == "status")
    assert [(e.old_value, e.new_value) for e in events][-1] == ("resolved", "closed")
    later = ingest(cy_tweet(external_id="1860000000000000099", text="@trkvbot dark mode is still missing",
                            references=["1860000000000000001"]))
    assert later.ticket_id != first.ticket_id
    assert _rows(settings, Ticket, Ticket.id == later.ticket_id)[0].parent_id == first.ticket_id
