"""Discord benchmark: a burst of messages from the gateway to committed tickets.

    .venv/bin/python bench/discord.py [--messages 5000] [--backend sqlite|postgresql] [--ingest celery|inline]

The local Discord server (tests/discord_server.py) pushes a burst of MESSAGE_CREATE
events over its websocket to the unmodified discord.py client in the hub's Discord
connector (the same receiver `trkv connect discord` runs), which stages them in
batches (support.intake.submit, one Celery kick per batch). A real Celery worker
(`celery -A worker worker -c 2`, embedded filesystem broker) ingests the batches with
support.intake.process: tickets, messages, triage and acknowledgement rows committed.
`--ingest inline` runs that loop in this process instead (no broker). Figures printed:
gateway -> staged (connector throughput) and gateway -> committed tickets, msgs/s.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder comes first on sys.path, and its name would hide discord.py.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from tests.discord_server import BO, GUILD_ID, TOKEN, DiscordServer  # noqa: E402

BATCH = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--ingest", choices=("celery", "inline"), default="celery")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="trkv-bench-discord-"))
    db_url, drop = database(args.backend, home)
    with DiscordServer() as server:
        os.environ.update({
            "TRKV_HOME": str(home), "TRKV_DATABASE_URL": db_url, "TRKV_DEMO": "0", "TRKV_DISCORD_TOKEN": TOKEN,
            "TRKV_DISCORD_GUILD_ID": GUILD_ID, "TRKV_DISCORD_API_BASE": server.api_base,
            "TRKV_DISCORD_GATEWAY_URL": server.gateway_url, "TRKV_DISCORD_GUILD_READY_TIMEOUT": "0.05",
            "TRKV_LOG_LEVEL": "WARNING", "TRKV_QUEUE_PREFIX": f"bench{uuid.uuid4().hex[:6]}_",
        })
        try:
            run(server, args.messages, args.backend, args.ingest)
        finally:
            drop()


def database(backend: str, home: Path):
    from storage.migrate import upgrade

    if backend == "sqlite":
        url = f"sqlite:///{home / 'trkv.db'}"
        upgrade(url)
        return url, lambda: None
    name = f"trkv_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    upgrade(url)

    def drop() -> None:
        from storage.db import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return url, drop


def run(server: DiscordServer, count: int, backend: str, ingest: str) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    from connectors.runner import run_receivers
    from storage.db import session_factory
    from storage.models.intake import InboundQueue
    from storage.models.tickets import Ticket
    from support.intake import staging as intake
    from support.intake.receive import DatabaseSink, receivers_for
    from trkv.settings import reset_settings

    settings = reset_settings()
    import worker

    worker.reconfigure(settings)
    Session = session_factory(settings.db_url)

    def counts() -> tuple[int, int]:
        with Session() as session:
            staged = session.execute(select(func.count()).select_from(InboundQueue)).scalar()
            tickets = session.execute(select(func.count()).select_from(Ticket)).scalar()
        return staged, tickets

    stop = threading.Event()
    connector = threading.Thread(target=run_receivers, daemon=True,
                                 args=(receivers_for(settings, ["discord"]), DatabaseSink(settings), stop))
    connector.start()

    def ingest_loop() -> None:  # plays the Celery worker's trkv.ingest task
        while not stop.is_set():
            with Session() as session:
                pending = session.execute(select(InboundQueue.id).where(InboundQueue.status == "pending")
                                          .order_by(InboundQueue.id).limit(BATCH)).scalars().all()
            if pending:
                intake.process(list(pending), settings)
            else:
                time.sleep(0.01)

    celery = None
    if ingest == "celery":
        from tests.workers import Broker, Worker, worker_env

        broker = Broker("filesystem", None, os.environ["TRKV_QUEUE_PREFIX"])
        celery = Worker(worker_env(settings, broker), settings.home_path / "worker.log").start()
    else:
        threading.Thread(target=ingest_loop, daemon=True).start()
    server.wait(lambda: server.connected() == 1, "the connector", timeout=120)
    server.post("support", BO, "warm-up: is the API down?")  # loads the triage model outside the timing
    server.wait(lambda: counts()[1] == 1, "the warm-up ticket", timeout=300)

    texts = [f"burst message {n}: the export of project {n % 97} fails with error {n % 13}" for n in range(count)]
    started = time.perf_counter()
    server.burst("support", BO, texts)
    pushed = time.perf_counter() - started
    staged_at = tickets_at = None
    while tickets_at is None:
        staged, tickets = counts()
        now = time.perf_counter() - started
        if staged_at is None and staged >= count + 1:
            staged_at = now
        if tickets >= count + 1:
            tickets_at = now
        time.sleep(0.05)
    stop.set()
    connector.join(30)
    if celery is not None:
        celery.stop()
    print(f"Discord burst of {count:,} messages, {backend}, ingest: {ingest}, "
          f"{platform.machine()} {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
          f"Python {platform.python_version()}")
    print(f"  server pushed the burst in     {pushed:7.2f} s")
    print(f"  gateway -> staged (connector)  {staged_at:7.2f} s  {count / staged_at:8.0f} msgs/s")
    print(f"  gateway -> committed tickets   {tickets_at:7.2f} s  {count / tickets_at:8.0f} msgs/s")
    import record  # bench/record.py: figures kept in bench/results/

    record.write(f"discord-{backend}-{ingest}", {
        "messages": count, "backend": backend, "ingest": ingest, "pushed_s": round(pushed, 2),
        "staged_s": round(staged_at, 2), "staged_per_s": round(count / staged_at),
        "tickets_s": round(tickets_at, 2), "tickets_per_s": round(count / tickets_at)})


if __name__ == "__main__":
    main()
