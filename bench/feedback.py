"""Feedback benchmark: the weekly review over a large history on PostgreSQL, and the
dashboard with its satisfaction KPI.

    .venv/bin/python bench/feedback.py [--tickets 1000000] [--weeks 20]

The history (support/feedback/history.py: resolved tickets with a customer message, an
agent reply, and surveys on 30 % of them, 45 % of which are answered) is written
straight into the tables, `--weeks` weeks of it ending now, so the review's five weeks
hold about 5/`--weeks` of the tickets. Figures: the median of 3 reviews of the last
complete week, and the dashboard of 7, 30 and 90 days (median and p95 of 20 each).
Targets: <= 30 s and <= 200 ms. Before the dashboard, its rollup is folded once (the beat
task's work, every minute) and today and yesterday are marked changed, as live traffic
leaves them between two folds: those two days are counted from their tickets.
Writes bench/results/feedback.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sweep import database, drop  # noqa: E402
from storage.db import dispose_engines, session_factory, transaction  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models.base import utcnow  # noqa: E402
from storage.models.feedback import Survey  # noqa: E402
from storage.models.tickets import Ticket  # noqa: E402
from support.feedback import history, review  # noqa: E402
from support.tickets.metrics import dashboard, fold_day_stats  # noqa: E402
from trkv.settings import reset_settings  # noqa: E402

CHUNK = 20_000


def fill(settings, tickets: int, weeks: int) -> float:
    start, end = time.perf_counter(), utcnow()
    per_chunk_weeks = max(1, round(weeks * CHUNK / tickets))
    made, part = 0, 0
    while made < tickets:
        # chunk by chunk, each a slice of the weeks, so a failure loses one chunk, not an hour
        span_end = end - (part * per_chunk_weeks) % weeks * timedelta(weeks=1)
        with transaction(settings.db_url) as session:
            made += history.generate(session, end=span_end, weeks=per_chunk_weeks,
                                     per_week=min(CHUNK, tickets - made) // per_chunk_weeks or 1, seed=part,
                                     planted="Calendar sync duplicates events" if part == 0 else None,
                                     planted_count=40 if part == 0 else 0)
        part += 1
        print(f"\r  filled {made:,}/{tickets:,}", end="", flush=True)
    print()
    with transaction(settings.db_url) as session:
        for table in ("tickets", "messages", "csat_surveys"):
            session.execute(text(f"ANALYZE {table}"))
    return time.perf_counter() - start


def settle_rollup(settings) -> float:
    """Fold the rollup and keep coverage's estimates, then mark today and yesterday changed
    (see the docstring)."""
    from support.kb import coverage

    start = time.perf_counter()
    fold_day_stats(settings)
    coverage.refresh(settings)  # the other beat task the dashboard reads: coverage's estimates
    with transaction(settings.db_url) as session:
        session.execute(text("INSERT INTO ticket_day_dirty (day) SELECT CAST(now() at time zone 'utc' AS date) - g "
                             "FROM generate_series(0, 1) g"))
    return time.perf_counter() - start


def p95(function, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        function()
        times.append(time.perf_counter() - begin)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def timed(function, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        begin = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - begin)
    return statistics.median(times), result


INCIDENTS, LINKED = 20, 1000


def link_incidents(settings) -> int:
    """20 incidents of the last four weeks, each with 1,000 surveyed tickets linked (once)."""
    with transaction(settings.db_url) as session:
        if session.execute(text("SELECT count(*) FROM incident_tickets")).scalar():
            return session.execute(text("SELECT count(*) FROM incident_tickets")).scalar()
        for n in range(INCIDENTS):
            incident_id = session.execute(text(
                "INSERT INTO incidents (title, severity, status, components, commander, detected, started_at, "
                "declared_at, resolved_at, report, created_at, updated_at) VALUES (:title, 'major', 'resolved', "
                "'[]', 'bench', false, :at, :at, :at, '{}', :at, :at) RETURNING id"),
                {"title": f"Bench incident {n}", "at": utcnow() - timedelta(days=n + 1)}).scalar_one()
            session.execute(text(
                "INSERT INTO incident_tickets (ticket_id, incident_id, channel, contact_id, text, received_at, linked_at) "
                "SELECT s.ticket_id, :incident, s.channel, NULL, '', s.sent_at, s.sent_at FROM csat_surveys s "
                "WHERE s.sent_at >= :since ORDER BY s.ticket_id LIMIT :n OFFSET :offset"),
                {"incident": incident_id, "since": utcnow() - timedelta(days=28), "n": LINKED, "offset": n * LINKED})
        session.execute(text("ANALYZE incident_tickets"))
        return INCIDENTS * LINKED


def _parts(settings) -> dict[str, float]:
    """Where the 30-day dashboard's time goes, each a median of 5: the ticket figures (the
    rollup's rows and today's and yesterday's tickets; the tickets whose due time is
    ahead; those done on the day a week ago), its feedback figures and documentation
    coverage; and, beside the dashboard, the satisfaction page's breakdown (by channel,
    category, agent, incident, week, 30 days) and the review's 20 incidents' figures."""
    from support.feedback import kpis
    from support.tickets import metrics

    now = utcnow()
    since = (now - timedelta(days=29)).replace(hour=0, minute=0, second=0, microsecond=0)
    with session_factory(settings.db_url, readonly=True)() as session:
        dirty = [now.date() - timedelta(days=1), now.date()]
        rows_s, _ = timed(lambda: metrics._day_rows(session, since, dirty), 5)
        ahead_s, _ = timed(lambda: metrics._not_yet(session, since, now), 5)
        week_s, done = timed(lambda: metrics._done_before(session, since, now - timedelta(days=7), dirty), 5)
        kpi_s, _ = timed(lambda: kpis.kpi(session, since), 5)
        accurate_s, _ = timed(lambda: kpis.accurate_solutions(session, since, now, done=done), 5)
        breakdown_s, _ = timed(lambda: kpis.satisfaction(session, since, utcnow(), settings), 5)
        ids = session.execute(text("SELECT id FROM incidents")).scalars().all()
        incidents_s, _ = timed(lambda: kpis.for_incidents(session, ids), 5)
    from support.kb import weekly as kb_weekly

    coverage_s, _ = timed(lambda: kb_weekly.coverage_kpi(settings, since, utcnow()), 5)
    return {"ticket_rows": round(rows_s * 1000, 1), "due_times_ahead": round(ahead_s * 1000, 1),
            "done_a_week_ago": round(week_s * 1000, 1),
            "satisfaction_kpi": round(kpi_s * 1000, 1), "accurate_solutions": round(accurate_s * 1000, 1),
            "documentation_coverage_kb": round(coverage_s * 1000, 1),
            "satisfaction_breakdown_30d": round(breakdown_s * 1000, 1),
            "satisfaction_of_20_incidents": round(incidents_s * 1000, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--weeks", type=int, default=20)
    parser.add_argument("--out", default="feedback.json", help="file name under bench/results/")
    parser.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    parser.add_argument("--reuse", metavar="URL", help="a database kept by an earlier run: measure, do not fill")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="trkv-bench-feedback-") as home:
        url = args.reuse or database("postgresql", Path(home))
        print(f"database {url}", flush=True)
        os.environ.update({"TRKV_HOME": home, "TRKV_DATABASE_URL": url, "TRKV_DEMO": "0"})
        settings = reset_settings()
        try:
            upgrade(url)
            fill_s = fill(settings, args.tickets, args.weeks) if not args.reuse else None
            with session_factory(url)() as session:
                tickets = session.execute(select(func.count()).select_from(Ticket)).scalar()
                surveys = session.execute(select(func.count()).select_from(Survey)).scalar()
            linked = link_incidents(settings)
            review_s, report = timed(lambda: review.weekly(None, settings), 3)
            fold_s = settle_rollup(settings)
            board = dashboard(30, settings)
            boards = {days: p95(lambda days=days: dashboard(days, settings), 20) for days in (7, 30, 90)}
            parts = _parts(settings)
        finally:
            if not (args.keep or args.reuse):
                drop(url)
            dispose_engines()
    satisfaction = next(k for k in board.kpis if k.key == "satisfaction")
    result = {
        "benchmark": "feedback", "backend": "postgresql", "tickets": tickets, "surveys": surveys,
        "weeks_of_history": args.weeks, "fill_seconds": round(fill_s, 1) if fill_s is not None else None,
        "weekly_review_seconds": round(review_s, 2), "weekly_review_target_seconds": 30,
        "review_week": report["week"], "review_week_tickets": report["volume"]["total"]["this_week"],
        "review_topics": [t["name"] for t in report["topics"]],
        "incident_links": linked, "rollup_fold_seconds": round(fold_s, 1),
        "dashboard_ms": round(boards[30][0] * 1000, 1), "dashboard_7d_ms": round(boards[7][0] * 1000, 1),
        "dashboard_90d_ms": round(boards[90][0] * 1000, 1),
        "dashboard_p95_ms": {f"{days}d": round(b[1] * 1000, 1) for days, b in boards.items()},
        "dashboard_target_ms": 200, "dashboard_parts_ms": parts,
        "dashboard_satisfaction": satisfaction.value, "dashboard_satisfaction_answers": satisfaction.sample,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_1min_at_end": round(os.getloadavg()[0], 2)},
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                 text=True).stdout.strip(),
    }
    out = ROOT / "bench" / "results" / Path(args.out).name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
