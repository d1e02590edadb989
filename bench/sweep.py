"""Sweep benchmark: one `support.sweep.sweep()` pass with 100 k (and 1 M) open tickets.

    .venv/bin/python bench/sweep.py [--sizes 100000,1000000] [--backends sqlite,postgresql] [--due 0,100,1000]

Tickets are written straight into the table (Core executemany on SQLite, COPY on
PostgreSQL), open, with their SLA clocks spread over the next 24 hours, so the sweep's
indexed read on `tickets.sla_next_at` finds only the `--due` ones whose warning or
breach has come. Each figure is the median of 5 sweeps (the due tickets are made due
again before each). Target: <= 200 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, text, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import record  # bench/record.py: figures kept in bench/results/

from storage.db import dispose_engines, transaction  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models.base import utcnow
from storage.models.tickets import Ticket
from storage.queries import bulk_insert_returning_ids  # noqa: E402
from trkv.settings import reset_settings  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CHUNK = 20_000


def fill(settings, count: int, start_count: int) -> None:
    now = utcnow()
    rng = random.Random(start_count)
    done = start_count
    while done < count:
        rows = []
        for i in range(min(CHUNK, count - done)):
            created = now - timedelta(minutes=rng.randint(0, 600))
            rows.append({
                "channel": "email", "subject": f"question {done + i}", "snippet": "how do I ...", "status": "open",
                "priority": "low", "category": "support_question", "created_at": created, "updated_at": created,
                "last_message_at": created, "first_response_due_at": created + timedelta(hours=24),
                "resolution_due_at": created + timedelta(hours=24), "sla_paused_seconds": 0.0,
                "sla_next_at": now + timedelta(seconds=rng.randint(3600, 86_400)),  # later today: not due
            })
        with transaction(settings.db_url) as session:
            bulk_insert_returning_ids(session, Ticket, rows)
        done += len(rows)
        print(f"\r  filled {done:,}/{count:,}", end="", flush=True)
    print()


def make_due(settings, due: int) -> None:
    """The first `due` tickets: their 75 % warning is due now (and not yet given)."""
    now = utcnow()
    with transaction(settings.db_url) as session:
        session.execute(update(Ticket).where(Ticket.id <= due).values(
            sla_next_at=now - timedelta(seconds=1), first_response_warned_at=None,
            created_at=now - timedelta(hours=19), first_response_due_at=now + timedelta(hours=5)))


def time_sweeps(settings, due: int, repeat: int = 5) -> tuple[float, int]:
    from support.oncall.sweep import sweep

    times, warned = [], 0
    for _ in range(repeat):
        make_due(settings, due)
        start = time.perf_counter()
        report = sweep(settings)
        times.append((time.perf_counter() - start) * 1000)
        warned = len(report.warnings)
    return statistics.median(times), warned


def database(backend: str, home: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{home / 'trkv.db'}"
    name = f"trkv_bench_sweep_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop(url: str) -> None:
    if url.startswith("postgresql"):
        dispose_engines()
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--due", default="0,100,1000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    dues = [int(d) for d in args.due.split(",")]
    print(f"machine: {os.cpu_count()} cores; sweep = one support.sweep.sweep() pass, median of 5")
    print(f"{'backend':<11} {'open tickets':>12} {'due':>6} {'sweep ms':>9} {'warned':>7}")
    rows = []
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix="trkv-bench-sweep-") as home:
            url = database(backend, Path(home))
            os.environ.update({"TRKV_HOME": home, "TRKV_DATABASE_URL": url, "TRKV_DEMO": "0"})
            settings = reset_settings()
            os.environ["TRKV_BROKER_URL"] = "memory://"  # the sweep's kicks go nowhere: only the sweep is timed
            settings = reset_settings()
            try:
                upgrade(url)
                filled = 0
                for size in sizes:
                    fill(settings, size, filled)
                    filled = size
                    if url.startswith("postgresql"):
                        with transaction(url) as session:
                            session.execute(text("ANALYZE tickets"))
                    for due in dues:
                        ms, warned = time_sweeps(settings, due)
                        print(f"{backend:<11} {size:>12,} {due:>6} {ms:>9.1f} {warned:>7}")
                        rows.append({"backend": backend, "open_tickets": size, "due": due, "sweep_ms": round(ms, 1),
                                     "warned": warned})
            finally:
                drop(url)
                dispose_engines()
    record.write("sweep", {"sweeps": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
