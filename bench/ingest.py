"""Ingestion benchmark: bulk import throughput and live-path latency.

    .venv/bin/python bench/ingest.py [--quick] [--backends sqlite,postgresql] [--brokers amqp,filesystem]

1. Bulk: `support.ingest.ingest_batch` (live=False, batches of 1,000 generated messages,
   see bench/synthetic.py) measured on ~20 k messages once 10 k, 100 k and 1 M tickets
   are stored (`--quick`: up to 100 k). The table is filled up to each size through the
   same path, and the fill rate is reported too. SQLite is a file under a temporary
   TRKV_HOME; PostgreSQL a fresh database `trkv_bench_<random>`, dropped at the end.
2. Live: `support.intake.submit([inbound])` at a steady rate through a real Celery worker
   (`celery -A worker worker -c 2` as a subprocess, SQLite data, a unique queue prefix)
   on RabbitMQ and on the embedded filesystem transport (one run per
   `--polling-intervals` value). Latency = submit call -> `inbound_queue.updated_at`,
   which the worker writes in the ingest transaction just before its commit. Then a
   flood (2,000 submits back to back while the worker runs) and a drain (2,000 queued
   with no worker, then consumed by a fresh one).

Figures are printed as tables and written as JSON to bench/results/ingest.json (`--output`).
bench/profile_ingest.py profiles one step further when a figure is off target.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import MessageFactory  # noqa: E402

from storage.db import dispose_engines, session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models.delivery import Outbox
from storage.models.intake import InboundQueue
from storage.models.tickets import Message, Ticket
from support.intake.ingest import ingest_batch
from trkv.settings import Settings, reset_settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "ingest.json"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"

BATCH = 1_000
FULL_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
BULK_TARGET = 5_000  # msg/s, flat as the table grows
LIVE_P99_TARGET_MS = 250  # on RabbitMQ


# --------------------------------------------------------------------------- machine


def machine_info(backends: list[str], brokers: list[str]) -> dict:
    info = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": round(_mem_total_kb() / 1024 / 1024, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": None,
        "rabbitmq": None,
    }
    if "postgresql" in backends:
        info["postgresql"] = _pg_version()
    if "amqp" in brokers:
        info["rabbitmq"] = _rabbitmq_version()
    return info


def git_state() -> dict:
    """The commit measured, and whether the working tree had changes (read-only git calls)."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {"commit": git("rev-parse", "--short", "HEAD") or None, "dirty": bool(git("status", "--porcelain"))}


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _mem_total_kb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    return 0


def _pg_version() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar()
            autovacuum = conn.execute(text("SHOW autovacuum")).scalar()
        engine.dispose()
        return f"{version}, autovacuum {autovacuum}"
    except Exception as exc:  # noqa: BLE001
        return f"unreachable ({type(exc).__name__})"


def _rabbitmq_version() -> str | None:
    from kombu import Connection

    try:
        with Connection(AMQP_URL, connect_timeout=5) as conn:
            conn.connect()
            return conn.connection.server_properties.get("version")
    except Exception as exc:  # noqa: BLE001
        return f"unreachable ({type(exc).__name__})"


# --------------------------------------------------------------------------- bulk


@dataclass
class Step:
    """One table size: how it was filled and the measured throughput there."""

    tickets_before: int
    fill_messages: int = 0
    fill_seconds: float = 0.0
    messages: int = 0
    seconds: float = 0.0
    batch_ms: list[float] = field(default_factory=list)

    @property
    def fill_rate(self) -> float | None:
        return self.fill_messages / self.fill_seconds if self.fill_seconds else None

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    def summary(self) -> dict:
        return {
            "tickets_stored": self.tickets_before,
            "fill_messages": self.fill_messages,
            "fill_seconds": round(self.fill_seconds, 1),
            "fill_msgs_per_s": round(self.fill_rate) if self.fill_rate else None,
            "messages": self.messages,
            "seconds": round(self.seconds, 2),
            "msgs_per_s": round(self.rate),
            "batch_ms_p50": round(statistics.median(self.batch_ms), 1),
            "batch_ms_max": round(max(self.batch_ms), 1),
        }


class Store:
    """A benchmark database and the count of tickets in it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.tickets = 0
        self.messages = 0

    def ingest(self, batch: list) -> float:
        """Ingest one batch (historical import); returns the seconds it took."""
        # The generator keeps every conversation it made (millions of objects at 1 M
        # tickets); an importer streaming a file does not. Keep them out of the cyclic GC,
        # or its full collections would be counted against ingest.
        gc.freeze()
        start = time.perf_counter()
        results = ingest_batch(batch, live=False, settings=self.settings)
        elapsed = time.perf_counter() - start
        self.tickets += sum(r.created_ticket for r in results)
        self.messages += len(results)
        return elapsed


@contextlib.contextmanager
def bulk_database(backend: str) -> Iterator[Settings]:
    with tempfile.TemporaryDirectory(prefix=f"trkv-bench-{backend}-") as home:
        if backend == "sqlite":
            yield _migrated(Settings(home=home, database_url=None))
            dispose_engines()
        elif backend == "postgresql":
            with postgres_database() as url:
                yield _migrated(Settings(home=home, database_url=url))
                dispose_engines()
        else:
            raise SystemExit(f"unknown backend {backend!r} (sqlite, postgresql)")


def _migrated(settings: Settings) -> Settings:
    upgrade(settings.db_url)
    return settings


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    name = f"trkv_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_bulk(backend: str, sizes: tuple[int, ...], measure: int) -> dict:
    factory = MessageFactory(seed=11)
    steps: list[Step] = []
    with bulk_database(backend) as settings:
        store = Store(settings)
        for size in sizes:
            step = Step(tickets_before=0)
            step.fill_messages, step.fill_seconds = fill_to(store, factory, size, backend)
            step.tickets_before = store.tickets
            measure_at(store, factory, measure, step)
            steps.append(step)
            print(f"  {backend}: {step.tickets_before:>9,} tickets stored -> {step.rate:,.0f} msg/s", flush=True)
    rates = [s.rate for s in steps]
    return {
        "backend": backend,
        "batch_size": BATCH,
        "steps": [s.summary() for s in steps],
        "flatness": round(rates[-1] / rates[0], 2),  # last size's rate / first size's rate
        "target_msgs_per_s": BULK_TARGET,
    }


def fill_to(store: Store, factory: MessageFactory, target: int, label: str) -> tuple[int, float]:
    """Ingest generated batches until `target` tickets are stored; (messages, ingest seconds)."""
    progress = Progress(f"filling {label}", target, store.tickets)
    messages, seconds = 0, 0.0
    while store.tickets < target:
        elapsed = store.ingest(factory.batch(BATCH))
        messages += BATCH
        seconds += elapsed
        progress.show(store.tickets, BATCH / elapsed, messages / seconds)
    progress.done()
    return messages, seconds


def measure_at(store: Store, factory: MessageFactory, count: int, step: Step) -> None:
    batches = [factory.batch(BATCH) for _ in range(max(1, count // BATCH))]  # generated outside the clock
    for batch in batches:
        elapsed = store.ingest(batch)
        step.batch_ms.append(elapsed * 1000)
        step.seconds += elapsed
        step.messages += len(batch)


class Progress:
    """One updating line on a terminal; a line per 10 % otherwise."""

    def __init__(self, label: str, target: int, start: int):
        self.label, self.target, self.start = label, target, start
        self.began = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.next_tenth = 1

    def show(self, current: int, batch_rate: float, mean_rate: float) -> None:
        if current >= self.start + (self.target - self.start) * self.next_tenth / 10:
            self.next_tenth += 1
        elif not self.tty:
            return
        done = (current - self.start) / max(1, self.target - self.start)
        elapsed = time.monotonic() - self.began
        eta = max(0.0, elapsed / done - elapsed) if done > 0 else 0.0
        line = (f"  {self.label}: {min(current, self.target):>9,}/{self.target:,} tickets, "
                f"{batch_rate:,.0f} msg/s now, {mean_rate:,.0f} msg/s mean, eta {eta:5.0f} s")
        print(("\r" + line) if self.tty else line, end="" if self.tty else "\n", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.tty:
            print(file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- live


@dataclass
class LiveConfig:
    broker: str  # "amqp" | "filesystem"
    rate: float
    count: int
    flood: int
    polling_interval: float
    prefill: int


@contextlib.contextmanager
def live_environment(config: LiveConfig) -> Iterator[dict[str, str]]:
    """A fresh TRKV_HOME with a migrated SQLite database; the TRKV_* variables are set in
    this process (for `submit`) and returned for the worker."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("TRKV_")}
    with tempfile.TemporaryDirectory(prefix=f"trkv-bench-live-{config.broker}-") as home:
        env = {
            "TRKV_HOME": home,
            "TRKV_DATABASE_URL": f"sqlite:///{home}/trkv.db",
            "TRKV_QUEUE_PREFIX": f"bench{uuid.uuid4().hex[:8]}.",
            "TRKV_DEMO": "0",
        }
        if config.broker == "amqp":
            env["TRKV_BROKER_URL"] = AMQP_URL
        else:
            env["TRKV_BROKER_POLLING_INTERVAL"] = str(config.polling_interval)
        for key in saved:
            os.environ.pop(key)
        os.environ.update(env)
        dispose_engines()
        settings = reset_settings()
        repoint_celery(settings)
        upgrade(settings.db_url)
        try:
            yield env
        finally:
            dispose_engines()
            for key in env:
                os.environ.pop(key, None)
            os.environ.update(saved)
            reset_settings()


def repoint_celery(settings: Settings) -> None:
    """Publish to this run's broker and queues from this process."""
    import worker  # after the variables are set: importing it configures the Celery app

    worker.reconfigure(settings)
    worker.app.amqp.__dict__.pop("queues", None)  # the queue map cached with the previous prefix


class Worker:
    """`celery -A worker worker` as a subprocess in its own process group."""

    def __init__(self, env: dict[str, str], log_path: Path):
        prefix = env["TRKV_QUEUE_PREFIX"]
        command = [str(ROOT / ".venv/bin/celery"), "-A", "worker", "worker",
                   "-Q", f"{prefix}default,{prefix}critical", "-c", "2", "--loglevel", "WARNING"]
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("TRKV_")} | env
        self.log_path = log_path
        self.log = open(log_path, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(command, cwd=ROOT, env=child_env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def check(self) -> None:
        if self.proc.poll() is not None:
            last = self.tail(1).strip() or "no output"
            raise RuntimeError(f"the worker exited ({self.proc.returncode}): {last}\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> int | None:
        """SIGTERM the process group (a warm shutdown), SIGKILL it after 30 s."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def run_live(config: LiveConfig) -> dict:
    result: dict = {
        "broker": config.broker,
        "polling_interval_s": config.polling_interval if config.broker == "filesystem" else None,
        "tickets_before": config.prefill,
    }
    if config.broker == "amqp":
        result["target_p99_ms"] = LIVE_P99_TARGET_MS
    with live_environment(config) as env:
        try:
            live_phases(config, env, result)
        except (RuntimeError, TimeoutError) as exc:  # the worker died or stalled: report it, go on
            result["error"] = str(exc)
            print(f"  live {config.broker}: {str(exc).splitlines()[0]}", file=sys.stderr)
        finally:
            if config.broker == "amqp":
                delete_queues()
    return result


def live_phases(config: LiveConfig, env: dict[str, str], result: dict) -> None:
    """Steady rate and flood with one worker, then a backlog drained by a fresh one;
    `result` is filled as the phases complete."""
    from support.intake.staging import submit

    factory = MessageFactory(seed=23)
    settings = reset_settings()
    prefill(settings, factory, config.prefill)
    log = Path(env["TRKV_HOME"]) / "worker.log"
    worker = Worker(env, log)
    try:
        warm_up(worker, factory, submit, settings)
        result.update(steady_run(worker, factory, submit, settings, config))
        result.update(flood_run(worker, factory, submit, settings, config.flood))
    finally:
        result["worker_exit_code"] = worker.stop()
    result.update(drain_run(env, log, factory, submit, settings, config.flood))


def prefill(settings: Settings, factory: MessageFactory, tickets: int) -> None:
    """Some history, so that follow-ups thread into stored tickets."""
    store = Store(settings)
    while store.tickets < tickets:
        store.ingest(factory.batch(BATCH))


def warm_up(worker: Worker, factory: MessageFactory, submit, settings: Settings) -> None:
    """The first tasks import the workflow modules and open connections: not measured."""
    ids = [submit([factory.one()])[0] for _ in range(10)]
    wait_done(worker, ids, settings, timeout=120)


def steady_run(worker: Worker, factory: MessageFactory, submit, settings: Settings, config: LiveConfig) -> dict:
    inbounds = [factory.one() for _ in range(config.count)]
    submitted: dict[int, float] = {}
    call_ms = []
    start = time.time()
    for n, inbound in enumerate(inbounds):
        _sleep_until(start + n / config.rate)
        before = time.time()
        staged_id = submit([inbound])[0]
        call_ms.append((time.time() - before) * 1000)
        submitted[staged_id] = before
    sent_for = time.time() - start
    wait_done(worker, list(submitted), settings, timeout=120)
    latencies = latencies_ms(submitted, settings)
    return {
        "messages": config.count,
        "rate_target_per_s": config.rate,
        "rate_achieved_per_s": round(config.count / sent_for, 1),
        "submit_call_ms_p50": round(statistics.median(call_ms), 1),
        "latency_ms_p50": round(percentile(latencies, 50), 1),
        "latency_ms_p99": round(percentile(latencies, 99), 1),
        "latency_ms_max": round(max(latencies), 1),
        **committed_work(list(submitted), settings),
    }


def flood_run(worker: Worker, factory: MessageFactory, submit, settings: Settings, count: int) -> dict:
    """`count` submits back to back (one task each) while the worker runs: time from the
    first submit until the worker has committed them all."""
    submitted, submit_seconds = submit_all(factory, submit, count)
    wait_done(worker, list(submitted), settings, timeout=600)
    start = min(submitted.values())
    last_commit = max(commit_times(list(submitted), settings).values())
    return {
        "flood_messages": count,
        "flood_submit_per_s": round(count / submit_seconds),
        "flood_seconds": round(last_commit - start, 2),
        "flood_msgs_per_s": round(count / (last_commit - start)),
    }


def drain_run(env: dict, log: Path, factory: MessageFactory, submit, settings: Settings, count: int) -> dict:
    """The worker alone: `count` tasks queued while no worker runs, then a fresh worker
    drains them (first commit to last commit, so its start-up is not counted)."""
    submitted, _ = submit_all(factory, submit, count)
    worker = Worker(env, log.with_name("worker-drain.log"))
    try:
        wait_done(worker, list(submitted), settings, timeout=600)
    finally:
        exit_code = worker.stop()
    commits = sorted(commit_times(list(submitted), settings).values())
    return {
        "drain_worker_exit_code": exit_code,
        "drain_messages": count,
        "drain_seconds": round(commits[-1] - commits[0], 2),
        "drain_msgs_per_s": round((len(commits) - 1) / (commits[-1] - commits[0])),
    }


def submit_all(factory: MessageFactory, submit, count: int) -> tuple[dict[int, float], float]:
    """`count` one-message submits back to back: ({staged id: submit time}, seconds taken)."""
    inbounds = [factory.one() for _ in range(count)]
    submitted: dict[int, float] = {}
    start = time.time()
    for inbound in inbounds:
        before = time.time()
        submitted[submit([inbound])[0]] = before
    return submitted, time.time() - start


def _sleep_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        time.sleep(delay)


def wait_done(worker: Worker, ids: list[int], settings: Settings, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    Session = session_factory(settings.db_url)
    while True:
        with Session() as session:
            pending = session.execute(
                select(func.count()).select_from(InboundQueue)
                .where(InboundQueue.id.in_(ids), InboundQueue.status == "pending")
            ).scalar_one()
        if not pending:
            return
        worker.check()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{pending} of {len(ids)} staged messages still pending\n{worker.tail()}")
        time.sleep(0.2)


def commit_times(ids: list[int], settings: Settings) -> dict[int, float]:
    """`inbound_queue.updated_at` of done rows: set in the ingest transaction, just before its commit."""
    with session_factory(settings.db_url)() as session:
        rows = session.execute(
            select(InboundQueue.id, InboundQueue.updated_at).where(InboundQueue.id.in_(ids), InboundQueue.status == "done")
        )
        return {r.id: r.updated_at.timestamp() for r in rows}


def latencies_ms(submitted: dict[int, float], settings: Settings) -> list[float]:
    done = commit_times(list(submitted), settings)
    return [(done[i] - submitted[i]) * 1000 for i in submitted if i in done]


def committed_work(ids: list[int], settings: Settings) -> dict:
    """What the live path stored for these messages: tickets with a suggestion, outbox rows."""
    with session_factory(settings.db_url)() as session:
        same_message = (Message.channel == InboundQueue.channel) & (Message.external_id == InboundQueue.external_id)
        ticket_ids = set(session.execute(
            select(Message.ticket_id).join(InboundQueue, same_message).where(InboundQueue.id.in_(ids))
        ).scalars())
        suggested = session.execute(
            select(func.count()).select_from(Ticket)
            .where(Ticket.id.in_(ticket_ids), Ticket.suggested_priority.is_not(None))
        ).scalar_one()
        outbox = session.execute(
            select(func.count()).select_from(Outbox).where(Outbox.ticket_id.in_(ticket_ids))
        ).scalar_one()
        quarantined = session.execute(
            select(func.count()).select_from(InboundQueue)
            .where(InboundQueue.id.in_(ids), InboundQueue.status == "quarantined")
        ).scalar_one()
    return {"tickets_touched": len(ticket_ids), "tickets_with_suggestion": suggested,
            "outbox_rows": outbox, "quarantined": quarantined}


def delete_queues() -> None:
    """Remove this run's queues from RabbitMQ (their names carry the run's prefix)."""
    from worker import QUEUES, app, queue_name

    with contextlib.suppress(Exception), app.connection_for_write() as conn:
        channel = conn.default_channel
        for name in QUEUES:
            channel.queue_delete(queue_name(name))
            channel.exchange_delete(queue_name(name))


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = (len(ordered) - 1) * pct / 100
    low, high = int(index), min(int(index) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (index - low)


# --------------------------------------------------------------------------- report


def print_machine(info: dict) -> None:
    print(f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM")
    print(f"Python {info['python']}, SQLite {info['sqlite']}, PostgreSQL {info['postgresql'] or '-'}, "
          f"RabbitMQ {info['rabbitmq'] or '-'}")
    print()


def bulk_table(bulk: list[dict]) -> str:
    lines = [
        f"Bulk import (ingest_batch, live=False, batches of {BATCH:,}; target >= {BULK_TARGET:,} msg/s, flat)",
        "| backend | tickets stored | fill msg/s | bulk msg/s | batch p50 ms | batch max ms | vs target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for run in bulk:
        for step in run["steps"]:
            ok = "ok" if step["msgs_per_s"] >= BULK_TARGET else f"{step['msgs_per_s'] / BULK_TARGET:.0%} of target"
            lines.append(
                f"| {run['backend']} | {step['tickets_stored']:,} | {step['fill_msgs_per_s'] or 0:,} | "
                f"{step['msgs_per_s']:,} | {step['batch_ms_p50']:,} | {step['batch_ms_max']:,} | {ok} |"
            )
        lines.append(f"| {run['backend']} | flatness (largest / smallest) | | {run['flatness']:.2f}x | | | |")
    return "\n".join(lines)


def live_table(live: list[dict]) -> str:
    lines = [
        f"Live path (submit -> ticket + suggestion + outbox committed; Celery worker -c 2, SQLite; "
        f"target p99 <= {LIVE_P99_TARGET_MS} ms on RabbitMQ)",
        "| broker | polling s | rate msg/s | p50 ms | p99 ms | max ms | flood msg/s | drain msg/s | vs target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in live:
        if "latency_ms_p99" not in run:
            lines.append(f"| {run['broker']} | {run['polling_interval_s'] or '-'} | failed: "
                         f"{run.get('error', '?').splitlines()[0]} | | | | | | |")
            continue
        verdict = ""
        if run["broker"] == "amqp":
            verdict = "ok" if run["latency_ms_p99"] <= LIVE_P99_TARGET_MS else "above target"
        lines.append(
            f"| {run['broker']} | {run['polling_interval_s'] or '-'} | {run['rate_achieved_per_s']} | "
            f"{run['latency_ms_p50']} | {run['latency_ms_p99']} | {run['latency_ms_max']} | "
            f"{_get(run, 'flood_msgs_per_s')} | {_get(run, 'drain_msgs_per_s')} | {verdict} |"
        )
    lines.append(
        "flood: one-message submits back to back while the worker runs (first submit -> last commit); "
        "drain: the same number queued with no worker running, then drained by a fresh worker (first -> last commit)."
    )
    return "\n".join(lines)


def _get(run: dict, key: str) -> str:
    """A figure, or why it is missing (the worker died in that phase)."""
    if key in run:
        return f"{run[key]:,}"
    return "worker died" if "error" in run else "-"


def write_results(results: dict, path: Path) -> None:
    if path == RESULTS:  # the kept figures: with the commit and the machine (bench/record.py)
        import record

        record.write("ingest", results)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="stop the bulk sizes at 100 k tickets")
    parser.add_argument("--backends", default="sqlite,postgresql", help="bulk: sqlite,postgresql (empty: skip)")
    parser.add_argument("--brokers", default="amqp,filesystem", help="live: amqp,filesystem (empty: skip)")
    parser.add_argument("--sizes", help="bulk: comma-separated ticket counts (overrides --quick)")
    parser.add_argument("--measure", type=int, default=20_000, help="bulk: messages measured at each size")
    parser.add_argument("--rate", type=float, default=20.0, help="live: submits per second")
    parser.add_argument("--count", type=int, default=500, help="live: messages at the steady rate")
    parser.add_argument("--flood", type=int, default=2_000, help="live: messages submitted back to back")
    parser.add_argument("--polling-intervals", default="0.1,0.02",
                        help="live, filesystem transport: polling intervals (s) to try, comma-separated")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"JSON results (default: {RESULTS.relative_to(ROOT)})")
    parser.add_argument("--prefill", type=int, default=10_000, help="live: tickets stored before measuring")
    args = parser.parse_args(argv)
    args.backends = [b for b in args.backends.split(",") if b]
    args.brokers = [b for b in args.brokers.split(",") if b]
    args.polling_intervals = [float(p) for p in args.polling_intervals.split(",") if p]
    if args.sizes:
        args.sizes = tuple(int(s) for s in args.sizes.split(","))
    else:
        args.sizes = QUICK_SIZES if args.quick else FULL_SIZES
    return args


def live_configs(args: argparse.Namespace) -> list[LiveConfig]:
    configs = []
    for broker in args.brokers:
        intervals = args.polling_intervals if broker == "filesystem" else [0.0]
        for interval in intervals:
            configs.append(LiveConfig(broker, args.rate, args.count, args.flood, interval, args.prefill))
    return configs


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = {
        "command": " ".join([".venv/bin/python", "bench/ingest.py", *(argv if argv is not None else sys.argv[1:])]),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine_info(args.backends, args.brokers),
        "git": git_state(),
        "bulk": [],
        "live": [],
    }
    print_machine(results["machine"])
    print(f"Code: commit {results['git']['commit']}{' + uncommitted changes' if results['git']['dirty'] else ''}\n")
    for backend in args.backends:
        results["bulk"].append(run_bulk(backend, args.sizes, args.measure))
        write_results(results, args.output)
    for config in live_configs(args):
        label = f"{config.broker}" + (f" (polling {config.polling_interval} s)" if config.broker == "filesystem" else "")
        print(f"  live: {label} ...", flush=True)
        results["live"].append(run_live(config))
        write_results(results, args.output)
    print()
    if results["bulk"]:
        print(bulk_table(results["bulk"]), end="\n\n")
    if results["live"]:
        print(live_table(results["live"]), end="\n\n")
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
