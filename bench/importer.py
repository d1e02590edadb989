"""Import benchmark: `trkv import` of a JSONL file, triage inline vs in worker processes.

    .venv/bin/python bench/importer.py [--messages 20000] [--batch 1000]

Generates N messages with bench/synthetic.py (email, Discord and X, 50-2,000 characters,
30 % follow-ups), writes them as JSONL, and imports them into a fresh SQLite database
with `support.importer.import_path` three times: `workers=0` (triage in the importing
process), 1 and 2 (triage of the next batches in other processes while this one writes;
the default is one per core).
Printed: msg/s for each.
"""

from __future__ import annotations

import argparse
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
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, sqlite")
    rows = []
    for workers in (0, 1, 2):
        os.environ["TRKV_DATABASE_URL"] = f"sqlite:///{tmp / f'trkv-{workers}.db'}"
        settings = reset_settings()
        upgrade(settings.db_url)
        started = time.perf_counter()
        report = import_path(path, batch_size=args.batch, settings=settings, workers=workers)
        seconds = time.perf_counter() - started
        label = "inline triage" if workers == 0 else f"triage in {workers} other process(es)"
        print(f"{label:28s} {report.read:,} messages, {report.tickets:,} tickets: "
              f"{report.read / seconds:,.0f} msg/s ({seconds:.1f} s)")
        rows.append({"triage": label, "messages": report.read, "tickets": report.tickets,
                     "seconds": round(seconds, 2), "per_s": round(report.read / seconds)})
        dispose_engines()
    import record  # bench/record.py: figures kept in bench/results/

    record.write("importer", {"database": "sqlite", "batch": args.batch, "runs": rows})


if __name__ == "__main__":
    main()
