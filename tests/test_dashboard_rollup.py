"""The dashboard reads its ticket figures from a daily rollup (storage/day_stats.py): they
must equal a direct count of the tickets at every moment, whether the fold has run or
not, for the current partial day as for old days, and as the clock moves on
(SQLite, then PostgreSQL)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from alembic import command
from sqlalchemy import func, select, text, update

from storage.db import session_factory, transaction
from storage.migrate import alembic_config, upgrade
from storage.models.base import utcnow
from storage.models.metrics import TicketDayDirty, TicketDayStats
from storage.models.tickets import Ticket
from support.feedback import answers, kpis, tokens
from support.intake.ingest import ingest
from support.oncall.sweep import sweep
from support.tickets import actions
from support.tickets.metrics import dashboard, fold_day_stats
from tests.cast import ada_email
from tests.test_feedback_surveys import resolved_with_reply, survey_rows

DONE = ("resolved", "closed")
COMPARED = ("first_response", "resolution", "resolution_rate", "sla_first_response", "sla_resolution",
            "accurate_solutions", "satisfaction")


def direct(settings, days: int, now) -> dict:
    """The dashboard's figures counted ticket by ticket in Python, from their definitions."""
    since = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    with session_factory(settings.db_url, readonly=True)() as session:
        tickets = session.execute(select(Ticket).where(Ticket.created_at >= since)).scalars().all()
        accurate = kpis.accurate_solutions(session, since, now)  # counts its own base, no rollup
        satisfaction = kpis.kpi(session, since)
    fr = [(t.first_responded_at - t.created_at).total_seconds() for t in tickets if t.first_responded_at]
    done = [((t.resolved_at or t.closed_at) - t.created_at).total_seconds() for t in tickets
            if t.resolved_at or t.closed_at]
    fr_due = [t for t in tickets if t.first_responded_at or (t.first_response_due_at and t.first_response_due_at < now)]
    fr_met = [t for t in tickets if t.first_responded_at and t.first_response_due_at
              and t.first_responded_at <= t.first_response_due_at]
    res_due = [t for t in tickets if (t.resolved_at or t.closed_at) or (t.resolution_due_at and t.resolution_due_at < now)]
    res_met = [t for t in tickets if (t.resolved_at or t.closed_at) and t.resolution_due_at
               and (t.resolved_at or t.closed_at) <= t.resolution_due_at]
    rate_base = [t for t in tickets if t.resolution_due_at and t.resolution_due_at < now]
    rate_done = [t for t in rate_base if t.status in DONE]

    def share(part, whole):
        return (round(100.0 * len(part) / len(whole), 1) if whole else None, len(whole))

    volume: dict = {d: defaultdict(lambda: defaultdict(int)) for d in ("channel", "category", "priority")}
    for t in tickets:
        for dimension in volume:
            volume[dimension][getattr(t, dimension)][t.created_at.date().isoformat()] += 1
    return {
        "total": len(tickets),
        "volume": {k: {v: dict(d) for v, d in m.items()} for k, m in volume.items()},
        "first_response": (round(sum(fr) / len(fr) / 3600, 2) if fr else None, len(fr)),
        "resolution": (round(sum(done) / len(done) / 3600, 2) if done else None, len(done)),
        "resolution_rate": share(rate_done, rate_base),
        "sla_first_response": share(fr_met, fr_due),
        "sla_resolution": share(res_met, res_due),
        "accurate_solutions": accurate,
        "satisfaction": satisfaction or (None, 0),
    }


def shown(settings, days: int, now) -> dict:
    board = dashboard(days, settings, now=now)
    figures = {k.key: (k.value, k.sample) for k in board.kpis}
    return {"total": board.total, "volume": board.volume, **{key: figures[key] for key in COMPARED}}


def assert_same(settings, now=None) -> None:
    now = now or utcnow()
    for days in (7, 30, 90):
        assert shown(settings, days, now) == direct(settings, days, now), f"{days}-day window"


def _opened(settings, n: int, days_ago: float, *, fr_hours: int = 2, res_hours: int = 24) -> list[str]:
    """n tickets created `days_ago` days ago on whole hours, with due times set from then."""
    refs = [ingest(ada_email(f"r{days_ago}-{i}@mail.example", subject=f"Ticket {days_ago} {i}"), live=False,
                   settings=settings).ref for i in range(n)]
    created = (utcnow() - timedelta(days=days_ago)).replace(minute=0, second=0, microsecond=0)
    if days_ago == 0:
        created = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=1)
    with transaction(settings.db_url) as session:
        session.execute(update(Ticket).where(Ticket.id.in_([int(r[5:]) for r in refs])).values(
            created_at=created, first_response_due_at=created + timedelta(hours=fr_hours),
            resolution_due_at=created + timedelta(hours=res_hours)))
    return refs


def _set(settings, ref: str, **values) -> None:
    with transaction(settings.db_url) as session:
        session.execute(update(Ticket).where(Ticket.id == int(ref[5:])).values(**values))


def _created(settings, ref: str):
    with session_factory(settings.db_url, readonly=True)() as session:
        return session.get(Ticket, int(ref[5:])).created_at


def _dirty_days(settings) -> set:
    with session_factory(settings.db_url, readonly=True)() as session:
        return {str(d)[:10] for d in session.execute(select(TicketDayDirty.day).distinct()).scalars()}


def test_the_figures_equal_a_direct_count_as_tickets_are_opened_resolved_reopened_and_surveyed(settings):
    old = _opened(settings, 3, 40)  # only in the 90-day window
    month = _opened(settings, 3, 10)
    week = _opened(settings, 3, 2)
    today = _opened(settings, 2, 0)
    assert_same(settings)  # nothing folded: every day counted from its tickets
    assert fold_day_stats(settings) >= 4
    assert _dirty_days(settings) == set()
    assert_same(settings)  # every day from the rollup

    # answered late, answered in time, resolved, closed: old and recent days change, unfolded
    _set(settings, old[0], first_responded_at=_created(settings, old[0]) + timedelta(hours=3))
    _set(settings, month[0], first_responded_at=_created(settings, month[0]) + timedelta(hours=1))
    for ref in (old[1], month[1], week[0], week[1], today[0]):
        actions.set_status(ref, "resolved", user_id=None, settings=settings)
    actions.set_status(month[2], "closed", user_id=None, settings=settings)
    assert_same(settings)  # a ticket resolved a moment ago counts
    fold_day_stats(settings)
    assert_same(settings)

    # reopened, and resolved again, on a folded day; a survey answered today
    actions.set_status(month[1], "open", user_id=None, settings=settings)
    assert_same(settings)
    actions.set_status(month[1], "resolved", user_id=None, settings=settings)
    surveyed = resolved_with_reply(settings, ada_email("surveyed@mail.example", subject="Survey me"))
    sweep(settings, now=utcnow() + timedelta(minutes=61))
    for survey in survey_rows(settings):
        answers.record(tokens.make(survey.id, survey.expires_at, settings), 5, settings=settings)
    assert surveyed and shown(settings, 7, utcnow())["satisfaction"] == (100.0, 1)
    assert_same(settings)
    fold_day_stats(settings)
    assert_same(settings)

    # recategorized and moved to another day (both days change); a due time extended
    _set(settings, old[1], resolution_due_at=utcnow() + timedelta(days=2))  # now resolved in time
    _set(settings, week[2], category="bug_report", priority="critical", created_at=_created(settings, week[2])
         - timedelta(days=3))
    assert_same(settings)
    fold_day_stats(settings)
    assert_same(settings)

    # the clock moves on with no write: due times pass, resolutions become a week old
    for later in (timedelta(hours=3), timedelta(days=1), timedelta(days=8)):
        assert_same(settings, utcnow() + later)


def test_only_changes_the_dashboard_reads_mark_a_day_dirty(settings):
    ref = _opened(settings, 1, 3)[0]
    fold_day_stats(settings)
    _set(settings, ref, last_message_at=utcnow(), snippet="no figure changes")
    assert _dirty_days(settings) == set()
    actions.set_status(ref, "pending", user_id=None, settings=settings)
    assert _dirty_days(settings) == {_created(settings, ref).date().isoformat()}
    fold_day_stats(settings)
    with transaction(settings.db_url) as session:
        session.execute(text("DELETE FROM ticket_events"))
        session.execute(text("DELETE FROM outbox"))
        session.execute(text("DELETE FROM messages"))
        session.execute(text("DELETE FROM tickets"))
    assert_same(settings)
    fold_day_stats(settings)
    with session_factory(settings.db_url, readonly=True)() as session:
        assert session.scalar(select(func.count()).select_from(TicketDayStats)) == 0


def test_the_migration_backfills_the_rollup_from_existing_tickets(tmp_path, monkeypatch):
    from tests.conftest import settings_for

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "0017_feedback_more")  # a hub as it was before the rollup
    settings = settings_for(monkeypatch, tmp_path, url)
    with transaction(url) as session:
        for day in (1, 5, 50):
            at = (utcnow() - timedelta(days=day)).replace(tzinfo=None)
            session.execute(text(
                "INSERT INTO tickets (channel, subject, snippet, status, priority, category, needs_triage, created_at, "
                "updated_at, last_message_at, sla_paused_seconds, resolved_at, first_response_due_at, "
                "resolution_due_at) VALUES ('email', 's', 's', 'resolved', 'low', 'general', 0, :at, :at, :at, 0, "
                ":done, :at, :due)"),
                {"at": at, "done": at + timedelta(hours=5), "due": at + timedelta(hours=24)})
    upgrade(url)
    with session_factory(url, readonly=True)() as session:
        assert session.scalar(select(func.sum(TicketDayStats.tickets))) == 3
        assert session.scalar(select(func.count()).select_from(TicketDayDirty)) == 0
    assert_same(settings)
