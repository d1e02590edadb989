"""X intake benchmark: mentions per second from the poll's response to the committed ticket.

    .venv/bin/python bench/x.py [--mentions 800] [--rounds 3] [--database-url URL]

The unmodified tweepy client polls the local X API v2 server (tests/x_server.py) over
HTTP, pages of 100 with expansions, as `trkv connect x` does. Each round posts
`--mentions` new mentions (the timeline keeps at most 800), then times:
  poll     `XReceiver.poll_once`: fetch the pages, parse, stage each mention durably
           (`DatabaseSink.submit`, one commit each, as the cursor rule requires), save the cursor;
  ingest   what the ingest workers then do: `intake.process` one staged row at a time (one
           Celery task per mention, without the broker hop), tickets, triage and
           acknowledgement rows committed.
Then the same with a sink that stages a page in one commit (`submit_many`, which the
receiver uses when its sink has it) and ingest tasks of 100.
SQLite is a file in a temporary TRKV_HOME unless --database-url is given.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mentions", type=int, default=800, help="new mentions per round (at most 800)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    mentions = min(args.mentions, 800)

    home = tempfile.mkdtemp(prefix="trkv-bench-x-")
    os.environ.update(TRKV_HOME=home, TRKV_DEMO="0", TRKV_LOG_LEVEL="WARNING")
    if args.database_url:
        os.environ["TRKV_DATABASE_URL"] = args.database_url

    from sqlalchemy import select

    from storage.db import session_factory
    from storage.migrate import upgrade
    from storage.models.intake import InboundQueue
    from support.channels import x as x_wiring
    from support.intake import staging as intake
    from support.intake.receive import DatabaseSink
    from tests.x_server import XServer
    from trkv.settings import reset_settings

    class PageSink(DatabaseSink):
        """A sink that stages a whole page in one commit (`submit_many`, used when a sink has it)."""

        def submit_many(self, inbounds) -> None:
            intake.submit(list(inbounds), live=self.live, settings=self.settings)

    with XServer(limits={"mentions": 1_000_000, "search": 1_000_000}) as server:
        os.environ.update(
            TRKV_X_API_BASE=server.base_url, TRKV_X_BEARER_TOKEN="bench", TRKV_X_SEARCH_QUERY="",
            TRKV_X_MENTIONS_LIMIT_APP="1000000", TRKV_X_BACKFILL_HOURS="24",
        )
        settings = reset_settings()
        upgrade(settings.db_url)
        (receiver,) = x_wiring.receivers(settings)
        customers = [server.user(f"customer{n}") for n in range(50)]
        topics = ["the export to CSV fails", "sync is stuck", "how do I invite my team?", "the app crashes on login",
                  "billing shows the wrong plan", "dark mode please", "API returns 500", "great update, thanks!"]

        def post(count: int, tag: str) -> None:
            for n in range(count):
                server.tweet(customers[n % len(customers)], f"@trkvbot {topics[n % len(topics)]} ({tag}.{n})")

        def pending() -> list[int]:
            with session_factory(settings.db_url)() as session:
                return list(session.execute(select(InboundQueue.id).where(InboundQueue.status == "pending")
                                            .order_by(InboundQueue.id)).scalars())

        def run(sink, tag: str, per_task: int) -> tuple[float, float]:
            post(mentions, tag)
            started = time.perf_counter()
            stored = receiver.poll_once(sink)
            polled = time.perf_counter()
            staged = pending()
            assert stored == mentions == len(staged), (stored, len(staged))
            for start in range(0, len(staged), per_task):
                intake.process(staged[start : start + per_task], settings)
            return polled - started, time.perf_counter() - polled

        run(PageSink(settings), "warm-up", 100)  # imports, the triage model, connection pools
        print(f"X intake: {mentions} mentions per round, pages of 100, {args.rounds} rounds, "
              f"{'PostgreSQL' if settings.db_url.startswith('postgresql') else 'SQLite'}; "
              f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        modes = [("one commit and one ingest task per mention (DatabaseSink today)", DatabaseSink(settings), 1),
                 ("one commit and one ingest task per page of 100 (sink with submit_many)", PageSink(settings), 100)]
        figures = {}
        for label, sink, per_task in modes:
            print(f"\n{label}")
            print(f"{'round':>5} {'poll+stage s':>13} {'ingest s':>9} {'mentions/s':>11}")
            poll_total = ingest_total = 0.0
            for round_no in range(1, args.rounds + 1):
                poll_s, ingest_s = run(sink, f"{per_task}.{round_no}", per_task)
                poll_total, ingest_total = poll_total + poll_s, ingest_total + ingest_s
                print(f"{round_no:>5} {poll_s:>13.2f} {ingest_s:>9.2f} {mentions / (poll_s + ingest_s):>11.0f}")
            n = mentions * args.rounds
            print(f"overall: {n / (poll_total + ingest_total):.0f} mentions/s from poll response to committed ticket "
                  f"(poll+stage {n / poll_total:.0f}/s, ingest {n / ingest_total:.0f}/s)")
            figures[label] = {"mentions_per_s": round(n / (poll_total + ingest_total)),
                              "poll_stage_per_s": round(n / poll_total), "ingest_per_s": round(n / ingest_total)}
        print(f"\nrequests to X: {server.count('mentions')} mentions pages, over budget: {server.over_budget}")
        import record  # bench/record.py: figures kept in bench/results/

        record.write("x", {"mentions_per_round": mentions, "rounds": args.rounds, "modes": figures,
                           "over_budget": server.over_budget})


if __name__ == "__main__":
    main()
