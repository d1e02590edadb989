"""Dashboard figures: the seed's KPIs against their targets, SLA attainment, and ticket
volume by day, channel, category and priority.

The ticket figures come from the daily rollup (storage/day_stats.py): a day whose
tickets have not changed since the last fold is read from its few rows, and a dirty day
(today, and any day with a ticket changed since) is counted from its tickets. So the
figures are exact at the moment of the view (a ticket resolved a second ago counts),
and a 90-day window costs a few thousand rows plus today's tickets. The comparisons with
the clock are counted directly over few tickets: those whose due time is still ahead,
and those resolved on the day a week ago (the days before come from the rollup). A KPI without data is None, and shown as "no data":
never a made-up figure.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select, text
from sqlalchemy.orm import Session

from storage import day_stats, locks
from storage.db import session_factory
from storage.models.base import utcnow
from storage.models.metrics import TicketDayDirty, TicketDayDone, TicketDayStats
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


def dashboard(days: int = 30, settings: Settings | None = None, now: datetime | None = None) -> Dashboard:
    settings = settings or get_settings()
    days = max(1, min(days, 366))
    now = now or utcnow()
    since = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    with session_factory(settings.db_url, readonly=True)() as session:
        if session.get_bind().dialect.name == "postgresql":
            # One snapshot for the dirty days, the rollup and the tickets: a fold or a
            # ticket change committing between two of the queries cannot be half seen.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        dirty = sorted({day_stats.as_date(d) for d in session.execute(
            select(TicketDayDirty.day).where(TicketDayDirty.day >= since.date()).distinct()).scalars()})
        rows = _day_rows(session, since, dirty)
        pending = _not_yet(session, since, now)
        # accurate solutions' base: done at least a week ago (support/feedback/kpis.py)
        done_week = _done_before(session, since, now - timedelta(days=7), dirty)
    sums = dict.fromkeys(day_stats.FIGURES, 0.0)
    volume: dict[str, dict[str, dict[str, int]]] = {d: defaultdict(lambda: defaultdict(int))
                                                     for d in ("channel", "category", "priority")}
    for day_, channel, category, priority, *figures in rows:
        day_ = day_ if isinstance(day_, str) else day_.isoformat()
        for name, value in zip(day_stats.FIGURES, figures, strict=True):
            sums[name] += float(value or 0)
        for dimension, value in (("channel", channel), ("category", category), ("priority", priority)):
            volume[dimension][value][day_] += int(figures[0])
    n = {name: int(value) for name, value in sums.items() if not name.endswith("_seconds")}
    # SLA attainment counts tickets whose clock has run out or stopped: met = answered in
    # time; missed = answered late, or not answered and overdue. Each "has run out" is the
    # rollup's count of tickets with a due time minus those whose due time is still ahead.
    fr_due = n["responded"] + n["first_response_waiting"] - pending["first_response_ahead"]
    res_due = n["done"] + n["resolution_waiting"] - pending["resolution_ahead_open"]
    rate_base = n["resolution_due_set"] - pending["resolution_ahead"]
    rate_done = n["resolution_due_set_closed"] - pending["resolution_ahead_closed"]
    avg_fr = sums["first_response_seconds"] / n["responded"] if n["responded"] else None
    avg_res = sums["resolution_seconds"] / n["done"] if n["done"] else None
    kpis = [
        Kpi("first_response", "Average first response", _hours(avg_fr), "h", 2, "below", n["responded"]),
        Kpi("resolution", "Average resolution time", _hours(avg_res), "h", 24, "below", n["done"]),
        Kpi("satisfaction", "Customer satisfaction", None, "%", 90, "above", 0,
            "no survey responses recorded yet"),
        Kpi("resolution_rate", "Resolution rate", _share(rate_done, rate_base), "%", 95, "above", rate_base,
            "of tickets whose resolution time has passed"),
        Kpi("sla_first_response", "SLA attainment: first response", _share(n["first_response_met"], fr_due), "%",
            95, "above", fr_due),
        Kpi("sla_resolution", "SLA attainment: resolution", _share(n["resolution_met"], res_due), "%", 95, "above",
            res_due),
    ]
    kpis.append(Kpi("documentation_coverage", "Documentation coverage", *kb_weekly.coverage_kpi(settings, since, now)))
    satisfaction = _satisfaction(settings, since)
    if satisfaction is not None:
        kpis[2].value, kpis[2].sample, kpis[2].note = satisfaction[0], satisfaction[1], "answers rating 4 or 5"
    kpis.insert(4, _accurate(settings, since, now, done_week))
    day_list = [(since + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(days)]
    return Dashboard(since, now, days, kpis, {k: {v: dict(d) for v, d in m.items()} for k, m in volume.items()},
                     day_list, n["tickets"])


def _day_rows(session: Session, since: datetime, dirty: list[date]) -> list:
    """The window's rows per (day, channel, category, priority): a clean day's from the
    rollup, a dirty day's (today, and any day whose tickets changed since the last fold)
    counted from its tickets, in one index range per run of dirty days."""
    kept = select(TicketDayStats.day, TicketDayStats.channel, TicketDayStats.category, TicketDayStats.priority,
                  *(getattr(TicketDayStats, name) for name in day_stats.FIGURES)).where(
        TicketDayStats.day >= since.date())
    if dirty:
        kept = kept.where(TicketDayStats.day.not_in(dirty))
    rows = list(session.execute(kept).all())
    if dirty:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            # The grouping hashes the dirty days' tickets: in memory, not in temp files.
            session.execute(text("SET LOCAL work_mem = '64MB'"))
        rows += session.execute(day_stats.figures_select(
            dialect, (Ticket.created_at >= since) & day_stats.created_in(dirty))).all()
    return rows


def _not_yet(session: Session, since: datetime, now: datetime) -> dict[str, int]:
    """The window's tickets whose due time is still ahead at `now`: about a day's tickets,
    found through ix_tickets_resolution_due and ix_tickets_due_id."""
    responded = Ticket.first_responded_at.is_not(None)
    res_ahead = Ticket.resolution_due_at >= now
    fr_ahead = ~responded & (Ticket.first_response_due_at >= now)
    ahead = session.execute(select(
        func.count(case((fr_ahead, 1))),
        func.count(case((res_ahead & day_stats.done_at().is_(None), 1))),
        func.count(case((res_ahead, 1))),
        func.count(case((res_ahead & Ticket.status.in_(DONE), 1))),
    ).where(Ticket.created_at >= since, res_ahead | fr_ahead)).one()
    return {"first_response_ahead": int(ahead[0]), "resolution_ahead_open": int(ahead[1]),
            "resolution_ahead": int(ahead[2]), "resolution_ahead_closed": int(ahead[3])}


def _done_before(session: Session, since: datetime, cut: datetime, dirty: list[date]) -> int:
    """The window's tickets resolved or closed at or before `cut`: whole days of resolution
    from the rollup (a dirty day's counted from its tickets), and the tickets done on
    `cut`'s own day up to `cut` counted (ix_tickets_resolved, ix_tickets_closed_unresolved)."""
    midnight = cut.replace(hour=0, minute=0, second=0, microsecond=0)
    closed, finished = Ticket.status.in_(DONE), day_stats.done_at()
    kept = select(func.coalesce(func.sum(TicketDayDone.closed), 0)).where(
        TicketDayDone.day >= since.date(), TicketDayDone.done_day < midnight.date())
    if dirty:
        kept = kept.where(TicketDayDone.day.not_in(dirty))
    total = int(session.execute(kept).scalar() or 0)
    if dirty:
        total += session.execute(select(func.count()).select_from(Ticket).where(
            Ticket.created_at >= since, day_stats.created_in(dirty), closed, finished < midnight)).scalar()
    on_the_day = (Ticket.resolved_at >= midnight) & (Ticket.resolved_at <= cut)
    closed_on_the_day = Ticket.resolved_at.is_(None) & (Ticket.closed_at >= midnight) & (Ticket.closed_at <= cut)
    return total + session.execute(select(func.count()).select_from(Ticket).where(
        Ticket.created_at >= since, closed, on_the_day | closed_on_the_day)).scalar()


def fold_day_stats(settings: Settings | None = None) -> int:
    """The beat task's work: recompute the rollup of the days whose tickets changed
    (storage/day_stats.py). One fold at a time; a second one finds the lock taken and
    leaves the work to the first."""
    settings = settings or get_settings()
    with session_factory(settings.db_url)() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        if not locks.try_hold(session, "ticket_day_stats.fold"):
            return 0
        return day_stats.fold(session.connection())


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
