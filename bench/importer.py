"""Import benchmark: `trkv import` of a JSONL file, triage inline vs in worker processes.

    .venv/bin/python bench/importer.py [--messages 20000] [--batch 1000] [--backend sqlite|postgresql]
                                       [--workers 0,1,2] [--prefill 1000000] [--startup]

Generates N messages with bench/synthetic.py (email, Discord and X, 50-2,000 characters,
30 % follow-ups threading into tickets of earlier batches: the file is generated a batch at a
time), writes them as JSONL, and imports them into a fresh database (SQLite, or a new
PostgreSQL database on 127.0.0.1) with `support.intake.importer.import_path` once per
`--workers`: 0 (parsing and triage in the importing process), 1 and 2 (parsing, sanitizing
and triage of the next batches in other processes while this one writes; the default is one
per core). With `--prefill N` the database first gets N stored tickets (bench/fill.py, by SQL),
so the same import is measured at N. Printed and kept in
bench/results/importer[-postgresql][-<N>].json: msg/s for each, and the CPU seconds of the
writing process (the part that does not spread over cores).

`--startup` instead times the command line itself (bench/results/importer-startup.json):
`trkv --help`, and `trkv import` of an empty folder into an up-to-date database, each the
median of 7 runs in a fresh process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
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
    parser.add_argument("--prefill", type=int, default=0, help="tickets stored before the import")
    parser.add_argument("--startup", action="store_true", help="time `trkv --help` and an empty import instead")
    args = parser.parse_args()
    if args.startup:
        return startup()
    tmp = Path(tempfile.mkdtemp(prefix="trkv-bench-import-"))
    try:
        measure(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the databases: several GB at 1 M tickets on SQLite


def measure(args: argparse.Namespace, tmp: Path) -> None:
    os.environ["TRKV_HOME"] = str(tmp / "home")
    os.environ.setdefault("TRKV_DEMO", "0")

    from synthetic import MessageFactory

    from storage.db import dispose_engines
    from storage.migrate import upgrade
    from support.intake.importer import import_path
    from support.tickets.search_index import index_pending
    from triage.classifier import suggest
    from triage.types import TriageInput
    from trkv.settings import reset_settings

    path = tmp / "messages.jsonl"
    with path.open("w") as handle:
        factory = MessageFactory(seed=11)
        for start in range(0, args.messages, args.batch):  # a batch at a time: follow-ups thread into earlier ones
            for inbound in factory.batch(min(args.batch, args.messages - start)):
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
            if args.prefill:
                from fill import fill_tickets  # bench/fill.py

                print(f"filled {args.prefill:,} tickets in {fill_tickets(settings.db_url, args.prefill):.0f} s")
            load = os.getloadavg()[0]
            started, cpu = time.perf_counter(), time.process_time()
            report = import_path(path, batch_size=args.batch, settings=settings, workers=workers)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            label = "inline" if workers == 0 else f"{workers} worker process(es)"
            print(f"{label:24s} {report.read:,} messages, {report.tickets:,} tickets: "
                  f"{report.read / seconds:,.0f} msg/s ({seconds:.1f} s; writer {cpu:.1f} CPU-s; load {load:.1f})")
            indexing = time.perf_counter()
            indexed = index_pending(settings)  # what a worker does after the import: the search index's backlog
            indexing = time.perf_counter() - indexing
            print(f"{'':24s} then {indexed:,} tickets indexed for search at {indexed / indexing:,.0f}/s "
                  f"({indexing:.1f} s): searchable {seconds + indexing:.1f} s after the start")
            rows.append({"parse_and_triage": label, "tickets_stored_before": args.prefill,
                         "messages": report.read, "tickets": report.tickets,
                         "seconds": round(seconds, 2), "per_s": round(report.read / seconds),
                         "writer_cpu_seconds": round(cpu, 2), "load_1min_at_start": round(load, 2),
                         "search_indexed": indexed, "search_index_seconds": round(indexing, 2),
                         "searchable_after_seconds": round(seconds + indexing, 2)})
            dispose_engines()
    import record  # bench/record.py: figures kept in bench/results/

    name = "importer" if args.backend == "sqlite" else f"importer-{args.backend}"
    name += f"-{args.prefill}" if args.prefill else ""
    record.write(name, {"database": args.backend, "batch": args.batch, "runs": rows},
                 note="shared 2-core machine: other engineers' test suites ran meanwhile (load averages per run)")


def startup(runs: int = 7) -> None:
    """Median wall time of `trkv --help` and of `trkv import EMPTY-FOLDER` (database current)."""
    import subprocess

    import record

    home = Path(tempfile.mkdtemp(prefix="trkv-bench-startup-"))
    empty = home / "empty"
    empty.mkdir()
    env = {**os.environ, "TRKV_HOME": str(home / "home"), "TRKV_DEMO": "0", "PYTHONPATH": str(ROOT)}
    env.pop("TRKV_DATABASE_URL", None)
    command = [sys.executable, "-c", "import sys; from trkv.cli import main; sys.exit(main())"]

    def timed(*args: str) -> float:
        started = time.perf_counter()
        subprocess.run([*command, *args], env=env, check=True, capture_output=True)
        return time.perf_counter() - started

    try:
        _startup_figures(timed, empty, runs, record)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _startup_figures(timed, empty: Path, runs: int, record) -> None:
    import statistics

    first_import = timed("import", str(empty))  # a fresh home: this one migrates
    figures = {"load_1min_at_start": round(os.getloadavg()[0], 2), "first_import_with_migration_s": round(first_import, 3)}
    for label, args in (("help", ("--help",)), ("import_empty_folder", ("import", str(empty)))):
        times = [timed(*args) for _ in range(runs)]
        figures[f"{label}_median_s"] = round(statistics.median(times), 3)
        figures[f"{label}_max_s"] = round(max(times), 3)
        print(f"trkv {' '.join(args[:1])}: median {statistics.median(times):.3f} s, max {max(times):.3f} s ({runs} runs)")
    print(f"first import into a fresh home (migrates): {first_import:.2f} s")
    record.write("importer-startup", figures, note="wall time of a fresh process each, python -c 'from trkv.cli import main'")


if __name__ == "__main__":
    main()
