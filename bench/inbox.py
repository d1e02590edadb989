"""Web inbox benchmark on PostgreSQL: the pages a community manager loads all day.

    .venv/bin/python bench/inbox.py [--sizes 100000,1000000] [--requests 100] [--dashboard-sizes 100000,1000000]

For each size the database is filled (in place, growing) with generated tickets
spread over a year (the heap then clustered by created_at, as arrival order leaves it) (channels email 40 % / Discord 40 % / X 20 %, tickets of the last
two days active, the rest resolved or closed), one inbound message each and a reply
on most (both in the ticket's search text), a contact per three tickets; then ANALYZE. Each page is requested through the
real app (uvicorn serving it in its own process, one worker; an HTTP keep-alive client
logged in as a community manager or lead; routing, session, SQL and templates included) `--requests`
times, and p50/p95 are printed:
- list: `/` (active tickets by due time, 50 rows);
- filtered list: `/?channel=discord&priority=high` and `/?sla=breached`, alternating;
- search: `/?q=...` with words from the generated texts (full-text, tsvector + GIN);
- ticket view: `/tickets/TRKV-n` for random n;
- dashboard: `/dashboard` (the default 7 days), `/dashboard?days=30` and `?days=90`: KPIs and volume
  charts. Before it, the rollup is folded once (as the beat task does every minute) and
  today and yesterday are marked changed, as live traffic leaves them between two folds:
  those two days are counted from their tickets, the others read from the rollup.
The database is `trkv_bench_inbox_<random>`, dropped at the end (`--keep` keeps it).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

# This file is bench/inbox.py: its folder must not shadow the `inbox` package.
_BENCH = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if p not in ("", _BENCH) and Path(p).resolve() != Path(_BENCH)]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.append(_BENCH)

from synthetic import _SENTENCES  # noqa: E402

from storage.db import dispose_engines  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

PG = os.environ.get("TRKV_TEST_PG", "127.0.0.1:5432")
PASSWORD = "correct horse battery"
SEARCHES = ["export", "dashboard error", "timeout", "login safari", "dark mode", "webhooks signature",
            "slack notifications", "invoices csv", "rate limits", "mobile crashes"]

TICKETS_SQL = """
INSERT INTO tickets (id, channel, conversation_key, subject, snippet, status, priority, category,
    suggested_priority, suggested_category, suggestion_confidence, model_version, needs_triage, contact_id,
    created_at, updated_at, last_message_at, first_response_due_at, resolution_due_at, first_responded_at,
    resolved_at, closed_at, sla_paused_seconds)
SELECT g, ch, 'conv-' || g, subj, snip, st, pr, cat, pr, cat, 0.5 + random() / 2, 'bench', random() < 0.3,
    1 + (g % CAST(:contacts AS bigint)), c, c, c,
    c + (CASE pr WHEN 'critical' THEN 1 WHEN 'high' THEN 2 WHEN 'medium' THEN 2 ELSE 2 END) * interval '1 hour',
    c + interval '24 hours',
    CASE WHEN st <> 'new' THEN c + random() * interval '3 hours' END,
    CASE WHEN st IN ('resolved', 'closed') THEN c + random() * interval '30 hours' END,
    CASE WHEN st = 'closed' THEN c + interval '40 hours' END, 0
FROM (
  SELECT g, c, ch, pr, cat, subj, subj || ' ' || s2 AS snip,
    CASE WHEN c > (now() at time zone 'utc') - interval '2 days'
         THEN (ARRAY['new', 'open', 'pending'])[1 + floor(random() * 3)::int]
         WHEN random() < 0.9 THEN 'closed' ELSE 'resolved' END AS st
  FROM (
    SELECT g, (now() at time zone 'utc') - random() * interval '365 days' AS c,
      (ARRAY['email', 'email', 'discord', 'discord', 'x'])[1 + floor(random() * 5)::int] AS ch,
      (ARRAY['critical', 'high', 'high', 'medium', 'medium', 'medium', 'low', 'low', 'low', 'low'])
        [1 + floor(random() * 10)::int] AS pr,
      (ARRAY['bug_report', 'feature_request', 'support_question', 'documentation', 'general', 'no_action'])
        [1 + floor(random() * 6)::int] AS cat,
      (CAST(:sentences AS text[]))[1 + floor(random() * CAST(:n_sentences AS int))::int] AS subj,
      (CAST(:sentences AS text[]))[1 + floor(random() * CAST(:n_sentences AS int))::int] AS s2
    FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) g
  ) a
) b
"""

MESSAGES_SQL = """
INSERT INTO messages (id, ticket_id, direction, channel, external_id, conversation_key, author, subject, text,
    received_at)
SELECT 2 * id - 1, id, 'in', channel, 'in-' || id, conversation_key, 'Customer ' || contact_id, subject,
    snippet || ' ' || repeat('More details about the problem follow here. ', 1 + (id % 12)::int), created_at
FROM tickets WHERE id BETWEEN :lo AND :hi
UNION ALL
SELECT 2 * id, id, 'out', channel, 'out-' || id, conversation_key, 'agent@trkv.test', NULL,
    'Thanks for the report, we are looking into it.', first_responded_at
FROM tickets WHERE id BETWEEN :lo AND :hi AND first_responded_at IS NOT NULL
"""

# What ingest and dispatch append as the messages arrive: the conversation's words.
SEARCH_TEXT_SQL = """
UPDATE tickets SET search_text = m.words
FROM (SELECT ticket_id, string_agg(text, E'\\n' ORDER BY id) AS words FROM messages
      WHERE ticket_id BETWEEN :lo AND :hi GROUP BY ticket_id) m
WHERE tickets.id = m.ticket_id
"""


def fill(url: str, lo: int, hi: int) -> float:
    started = time.perf_counter()
    engine = create_engine(url)
    with engine.begin() as conn:
        contacts_lo, contacts_hi = (lo - 1) // 3 + 1, hi // 3 + 1
        conn.execute(text("INSERT INTO contacts (id, name, email, blocked, created_at) SELECT g, 'Customer ' || g, "
                          "'c' || g || '@example.com', false, now() at time zone 'utc' "
                          "FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) g ON CONFLICT DO NOTHING"),
                     {"lo": contacts_lo, "hi": contacts_hi})
        conn.execute(text("INSERT INTO identities (id, contact_id, channel, external_user_id, handle, display_name, "
                          "created_at) SELECT g, g, 'email', 'c' || g || '@example.com', 'c' || g, 'Customer ' || g, "
                          "now() at time zone 'utc' FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) g ON CONFLICT DO NOTHING"),
                     {"lo": contacts_lo, "hi": contacts_hi})
        conn.execute(text(TICKETS_SQL), {"lo": lo, "hi": hi, "contacts": hi // 3, "sentences": _SENTENCES,
                                         "n_sentences": len(_SENTENCES)})
        conn.execute(text(MESSAGES_SQL), {"lo": lo, "hi": hi})
        conn.execute(text(SEARCH_TEXT_SQL), {"lo": lo, "hi": hi})
        for table in ("contacts", "identities", "tickets", "messages"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # A live hub stores tickets in arrival order; generated ones arrive in random order,
        # so put the heap in created_at order as a year of real traffic would leave it.
        conn.execute(text("CLUSTER tickets USING ix_tickets_created"))
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def settle_rollup(url: str, settings) -> None:
    """The dashboard's rollup as a live hub has it: folded (the beat task's work), with
    today and yesterday changed since (storage/day_stats.py)."""
    from support.tickets.metrics import fold_day_stats

    started = time.perf_counter()
    fold_day_stats(settings)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO ticket_day_dirty (day) SELECT CAST(now() at time zone 'utc' AS date) - g "
                          "FROM generate_series(0, 1) g"))
    engine.dispose()
    print(f"rollup folded in {time.perf_counter() - started:.1f} s; today and yesterday marked changed")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def measure(client, paths: list[str]) -> tuple[float, float]:
    client.get(paths[0])  # warm the plan cache and the connection pool
    samples = []
    for path in paths:
        started = time.perf_counter()
        response = client.get(path)
        samples.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}")
    return percentiles(samples)


def browser(base: str, email: str):
    import httpx

    client = httpx.Client(base_url=base, follow_redirects=False, timeout=60)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    assert client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token}).status_code == 303
    return client


def serve() -> tuple[subprocess.Popen, str]:
    """The web app as deployed: uvicorn in its own process, one worker, on a free port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "inbox.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        cwd=str(Path(__file__).resolve().parent.parent), env=os.environ.copy(),
    )
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            if process.poll() is not None:
                raise SystemExit("uvicorn did not start")
            time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--dashboard-sizes", default=None, help="sizes at which to time the dashboard (default: all)")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    parser.add_argument("--reuse", metavar="NAME", help="a database kept by an earlier run: fill only what is missing")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    dashboard_sizes = set(sizes if args.dashboard_sizes is None else
                          (int(s) for s in args.dashboard_sizes.split(",") if s))

    name = args.reuse or f"trkv_bench_inbox_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"postgresql+psycopg://postgres@{PG}/postgres", isolation_level="AUTOCOMMIT")
    if not args.reuse:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    keep = args.keep or bool(args.reuse)
    url = f"postgresql+psycopg://postgres@{PG}/{name}"
    server = None
    os.environ.update(TRKV_DATABASE_URL=url, TRKV_DEMO="0", TRKV_HOME=f"/tmp/{name}")
    try:
        upgrade(url)
        from support import accounts
        from trkv.settings import reset_settings

        settings = reset_settings()
        if not accounts.has_users(settings):
            accounts.create_user("cam.cm@trkv.test", "community_manager", PASSWORD, settings=settings)
            accounts.create_user("lena.lead@trkv.test", "lead", PASSWORD, settings=settings)
        server, base = serve()
        cm, lead = browser(base, "cam.cm@trkv.test"), browser(base, "lena.lead@trkv.test")
        print(f"# inbox benchmark on PostgreSQL · {platform.node()} · {os.cpu_count()} CPUs · "
              f"{args.requests} requests per figure, p50 / p95 in ms")
        rng = random.Random(7)
        with create_engine(url).connect() as conn:
            stored = conn.execute(text("SELECT coalesce(max(id), 0) FROM tickets")).scalar_one()
        print(f"database {name}")
        figures: dict[str, dict] = {}
        for size in sizes:
            seconds = fill(url, stored + 1, size) if size > stored else 0.0
            print(f"\n## {size:,} tickets (filled {size - stored:,} in {seconds:.0f} s)")
            stored = max(stored, size)
            n = args.requests
            rows = {
                "list /": ["/"] * n,
                "filtered list": [("/?channel=discord&priority=high", "/?sla=breached")[i % 2] for i in range(n)],
                "search": [f"/?q={SEARCHES[i % len(SEARCHES)].replace(' ', '+')}" for i in range(n)],
                "ticket view": [f"/tickets/TRKV-{rng.randint(1, size)}" for _ in range(n)],
            }
            for label, paths in rows.items():
                p50, p95 = measure(cm, paths)
                print(f"{label:16s} p50 {p50:7.1f}   p95 {p95:7.1f}")
                figures.setdefault(str(size), {})[label] = {"p50_ms": round(p50, 1), "p95_ms": round(p95, 1)}
            if size in dashboard_sizes:
                settle_rollup(url, settings)
                for label, path in (("dashboard 7 d", "/dashboard"), ("dashboard 30 d", "/dashboard?days=30"),
                                    ("dashboard 90 d", "/dashboard?days=90")):
                    p50, p95 = measure(lead, [path] * n)
                    print(f"{label:16s} p50 {p50:7.1f}   p95 {p95:7.1f}")
                    figures.setdefault(str(size), {})[label] = {"p50_ms": round(p50, 1), "p95_ms": round(p95, 1)}
            sys.stdout.flush()
        import record  # bench/record.py: figures kept in bench/results/

        record.write("inbox", {"database": "postgresql", "requests_per_figure": n, "by_tickets": figures})
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        dispose_engines()
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
