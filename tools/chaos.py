"""Faults, with figures: customers' mail goes through a whole hub (delivered into an IMAP
server, read by the real `trkv connect email` process, ingested and acknowledged by a real
`trkv worker -B`, on PostgreSQL and RabbitMQ) while, in turn:

- RabbitMQ is restarted (stop_app, 5 s, start_app);
- PostgreSQL is restarted (an immediate stop, as a crash, 5 s, start);
- the worker is SIGKILLed (main process and pool together) and started again after 2 s;
- the connector process is SIGKILLed and started again after 2 s;
- the IMAP server is stopped for a minute.

Each fault has a phase of its own: half the phase's mail is delivered, the fault strikes
while that mail is in flight, then the other half is delivered. Per fault it reports
messages lost (must be 0), customer-visible duplicates (must be 0: a key the `log`
receiver took twice, a message stored twice, a second ticket for one message) and seconds
to recover (from the end of the fault until every message delivered so far is ingested
and acknowledged).

Every service is the run's own (tools/chaos_parts.py): a RabbitMQ node and a PostgreSQL
cluster on free ports with data folders under /tmp, and a Dovecot, so that restarting
them disturbs nothing else on the machine. `make chaos` runs 10,000 messages and writes
bench/results/chaos.json; tests/test_chaos.py runs a small version in CI.

    python tools/chaos.py [--messages 10000] [--imap-down 60]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from chaos_parts import Connector, PostgresCluster, RabbitNode, deliver  # noqa: E402

TIMING = {"requeue_after": "2", "send_lease": "15", "sweep_interval": "1"}
FAULTS = ("rabbitmq_restart", "postgresql_restart", "worker_sigkill", "connector_sigkill", "imap_stop")


def _counts(db_url: str) -> dict[str, int]:
    """What the hub holds now; waits out a database that is restarting."""
    from sqlalchemy import distinct, func, select
    from sqlalchemy.exc import OperationalError

    from storage.db import dispose_engines, session_factory
    from storage.models.delivery import Outbox
    from storage.models.intake import InboundQueue
    from storage.models.tickets import Message, Ticket

    for _ in range(120):
        try:
            with session_factory(db_url)() as session:
                def one(query):
                    return session.execute(query).scalar_one()

                inbound = Message.direction == "in"
                return {
                    "messages": one(select(func.count()).select_from(Message).where(inbound)),
                    "distinct_messages": one(select(func.count(distinct(Message.external_id))).where(inbound)),
                    "tickets": one(select(func.count()).select_from(Ticket)),
                    "acks_sent": one(select(func.count()).select_from(Outbox)
                                     .where(Outbox.kind == "ack", Outbox.status == "sent")),
                    "pending": one(select(func.count()).select_from(InboundQueue)
                                   .where(InboundQueue.status == "pending")),
                    "quarantined": one(select(func.count()).select_from(InboundQueue)
                                       .where(InboundQueue.status == "quarantined")),
                }
        except OperationalError:
            dispose_engines()
            time.sleep(1)
    raise RuntimeError("the database did not come back within two minutes")


def _settled(db_url: str, delivered: int, timeout: float) -> float | None:
    """Seconds until all `delivered` messages are ingested and acknowledged, or quarantined (which the
    figures count as lost: the customer hears nothing); None: not within `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:  # a hang guard, not a speed check
        c = _counts(db_url)
        if c["pending"] == 0 and c["messages"] + c["quarantined"] >= delivered and c["acks_sent"] >= c["messages"]:
            return round(time.monotonic() - started, 2)
        time.sleep(0.25)
    return None


class Hub:
    """The run's services and the hub's processes on them."""

    def __init__(self, folder: Path, dovecot_server, rabbit: RabbitNode, pg: PostgresCluster, db_url: str):
        from tests.hosts import Host
        from tests.workers import Broker

        self.imap, self.rabbit, self.pg, self.db_url = dovecot_server, rabbit, pg, db_url
        self.receiver = folder / "receiver.jsonl"
        self.receiver.touch()
        broker = Broker("amqp", rabbit.url, f"c{uuid.uuid4().hex[:8]}_")
        self.host = Host("chaos", folder / "host", db_url, broker, uuid.uuid4().hex, self.receiver, **TIMING)
        s = dovecot_server
        self.host.env.update({"TRKV_IMAP_HOST": s.host, "TRKV_IMAP_PORT": str(s.port), "TRKV_IMAP_USER": s.user,
                              "TRKV_IMAP_PASSWORD": s.password, "TRKV_IMAP_SSL": "0", "TRKV_IMAP_STARTTLS": "0",
                              "TRKV_IMAP_FOLDERS": "INBOX", "TRKV_IMAP_TIMEOUT": "10"})
        self.connector = Connector(self.host.env, folder / "host" / "connector.log")

    def start(self) -> Hub:
        self.host.start_worker()
        self.connector.start()
        return self

    def stop(self) -> None:
        self.connector.stop()
        self.host.stop()

    def fault(self, name: str, imap_down: float) -> None:
        if name == "rabbitmq_restart":
            self.rabbit.restart(down=5)
        elif name == "postgresql_restart":
            self.pg.restart(down=5)
        elif name == "worker_sigkill":
            self.host.worker.kill()
            time.sleep(2)
            self.host.start_worker()
        elif name == "connector_sigkill":
            self.connector.kill()
            time.sleep(2)
            self.connector.start()
        elif name == "imap_stop":
            self.imap.stop()
            time.sleep(imap_down)
            self.imap.start()


def run(hub: Hub, messages: int, imap_down: float = 60, timeout: float = 600, log=print) -> dict:
    """`messages` in one phase per fault, the fault in the middle of each; figures per fault."""
    from tests.hosts import deliveries

    per_phase, sent, figures = messages // len(FAULTS), 0, {}
    for name in FAULTS:
        half = per_phase // 2
        deliver(hub.imap, sent, half)
        started = time.monotonic()
        hub.fault(name, imap_down)
        fault_s = round(time.monotonic() - started, 1)
        deliver(hub.imap, sent + half, per_phase - half)
        sent += per_phase
        recover = _settled(hub.db_url, sent, timeout)
        c = _counts(hub.db_url)
        delivered, resends = deliveries(hub.receiver)
        figures[name] = {
            "messages": per_phase, "fault_seconds": fault_s, "lost": max(0, sent - c["distinct_messages"]),
            "quarantined": c["quarantined"], "messages_stored_twice": c["messages"] - c["distinct_messages"],
            "duplicate_tickets": max(0, c["tickets"] - c["distinct_messages"]),
            "customer_visible_duplicates": sum(n - 1 for n in delivered.values() if n > 1),
            "acknowledgements_sent": sum(1 for key in delivered if key.startswith("ack:")),
            "other_sends": sum(1 for key in delivered if not key.startswith("ack:")),  # pages of SLA breaches
            "resends_the_receiver_recognised": resends, "seconds_to_recover": recover,
            "load_1min": round(os.getloadavg()[0], 2),
        }
        log(name, figures[name])
    return figures


def hub_run(folder: Path, messages: int, imap_down: float = 60, log=print) -> dict:
    """Start every service of the run's own, run the phases, stop everything; the figures."""
    from sqlalchemy import create_engine, text

    from storage.db import dispose_engines
    from storage.migrate import upgrade
    from tests import dovecot

    pg, rabbit, hub = PostgresCluster(), RabbitNode(), None
    try:
        pg.start()
        admin = create_engine(pg.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text('CREATE DATABASE "trkv_chaos"'))
        admin.dispose()
        db_url = pg.url("trkv_chaos")
        upgrade(db_url)
        rabbit.start()
        with dovecot.running() as server:
            hub = Hub(folder, server, rabbit, pg, db_url).start()
            try:
                return run(hub, messages, imap_down, log=log)
            finally:
                hub.stop()
    finally:
        dispose_engines()
        rabbit.stop()
        pg.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--imap-down", type=float, default=60, help="seconds the IMAP server stays stopped")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` cleans up as Ctrl-C does
    started = time.monotonic()
    figures = hub_run(Path(tempfile.mkdtemp(prefix="trkv-chaos-")), args.messages, args.imap_down)
    figures["total_minutes"] = round((time.monotonic() - started) / 60, 1)
    from bench.record import write

    write("chaos", figures, note=(
        "customers' mail APPENDed into a Dovecot of the run's own, read by `trkv connect email`, ingested and "
        "acknowledged by `trkv worker -c 2 -B`, on a PostgreSQL cluster and a RabbitMQ node of the run's own; "
        f"faults: RabbitMQ stop_app/start_app (5 s down), PostgreSQL immediate stop/start (5 s down), SIGKILL of the "
        f"worker (restarted after 2 s), SIGKILL of the connector (restarted after 2 s), Dovecot stopped "
        f"{args.imap_down:g} s; one host; the machine (2 cores) is shared with other engineers' work (load_1min per "
        f"fault)"))
    print(figures)


if __name__ == "__main__":
    main()
