"""The weekly review (`trkv report weekly`, /reports/weekly, the Monday mail): one dict
with `week`, `volume`, `topics`, `csat`, `incidents`, `sla`, `feature_requests`,
`actions`.

Weeks are ISO weeks in the team's time zone (`business_timezone`). Everything is read
from five weeks of tickets (this week and the four before) with grouped queries; only
the clustering reads words, from at most `SAMPLE` tickets per week.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, case, cast, func, inspect, select, text
from sqlalchemy.orm import Session

from storage.db import session_factory
from storage.models.base import utcnow
from storage.models.feedback import Survey
from storage.models.tickets import Message, Ticket, TicketEvent
from support.feedback import kpis, themes, topics
from trkv.settings import Settings, get_settings

PRIOR_WEEKS = 4
SAMPLE = 4000
DIMENSIONS = ("channel", "category", "priority")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class WeekError(ValueError):
    """Not a week in the YYYY-Www form."""


def parse_week(value: str | None, settings: Settings, now: datetime | None = None) -> tuple[str, datetime, datetime]:
    """(label, start, end) in UTC; default: the last complete week in the team's zone."""
    zone = ZoneInfo(settings.business_timezone)
    if value:
        match = _WEEK.match(value.strip())
        if not match:
            raise WeekError(f"{value[:20]!r} is not a week: use YYYY-Www, e.g. 2026-W49")
        try:
            monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        except ValueError as exc:
            raise WeekError(f"{value[:20]!r} is not a week of that year") from exc
    else:
        today = (now or utcnow()).astimezone(zone).date()
        monday = today - timedelta(days=today.weekday() + 7)
    start = datetime.combine(monday, datetime.min.time(), zone).astimezone(UTC)
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}", start, start + timedelta(days=7)


def weekly(week: str | None = None, settings: Settings | None = None, now: datetime | None = None) -> dict:
    settings = settings or get_settings()
    label, start, end = parse_week(week, settings, now)
    first = start - timedelta(weeks=PRIOR_WEEKS)
    with session_factory(settings.db_url, readonly=True)() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET LOCAL work_mem = '64MB'"))
        week_of = _week_index(start)
        return {
            "week": label, "start": start.isoformat(), "end": end.isoformat(),
            "volume": _volume(session, first, end, week_of),
            "topics": _topics(session, first, start, end),
            "csat": _csat(session, first, end, week_of),
            "incidents": incidents(session, start, end),
            "sla": _sla(session, start, end),
            "feature_requests": themes.feature_requests(session, first, start, end),
            "actions": themes.actions(session),
        }


def _week_index(start: datetime):
    """A day ('2026-12-01' or a date) → 0 for the review's week, 1 for the week before, …"""
    def index(day) -> int:
        day = date.fromisoformat(day[:10]) if isinstance(day, str) else day
        return (start.date() - day).days // 7 + 1 if day < start.date() else 0
    return index


def _day(column, session: Session):
    return cast(column, Date) if session.get_bind().dialect.name == "postgresql" else func.date(column)


def _volume(session: Session, first: datetime, end: datetime, week_of) -> dict:
    day = _day(Ticket.created_at, session).label("day")
    rows = session.execute(
        select(day, Ticket.channel, Ticket.category, Ticket.priority, func.count())
        .where(Ticket.created_at >= first, Ticket.created_at < end)
        .group_by(day, Ticket.channel, Ticket.category, Ticket.priority)
    ).all()
    counts: dict[str, dict[str, list[int]]] = {d: defaultdict(lambda: [0] * (PRIOR_WEEKS + 1)) for d in DIMENSIONS}
    total = [0] * (PRIOR_WEEKS + 1)
    for day_, channel, category, priority, n in rows:
        w = min(week_of(day_), PRIOR_WEEKS)
        total[w] += n
        for dimension, value in zip(DIMENSIONS, (channel, category, priority), strict=True):
            counts[dimension][value][w] += n
    return {"total": change(total), "by": {d: [{"value": v, **change(c)} for v, c in sorted(values.items())]
                                           for d, values in counts.items()}}


def change(weeks: list[int]) -> dict:
    """This week against last week and the 4-week average, flagged when the change is
    significant: at least 3 tickets and two Poisson standard deviations from the average."""
    this, last = weeks[0], weeks[1]
    avg = sum(weeks[1:]) / PRIOR_WEEKS
    pct = None if avg == 0 else round(100.0 * (this - avg) / avg, 1)
    significant = abs(this - avg) >= 3 and abs(this - avg) >= 2 * math.sqrt(max(avg, 1.0))
    return {"this_week": this, "last_week": last, "avg_4w": round(avg, 2), "change_pct": pct,
            "flag": ("up" if this > avg else "down") if significant else None}


def _texts(session: Session, since: datetime, until: datetime, where=()) -> tuple[list[str], list[str]]:
    rows = session.execute(
        select(Ticket.id, Ticket.subject, Ticket.snippet)
        .where(Ticket.created_at >= since, Ticket.created_at < until, Ticket.category != "no_action", *where)
        .order_by(Ticket.created_at.desc()).limit(SAMPLE)
    ).all()
    return [f"{r.subject or ''} {r.snippet or ''}" for r in rows], [f"TRKV-{r.id}" for r in rows]


def _topics(session: Session, first: datetime, start: datetime, end: datetime) -> list[dict]:
    texts, refs = _texts(session, start, end)
    prior, _ = _texts(session, first, start)
    return [t.as_dict() for t in topics.cluster(texts, refs, prior, PRIOR_WEEKS)]


def _csat(session: Session, first: datetime, end: datetime, week_of) -> dict:
    day = _day(Survey.sent_at, session).label("day")
    rows = session.execute(
        select(day, func.count(), func.count(Survey.score), func.count(case((Survey.score >= 4, 1))))
        .where(Survey.sent_at >= first, Survey.sent_at < end).group_by(day)
    ).all()
    weeks = [[0, 0, 0] for _ in range(PRIOR_WEEKS + 1)]
    for day_, sent, answers, satisfied in rows:
        for i, n in enumerate((sent, answers, satisfied)):
            weeks[min(week_of(day_), PRIOR_WEEKS)][i] += n
    mday = _day(Message.received_at, session).label("day")
    mood = session.execute(
        select(mday, func.avg(Message.sentiment), func.count(Message.sentiment))
        .where(Message.received_at >= first, Message.received_at < end, Message.direction == "in",
               Message.sentiment.is_not(None)).group_by(mday)
    ).all()
    sentiment = [[0.0, 0] for _ in range(PRIOR_WEEKS + 1)]
    for day_, avg, n in mood:
        w = sentiment[min(week_of(day_), PRIOR_WEEKS)]
        w[0] += float(avg or 0) * n
        w[1] += n
    start = end - timedelta(days=7)
    return {
        "weeks": [{"weeks_ago": i, "surveys": s, "answers": a, "satisfaction": _pct(sat, a),
                   "response_rate": _pct(a, s), "sentiment": round(m / n, 3) if n else None}
                  for i, ((s, a, sat), (m, n)) in enumerate(zip(weeks, sentiment, strict=True))],
        "satisfaction": _pct(weeks[0][2], weeks[0][1]), "answers": weeks[0][1],
        "low_scores": _low_scores(session, start, end),
    }


def _low_scores(session: Session, start: datetime, end: datetime) -> dict:
    """The categories and tickets behind this week's scores of 1 to 3."""
    rows = session.execute(
        select(Ticket.id, Ticket.category, Ticket.subject, Survey.score, Survey.reason)
        .join(Ticket, Ticket.id == Survey.ticket_id)
        .where(Survey.sent_at >= start, Survey.sent_at < end, Survey.score <= 3).limit(500)
    ).all()
    by_category: dict[str, int] = defaultdict(int)
    by_reason: dict[str, int] = defaultdict(int)
    for r in rows:
        by_category[r.category] += 1
        by_reason[r.reason or "none given"] += 1
    return {"by_category": dict(by_category), "by_reason": dict(by_reason),
            "tickets": [{"ref": f"TRKV-{r.id}", "subject": r.subject, "score": r.score} for r in rows[:50]]}


def _sla(session: Session, start: datetime, end: datetime) -> dict:
    responded = Ticket.first_responded_at.is_not(None)
    done_at = func.coalesce(Ticket.resolved_at, Ticket.closed_at)
    fr_met, fr_due, res_met, res_due = session.execute(
        select(func.count(case((responded & (Ticket.first_responded_at <= Ticket.first_response_due_at), 1))),
               func.count(case((responded | (Ticket.first_response_due_at < end), 1))),
               func.count(case((done_at.is_not(None) & (done_at <= Ticket.resolution_due_at), 1))),
               func.count(case((done_at.is_not(None) | (Ticket.resolution_due_at < end), 1))))
        .where(Ticket.created_at >= start, Ticket.created_at < end)
    ).one()
    breaches = session.execute(
        select(TicketEvent.field, func.count()).where(TicketEvent.kind == "sla_breach", TicketEvent.created_at >= start,
                                                      TicketEvent.created_at < end).group_by(TicketEvent.field)
    ).all()
    return {"first_response": _pct(fr_met, fr_due), "resolution": _pct(res_met, res_due),
            "first_response_due": fr_due, "resolution_due": res_due,
            "breaches": {str(k or "unknown"): n for k, n in breaches}}


def incidents(session: Session, start: datetime, end: datetime) -> list[dict]:
    """The week's incidents, from the incidents table when the hub has one (built by the
    incidents work; until it lands there is none, and the review says so by an empty list),
    each with the satisfaction of its linked tickets' surveys (`satisfaction`: value,
    answers, surveys, low, response rate; value null while none is answered)."""
    if "incidents" not in inspect(session.get_bind()).get_table_names():
        return []
    columns = {c["name"] for c in inspect(session.get_bind()).get_columns("incidents")}
    started = next((c for c in ("started_at", "declared_at", "created_at") if c in columns), None)
    if started is None:
        return []
    wanted = [c for c in ("id", "title", "status", "severity", started, "resolved_at") if c in columns]
    rows = session.execute(text(f"SELECT {', '.join(wanted)} FROM incidents WHERE {started} < :end "
                                f"AND ({'resolved_at IS NULL OR resolved_at >= :start' if 'resolved_at' in columns else '1=1'}) "
                                f"ORDER BY {started} LIMIT 100"), {"start": start.replace(tzinfo=None),
                                                                  "end": end.replace(tzinfo=None)}).mappings().all()
    figures = kpis.for_incidents(session, [row["id"] for row in rows]) if "id" in columns else {}
    return [{**{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()},
             "satisfaction": figures.get(row.get("id"), kpis.Figure(target=kpis.TARGET)).as_dict()} for row in rows]


def _pct(part: int, whole: int) -> float | None:
    return None if not whole else round(100.0 * part / whole, 1)
