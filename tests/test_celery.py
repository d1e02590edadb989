"""The live path through real Celery worker processes on real brokers.

Combinations: the embedded default (SQLite + kombu's filesystem transport),
PostgreSQL + RabbitMQ, and PostgreSQL + Redis.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from connectors.logsink import read_deliveries
from storage.db import session_factory
from storage.models.delivery import Outbox
from storage.models.intake import InboundQueue
from storage.models.tickets import Message, Ticket
from support.intake import staging as intake
from tests.cast import cy_tweet
from tests.conftest import make_db_url, settings_for
from tests.workers import Worker, make_broker, worker_env

COMBINATIONS = [("sqlite", "filesystem"), ("postgresql", "amqp"), ("postgresql", "redis")]


@pytest.fixture(params=COMBINATIONS, ids=["sqlite+filesystem", "postgresql+rabbitmq", "postgresql+redis"])
def hub(request, monkeypatch, tmp_path):
    """Settings on a database and a broker, a worker factory, and cleanup."""
    db_name, broker_kind = request.param
    broker = make_broker(broker_kind)
    env = {"queue_prefix": broker.prefix, "requeue_after": "2", "send_lease": "3", "sweep_interval": "1"}
    if broker.url:
        env["broker_url"] = broker.url
    settings = settings_for(monkeypatch, tmp_path, make_db_url(db_name, request, tmp_path), **env)
    workers: list[Worker] = []

    def start_worker(**kw) -> Worker:
        worker = Worker(worker_env(settings, broker, requeue_after=2, send_lease=3, sweep_interval=1),
                        tmp_path / "worker.log", **kw)
        workers.append(worker.start())
        return worker

    yield settings, start_worker
    for worker in workers:
        worker.stop()
    broker.cleanup()


def _new_conversations(count: int, start: int = 0):
    return [cy_tweet(str(1_900_000_000_000_000_000 + i), f"@trkvbot question number {i}: how do exports work?",
                     author_id=f"user{i % 97}", author_handle=f"@user{i % 97}") for i in range(start, start + count)]


def _follow_ups(count: int):
    return [cy_tweet(str(1_950_000_000_000_000_000 + i), f"@trkvbot any news on {i}?",
                     conversation_key=str(1_900_000_000_000_000_000 + i), author_id=f"user{i % 97}",
                     author_handle=f"@user{i % 97}") for i in range(count)]


def _counts(settings) -> dict[str, int]:
    with session_factory(settings.db_url)() as session:
        def count(model, *where):
            return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()

        return {
            "messages": count(Message, Message.direction == "in"),
            "tickets": count(Ticket),
            "acks": count(Outbox, Outbox.kind == "ack"),
            "acks_sent": count(Outbox, Outbox.kind == "ack", Outbox.status == "sent"),
            "pending": count(InboundQueue, InboundQueue.status == "pending"),
        }


def _wait_for(settings, condition, timeout: float = 240) -> dict[str, int]:
    """Poll the database until `condition(counts)`; fail (a hang guard, not a speed check) after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        counts = _counts(settings)
        if condition(counts):
            return counts
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting; last counts {counts}")
        time.sleep(0.25)


def _submit(inbounds, settings, per_call: int = 1) -> None:
    for start in range(0, len(inbounds), per_call):
        intake.submit(inbounds[start : start + per_call], settings=settings)


def _deliveries(settings) -> Counter:
    return Counter(d["key"] for d in read_deliveries(settings.home_path / "sent.jsonl") if not d["duplicate"])


def test_a_thousand_messages_are_stored_and_acknowledged_exactly_once_even_when_delivered_twice(hub):
    settings, start_worker = hub
    start_worker()
    messages = _new_conversations(1000)
    _submit(messages, settings)
    _submit(messages, settings)  # the same 1,000 again: a redelivery is a no-op
    counts = _wait_for(settings, lambda c: c["pending"] == 0 and c["acks_sent"] == 1000)
    assert counts["messages"] == 1000 and counts["tickets"] == 1000 and counts["acks"] == 1000
    delivered = _deliveries(settings)
    assert len(delivered) == 1000 and set(delivered.values()) == {1}

    _submit(_follow_ups(200), settings, per_call=20)  # follow-ups thread into their conversations
    counts = _wait_for(settings, lambda c: c["pending"] == 0 and c["messages"] == 1200)
    assert counts["tickets"] == 1000 and counts["acks"] == 1000


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(hub):
    settings, start_worker = hub
    worker = start_worker()
    _submit(_new_conversations(1000), settings)
    _wait_for(settings, lambda c: c["messages"] >= 150)
    worker.kill()  # SIGKILL main process and pool children, mid-batch
    assert _counts(settings)["messages"] < 1000, "the kill came too late to prove anything"

    start_worker(beat=True)  # the restarted worker's sweep recovers what the lost broker messages left
    counts = _wait_for(settings, lambda c: c["pending"] == 0 and c["messages"] == 1000 and c["acks_sent"] == 1000)
    assert counts["tickets"] == 1000 and counts["acks"] == 1000
    delivered = _deliveries(settings)
    assert len(delivered) == 1000 and set(delivered.values()) == {1}
