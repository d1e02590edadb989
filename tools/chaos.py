"""Faults, with figures: messages go through a hub on PostgreSQL and RabbitMQ (staged as
a connector stages them, ingested and acknowledged by real `trkv worker -B` processes)
while, in turn, RabbitMQ is restarted and a worker is SIGKILLed. Per fault it reports
messages lost (must be 0), customer-visible duplicates (must be 0: a key the `log`
receiver took twice, or a second ticket for one message) and seconds to recover (from
the end of the fault until everything submitted so far is ingested and acknowledged).

RabbitMQ here is a private node (port 5673, its own data folder), so that restarting it
does not disturb anything else on the machine. `make chaos` runs 10,000 messages and
writes bench/results/chaos.json; tests/test_chaos.py runs a small version in CI.

    python tools/chaos.py [--messages 10000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NODE, PORT, DIST_PORT = "trkvchaos@localhost", 5673, 25673
TIMING = {"requeue_after": "2", "send_lease": "15", "sweep_interval": "1"}


# the private RabbitMQ node ---------------------------------------------------------------


class RabbitNode:
    """`rabbitmq-server` on its own port and data folder; `restart` is stop_app/start_app."""

    def __init__(self):
        # A folder of its own under /tmp: the server runs as the rabbitmq user, which must reach it.
        self.folder = Path(tempfile.mkdtemp(prefix="trkv-rabbit-"))
        self.folder.chmod(0o755)
        self.url = f"amqp://guest:guest@127.0.0.1:{PORT}//"

    def _env(self) -> dict[str, str]:
        f = self.folder
        return {**os.environ, "RABBITMQ_NODENAME": NODE, "RABBITMQ_NODE_PORT": str(PORT),
                "RABBITMQ_DIST_PORT": str(DIST_PORT), "RABBITMQ_CONFIG_FILE": str(f / "rabbitmq.conf"),
                "RABBITMQ_MNESIA_BASE": str(f / "mnesia"), "RABBITMQ_LOG_BASE": str(f / "log"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(f / "plugins"), "RABBITMQ_FEATURE_FLAGS_FILE": str(f / "ff"),
                "RABBITMQ_PID_FILE": str(f / "pid")}

    def start(self, timeout: float = 90) -> RabbitNode:
        if shutil.which("rabbitmq-server") is None:
            raise RuntimeError("rabbitmq-server is not installed")
        if not _listening(PORT):
            for sub in ("mnesia", "log"):
                (self.folder / sub).mkdir(parents=True, exist_ok=True)
            (self.folder / "plugins").write_text("[].\n")
            (self.folder / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{PORT}\n")
            if os.geteuid() == 0:  # the server script drops to the rabbitmq user
                subprocess.run(["chown", "-R", "rabbitmq:rabbitmq", str(self.folder)], check=False)
            with open(self.folder / "server.out", "ab") as out:
                subprocess.Popen(["rabbitmq-server"], env=self._env(), stdout=out, stderr=subprocess.STDOUT,
                                 start_new_session=True)
        _wait_port(PORT, True, timeout)
        return self

    def ctl(self, *args: str) -> None:
        subprocess.run(["rabbitmqctl", "-n", NODE, *args], env=self._env(), check=True, capture_output=True,
                       timeout=120)

    def stop(self) -> None:
        subprocess.run(["rabbitmqctl", "-n", NODE, "stop"], env=self._env(), capture_output=True, timeout=120)
        shutil.rmtree(self.folder, ignore_errors=True)


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_port(port: int, up: bool, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _listening(port) != up:
        if time.monotonic() > deadline:
            raise RuntimeError(f"port {port} did not {'open' if up else 'close'} within {timeout:g} s")
        time.sleep(0.2)


# the run -------------------------------------------------------------------------------


def _messages(start: int, count: int) -> list:
    from connectors.base import Inbound

    return [Inbound(channel="email", external_id=f"chaos-{i}@mail.example", author_id=f"c{i}@example.com",
                    author_handle=f"c{i}@example.com", author_name=f"Customer {i}", author_email=f"c{i}@example.com",
                    subject=f"Export question {i}",
                    text=f"How do I export my projects to CSV? I tried {i} times and the button does nothing.")
            for i in range(start, start + count)]


def _counts(settings) -> dict[str, int]:
    from sqlalchemy import func, select

    from storage.db import session_factory
    from storage.models.delivery import Outbox
    from storage.models.intake import InboundQueue
    from storage.models.tickets import Message, Ticket

    with session_factory(settings.db_url)() as session:
        def count(model, *where):
            return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()

        return {"messages": count(Message, Message.direction == "in"), "tickets": count(Ticket),
                "acks_sent": count(Outbox, Outbox.kind == "ack", Outbox.status == "sent"),
                "pending": count(InboundQueue, InboundQueue.status == "pending")}


def _settled(settings, submitted: int, timeout: float) -> float | None:
    """Seconds until all `submitted` messages are ingested and acknowledged (None: not within `timeout`)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        c = _counts(settings)
        if c["pending"] == 0 and c["messages"] >= submitted and c["acks_sent"] >= submitted:
            return round(time.monotonic() - started, 2)
        time.sleep(0.25)
    return None


def _submit(settings, inbounds, per_call: int = 10) -> None:
    from support.intake import staging

    for start in range(0, len(inbounds), per_call):
        staging.submit(inbounds[start : start + per_call], settings=settings)


def run(settings, host, rabbit: RabbitNode, receiver: Path, messages: int, timeout: float = 600) -> dict:
    """Send `messages` in one phase per fault, the fault in the middle of each; figures per fault."""
    from tests.hosts import deliveries

    faults = {"rabbitmq_restart": lambda: (rabbit.ctl("stop_app"), time.sleep(5), rabbit.ctl("start_app")),
              "worker_sigkill": lambda: (host.worker.kill(), time.sleep(2), host.start_worker())}
    per_phase, sent, figures = messages // len(faults), 0, {}
    for name, fault in faults.items():
        batch = _messages(sent, per_phase)
        _submit(settings, batch[: per_phase // 2])
        fault()
        _submit(settings, batch[per_phase // 2 :])
        sent += per_phase
        recover = _settled(settings, sent, timeout)
        counts = _counts(settings)
        delivered, resends = deliveries(receiver)
        figures[name] = {
            "messages": per_phase, "lost": max(0, sent - counts["messages"]),
            "duplicate_tickets": max(0, counts["tickets"] - counts["messages"]),
            "customer_visible_duplicates": sum(n - 1 for n in delivered.values() if n > 1),
            "resends_the_receiver_recognised": resends, "seconds_to_recover": recover,
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--db", default="postgresql+psycopg://postgres@127.0.0.1/postgres",
                        help="an administrative URL: a database of the run's own is created and dropped")
    args = parser.parse_args()
    from sqlalchemy import create_engine, text

    folder = Path(tempfile.mkdtemp(prefix="trkv-chaos-"))
    name = f"trkv_chaos_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.db, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = args.db.rsplit("/", 1)[0] + f"/{name}"
    rabbit = RabbitNode().start()
    try:
        figures = hub_run(folder, db_url, rabbit, args.messages)
    finally:
        rabbit.stop()
        from storage.db import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    from bench.record import write

    write("chaos", figures, note="messages staged as a connector stages them; faults: RabbitMQ stop_app/start_app "
                                 "(5 s down), SIGKILL of the worker (restarted after 2 s); one host")
    print(figures)


def hub_run(folder: Path, db_url: str, rabbit: RabbitNode, messages: int, setenv=os.environ.__setitem__) -> dict:
    """One host (a worker with beat) on `db_url` and `rabbit`; returns the figures.
    `setenv` sets this process's environment to the host's (tests pass monkeypatch's)."""
    from storage.migrate import upgrade
    from tests.hosts import Host
    from tests.workers import Broker
    from trkv.settings import reset_settings

    upgrade(db_url)
    broker = Broker("amqp", rabbit.url, f"c{uuid.uuid4().hex[:8]}_")
    receiver = folder / "receiver.jsonl"
    receiver.touch()
    host = Host("chaos", folder / "host", db_url, broker, uuid.uuid4().hex, receiver, **TIMING)
    for key, value in host.env.items():
        if key.startswith("TRKV_"):
            setenv(key, value)
    settings = reset_settings()
    import worker

    worker.reconfigure(settings)
    host.start_worker()  # messages come in as a connector stages them: no web process needed
    try:
        return run(settings, host, rabbit, receiver, messages)
    finally:
        host.stop()


if __name__ == "__main__":
    main()
