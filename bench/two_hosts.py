"""Two hosts, as a benchmark: two hubs (each its own TRKV_HOME, real `trkv web` and
`trkv worker -B` processes, one shared TRKV_SECRET_KEY) on one PostgreSQL and one
RabbitMQ; 2,000 messages posted alternately to A and B over the API, A's worker SIGKILLed
a third of the way in and started again at two thirds. Reports: answers by status, the
API's answer times on each host (A's while its worker is dead too), tickets and
acknowledgements against messages, keys a customer got twice (must be 0), resends the
receiver recognised, and seconds until everything is acknowledged. tests/test_two_hosts.py
is the CI version (400 messages). `make two-hosts` writes bench/results/two_hosts.json.

    python bench/two_hosts.py [--messages 2000]
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

TIMING = {"requeue_after": "2", "send_lease": "15", "sweep_interval": "1"}


def _pct(values: list[float], p: int) -> float | None:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * p / 100))] * 1000, 1) if values else None


def _counts(db_url: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from storage.db import session_factory
    from storage.models.delivery import Outbox
    from storage.models.intake import InboundQueue
    from storage.models.tickets import Ticket

    with session_factory(db_url)() as session:
        def count(model, *where):
            return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()

        return {"tickets": count(Ticket), "acks": count(Outbox, Outbox.kind == "ack"),
                "acks_sent": count(Outbox, Outbox.kind == "ack", Outbox.status == "sent"),
                "pending": count(InboundQueue, InboundQueue.status == "pending")}


def run(db_url: str, broker, folder: Path, messages: int) -> dict:
    import httpx

    from support import accounts
    from tests.hosts import Host, deliveries
    from trkv.settings import Settings

    admin = Settings(home=folder / "admin", database_url=db_url)
    accounts.create_user("lena@trkv.test", "lead", "a long enough password", settings=admin)
    token = accounts.create_token("lena@trkv.test", settings=admin)
    receiver = folder / "receiver.jsonl"
    receiver.touch()
    secret = secrets.token_urlsafe(32)
    hosts = [Host(name, folder / name, db_url, broker, secret, receiver, web_inbound_rate="10000",
                  web_inbound_burst="10000", **TIMING) for name in ("a", "b")]
    try:
        for host in hosts:
            host.start()
        a, b = hosts
        answers, times = Counter(), {"a": [], "b": [], "a_worker_dead": []}
        started = time.monotonic()
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            for i in range(messages):
                host = a if i % 2 == 0 else b
                if i == messages // 3:
                    a.worker.kill()
                if i == 2 * messages // 3:
                    a.start_worker()
                body = {"channel": "api", "external_id": f"two-hosts-{i}", "subject": f"Order {i}",
                        "text": f"How do I export my projects to CSV? I tried {i} times and the button does nothing.",
                        "author": {"handle": f"c{i}", "name": f"Customer {i}", "email": f"c{i}@example.com"}}
                t = time.monotonic()
                answers[client.post(f"{host.web.url}/api/inbound", json=body).status_code] += 1
                took = time.monotonic() - t
                times[host.name].append(took)
                if host is a and messages // 3 <= i < 2 * messages // 3:
                    times["a_worker_dead"].append(took)
        posted_s = time.monotonic() - started
        while (c := _counts(db_url))["acks_sent"] < messages or c["pending"]:
            if time.monotonic() - started > 1800:  # a hang guard
                break
            time.sleep(0.5)
        settled_s = time.monotonic() - started
        delivered, resends = deliveries(receiver)
        return {
            "messages": messages, "answers": dict(answers), "seconds_posting": round(posted_s, 1),
            "seconds_until_all_acknowledged": round(settled_s, 1),
            "throughput_acknowledged_per_s": round(messages / settled_s, 1),
            **{f"answer_ms_p50_{k}": _pct(v, 50) for k, v in times.items()},
            **{f"answer_ms_p99_{k}": _pct(v, 99) for k, v in times.items()},
            "tickets": c["tickets"], "acknowledgements": c["acks"], "acknowledgements_sent": c["acks_sent"],
            "keys_a_customer_got": len(delivered),
            "keys_a_customer_got_twice": sum(1 for n in delivered.values() if n > 1),
            "resends_the_receiver_recognised": resends, "load_1min_at_end": round(os.getloadavg()[0], 2),
        }
    finally:
        for host in hosts:
            host.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--db", default="postgresql+psycopg://postgres@127.0.0.1/postgres",
                        help="an administrative URL: a database of the run's own is created and dropped")
    parser.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672//")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    from sqlalchemy import create_engine, text

    from storage.db import dispose_engines
    from storage.migrate import upgrade
    from tests.workers import Broker

    name = f"trkv_two_hosts_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.db, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = args.db.rsplit("/", 1)[0] + f"/{name}"
    broker = Broker("amqp", args.broker, f"two{uuid.uuid4().hex[:8]}_")
    load_at_start = round(os.getloadavg()[0], 2)
    try:
        upgrade(db_url)
        figures = run(db_url, broker, Path(tempfile.mkdtemp(prefix="trkv-two-hosts-")), args.messages)
    finally:
        broker.cleanup()
        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    figures["load_1min_at_start"] = load_at_start
    from bench.record import write

    write("two_hosts", figures, note="two hubs (`trkv web` + `trkv worker -c 2 -B` each) on the shared PostgreSQL and "
                                     "RabbitMQ (a database and queue prefix of their own), one client posting "
                                     "alternately; A's worker SIGKILLed at 1/3 and restarted at 2/3; the machine "
                                     "(2 cores) is shared with other engineers' work")
    print(figures)


if __name__ == "__main__":
    main()
