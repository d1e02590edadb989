"""Read, then a ticket, at scale: what the weak-articles list costs the weekly update (its
page and the Monday mail) and what recording a read adds to a public article view.

    .venv/bin/python bench/kb_reads.py [--backend sqlite|postgresql] [--tickets 200000]
        [--tracked 20000] [--views 200000]

A week of data: `--tickets` tickets from a fifth as many contacts (each with an identity on
email or Discord), `--views` anonymous page views and `--tracked` reads by known readers
(half through acknowledgement links, half through `/kb` answers), all on the 60 seed
articles; about one tracked read in ten is followed by the reader's next ticket within a
day. Measured: `weak_articles` over the week (median of 5), the whole weekly report, and
`record_view` (the write a page view makes; p50/p95 of 500). Writes
bench/results/kb-reads[-postgresql].json (bench/record.py) with the machine's load.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import record  # noqa: E402
from kb import database  # noqa: E402


def populate(url: str, args, rng: random.Random) -> dict:
    from sqlalchemy import insert, select

    from storage.db import transaction
    from storage.models.base import utcnow
    from storage.models.contacts import Contact, Identity
    from storage.models.kb import KbArticle, KbRead
    from storage.models.tickets import Ticket

    now = utcnow()
    week = timedelta(days=7).total_seconds()
    contacts = max(1, args.tickets // 5)
    with transaction(url) as session:
        article_ids = session.execute(select(KbArticle.id)).scalars().all()
        session.execute(insert(Contact), [{"id": i + 1, "name": f"c{i}", "created_at": now} for i in range(contacts)])
        session.execute(insert(Identity), [
            {"contact_id": i + 1, "channel": "email" if i % 2 else "discord",
             "external_user_id": f"c{i}@example.com" if i % 2 else str(1_300_000_000_000_000_000 + i),
             "created_at": now} for i in range(contacts)])
        tickets = []
        for n in range(args.tickets):
            tickets.append({"id": n + 1, "channel": "email", "subject": "q", "status": "open", "priority": "medium",
                            "category": "documentation", "contact_id": rng.randrange(contacts) + 1,
                            "created_at": now - timedelta(seconds=rng.random() * week), "updated_at": now,
                            "last_message_at": now})
        for start in range(0, len(tickets), 20_000):
            session.execute(insert(Ticket), tickets[start:start + 20_000])
        reads = [{"article_id": rng.choice(article_ids), "via": "page", "client": f"{rng.randrange(50_000):032x}",
                  "created_at": now - timedelta(seconds=rng.random() * week)} for _ in range(args.views)]
        for n in range(args.tracked):
            ticket = tickets[rng.randrange(len(tickets))]
            when = ticket["created_at"] + timedelta(minutes=10)
            if n % 10 == 0:  # read, then a ticket: the contact writes again within the day
                session.execute(insert(Ticket), [{**ticket, "id": len(tickets) + n + 1,
                                                  "created_at": when + timedelta(hours=3)}])
            if n % 2:
                reads.append({"article_id": rng.choice(article_ids), "via": "ack", "ticket_id": ticket["id"],
                              "created_at": when})
            else:
                contact = ticket["contact_id"] - 1
                reader = f"email:c{contact}@example.com" if contact % 2 else f"discord:{1_300_000_000_000_000_000 + contact}"
                reads.append({"article_id": rng.choice(article_ids), "via": "discord", "reader": reader,
                              "created_at": when})
        for start in range(0, len(reads), 20_000):
            session.execute(insert(KbRead), reads[start:start + 20_000])
    return {"contacts": contacts}


def timed(fn, times: int) -> list[float]:
    out = []
    for _ in range(times):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--tracked", type=int, default=20_000)
    parser.add_argument("--views", type=int, default=200_000)
    args = parser.parse_args()
    os.environ["TRKV_HOME"] = tempfile.mkdtemp(prefix="trkv-kb-reads-home-")
    url, drop = database(args.backend)
    os.environ["TRKV_DATABASE_URL"] = url
    from storage.models.base import utcnow
    from support.kb import reads, seed, weekly
    from trkv.settings import get_settings

    settings = get_settings()
    rng = random.Random(16)
    try:
        seed.load(settings)
        start = time.perf_counter()
        made = populate(url, args, rng)
        figures: dict = {"backend": args.backend, "tickets": args.tickets, "contacts": made["contacts"],
                         "page_views": args.views, "tracked_reads": args.tracked,
                         "populate_s": round(time.perf_counter() - start, 1)}
        now = utcnow()
        weak_ms = timed(lambda: reads.weak_articles(settings, now - timedelta(days=7), now + timedelta(hours=1)), 5)
        weak = reads.weak_articles(settings, now - timedelta(days=7), now + timedelta(hours=1), limit=100)
        report_ms = timed(lambda: weekly.report(settings), 3)
        slugs = [a["slug"] for a in seed.seed_articles()]
        view_ms = timed(lambda: reads.record_view(settings, rng.choice(slugs), "203.0.113.9"), 500)
        view_ms.sort()
        figures.update(
            weak_articles_ms={"median": round(statistics.median(weak_ms), 1), "max": round(max(weak_ms), 1)},
            weak_articles_found=len(weak),
            followed_share=round(sum(w["followed_by_ticket"] for w in weak) / max(1, args.tracked), 3),
            weekly_report_ms={"median": round(statistics.median(report_ms), 1)},
            record_view_ms={"p50": round(view_ms[len(view_ms) // 2], 2), "p95": round(view_ms[int(len(view_ms) * .95)], 2)})
        print(figures)
        name = "kb-reads" if args.backend == "sqlite" else "kb-reads-postgresql"
        record.write(name, figures, note="2 cores shared with four other engineers' test runs; see load_1min_at_end")
    finally:
        drop()


if __name__ == "__main__":
    main()
