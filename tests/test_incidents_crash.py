"""Story 3: a real Celery worker is SIGKILLed in the middle of publishing an update;
after a restart every destination has the update exactly once (PostgreSQL + Redis,
and SQLite + the embedded filesystem broker), on the local Discord and X servers and
aiosmtpd. A mail resent after the kill carries the same Message-ID, which is how a
mailbox recognises it: mails are counted by Message-ID."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from storage.db import dispose_engines, session_factory
from storage.models.delivery import Outbox
from support.incidents import core
from support.incidents.core import Actor
from support.intake.ingest import ingest
from tests.conftest import make_db_url
from tests.discord_server import BOT, DiscordServer
from tests.incident_burst import inbound, incidents, linked_ids
from tests.incident_corpus import TEST_OUTAGE
from tests.incident_parts import Smtp, discord_message, drain, hub_settings, x_mention
from tests.workers import Worker, make_broker, worker_env
from tests.x_server import XServer

COMBINATIONS = [("postgresql", "redis"), ("sqlite", "filesystem")]


@pytest.fixture(params=COMBINATIONS, ids=["postgresql+redis", "sqlite+filesystem"])
def hub(request, monkeypatch, tmp_path, model_dir):
    db_name, broker_kind = request.param
    broker = make_broker(broker_kind)
    with DiscordServer() as discord, XServer() as x, Smtp() as smtp:
        env = {"queue_prefix": broker.prefix, "requeue_after": "2", "send_lease": "3", "sweep_interval": "1",
               **({"broker_url": broker.url} if broker.url else {})}
        settings = hub_settings(monkeypatch, tmp_path, make_db_url(db_name, request, tmp_path), discord, x, smtp,
                                model_dir, **env)
        workers: list[Worker] = []

        def start_worker(**kw) -> Worker:
            extra = {k: v for k, v in settings.model_dump().items() if k.startswith(("discord_", "x_", "smtp_"))
                     and v is not None and not isinstance(v, (dict, list))}
            extra = {k: (v.get_secret_value() if hasattr(v, "get_secret_value") else v) for k, v in extra.items()}
            worker = Worker(worker_env(settings, broker, requeue_after=2, send_lease=3, sweep_interval=1,
                                       public_url=settings.public_url, **extra), tmp_path / "worker.log", **kw)
            workers.append(worker.start())
            return worker

        yield settings, start_worker, (discord, x, smtp)
        for worker in workers:
            worker.stop()
        broker.cleanup()
        dispose_engines()


def _rows(settings, prefix: str) -> dict[str, int]:
    with session_factory(settings.db_url, readonly=True)() as session:
        statuses = session.execute(select(Outbox.status).where(Outbox.idempotency_key.like(f"{prefix}%"))).scalars().all()
    return {s: statuses.count(s) for s in ("held", "queued", "sending", "sent", "failed")}


def _wait(settings, prefix: str, condition, timeout: float = 180) -> dict[str, int]:
    deadline = time.monotonic() + timeout  # a hang guard, not a speed check
    while time.monotonic() < deadline:
        rows = _rows(settings, prefix)
        if condition(rows):
            return rows
        time.sleep(0.05)
    raise AssertionError(f"timed out: {_rows(settings, prefix)}")


def test_a_worker_killed_mid_publish_leaves_every_destination_with_the_update_once(hub):
    settings, start_worker, (discord, x, smtp) = hub
    burst = []
    for n, text in enumerate(TEST_OUTAGE):
        channel = ("discord", "x", "email")[n % 3]
        message = (discord_message(discord, n, text) if channel == "discord" else x_mention(x, n, text)
                   if channel == "x" else inbound(n, text, channel="email"))
        burst.append((message, ingest(message, settings=settings).ticket_id))
    drain(settings)  # acknowledgements and the page, before the story starts
    [incident] = incidents(settings)
    linked = linked_ids(settings, incident.id)
    worker = start_worker()
    core.post_update(incident.id, "investigating", "We see 502 errors and are on it.", Actor("eli@trkv.test", "engineer"),
                     settings=settings)
    prefix = f"inc:{incident.id}:"
    _wait(settings, prefix, lambda r: r["sent"] >= 3)
    worker.kill()  # SIGKILL main process and pool children, mid-publish
    assert _rows(settings, prefix)["sent"] < len(linked) + 2, "the kill came too late to prove anything"

    start_worker(beat=True)  # the sweep hands back rows left `sending` and re-kicks lost ones
    rows = _wait(settings, prefix, lambda r: r["held"] + r["queued"] + r["sending"] == 0)
    assert rows["failed"] == 0 and rows["sent"] == len(linked) + 2  # Discord, X, every conversation
    assert sum("[Status]" in m["content"] for m in discord.history("announcements") if m["author"]["id"] == BOT["id"]) == 1
    assert sum(t["text"].startswith("[Status]") for t in x.tweets.values()) == 1
    for message, ticket_id in burst:
        if ticket_id not in linked:
            continue
        if message.channel == "discord":
            got = [m for m in discord.history(message.external_id) if m["author"]["id"] == BOT["id"]]
            assert sum("[Status]" in m["content"] for m in got) == 1
        elif message.channel == "x":
            assert sum("[Status]" in t["text"] for t in x.replies_to(message.external_id)) == 1
        else:
            ids = {m["Message-ID"] for m in smtp.mailbox.to(message.author_email) if "[TRKV-" in (m["Subject"] or "")
                   and "[Status]" in m.get_body(("plain",)).get_content()}
            assert len(ids) == 1
