"""Paging benchmark: a critical message in -> the page received by a local webhook.

    .venv/bin/python bench/paging.py [--messages 200] [--rate 4] [--brokers amqp,filesystem] [--bulk 20000]

For each broker, real Celery workers run as subprocesses, as `trkv up` runs them: one on
the `critical` queue (one process), one on `default` (two) and one on `bulk` (one).
Meanwhile `trkv import` loads a JSONL file of `--bulk` generated messages again and again
(new ids each round) in its own process, so the pages compete with a bulk import for the database and the CPU. Critical
messages are submitted through `support.intake.submit` at `--rate` per second, each
unlike the others (so none groups into another's alert); latency = submit call ->
the page's HTTP request at the local listener. Between them, as many ordinary customer
messages go the live path; their latency = submit call -> the ingest transaction that
stores the ticket with its suggestion and queues the acknowledgement (the staged row's
`updated_at`, set just before that commit). "durable" is the submit call's own return, once the
staged row is on disk: on PostgreSQL the worker is kicked before that flush, not after it.
RabbitMQ runs on PostgreSQL, the embedded transport on SQLite (the one-machine default).
Targets (issue 19): during the import, live path p99 <= 50 ms and page p99 <= 500 ms on
RabbitMQ + PostgreSQL; page p99 <= 1 s embedded.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after ROOT: bench/triage.py must not shadow the triage package

import record  # bench/record.py: figures kept in bench/results/
from sqlalchemy import create_engine, text  # noqa: E402
from synthetic import MessageFactory  # noqa: E402

from connectors.base import Inbound  # noqa: E402
from storage.db import dispose_engines  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.workers import Worker, make_broker, worker_env  # noqa: E402
from trkv.settings import reset_settings  # noqa: E402

NO_INCIDENTS = 1_000_000  # distinct reporters a proposal would need
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


class Listener:
    def __init__(self):
        self.arrivals: dict[str, float] = {}
        arrivals = self.arrivals

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                token = body.get("title", "").rsplit(" ", 1)[-1]
                arrivals.setdefault(token, time.time())
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/page"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def token(i: int) -> str:
    """A made-up word per message: alike text would (rightly) group into one alert."""
    letters = string.ascii_lowercase
    word = ""
    for _ in range(4):
        word, i = word + letters[i % 26], i // 26
    return "zq" + word + "x"


def critical(i: int, run: str) -> Inbound:
    words = " ".join(token(i * 5 + k) for k in range(4))
    return Inbound(channel="x", external_id=f"bench-page-{run}-{i}", author_id=f"p{i}", author_handle=f"@p{i}",
                   text=f"the site is down {words} {token(i * 5 + 4)}", conversation_key=f"bench-page-{run}-{i}")


def bulk_file(folder: Path, count: int) -> Path:
    path = folder / "bulk.jsonl"
    factory = MessageFactory(run_id=uuid.uuid4().hex[:8])
    with path.open("w") as handle:
        for message in factory.batch(count):
            handle.write(json.dumps(message.to_dict(), default=str) + "\n")
    return path


class BulkImport:
    """`trkv import` in a loop, in a process of its own, until stopped; ids renamed per round.

    The renaming (20,000 JSON lines a round) runs in that process too: in a thread of this
    one it held the GIL against the submit calls being timed, which added up to a switch
    interval (5 ms) to each of their round trips to the database."""

    def __init__(self, env: dict, source: Path, folder: Path):
        self.env, self.source, self.folder = env, source, folder
        self.stop_file, self.count_file = folder / "bulk.stop", folder / "bulk.count"
        self.process: subprocess.Popen | None = None
        self.failed: str | None = None
        self.imported = 0

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, __file__, "--bulk-loop", str(self.source), str(self.folder)],
                                        env=self.env, cwd=self.folder, stderr=subprocess.PIPE, text=True,
                                        start_new_session=True)  # as from an operator's terminal, not the hub's session

    def stop(self, timeout: float = 300) -> None:
        """Ends after the round under way (a round cut short would be counted wrong)."""
        self.stop_file.touch()
        if self.process is not None:
            _, err = self.process.communicate(timeout=timeout)
            if self.process.returncode != 0:
                self.failed = err[-2000:]
        self.imported = int(self.count_file.read_text() or 0) if self.count_file.exists() else 0

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()


def bulk_loop(source: Path, folder: Path) -> int:
    """The import loop's own process (`--bulk-loop`): a failing import is no load, so it
    fails the run rather than count."""
    lines = source.read_text().splitlines()
    round_, imported = 0, 0
    while not (folder / "bulk.stop").exists():
        round_ += 1
        path = folder / f"round{round_}.jsonl"
        with path.open("w") as handle:
            for line in lines:
                data = json.loads(line)
                data["external_id"] = f"r{round_}-{data['external_id']}"
                handle.write(json.dumps(data) + "\n")
        done = subprocess.run([str(ROOT / ".venv/bin/trkv"), "import", str(path)], cwd=folder,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
        if done.returncode != 0:
            sys.stderr.write(done.stderr[-2000:])
            return 1
        imported += len(lines)
        (folder / "bulk.count").write_text(str(imported))
        path.unlink()
    return 0


def run(broker_kind: str, messages: int, rate: float, bulk: int) -> dict:
    broker = make_broker(broker_kind)
    listener = Listener()
    with tempfile.TemporaryDirectory(prefix="trkv-bench-paging-") as home:
        home_path = Path(home)
        url, pg_name = f"sqlite:///{home_path / 'trkv.db'}", None
        if broker_kind == "amqp":
            pg_name = f"trkv_bench_paging_{uuid.uuid4().hex[:8]}"
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
            admin.dispose()
            url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}"
        # Incident detection off: 200 "the site is down" reports in a minute ARE an incident,
        # and the hub rightly pages it once; this measures one message's own page path.
        env = {"TRKV_HOME": home, "TRKV_DATABASE_URL": url, "TRKV_DEMO": "0", "TRKV_QUEUE_PREFIX": broker.prefix,
               "TRKV_ONCALL_WEBHOOK_URL": listener.url, "TRKV_INCIDENT_MIN_CONTACTS": str(NO_INCIDENTS)}
        os.environ.pop("TRKV_BROKER_URL", None)  # left over from the previous broker's run
        if broker.url:
            env["TRKV_BROKER_URL"] = broker.url
        os.environ.update(env)
        settings = reset_settings()
        import worker as celery_app

        celery_app.reconfigure(settings)
        upgrade(url)
        from support.intake import staging as intake
        from triage.classifier import suggest_batch
        from triage.types import TriageInput

        suggest_batch([TriageInput(text="warm up", channel="x", subject=None, hints={})])  # the model, ready on disk
        workers, importer = [], None
        try:
            wenv = worker_env(settings, broker, oncall_webhook_url=listener.url, incident_min_contacts=str(NO_INCIDENTS))
            # The one-machine topology of `trkv up` (trkv/supervisor.py)
            workers.append(Worker(wenv, home_path / "critical.log", queues=("critical",), concurrency=1).start())
            workers.append(Worker(wenv, home_path / "default.log", queues=("default",)).start())
            workers.append(Worker(wenv, home_path / "bulk.log", queues=("bulk",), concurrency=1).start())
            # Steady state: each pool process has served both kinds of message before the clock
            # starts (a process's first ones connect and compile their statements, ~0.2 s once).
            warm = [intake.submit([m], settings=settings)[0]
                    for i in range(4) for m in (critical(10_000 + i, "warm"), MessageFactory(seed=31 + i).one())]
            deadline = time.time() + 120
            while (len(listener.arrivals) < 4 or len(live_latencies_ms(dict.fromkeys(warm, 0.0), settings, wait=False)) < len(warm)) \
                    and time.time() < deadline:
                time.sleep(0.2)
            importer = BulkImport({**os.environ, **wenv}, bulk_file(home_path, max(bulk, 1)), home_path)
            if bulk:  # --bulk 0: pages alone, for comparison
                importer.start()
                time.sleep(2)  # the import is under way
            run_id = uuid.uuid4().hex[:6]
            submitted: dict[str, float] = {}
            live: dict[int, float] = {}
            returned_ms: list[float] = []  # submit call -> its return: the staged row durable
            ordinary = MessageFactory(seed=29)
            bulk_started = time.time()
            start = time.time()
            for i in range(messages):
                time.sleep(max(0.0, start + i / rate - time.time()))
                message = critical(i, run_id)
                submitted[token(i * 5 + 4)] = time.time()
                intake.submit([message], settings=settings)
                time.sleep(max(0.0, start + (i + 0.5) / rate - time.time()))
                inbound = ordinary.one()
                before = time.time()
                live[intake.submit([inbound], settings=settings)[0]] = before
                returned_ms.append((time.time() - before) * 1000)
            deadline = time.time() + 120
            while len([t for t in submitted if t in listener.arrivals]) < messages and time.time() < deadline:
                time.sleep(0.2)
            if bulk:
                importer.stop()
            bulk_seconds = time.time() - bulk_started
            latencies = sorted((listener.arrivals[t] - s) * 1000 for t, s in submitted.items() if t in listener.arrivals)
            live_ms = sorted(live_latencies_ms(live, settings))
            if bulk:
                if importer.failed:
                    raise RuntimeError(f"the bulk import failed:\n{importer.failed}")
        finally:
            if importer is not None:
                importer.kill()  # a run that failed midway leaves no import running
            for w in workers:
                w.stop()
            if os.environ.get("TRKV_BENCH_KEEP_LOGS"):  # the workers' logs, for a look at task runtimes
                import shutil

                for log in home_path.glob("*.log"):
                    shutil.copy(log, Path(os.environ["TRKV_BENCH_KEEP_LOGS"]) / f"{broker_kind}-{log.name}")
            broker.cleanup()
            dispose_engines()
            if pg_name:
                admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
                admin.dispose()
    return {"broker": broker_kind, "database": "postgresql" if pg_name else "sqlite", "sent": messages,
            "received": len(latencies), "bulk_imported": importer.imported,
            "bulk_msgs_per_s": round(importer.imported / bulk_seconds) if bulk else 0,
            "p50_ms": statistics.median(latencies) if latencies else None,
            "p99_ms": _p99(latencies), "max_ms": latencies[-1] if latencies else None,
            "live_sent": len(live), "live_done": len(live_ms),
            "live_p50_ms": round(statistics.median(live_ms), 1) if live_ms else None,
            "live_p99_ms": _p99(live_ms), "live_max_ms": live_ms[-1] if live_ms else None,
            "submit_returned_p50_ms": round(statistics.median(returned_ms), 1) if returned_ms else None,
            "submit_returned_p99_ms": _p99(sorted(returned_ms))}


def _p99(values: list[float]) -> float | None:
    return round(values[min(len(values) - 1, int(len(values) * 0.99))], 1) if values else None


def live_latencies_ms(submitted: dict[int, float], settings, wait: bool = True) -> list[float]:
    """Submit call -> ingest commit of each ordinary message (waits up to 2 minutes for stragglers)."""
    from sqlalchemy import select

    from storage.db import session_factory
    from storage.models.intake import InboundQueue

    Session = session_factory(settings.db_url)
    deadline = time.time() + 120
    while True:
        with Session() as session:
            rows = session.execute(select(InboundQueue.id, InboundQueue.updated_at)
                                   .where(InboundQueue.id.in_(list(submitted)), InboundQueue.status == "done")).all()
        if not wait or len(rows) == len(submitted) or time.time() > deadline:
            return [(r.updated_at.timestamp() - submitted[r.id]) * 1000 for r in rows]
        time.sleep(0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rate", type=float, default=4.0, help="critical messages per second")
    parser.add_argument("--brokers", default="amqp,filesystem")
    parser.add_argument("--bulk", type=int, default=20_000, help="messages per bulk import round")
    parser.add_argument("--bulk-loop", nargs=2, metavar=("SOURCE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bulk_loop:
        return bulk_loop(Path(args.bulk_loop[0]), Path(args.bulk_loop[1]))
    print(f"machine: {os.cpu_count()} cores; {args.messages} critical messages at {args.rate}/s during a bulk import")
    print(f"{'broker':<11} {'database':<11} {'received':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'bulk msgs':>10}"
          f" {'bulk/s':>7} {'live p50':>9} {'live p99':>9} {'durable p99':>12}")
    rows = []
    for kind in args.brokers.split(","):
        r = run(kind, args.messages, args.rate, args.bulk)
        rows.append(r)
        print(f"{r['broker']:<11} {r['database']:<11} {r['received']:>5}/{r['sent']:<3} {r['p50_ms'] or 0:>8.0f} "
              f"{r['p99_ms'] or 0:>8.0f} {r['max_ms'] or 0:>8.0f} {r['bulk_imported']:>10,} {r['bulk_msgs_per_s']:>7,}"
              f" {r['live_p50_ms'] or 0:>9.1f} {r['live_p99_ms'] or 0:>9.1f} {r['submit_returned_p99_ms'] or 0:>12.1f}",
              flush=True)
    record.write("paging", {"critical_messages": args.messages, "rate_per_s": args.rate, "runs": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
