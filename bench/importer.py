"""Import benchmark: `trkv import` of a JSONL file, triage inline vs in worker processes.

    .venv/bin/python bench/importer.py [--messages 20000] [--batch 1000] [--backend sqlite|postgresql]
                                       [--workers 0,1,2]

Generates N messages with bench/synthetic.py (email, Discord and X, 50-2,000 characters,
30 % follow-ups), writes them as JSONL, and imports them into a fresh database (SQLite, or a
new PostgreSQL database on 127.0.0.1) with `support.intake.importer.import_path` once per
`--workers`: 0 (parsing and triage in the importing process), 1 and 2 (parsing, sanitizing
and triage of the next batches in other processes while this one writes; the default is one
per core). Printed and kept in bench/results/importer[-postgresql].json: msg/s for each, and
the CPU seconds of the writing process (the part that does not spread over cores).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))
sys.path.append(str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--workers", default="0,1,2")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="trkv-bench-import-"))
    os.environ["TRKV_HOME"] = str(tmp / "home")
    os.environ.setdefault("TRKV_DEMO", "0")

    from synthetic import MessageFactory

    from storage.db import dispose_engines
    from storage.migrate import upgrade
    from support.intake.importer import import_path
    from triage.classifier import suggest
    from triage.types import TriageInput
    from trkv.settings import reset_settings

    path = tmp / "messages.jsonl"
    with path.open("w") as handle:
        for inbound in MessageFactory(seed=11).batch(args.messages):
            handle.write(json.dumps(inbound.to_dict(), default=str) + "\n")
    suggest(TriageInput(text="warm-up", channel="email"))  # the model is loaded before timing
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{args.backend}, load average {os.getloadavg()[0]:.1f}")
    rows = []
    for workers in (int(w) for w in args.workers.split(",")):
        with contextlib.ExitStack() as stack:
            if args.backend == "postgresql":
                from ingest import postgres_database  # bench/ingest.py

                os.environ["TRKV_DATABASE_URL"] = stack.enter_context(postgres_database())
            else:
                os.environ["TRKV_DATABASE_URL"] = f"sqlite:///{tmp / f'trkv-{workers}.db'}"
            settings = reset_settings()
            upgrade(settings.db_url)
            load = os.getloadavg()[0]
            started, cpu = time.perf_counter(), time.process_time()
            report = import_path(path, batch_size=args.batch, settings=settings, workers=workers)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            label = "inline" if workers == 0 else f"{workers} worker process(es)"
            print(f"{label:24s} {report.read:,} messages, {report.tickets:,} tickets: "
                  f"{report.read / seconds:,.0f} msg/s ({seconds:.1f} s; writer {cpu:.1f} CPU-s; load {load:.1f})")
            rows.append({"parse_and_triage": label, "messages": report.read, "tickets": report.tickets,
                         "seconds": round(seconds, 2), "per_s": round(report.read / seconds),
                         "writer_cpu_seconds": round(cpu, 2), "load_1min_at_start": round(load, 2)})
            dispose_engines()
    import record  # bench/record.py: figures kept in bench/results/

    name = "importer" if args.backend == "sqlite" else f"importer-{args.backend}"
    record.write(name, {"database": args.backend, "batch": args.batch, "runs": rows},
                 note="shared 2-core machine: other engineers' test suites ran meanwhile (load averages per run)")


if __name__ == "__main__":
    main()
