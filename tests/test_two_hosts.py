"""Two hubs on one PostgreSQL and one RabbitMQ, as two hosts run them: separate homes,
real `trkv web` and `trkv worker -B` processes, one shared TRKV_SECRET_KEY. Messages
posted alternately to A and B become one ticket and one acknowledgement each, while
A's worker is SIGKILLed and restarted mid-run and A's web keeps answering; a page-
acknowledge link signed on A works on B. (A session cookie from A on B is the
accounts work's test.)"""

from __future__ import annotations

import secrets
import time
from collections import Counter

import httpx
import pytest
from sqlalchemy import func, select

from storage.db import session_factory, transaction
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.intake import InboundQueue
from storage.models.oncall import Alert
from storage.models.tickets import Ticket
from support import accounts
from support.oncall import paging
from tests.conftest import make_db_url, settings_for
from tests.hosts import Host, deliveries
from tests.workers import make_broker
from trkv.settings import Settings

MESSAGES = 400
TIMING = {"requeue_after": "2", "send_lease": "15", "sweep_interval": "1"}


@pytest.fixture
def two_hosts(request, monkeypatch, tmp_path):
    broker = make_broker("amqp")
    db_url = make_db_url("postgresql", request, tmp_path)
    settings = settings_for(monkeypatch, tmp_path, db_url, broker_url=broker.url, queue_prefix=broker.prefix, **TIMING)
    accounts.create_user("lena@trkv.test", "lead", "a long enough password", settings=settings)
    token = accounts.create_token("lena@trkv.test", settings=settings)
    receiver = tmp_path / "receiver.jsonl"
    receiver.touch()
    secret = secrets.token_urlsafe(32)
    # The per-token inbound rate limit is not what this test is about: a quiet machine posts 400 in seconds.
    hosts = [Host(name, tmp_path / name, db_url, broker, secret, receiver, web_inbound_rate="10000",
                  web_inbound_burst="10000", **TIMING) for name in ("a", "b")]
    try:
        for host in hosts:
            host.start()
        yield settings, hosts, token, receiver
    finally:
        for host in hosts:
            host.stop()
        broker.cleanup()


def _message(i: int) -> dict:
    return {"channel": "api", "external_id": f"two-hosts-{i}", "text": f"How do I export my projects to CSV? I tried {i} times and the button does nothing.",
            "subject": f"Order {i}", "author": {"handle": f"c{i}", "name": f"Customer {i}", "email": f"c{i}@example.com"}}


def _counts(settings) -> dict[str, int]:
    with session_factory(settings.db_url)() as session:
        def count(model, *where):
            return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()

        return {"tickets": count(Ticket), "acks": count(Outbox, Outbox.kind == "ack"),
                "acks_sent": count(Outbox, Outbox.kind == "ack", Outbox.status == "sent"),
                "pending": count(InboundQueue, InboundQueue.status == "pending")}


def test_two_hosts_share_the_work_and_a_killed_worker_loses_and_doubles_nothing(two_hosts):
    settings, (a, b), token, receiver = two_hosts
    headers = {"Authorization": f"Bearer {token}"}
    answers = []
    with httpx.Client(headers=headers, timeout=30) as client:
        for i in range(MESSAGES):
            host = a if i % 2 == 0 else b
            if i == MESSAGES // 3:
                a.worker.kill()  # SIGKILL, whatever it was sending
            if i == 2 * MESSAGES // 3:
                a.start_worker()
            answers.append(client.post(f"{host.web.url}/api/inbound", json=_message(i)).status_code)
    # both webs answered throughout, A's too while its worker was dead
    assert answers.count(201) == MESSAGES, Counter(answers)

    deadline = time.monotonic() + 240
    while (counts := _counts(settings))["acks_sent"] < MESSAGES or counts["pending"]:
        assert time.monotonic() < deadline, f"gave up waiting (a hang guard); last counts {counts}"
        time.sleep(0.5)
    assert counts["tickets"] == MESSAGES and counts["acks"] == MESSAGES
    delivered, resends = deliveries(receiver)
    assert len(delivered) == MESSAGES and set(delivered.values()) == {1}  # no key reached a customer twice
    assert all(key.startswith("ack:") for key in delivered)
    print(f"two hosts: {MESSAGES} messages, {resends} resends recognised by the receiver")

    # A page-acknowledge link signed on host A (its worker signs with the shared key) works on B;
    # one signed with A's own generated secret (no shared key) does not.
    alert_id = _alert(settings)
    shared = Settings(home=a.home, database_url=settings.db_url, secret_key=a.env["TRKV_SECRET_KEY"])
    alone = Settings(home=a.home, database_url=settings.db_url)
    with httpx.Client(timeout=30) as client:
        foreign = client.get(_link(paging.ack_url(alert_id, "ana@example.com", alone, utcnow()), b))
        link = _link(paging.ack_url(alert_id, "ana@example.com", shared, utcnow()), b)
        shown = client.get(link)
        query = dict(httpx.URL(link).params)
        done = client.post(httpx.URL(link).copy_with(query=None), data=query)
    assert foreign.status_code == 403
    assert shown.status_code == 200 and done.status_code == 200 and "Acknowledged" in done.text


def _alert(settings) -> int:
    with transaction(settings.db_url) as session:
        alert = Alert(severity="critical", title="checkout down", fingerprint=[], channels=["api"])
        session.add(alert)
        session.flush()
        return alert.id


def _link(url: str, host) -> str:
    """The link as host `host` serves it (public_url names the host that signed it)."""
    return str(httpx.URL(url).copy_with(scheme="http", host="127.0.0.1", port=host.web.port))
