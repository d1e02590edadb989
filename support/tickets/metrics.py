"""Dashboard figures: the seed's KPIs against their targets, SLA attainment, and ticket
volume by day, channel, category and priority.

Everything is computed by the database over a window of days (two aggregate queries
on the created_at index), so the dashboard costs the same at 10 k or 10 M tickets
outside the window. A KPI without data is None, and shown as "no data": never a
made-up figure.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Date, case, cast, func, select, text

from storage.db import session_factory
from storage.models.base import utcnow
from storage.models.tickets import Ticket
from support.kb import weekly as kb_weekly
from trkv.settings import Settings, get_settings

DONE = ("resolved", "closed")


@dataclass
class Kpi:
    key: str
    label: str
    value: float | None  # None: no data yet
    unit: str  # "h" | "%"
    target: float
    better: str  # "below" | "above"
    sample: int  # tickets the figure is computed from
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value < self.target if self.better == "below" else self.value > self.target


@dataclass
class Dashboard:
    since: datetime
    until: datetime
    days: int
    kpis: list[Kpi]
    volume: dict[str, dict[str, dict[str, int]]]  # dimension -> value -> day -> count
    day_list: list[str]
    total: int


def _seconds(later, earlier, dialect: str):
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _day(column, dialect: str):
    # A plain cast: to_char() per row cost more than the rest of the dashboard's query.
    if dialect == "postgresql":
        return cast(column, Date)
    return func.date(column)


def dashboard(days: int = 30, settings: Settings | None = None, now: datetime | None = None) -> Dashboard:
    settings = settings or get_settings()
    days = max(1, min(days, 366))
    now = now or utcnow()
    since = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    in_window = Ticket.created_at >= since
    with session_factory(settings.db_url, readonly=True)() as session:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            # The grouping sorts or hashes the whole window: in memory, not in temp files
            # (the default 4 MB spills to disk from about 50 k tickets in the window).
            session.execute(text("SET LOCAL work_mem = '64MB'"))
        responded = Ticket.first_responded_at.is_not(None)
        done_at = func.coalesce(Ticket.resolved_at, Ticket.closed_at)
        first_response = _seconds(Ticket.first_responded_at, Ticket.created_at, dialect)
        resolution = _seconds(done_at, Ticket.created_at, dialect)
        fr_due_passed = Ticket.first_response_due_at < now
        res_due_passed = Ticket.resolution_due_at < now
        day = _day(Ticket.created_at, dialect).label("day")
        # One pass over the window: per day, channel, category and priority, the sums the
        # KPIs need; the totals are added up here (a few thousand groups at most).
        rows = session.execute(
            select(
                day, Ticket.channel, Ticket.category, Ticket.priority,
                func.count(),
                func.sum(case((responded, first_response))),
                func.count(case((responded, 1))),
                func.sum(case((done_at.is_not(None), resolution))),
                func.count(case((done_at.is_not(None), 1))),
                # SLA attainment counts tickets whose clock has run out or stopped:
                # met = answered in time; missed = answered late, or not answered and overdue.
                func.count(case((responded & (Ticket.first_responded_at <= Ticket.first_response_due_at), 1))),
                func.count(case((responded | fr_due_passed, 1))),
                func.count(case((done_at.is_not(None) & (done_at <= Ticket.resolution_due_at), 1))),
                func.count(case((done_at.is_not(None) | res_due_passed, 1))),
                func.count(case((res_due_passed, 1))),
                func.count(case((res_due_passed & Ticket.status.in_(DONE), 1))),
                # accurate solutions' base: done at least a week ago (support/feedback/kpis.py)
                func.count(case((Ticket.status.in_(DONE) & (done_at <= now - timedelta(days=7)), 1))),
            ).where(in_window).group_by(day, Ticket.channel, Ticket.category, Ticket.priority)
        ).all()
    sums = [0.0] * 12
    volume: dict[str, dict[str, dict[str, int]]] = {d: defaultdict(lambda: defaultdict(int))
                                                     for d in ("channel", "category", "priority")}
    for day_, channel, category, priority, *figures in rows:
        day_ = day_ if isinstance(day_, str) else day_.isoformat()
        for i, value in enumerate(figures):
            sums[i] += float(value or 0)
        for dimension, value in (("channel", channel), ("category", category), ("priority", priority)):
            volume[dimension][value][day_] += figures[0]
    total, sum_fr, n_fr, sum_res, n_res, fr_met, fr_due, res_met, res_due, rate_base, rate_done, done_week = (
        int(v) if i not in (1, 3) else v for i, v in enumerate(sums))
    avg_fr = sum_fr / n_fr if n_fr else None
    avg_res = sum_res / n_res if n_res else None
    kpis = [
        Kpi("first_response", "Average first response", _hours(avg_fr), "h", 2, "below", n_fr),
        Kpi("resolution", "Average resolution time", _hours(avg_res), "h", 24, "below", n_res),
        Kpi("satisfaction", "Customer satisfaction", None, "%", 90, "above", 0,
            "no survey responses recorded yet"),
        Kpi("resolution_rate", "Resolution rate", _share(rate_done, rate_base), "%", 95, "above", rate_base,
            "of tickets whose resolution time has passed"),
        Kpi("sla_first_response", "SLA attainment: first response", _share(fr_met, fr_due), "%", 95, "above", fr_due),
        Kpi("sla_resolution", "SLA attainment: resolution", _share(res_met, res_due), "%", 95, "above", res_due),
    ]
    kpis.append(Kpi("documentation_coverage", "Documentation coverage", *kb_weekly.coverage_kpi(settings, since, now)))
    satisfaction = _satisfaction(settings, since)
    if satisfaction is not None:
        kpis[2].value, kpis[2].sample, kpis[2].note = satisfaction[0], satisfaction[1], "answers rating 4 or 5"
    kpis.insert(4, _accurate(settings, since, now, done_week))
    day_list = [(since + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(days)]
    return Dashboard(since, now, days, kpis, {k: {v: dict(d) for v, d in m.items()} for k, m in volume.items()},
                     day_list, total)


def _satisfaction(settings: Settings, since: datetime) -> tuple[float, int] | None:
    """Survey results (support/feedback/kpis.py): None while no answer exists (never a made-up figure)."""
    from support.feedback import kpis

    with session_factory(settings.db_url, readonly=True)() as session:
        return kpis.kpi(session, since)


def _accurate(settings: Settings, since: datetime, now: datetime, done: int) -> Kpi:
    """Resolved and not reopened within 7 days (support/feedback/kpis.py)."""
    from support.feedback import kpis

    with session_factory(settings.db_url, readonly=True)() as session:
        value, base = kpis.accurate_solutions(session, since, now, done=done)
    return Kpi("accurate_solutions", "Accurate solutions", value, "%", 95, "above", base,
               "resolved and not reopened within 7 days")


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(float(seconds) / 3600, 2)


def _share(part: int, whole: int) -> float | None:
    return None if not whole else round(100.0 * part / whole, 1)


def kpis_csv(board: Dashboard) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["kpi", "value", "unit", "target", "target_met", "tickets", "since", "until", "note"])
    for k in board.kpis:
        writer.writerow([k.key, "" if k.value is None else k.value, k.unit,
                         f"{'<' if k.better == 'below' else '>'} {k.target:g}",
                         "" if k.met is None else str(k.met).lower(), k.sample,
                         board.since.date().isoformat(), board.until.date().isoformat(),
                         k.note or ("no data" if k.value is None else "")])
    return out.getvalue()


def volume_csv(board: Dashboard) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["day", "dimension", "value", "tickets"])
    for dimension, values in board.volume.items():
        for value, per_day in sorted(values.items()):
            for day in board.day_list:
                if per_day.get(day):
                    writer.writerow([day, dimension, value, per_day[day]])
    return out.getvalue()
