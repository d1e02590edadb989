"""Paging end to end in one process: critical messages in, pages out over real HTTP
to a local webhook listener (and a PagerDuty-shaped one); escalation with an
injected clock; acknowledgement by the signed link; grouping by likeness."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from storage.db import transaction
from storage.models.delivery import Outbox
from storage.models.oncall import Alert
from support.accounts import create_user
from support.delivery.dispatch import dispatch
from support.intake.ingest import ingest, ingest_batch
from support.oncall import paging
from support.oncall.sweep import sweep
from tests.cast import ada_email, bo_discord, cy_tweet
from tests.conftest import settings_for


class Listener:
    """A local HTTP endpoint that records what it receives, like an on-call webhook.
    `hold` makes it accept a request and keep the sender waiting until released."""

    def __init__(self, status: int = 200):
        self.requests: list[dict] = []
        self.status = status
        self.hold = threading.Event()
        self.hold.set()
        self.arrived = threading.Event()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                listener.requests.append({"headers": dict(self.headers), "raw": body, "json": json.loads(body)})
                listener.arrived.set()
                listener.hold.wait(60)
                try:
                    self.send_response(listener.status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"status": "success"}')
                except OSError:
                    pass  # the sender died while we held it (the SIGKILL test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def pages(self) -> list[dict]:
        """What the receiver acts on: one page per Idempotency-Key (its dedupe)."""
        seen, unique = set(), []
        for request in self.requests:
            key = request["headers"].get("Idempotency-Key") or request["json"].get("dedup_key")
            if key not in seen:
                seen.add(key)
                unique.append(request["json"])
        return unique

    def close(self) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def hub(monkeypatch, tmp_path, db_url, listener):
    return settings_for(monkeypatch, tmp_path, db_url, oncall_webhook_url=listener.url)


def _send_all(settings) -> list[str]:
    """What a worker does with the queued rows: dispatch each one (pages over real HTTP);
    returns the outcomes of the pages."""
    with transaction(settings.db_url) as session:
        rows = session.execute(select(Outbox.id, Outbox.kind).where(Outbox.status == "queued").order_by(Outbox.id)).all()
    outcomes = [(kind, dispatch(i, settings).status) for i, kind in rows]
    return [status for kind, status in outcomes if kind == "page"]


def _alerts(settings) -> list[Alert]:
    with transaction(settings.db_url) as session:
        alerts = session.execute(select(Alert).order_by(Alert.id)).scalars().all()
        session.expunge_all()
        return alerts


CRITICAL = {
    "email": ada_email("outage-1@mail.example", "Data loss: all our projects are gone since this morning's import",
                       subject="All our projects are gone"),
    "discord": bo_discord("1180000000000000900", "security issue: someone logged into my account and changed the email"),
    "x": cy_tweet("1860000000000000900", "@trkvbot the site is down, total outage in Europe"),
}


@pytest.mark.parametrize("channel", list(CRITICAL))
def test_a_critical_message_on_each_channel_pages_the_webhook_at_once(hub, listener, channel):
    result = ingest(CRITICAL[channel], settings=hub)
    assert [queue for _, queue in result.outbox if queue == "critical"], "the page goes on the critical queue"
    _send_all(hub)
    [page] = [p for p in listener.pages() if p["kind"] == "page"]
    assert page["event"] == "trigger" and page["count"] == 1 and page["channels"] == [channel]
    assert page["tickets"] == [result.ref] and page["severity"] == "critical"
    assert page["ack_url"].startswith(hub.public_url) and "notifier" not in page
    assert listener.requests[0]["headers"]["Idempotency-Key"] == page["key"]
    assert "X-TRKV-Signature" not in listener.requests[0]["headers"]  # no secret set: unsigned


def test_pages_are_signed_when_a_secret_is_set(monkeypatch, tmp_path, sqlite_url, listener):
    settings = settings_for(monkeypatch, tmp_path, sqlite_url, oncall_webhook_url=listener.url,
                            oncall_webhook_secret="s3cret-for-pages")
    ingest(CRITICAL["x"], settings=settings)
    _send_all(settings)
    [request] = listener.requests
    stamp = request["headers"]["X-TRKV-Timestamp"]
    expected = hmac.new(b"s3cret-for-pages", stamp.encode() + b"." + request["raw"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-TRKV-Signature"] == f"sha256={expected}"


def test_an_unacknowledged_page_repages_then_reaches_the_lead(hub, listener):
    create_user("lead@trkv.test", "lead", "a long enough password", name="Lena Lead", settings=hub)
    ingest(CRITICAL["x"], settings=hub)
    _send_all(hub)
    [alert] = _alerts(hub)
    start = alert.notified_at

    sweep(hub, now=start + timedelta(minutes=4))
    assert _send_all(hub) == []  # re-pages wait 5 minutes
    sweep(hub, now=start + timedelta(minutes=5, seconds=1))
    _send_all(hub)
    sweep(hub, now=start + timedelta(minutes=10, seconds=2))
    _send_all(hub)
    pages = listener.pages()
    assert [p["event"] for p in pages] == ["trigger", "repage", "escalate"]
    assert [p["target"]["label"] for p in pages] == ["oncall", "oncall", "user:1"]
    assert pages[2]["target"]["email"] == "lead@trkv.test" and pages[2]["step"] == 2
    assert len({p["key"] for p in pages}) == 3 and len({p["dedup_key"] for p in pages}) == 1


def test_acknowledging_by_the_signed_link_stops_the_paging(hub, listener):
    from inbox.app import create_app

    ingest(CRITICAL["email"], settings=hub)
    _send_all(hub)
    [page] = listener.pages()
    link = urlsplit(page["ack_url"])
    client = TestClient(create_app(hub))
    form = client.get(f"{link.path}?{link.query}")
    assert form.status_code == 200 and "<form method='post'" in form.text
    assert _alerts(hub)[0].status == "triggered"  # opening the link does not acknowledge

    fields = {k: v[0] for k, v in parse_qs(link.query).items()}
    tampered = client.post(link.path, data={**fields, "who": "user:99"})
    assert tampered.status_code == 403
    done = client.post(link.path, data=fields)
    assert done.status_code == 200 and "Acknowledged" in done.text
    [alert] = _alerts(hub)
    assert alert.status == "acknowledged" and alert.acknowledged_by == "oncall" and alert.acknowledged_via == "link"

    for minutes in (5, 10, 60):
        sweep(hub, now=alert.notified_at + timedelta(minutes=minutes))
    _send_all(hub)
    assert len(listener.pages()) == 1  # nothing after the acknowledgement
    again = paging.acknowledge(alert.id, "someone-else", "cli", hub)
    assert again.outcome == "already" and again.alert["acknowledged_by"] == "oncall"


def test_an_expired_link_is_refused(sqlite_settings):
    from datetime import UTC, datetime

    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    url = paging.ack_url(7, "oncall", sqlite_settings, now)
    fields = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    later = now + timedelta(hours=sqlite_settings.page_ack_link_hours, seconds=1)
    assert paging.verify(7, "oncall", int(fields["exp"]), fields["sig"], sqlite_settings, now) is None
    assert "expired" in paging.verify(7, "oncall", int(fields["exp"]), fields["sig"], sqlite_settings, later)


def _burst(count: int) -> list:
    channels = [lambda i: cy_tweet(str(1_870_000_000_000_000_000 + i), f"@trkvbot is the site down? checkout total outage #{i}",
                                   author_id=f"u{i}", author_handle=f"@u{i}"),
                lambda i: ada_email(f"burst-{i}@mail.example", "The site is down, checkout total outage for us",
                                    subject="Site down"),
                lambda i: bo_discord(str(1_190_000_000_000_000_000 + i), "site down?? checkout outage total",
                                     conversation_key=f"dm-{i}")]
    return [channels[i % 3](i) for i in range(count)]


def test_a_burst_of_50_alike_critical_messages_across_channels_pages_once_counting_50(hub, listener):
    for message in _burst(50):  # one by one, as a live feed delivers them
        ingest(message, settings=hub)
    _send_all(hub)
    [page] = listener.pages()
    assert page["count"] == 50 and sorted(page["channels"]) == ["discord", "email", "x"]
    assert len(page["tickets"]) == 50 and "50 alike messages" in page["text"]
    [alert] = _alerts(hub)
    assert alert.count == 50


def test_two_unrelated_critical_messages_a_minute_apart_page_twice(hub, listener):
    ingest_batch([CRITICAL["x"], CRITICAL["discord"]], settings=hub)
    _send_all(hub)
    pages = listener.pages()
    assert len(pages) == 2 and {p["alert_id"] for p in pages} == {a.id for a in _alerts(hub)}


def test_a_grouped_alert_is_updated_at_most_once_per_five_minutes(hub, listener):
    burst = _burst(12)
    ingest(burst[0], settings=hub)
    _send_all(hub)  # the first page is out
    for message in burst[1:]:
        ingest(message, settings=hub)
    assert _send_all(hub) == []  # joined: counted, not re-sent
    [alert] = _alerts(hub)
    assert alert.count == 12 and alert.next_action_at == alert.last_sent_at + timedelta(minutes=5)
    sweep(hub, now=alert.last_sent_at + timedelta(minutes=2))
    assert _send_all(hub) == []
    sweep(hub, now=alert.last_sent_at + timedelta(minutes=5, seconds=1))
    _send_all(hub)
    pages = listener.pages()
    assert [p["count"] for p in pages] == [1, 12] and len({p["alert_id"] for p in pages}) == 1


def test_pagerduty_events_carry_one_dedup_key_per_alert(monkeypatch, tmp_path, sqlite_url, listener):
    settings = settings_for(monkeypatch, tmp_path, sqlite_url, pagerduty_routing_key="R0UTINGKEY0000000000000000000000",
                            pagerduty_url=listener.url)
    listener.status = 202
    ingest(CRITICAL["discord"], settings=settings)
    _send_all(settings)
    [alert] = _alerts(settings)
    sweep(settings, now=alert.notified_at + timedelta(minutes=6))
    _send_all(settings)
    events = [r["json"] for r in listener.requests]
    assert [e["event_action"] for e in events] == ["trigger", "trigger"]
    assert {e["dedup_key"] for e in events} == {f"trkv-alert-{alert.id}"}
    assert events[0]["routing_key"] == "R0UTINGKEY0000000000000000000000"
    assert events[0]["payload"]["severity"] == "critical" and events[0]["payload"]["source"] == "trkv"
    assert events[0]["links"][0]["text"] == "Acknowledge"

    paging.acknowledge(alert.id, "ana@trkv.test", "web", settings)  # PagerDuty's incident is acknowledged too
    _send_all(settings)
    ack = listener.requests[-1]["json"]
    assert ack["event_action"] == "acknowledge" and ack["dedup_key"] == f"trkv-alert-{alert.id}"


def test_a_refused_webhook_fails_the_page_with_the_reason(hub, listener):
    listener.status = 410
    ingest(CRITICAL["x"], settings=hub)
    assert _send_all(hub) == ["failed"]
    with transaction(hub.db_url) as session:
        row = session.execute(select(Outbox).where(Outbox.kind == "page")).scalar_one()
        assert row.status == "failed" and "410" in row.last_error


def test_the_api_shows_paged_and_acknowledged_by_whom(hub, listener):
    from inbox.app import create_app
    from support.accounts import create_token

    user = create_user("eng@trkv.test", "engineer", "a long enough password", settings=hub)
    token = create_token(user.email, settings=hub)
    result = ingest(CRITICAL["x"], settings=hub)
    _send_all(hub)
    client = TestClient(create_app(hub))
    auth = {"Authorization": f"Bearer {token}"}
    [alert] = client.get("/api/oncall/alerts", headers=auth).json()["items"]
    assert alert["status"] == "triggered" and alert["last_paged_at"] and not alert["acknowledged"]
    acked = client.post(f"/api/oncall/alerts/{alert['id']}/ack", headers=auth).json()
    assert acked["outcome"] == "acknowledged" and acked["alert"]["acknowledged_by"] == "eng@trkv.test"
    state = client.get(f"/api/sla/tickets/{result.ref}", headers=auth).json()
    assert state["alert"]["acknowledged_by"] == "eng@trkv.test"
    assert state["sla"]["first_response"]["due_in_seconds"] > 0 and not state["sla"]["first_response"]["breached"]
    assert client.get("/api/oncall/alerts").status_code == 401


def test_keys_are_unique_per_page_so_receivers_can_dedupe(hub, listener):
    ingest(CRITICAL["x"], settings=hub)
    _send_all(hub)
    keys = Counter(r["headers"]["Idempotency-Key"] for r in listener.requests)
    assert set(keys.values()) == {1}


def test_an_alert_whose_tickets_are_all_resolved_stops_paging(hub, listener):
    from storage.models.tickets import Ticket

    result = ingest(CRITICAL["x"], settings=hub)
    _send_all(hub)
    with transaction(hub.db_url) as session:
        session.get(Ticket, result.ticket_id).status = "resolved"
    [alert] = _alerts(hub)
    sweep(hub, now=alert.notified_at + timedelta(minutes=6))
    _send_all(hub)
    assert len(listener.pages()) == 1 and _alerts(hub)[0].status == "resolved"
