"""The weekly KB update by mail to the support engineers and leads.

The beat task (`trkv.kb_weekly`) runs hourly; `send_weekly` queues mail only on Monday
from `SEND_HOUR` in the team's time zone (`business_timezone`), one outbox row per
recipient and ISO week (`kb-weekly:<week>:<user id>`, the outbox's unique key), so a
later run, a second beat or a worker killed halfway queues nothing twice; the outbox
sends each row once (at-least-once, deduplicated by that key).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage.db import session_factory
from storage.models.accounts import User
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from support.delivery import staff_mail
from support.kb import weekly
from trkv.settings import Settings

SEND_HOUR = 8
RECIPIENT_ROLES = ("engineer", "lead")
LISTED = 10  # items per section in the mail; the page lists them all


def due_week(settings: Settings, now: datetime) -> str | None:
    """The ISO week ("2026-W50") when the update is due at `now`, else None."""
    local = now.astimezone(ZoneInfo(settings.business_timezone))
    if local.weekday() != 0 or local.hour < SEND_HOUR:
        return None
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def text(report: dict[str, Any], week: str, base: str) -> str:
    c = report["coverage"]
    value = "no ticket resolved" if c["value"] is None else \
        f"{c['value']:.0%} of the week's resolved tickets ({c['covered']} of {c['resolved']})"
    sections = [
        (f"Not reviewed in {report['review_days']} days", [
            f"{a['title']} ({a['days']} days): {base}/kb-admin/{a['slug']}/edit" for a in report["stale"]]),
        ("Flagged by releases", [f"{a['title']}: {a['reason']}" for a in report["flagged"]]),
        ("Falling helpfulness", [f"{a['slug']}: {a['helpful_before']:.0%} -> {a['helpful_now']:.0%} "
                                 f"({a['answers']} answers)" for a in report["falling_helpfulness"]]),
        ("Top missing topics (searches that found nothing)",
         [f"\"{m['query']}\" x{m['searches']}" for m in report["missing_topics"]]),
        ("Weak articles (read, then a ticket within a day)",
         [f"{a['title']}: {a['followed_by_ticket']} of {a['tracked_reads']} tracked reads ({a['rate']:.0%})"
          for a in report["weak_articles"]]),
    ]
    lines = [f"Knowledge base, weekly update {week}", "",
             f"Documentation coverage: {value}; goal 100%"]
    for title, items in sections:
        lines += ["", f"{title} ({len(items)}):"]
        lines += [f"  - {item}" for item in items[:LISTED]] or ["  none"]
        if len(items) > LISTED:
            lines.append(f"  ... and {len(items) - LISTED} more")
    lines += ["", f"The whole update: {base}/kb-admin/weekly"]
    return "\n".join(lines) + "\n"


def send_weekly(settings: Settings, now: datetime | None = None) -> list[int]:
    """Queue the update to every active engineer and lead when due; the outbox ids queued."""
    now = now or utcnow()
    week = due_week(settings, now)
    if week is None:
        return []
    with session_factory(settings.db_url, readonly=True)() as session:
        people = session.execute(select(User.id, User.email).where(
            User.role.in_(RECIPIENT_ROLES), User.active.is_(True)).order_by(User.id)).all()
        keys = [f"kb-weekly:{week}:{p.id}" for p in people]  # exact keys: the unique index answers
        sent = set(session.execute(select(Outbox.idempotency_key).where(Outbox.idempotency_key.in_(keys or [""])))
                   .scalars())
    people = [p for p, key in zip(people, keys, strict=True) if key not in sent]
    if not people:
        return []
    body = text(weekly.report(settings, now), week, settings.public_url.rstrip("/"))
    return staff_mail.queue_to_staff(settings, people, kind="kb_weekly", key_prefix=f"kb-weekly:{week}",
                                     subject=f"TRKV knowledge base: weekly update {week}", body=body, now=now)
