"""Documentation coverage, the seed's KPI: the share of tickets resolved in a window that
link an article in a reply, or whose question a published article confidently answers.

Whether an article answers a ticket takes one KB search, so the answer is kept per ticket
(`kb_coverage`) and read back; a row older than the newest article change is stale and
searched again. Over a big window the KPI is estimated on an evenly spread sample of at
most SAMPLE resolved tickets (ids in steps of N / SAMPLE: no sort over the window), which
puts it within about ±5 points at 95 %: a KPI for a trend, not an audit. The beat task
`trkv.kb_coverage` keeps the samples of the dashboard's windows checked, so a page view
usually searches nothing; a view that finds unchecked tickets checks them itself.

An estimated figure is also kept (`kb_coverage_figures`, one row per dashboard window):
finding the sample costs a pass over the window's resolved tickets (300 ms at 1 M
tickets), so a dashboard view reads the figure while it is under FRESH old and no
article changed since, and says when it was computed. An exact figure (a window of at
most SAMPLE resolved tickets) is always computed at the view.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Text, cast, delete, exists, func, select

from storage.db import session_factory, transaction
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.kb import KbArticle, KbCoverage, KbCoverageFigure
from storage.models.tickets import Message, Ticket
from storage.queries import insert_many_ignoring_conflicts
from support.kb import search
from trkv.settings import Settings

SAMPLE = 400
WINDOWS = (7, 30, 90)  # the dashboard's choices, kept checked by the beat task
FRESH = timedelta(minutes=15)  # the beat task runs every 10 minutes


def coverage(settings: Settings, since: datetime, until: datetime) -> dict:
    """{resolved, checked, covered, value}: `checked` tickets (all, or the sample) of the
    `resolved` ones, `covered` of those; value is null while nothing was resolved."""
    with session_factory(settings.db_url, readonly=True)() as session:
        resolved = session.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.resolved_at >= since, Ticket.resolved_at < until)) or 0
    if not resolved:
        return {"resolved": 0, "checked": 0, "covered": 0, "value": None}
    step = max(1, -(-resolved // SAMPLE))
    check(settings, since, until, step)
    linked = exists().where(Outbox.ticket_id == Ticket.id, Outbox.kind == "reply",
                            cast(Outbox.payload, Text).like("%/kb/%"))
    answered = exists().where(KbCoverage.ticket_id == Ticket.id, KbCoverage.slug.is_not(None))
    with session_factory(settings.db_url, readonly=True)() as session:
        row = session.execute(select(func.count(), func.count().filter(linked | answered)).where(
            *_window(since, until, step))).one()
    return {"resolved": resolved, "checked": row[0], "covered": row[1],
            "value": round(row[1] / row[0], 3) if row[0] else None}


def check(settings: Settings, since: datetime, until: datetime, step: int = 1, limit: int = 2 * SAMPLE) -> int:
    """Search the KB for the window's (sampled) tickets that have no fresh answer kept;
    returns how many it checked."""
    with session_factory(settings.db_url, readonly=True)() as session:
        fresh_after = session.scalar(select(func.max(KbArticle.updated_at)))
        kept = select(KbCoverage.ticket_id).where(KbCoverage.ticket_id == Ticket.id)
        if fresh_after is not None:
            kept = kept.where(KbCoverage.checked_at >= fresh_after)
        todo = session.execute(select(Ticket.id, Ticket.subject).where(
            *_window(since, until, step), ~exists(kept)).limit(limit)).all()
        if not todo:
            return 0
        first = select(Message.ticket_id, func.min(Message.id).label("id")).where(
            Message.ticket_id.in_([t.id for t in todo]), Message.direction == "in").group_by(Message.ticket_id)
        texts = dict(session.execute(select(Message.ticket_id, Message.text).where(
            Message.id.in_(select(first.subquery().c.id)))).all())
    now = utcnow()
    rows = []
    for t in todo:
        match = search.confident_match(settings, f"{t.subject or ''}\n{texts.get(t.id) or ''}")
        rows.append({"ticket_id": t.id, "slug": match["slug"] if match else None, "checked_at": now})
    ids = [r["ticket_id"] for r in rows]
    with transaction(settings.db_url) as session:
        session.execute(delete(KbCoverage).where(KbCoverage.ticket_id.in_(ids)))  # stale rows, if any
        insert_many_ignoring_conflicts(session, KbCoverage, rows)  # a concurrent check wrote the same
    return len(rows)


def refresh(settings: Settings, now: datetime | None = None) -> int:
    """The beat task's work: check the samples of the dashboard's windows ending now, and
    keep their estimated figures; returns how many tickets it searched for."""
    now = now or utcnow()
    searched = 0
    for days in WINDOWS:
        since = window_start(days, now)
        searched += _refresh_window(settings, since, now)
        figures = coverage(settings, since, now)
        if figures["checked"] < figures["resolved"]:
            keep(settings, days, since, now, figures)
    return searched


def window_start(days: int, now: datetime) -> datetime:
    """The first midnight of a dashboard window of `days` days ending today (metrics.py)."""
    return (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)


def for_dashboard(settings: Settings, since: datetime, until: datetime) -> dict:
    """coverage() of a dashboard window, with `as_of`: None when computed now, else when the
    kept estimate (recent, and no article changed since) was computed."""
    days = (until.date() - since.date()).days + 1
    with session_factory(settings.db_url, readonly=True)() as session:
        row = session.get(KbCoverageFigure, days)
        newest = session.scalar(select(func.max(KbArticle.updated_at)))
    if (row is not None and row.since == since and row.computed_at >= until - FRESH and row.computed_at <= until
            and (newest is None or row.computed_at >= newest)):
        return {"resolved": row.resolved, "checked": row.checked, "covered": row.covered,
                "value": round(row.covered / row.checked, 3) if row.checked else None, "as_of": row.computed_at}
    figures = coverage(settings, since, until)
    if figures["checked"] < figures["resolved"] and days in WINDOWS:
        keep(settings, days, since, until, figures)
    return {**figures, "as_of": None}


def keep(settings: Settings, days: int, since: datetime, until: datetime, figures: dict) -> None:
    row = {"days": days, "since": since, "until": until, "resolved": figures["resolved"],
           "checked": figures["checked"], "covered": figures["covered"], "computed_at": until}
    with transaction(settings.db_url) as session:
        session.execute(delete(KbCoverageFigure).where(KbCoverageFigure.days == days))
        insert_many_ignoring_conflicts(session, KbCoverageFigure, [row])  # a concurrent view kept the same


def _refresh_window(settings: Settings, since: datetime, until: datetime) -> int:
    with session_factory(settings.db_url, readonly=True)() as session:
        resolved = session.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.resolved_at >= since, Ticket.resolved_at < until)) or 0
    return check(settings, since, until, max(1, -(-resolved // SAMPLE))) if resolved else 0


def _window(since: datetime, until: datetime, step: int) -> tuple:
    where = (Ticket.resolved_at >= since, Ticket.resolved_at < until)
    return where + ((Ticket.id % step == 0,) if step > 1 else ())
