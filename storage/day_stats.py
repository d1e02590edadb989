"""The dashboard's daily rollup (storage/models/metrics.py): what a day's row holds, the
triggers that mark a day dirty, and the fold that recomputes dirty days.

A row holds only facts of the tickets (counts and sums), never a comparison with the
clock, so it is exact until a ticket of its day changes. The figures that depend on the
clock ("its due time has passed", "resolved at least a week ago") are each written as a
stored count minus the few tickets whose time has not come yet, and the dashboard
counts those few directly (support/tickets/metrics.py).

Correctness under concurrent writes rests on two rules. Triggers, not application code,
mark days dirty, so no write path can forget. The fold deletes only the entries it read,
in the same snapshot it recomputed the days from (REPEATABLE READ on PostgreSQL; on
SQLite the fold is the only writer while it runs): an entry committed after that
snapshot stays, and its day is recomputed by the next fold. A reader treats a dirty day
as unknown and counts its tickets, so a figure is never stale, only slower to compute
while the fold is behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Connection, Date, and_, case, cast, delete, func, insert, literal, or_, select

from storage.models.metrics import TicketDayDirty, TicketDayDone, TicketDayStats
from storage.models.tickets import Ticket

DONE = ("resolved", "closed")
# A change of any of these moves a ticket's contribution to its day's row.
COLUMNS = ("created_at", "channel", "category", "priority", "status", "first_responded_at", "resolved_at",
           "closed_at", "first_response_due_at", "resolution_due_at")
FIGURES = ("tickets", "first_response_seconds", "responded", "resolution_seconds", "done", "first_response_met",
           "first_response_waiting", "resolution_met", "resolution_waiting", "resolution_due_set",
           "resolution_due_set_closed")
MAX_RANGES = 40  # dirty days in one statement; more are folded in several


def day_of(column, dialect: str):
    # A plain cast: to_char() per row cost more than the rest of the dashboard's query.
    return cast(column, Date) if dialect == "postgresql" else func.date(column)


def seconds_between(later, earlier, dialect: str):
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def done_at():
    return func.coalesce(Ticket.resolved_at, Ticket.closed_at)


def figures_select(dialect: str, where):
    """Per (day, channel, category, priority) of the tickets matching `where`, the FIGURES:
    the same expressions the dashboard counted before the rollup existed."""
    responded = Ticket.first_responded_at.is_not(None)
    finished = done_at()
    is_done = finished.is_not(None)
    closed = Ticket.status.in_(DONE)
    has_res_due = Ticket.resolution_due_at.is_not(None)
    day = day_of(Ticket.created_at, dialect).label("day")
    return select(
        day, Ticket.channel, Ticket.category, Ticket.priority,
        func.count().label("tickets"),
        func.coalesce(func.sum(case((responded, seconds_between(Ticket.first_responded_at, Ticket.created_at,
                                                                   dialect)))), literal(0.0)),
        func.count(case((responded, 1))),
        func.coalesce(func.sum(case((is_done, seconds_between(finished, Ticket.created_at, dialect)))),
                      literal(0.0)),
        func.count(case((is_done, 1))),
        func.count(case((responded & (Ticket.first_responded_at <= Ticket.first_response_due_at), 1))),
        func.count(case((~responded & Ticket.first_response_due_at.is_not(None), 1))),
        func.count(case((is_done & (finished <= Ticket.resolution_due_at), 1))),
        func.count(case((finished.is_(None) & has_res_due, 1))),
        func.count(case((has_res_due, 1))),
        func.count(case((has_res_due & closed, 1))),
    ).where(where).group_by(day, Ticket.channel, Ticket.category, Ticket.priority)


def done_select(dialect: str, where):
    """Per (day of creation, day done) of the tickets matching `where`: the ones resolved or closed."""
    day, done_day = day_of(Ticket.created_at, dialect), day_of(done_at(), dialect)
    return (select(day, done_day, func.count()).where(where, Ticket.status.in_(DONE), done_at().is_not(None))
            .group_by(day, done_day))


def day_ranges(days: Iterable[date]) -> list[tuple[datetime, datetime]]:
    """Consecutive days merged into [start, end) ranges of created_at (naive UTC midnights)."""
    ranges: list[list[date]] = []
    for day in sorted(set(days)):
        if ranges and ranges[-1][1] == day:
            ranges[-1][1] = day + timedelta(days=1)
        else:
            ranges.append([day, day + timedelta(days=1)])
    return [(_midnight(a), _midnight(b)) for a, b in ranges]


def created_in(days: Iterable[date]):
    """A WHERE clause for tickets created on `days`: one index range per run of days."""
    return or_(*(and_(Ticket.created_at >= a, Ticket.created_at < b) for a, b in day_ranges(days)))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def fold(conn: Connection) -> int:
    """Recompute every dirty day's rows and remove the entries read; returns the days
    folded. The caller gives the isolation (see the module's docstring)."""
    newest = conn.execute(select(func.max(TicketDayDirty.id))).scalar()
    if newest is None:
        return 0
    days = sorted({as_date(d) for d in conn.execute(
        select(TicketDayDirty.day).where(TicketDayDirty.id <= newest).distinct()).scalars()})
    dialect = conn.dialect.name
    for start in range(0, len(days), MAX_RANGES):
        chunk = days[start:start + MAX_RANGES]
        conn.execute(delete(TicketDayStats).where(TicketDayStats.day.in_(chunk)))
        conn.execute(insert(TicketDayStats).from_select(
            ["day", "channel", "category", "priority", *FIGURES], figures_select(dialect, created_in(chunk))))
        conn.execute(delete(TicketDayDone).where(TicketDayDone.day.in_(chunk)))
        conn.execute(insert(TicketDayDone).from_select(["day", "done_day", "closed"],
                                                       done_select(dialect, created_in(chunk))))
    conn.execute(delete(TicketDayDirty).where(TicketDayDirty.id <= newest))
    return len(days)


def mark_all(conn: Connection) -> None:
    """Every day that has tickets, dirty (the migration's backfill, before one fold)."""
    day = day_of(Ticket.created_at, conn.dialect.name)
    conn.execute(insert(TicketDayDirty).from_select(
        ["day"], select(day).where(Ticket.created_at.is_not(None)).distinct()))


def trigger_ddl(dialect: str) -> list[str]:
    """The statements that create the triggers marking days dirty."""
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" if dialect == "postgresql"
                          else f"OLD.{c} IS NOT NEW.{c}" for c in COLUMNS)
    if dialect == "postgresql":
        return [
            # Inserts and deletes: once per statement over its rows (a bulk import of
            # thousands of tickets adds one entry per day, not one per ticket).
            """CREATE OR REPLACE FUNCTION ticket_day_dirty_rows() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'INSERT' THEN
                INSERT INTO ticket_day_dirty (day)
                  SELECT DISTINCT created_at::date FROM new_rows WHERE created_at IS NOT NULL;
              ELSE
                INSERT INTO ticket_day_dirty (day)
                  SELECT DISTINCT created_at::date FROM old_rows WHERE created_at IS NOT NULL;
              END IF;
              RETURN NULL;
            END $$""",
            """CREATE OR REPLACE FUNCTION ticket_day_dirty_row() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.created_at IS NOT NULL THEN
                INSERT INTO ticket_day_dirty (day) VALUES (NEW.created_at::date);
              END IF;
              IF OLD.created_at IS NOT NULL AND OLD.created_at::date IS DISTINCT FROM NEW.created_at::date THEN
                INSERT INTO ticket_day_dirty (day) VALUES (OLD.created_at::date);
              END IF;
              RETURN NULL;
            END $$""",
            "CREATE TRIGGER tickets_day_dirty_insert AFTER INSERT ON tickets REFERENCING NEW TABLE AS new_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION ticket_day_dirty_rows()",
            "CREATE TRIGGER tickets_day_dirty_delete AFTER DELETE ON tickets REFERENCING OLD TABLE AS old_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION ticket_day_dirty_rows()",
            # Updates: per row, and only when a column the rollup reads changed (the
            # sweep's and the inbox's frequent updates of other columns add nothing).
            f"CREATE TRIGGER tickets_day_dirty_update AFTER UPDATE ON tickets FOR EACH ROW "
            f"WHEN ({changed}) EXECUTE FUNCTION ticket_day_dirty_row()",
        ]

    def mark(row: str) -> str:  # SQLite has one writer at a time: an entry per day is enough
        return (f"INSERT INTO ticket_day_dirty (day) SELECT date({row}.created_at) WHERE {row}.created_at IS NOT "
                f"NULL AND NOT EXISTS (SELECT 1 FROM ticket_day_dirty WHERE day = date({row}.created_at));")

    return [
        f"CREATE TRIGGER tickets_day_dirty_insert AFTER INSERT ON tickets BEGIN {mark('NEW')} END",
        f"CREATE TRIGGER tickets_day_dirty_delete AFTER DELETE ON tickets BEGIN {mark('OLD')} END",
        f"CREATE TRIGGER tickets_day_dirty_update AFTER UPDATE OF {', '.join(COLUMNS)} ON tickets "
        f"WHEN {changed} BEGIN {mark('NEW')} {mark('OLD')} END",
    ]


def drop_trigger_ddl(dialect: str) -> list[str]:
    names = ("tickets_day_dirty_insert", "tickets_day_dirty_delete", "tickets_day_dirty_update")
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {n} ON tickets" for n in names] + [
            "DROP FUNCTION IF EXISTS ticket_day_dirty_rows()", "DROP FUNCTION IF EXISTS ticket_day_dirty_row()"]
    return [f"DROP TRIGGER IF EXISTS {n}" for n in names]
