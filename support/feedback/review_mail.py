"""The weekly review as text (the CLI, the mail) and the Monday mail to the leads.

The beat task runs hourly; `send_weekly` queues mail only on Monday from `SEND_HOUR`
in the team's time zone (`business_timezone`), one outbox row per lead and week
(`review:<week>:<user>`), so every later run that Monday queues nothing again.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage.db import session_factory
from storage.models.accounts import User
from storage.models.base import utcnow
from support.delivery import staff_mail
from support.feedback import review
from trkv.settings import Settings

SEND_HOUR = 8


def text(result: dict) -> str:
    total = result["volume"]["total"]
    lines = [f"Weekly review {result['week']}",
             f"Tickets: {total['this_week']} (last week {total['last_week']}, 4-week average {total['avg_4w']})"]
    for dimension, rows in result["volume"]["by"].items():
        flagged = [f"{r['value']} {r['flag']} ({r['this_week']} vs {r['avg_4w']})" for r in rows if r["flag"]]
        if flagged:
            lines.append(f"  {dimension}: " + ", ".join(flagged))
    lines.append("Topics:")
    lines += [f"  {t['name']}: {t['tickets']} ({t['trend']})" for t in result["topics"]] or ["  none"]
    csat = result["csat"]
    lines.append(f"Satisfaction: {_pct(csat['satisfaction'])} of {csat['answers']} answers; "
                 f"sentiment {csat['weeks'][0]['sentiment']}")
    lines += [f"  {_bar(w['satisfaction'])} {_pct(w['satisfaction'])}  "
              f"({'this week' if not w['weeks_ago'] else str(w['weeks_ago']) + ' weeks ago'})"
              for w in reversed(csat["weeks"])]
    lines.append(f"SLA: first response {_pct(result['sla']['first_response'])}, "
                 f"resolution {_pct(result['sla']['resolution'])}")
    lines.append(f"Incidents: {len(result['incidents'])}")
    lines += [f"  #{i.get('id')} {i.get('title', '')}: satisfaction {_pct((i.get('satisfaction') or {}).get('value'))}"
              f" of {(i.get('satisfaction') or {}).get('answers', 0)} answers" for i in result["incidents"]]
    lines.append("Feature requests:")
    lines += [f"  {t['theme']}: {t['requesters']} requesters × growth {t['growth']} = {t['score']}"
              + (f" [{t['status']}]" if t["status"] else "") for t in result["feature_requests"]] or ["  none"]
    return "\n".join(lines)


def _bar(value: float | None) -> str:
    """A text chart: one block per 5 %, readable in any mail client."""
    return "·" if value is None else "█" * round(value / 5)


def _pct(value) -> str:
    return "no data" if value is None else f"{value} %"


def send_weekly(settings: Settings, now: datetime | None = None) -> list[int]:
    """Queue the review mail to every active lead when it is due; returns the outbox ids
    queued. A deactivated lead has left the team: no more mail, as for the KB update."""
    now = now or utcnow()
    local = now.astimezone(ZoneInfo(settings.business_timezone))
    if local.weekday() != 0 or local.hour < SEND_HOUR:
        return []
    with session_factory(settings.db_url, readonly=True)() as session:
        leads = session.execute(select(User.id, User.email).where(User.role == "lead", User.active.is_(True))).all()
    if not leads:
        return []
    result = review.weekly(None, settings, now)
    body = text(result) + f"\n\nThe whole review: {settings.public_url.rstrip('/')}/reports/weekly?week={result['week']}\n"
    return staff_mail.queue_to_staff(settings, leads, kind="review", key_prefix=f"review:{result['week']}",
                                     subject=f"TRKV weekly review {result['week']}", body=body, now=now)
