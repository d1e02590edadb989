"""Where `ingest_batch` spends its time, on batches of 1,000 generated messages.

    .venv/bin/python bench/profile_ingest.py [--backend sqlite|postgresql] [--tickets 20000] [--sort tottime]

Fills a scratch database with `--tickets` tickets first (same generator and database
set-up as bench/ingest.py), then times each step of `support.ingest.ingest_in` over a
few batches (no profiler), and prints a cProfile of a few more batches.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ingest as bench  # noqa: E402
from synthetic import MessageFactory  # noqa: E402

import support.intake.ingest as ingest_module
import support.intake.lookup as lookup_module

STEPS = {"stored_for": lookup_module, "_mark_duplicates": ingest_module, "upsert_identities": lookup_module,
         "_thread": ingest_module, "_insert_tickets": ingest_module, "_insert_messages": ingest_module,
         "_touch_tickets": ingest_module}


def time_steps() -> dict[str, float]:
    """Wrap each step of ingest_in with a timer; returns the running totals."""
    totals = dict.fromkeys(STEPS, 0.0)
    for name, module in STEPS.items():
        original = getattr(module, name)

        def timed(*args, _original=original, _name=name, **kwargs):
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                totals[_name] += time.perf_counter() - start

        setattr(module, name, timed)
    return totals


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="sqlite")
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    factory = MessageFactory(seed=5)
    with bench.bulk_database(args.backend) as settings:
        store = bench.Store(settings)
        bench.fill_to(store, factory, args.tickets, args.backend)
        n = args.batches * bench.BATCH
        totals = time_steps()
        timed = [factory.batch(bench.BATCH) for _ in range(args.batches)]
        elapsed = sum(store.ingest(batch) for batch in timed)
        print(f"\n{args.backend}, {store.tickets:,} tickets: {n / elapsed:,.0f} msg/s (no profiler)")
        print("ms per batch of 1,000, by step of ingest_in:")
        for name, seconds in totals.items():
            print(f"  {name:<20} {seconds / args.batches * 1000:8.1f}")
        rest = elapsed - sum(totals.values())
        print(f"  {'(rest: session, commit)':<20} {rest / args.batches * 1000:8.1f}\n")

        profiled = [factory.batch(bench.BATCH) for _ in range(args.batches)]
        profiler = cProfile.Profile()
        profiler.enable()
        for batch in profiled:
            store.ingest(batch)
        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
