"""The soak: messages at a steady rate through one hub (a real `trkv worker -B` on
PostgreSQL and RabbitMQ, messages staged as a connector stages them) for a long time,
sampling every minute what grows when something leaks: the worker's RSS (main process
and pool children), its open file descriptors, the queue depth (staged rows pending and
messages ready in the broker's queues) and the live latency (staged -> acknowledgement
sent: p50 and p99 of the acknowledgements sent in that minute), with the machine's load.

Pass/fail as the issue states it: worker RSS growth <= 10 % (from the first sample after
warm-up to the last) and p99 live latency unchanged (the last ten minutes against the
first ten after warm-up). Not part of any test; `make soak` runs it and writes
bench/results/soak.json.

    python bench/soak.py [--minutes 60] [--rate 50]

On a machine shared with other work, give the soak the cores it would have alone:
    chrt -r 5 python bench/soak.py & PGPORT=5432 tools/rt-soak.sh
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

TIMING = {"requeue_after": "2", "send_lease": "15", "sweep_interval": "1"}
WARM_UP_S = 300.0


def _group(pid: int) -> list[int]:
    """The pids of the worker's process group (main process, pool children, beat)."""
    out = subprocess.run(["ps", "-o", "pid=", "-g", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def _rss_and_fds(pid: int) -> tuple[float, int]:
    rss_kib, fds = 0, 0
    for p in _group(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
            rss_kib += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            fds += len(os.listdir(f"/proc/{p}/fd"))
        except (OSError, StopIteration):
            continue
    return round(rss_kib / 1024, 1), fds


def _broker_depth(url: str, prefix: str) -> int:
    from kombu import Connection

    total = 0
    with Connection(url, connect_timeout=5) as conn:
        channel = conn.channel()
        for name in ("critical", "default", "bulk"):
            try:
                total += channel.queue_declare(prefix + name, passive=True).message_count
            except Exception:  # a queue not declared yet holds nothing
                channel = conn.channel()
    return total


def _sample(settings, since, until) -> dict:
    from sqlalchemy import func, select

    from storage.db import session_factory
    from storage.models.delivery import Outbox
    from storage.models.intake import InboundQueue
    from storage.models.tickets import Message

    with session_factory(settings.db_url)() as session:
        pending = session.execute(select(func.count()).select_from(InboundQueue)
                                  .where(InboundQueue.status == "pending")).scalar_one()
        acks = session.execute(select(func.count()).select_from(Outbox)
                               .where(Outbox.kind == "ack", Outbox.status == "sent")).scalar_one()
        rows = session.execute(
            select(Outbox.sent_at, InboundQueue.created_at)
            .join(Message, (Message.ticket_id == Outbox.ticket_id) & (Message.direction == "in"))
            .join(InboundQueue, (InboundQueue.channel == Message.channel)
                  & (InboundQueue.external_id == Message.external_id))
            .where(Outbox.kind == "ack", Outbox.status == "sent", Outbox.sent_at >= since, Outbox.sent_at < until)
        ).all()
    lat = sorted((sent - staged).total_seconds() for sent, staged in rows)
    return {"pending_staged": pending, "acks_sent_total": acks, "acks_in_window": len(lat),
            "latency_p50_s": _pct(lat, 50), "latency_p99_s": _pct(lat, 99)}


def _pct(values: list[float], p: int) -> float | None:
    if not values:
        return None
    return round(values[min(len(values) - 1, int(len(values) * p / 100))], 3)


def _word(i: int) -> str:
    """A made-up word per message. Not the bare number: "Attempt 500" reads as an HTTP 500,
    and five of those from five people rightly propose an incident every other message joins."""
    letters = ""
    for _ in range(5):
        letters, i = letters + "bcdfghjklmnpqrstvwxz"[i % 20], i // 20
    return letters


def _inbound(i: int):
    from connectors.base import Inbound

    return Inbound(channel="email", external_id=f"soak-{i}@mail.example", author_id=f"s{i}@example.com",
                   author_handle=f"s{i}@example.com", author_email=f"s{i}@example.com", author_name=f"Customer {i}",
                   subject=f"Question {_word(i)}",
                   text=f"How do I export my projects to CSV? Project {_word(i)}; the button does nothing.")


def soak(settings, host, broker, minutes: float, rate: float, every: float = 60.0) -> dict:
    from storage.models.base import utcnow
    from support.intake import staging

    batch = max(1, int(rate / 5))  # five submits a second
    started = time.monotonic()
    next_sample, samples, sent = started + every, [], 0
    window_start = utcnow()
    while (now := time.monotonic()) - started < minutes * 60:
        due = int((now - started) * rate)
        if sent < due:
            n = min(batch, due - sent)
            staging.submit([_inbound(i) for i in range(sent, sent + n)], settings=settings)
            sent += n
        if now >= next_sample:
            window_end = utcnow()
            rss, fds = _rss_and_fds(host.worker.process.pid)
            row = {"minute": round((now - started) / 60, 1), "submitted": sent, "worker_rss_mib": rss,
                   "worker_open_fds": fds, "broker_ready": _broker_depth(broker.url, broker.prefix),
                   "load_1min": round(os.getloadavg()[0], 2), **_sample(settings, window_start, window_end)}
            row["lag_messages"] = sent - row["acks_sent_total"]
            samples.append(row)
            print(row, flush=True)
            window_start, next_sample = window_end, next_sample + every
        time.sleep(0.2 if sent >= due else 0)
    return _summary(samples, minutes, rate, sent, every)


def _summary(samples: list[dict], minutes: float, rate: float, sent: int, every: float) -> dict:
    warm = [s for s in samples if s["minute"] * 60 >= WARM_UP_S] or samples
    first, last = warm[0], samples[-1]
    ten = max(1, int(600 / every))
    def p99(rows):
        return max((r["latency_p99_s"] for r in rows if r["latency_p99_s"] is not None), default=None)

    return {
        "minutes": minutes, "target_rate_per_s": rate, "submitted": sent,
        "achieved_ack_rate_per_s": round(last["acks_sent_total"] / (last["minute"] * 60), 2),
        "worker_rss_mib_after_warm_up": first["worker_rss_mib"], "worker_rss_mib_at_end": last["worker_rss_mib"],
        "worker_rss_growth_pct": round(100 * (last["worker_rss_mib"] / first["worker_rss_mib"] - 1), 1),
        "open_fds_after_warm_up": first["worker_open_fds"], "open_fds_at_end": last["worker_open_fds"],
        "p99_latency_s_first_10_min_after_warm_up": p99(warm[:ten]),
        "p99_latency_s_last_10_min": p99(samples[-ten:]),
        "max_lag_messages": max(s["lag_messages"] for s in samples),
        "load_1min_mean": round(sum(s["load_1min"] for s in samples) / len(samples), 2),
        "load_1min_max": max(s["load_1min"] for s in samples),
        "samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--rate", type=float, default=50, help="messages per second")
    parser.add_argument("--every", type=float, default=60, help="seconds between samples")
    parser.add_argument("--db", default="postgresql+psycopg://postgres@127.0.0.1/postgres",
                        help="an administrative URL: a database of the run's own is created and dropped")
    parser.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672//",
                        help="RabbitMQ (amqp://) or Redis (redis://); on a machine where other work restarts the "
                             "shared services, give the soak its own (see the README)")
    parser.add_argument("--name", default="soak")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` cleans up as Ctrl-C does
    from sqlalchemy import create_engine, text

    from storage.migrate import upgrade
    from tests.hosts import Host
    from tests.workers import Broker
    from trkv.settings import reset_settings

    folder = Path(tempfile.mkdtemp(prefix="trkv-soak-"))
    name = f"trkv_soak_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.db, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = args.db.rsplit("/", 1)[0] + f"/{name}"
    broker = Broker("redis" if args.broker.startswith("redis") else "amqp", args.broker, f"soak{uuid.uuid4().hex[:8]}_")
    receiver = folder / "receiver.jsonl"
    receiver.touch()
    host = None
    try:
        upgrade(db_url)
        host = Host("soak", folder / "host", db_url, broker, uuid.uuid4().hex, receiver, **TIMING)
        for key, value in host.env.items():
            if key.startswith("TRKV_"):
                os.environ[key] = value
        settings = reset_settings()
        import worker

        worker.reconfigure(settings)
        host.start_worker()
        figures = soak(settings, host, broker, args.minutes, args.rate, args.every)
    finally:
        if host is not None:
            host.stop()
        broker.cleanup()
        from storage.db import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    from bench.record import write

    note = (f"one host (`trkv worker -c 2 -B`) on PostgreSQL {args.db.rsplit('@', 1)[-1].rsplit('/', 1)[0]} "
            f"and {'Redis' if broker.kind == 'redis' else 'RabbitMQ'} {args.broker.rsplit('@', 1)[-1]} (a database "
            f"and queue prefix of its own); messages staged as the email connector stages them at {args.rate:g}/s for "
            f"{args.minutes:g} min; sampled every {args.every:g} s; the machine (2 cores) is shared with other "
            f"engineers' work, see load_1min per sample")
    if os.sched_getscheduler(0) in (os.SCHED_RR, os.SCHED_FIFO):
        note += ("; the soak's processes (this script, the worker and its pool, and via tools/rt-soak.sh the "
                 "soak database's PostgreSQL backends and RabbitMQ) ran at real-time priority (`chrt -r 5`), "
                 "so that they had the cores they need as on a machine of their own")
    write(args.name, figures, note=note)
    print({k: v for k, v in figures.items() if k != "samples"})


if __name__ == "__main__":
    main()
