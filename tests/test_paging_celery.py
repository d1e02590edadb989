"""A page through real Celery workers on real brokers, and a worker SIGKILLed while
it sends one: after recovery the page is delivered, and the resend carries the same
Idempotency-Key, so the receiver sees one page."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from storage.db import session_factory
from storage.models.delivery import Outbox
from support.intake import staging as intake
from tests.cast import cy_tweet
from tests.conftest import make_db_url, settings_for
from tests.test_paging import Listener
from tests.workers import Worker, make_broker, worker_env

COMBINATIONS = [("sqlite", "filesystem"), ("postgresql", "amqp")]


@pytest.fixture(params=COMBINATIONS, ids=["sqlite+filesystem", "postgresql+rabbitmq"])
def hub(request, monkeypatch, tmp_path):
    db_name, broker_kind = request.param
    broker = make_broker(broker_kind)
    listener = Listener()
    fast = {"requeue_after": "2", "send_lease": "3", "sweep_interval": "1", "oncall_webhook_url": listener.url}
    env = {"queue_prefix": broker.prefix, **fast, **({"broker_url": broker.url} if broker.url else {})}
    settings = settings_for(monkeypatch, tmp_path, make_db_url(db_name, request, tmp_path), **env)
    workers: list[Worker] = []

    def start_worker(**kw) -> Worker:
        worker = Worker(worker_env(settings, broker, **fast), tmp_path / "worker.log", **kw)
        workers.append(worker.start())
        return worker

    yield settings, start_worker, listener
    for worker in workers:
        worker.stop()
    listener.close()
    broker.cleanup()


def _page_status(settings) -> str | None:
    with session_factory(settings.db_url)() as session:
        return session.execute(select(Outbox.status).where(Outbox.kind == "page")).scalar()


def _wait(condition, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout  # a hang guard, not a speed check
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.1)


def test_a_critical_message_pages_through_the_critical_queue(hub):
    settings, start_worker, listener = hub
    start_worker()
    intake.submit([cy_tweet("1860000000000000500", "@trkvbot the site is down, total outage")], settings=settings)
    _wait(lambda: _page_status(settings) == "sent", "the page")
    [page] = listener.pages()
    assert page["event"] == "trigger" and page["count"] == 1


def test_a_worker_killed_while_sending_a_page_delivers_it_once_after_recovery(hub):
    settings, start_worker, listener = hub
    worker = start_worker()
    listener.hold.clear()  # the receiver gets the page and keeps the worker waiting for the answer
    intake.submit([cy_tweet("1860000000000000501", "@trkvbot the site is down, total outage")], settings=settings)
    _wait(listener.arrived.is_set, "the page to reach the receiver")
    worker.kill()  # between the send and the commit that would record it
    listener.hold.set()
    assert _page_status(settings) == "sending"

    start_worker(beat=True)  # the sweep hands the row back after the lease; the resend keeps its key
    _wait(lambda: _page_status(settings) == "sent", "the page to be delivered after recovery")
    keys = [r["headers"]["Idempotency-Key"] for r in listener.requests]
    assert len(keys) == 2 and len(set(keys)) == 1, "the resend carries the same Idempotency-Key"
    assert len(listener.pages()) == 1  # the receiver, deduplicating on it, saw one page
