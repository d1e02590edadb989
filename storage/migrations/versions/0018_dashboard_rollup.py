"""The dashboard's daily rollup: ticket_day_stats (per day of creation, channel, category
and priority, the sums its KPIs are made of), ticket_day_done (done tickets per day of
creation and of resolution), ticket_day_dirty (the days changed since,
appended to by triggers on tickets), backfilled here; kb_coverage_figures (documentation
coverage of the dashboard's windows, kept by the kb_coverage beat task); a partial index
on closed_at for tickets closed without a resolution, and one on reopening events.

Revision ID: 0018_dashboard_rollup
Revises: 0017_feedback_more
"""
import sqlalchemy as sa
from alembic import op

import storage.models.base
from storage import day_stats

revision = "0018_dashboard_rollup"
down_revision = "0017_feedback_more"
branch_labels = None
depends_on = None

REOPENED = "kind = 'status' AND old_value IN ('resolved', 'closed') AND new_value IN ('new', 'open', 'pending')"


def upgrade() -> None:
    count = sa.Integer()
    op.create_table(
        "ticket_day_stats",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("category", sa.String(32), primary_key=True),
        sa.Column("priority", sa.String(16), primary_key=True),
        sa.Column("tickets", count, nullable=False),
        sa.Column("first_response_seconds", sa.Float(), nullable=False),
        sa.Column("responded", count, nullable=False),
        sa.Column("resolution_seconds", sa.Float(), nullable=False),
        *(sa.Column(name, count, nullable=False) for name in (
            "done", "first_response_met", "first_response_waiting", "resolution_met", "resolution_waiting",
            "resolution_due_set", "resolution_due_set_closed")),
    )
    op.create_table(
        "ticket_day_done",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("done_day", sa.Date(), primary_key=True),
        sa.Column("closed", count, nullable=False),
    )
    op.create_table(
        "ticket_day_dirty",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
    )
    op.create_index("ix_ticket_day_dirty_day", "ticket_day_dirty", ["day"])
    op.create_table(
        "kb_coverage_figures",
        sa.Column("days", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("since", storage.models.base.UTCDateTime(), nullable=False),
        sa.Column("until", storage.models.base.UTCDateTime(), nullable=False),
        sa.Column("resolved", sa.Integer(), nullable=False),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("covered", sa.Integer(), nullable=False),
        sa.Column("computed_at", storage.models.base.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_tickets_closed_unresolved", "tickets", ["closed_at"],
                    postgresql_where=sa.text("resolved_at IS NULL"), sqlite_where=sa.text("resolved_at IS NULL"))
    op.create_index("ix_ticket_events_reopened", "ticket_events", ["created_at"],
                    postgresql_where=sa.text(REOPENED), sqlite_where=sa.text(REOPENED))
    bind = op.get_bind()
    for statement in day_stats.trigger_ddl(bind.dialect.name):
        op.execute(statement)
    # Backfill: every existing day dirty, then one fold (nothing else writes during a migration).
    day_stats.mark_all(bind)
    day_stats.fold(bind)
    if bind.dialect.name == "postgresql":
        op.execute("ANALYZE ticket_day_stats")


def downgrade() -> None:
    for statement in day_stats.drop_trigger_ddl(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index("ix_ticket_events_reopened", table_name="ticket_events")
    op.drop_index("ix_tickets_closed_unresolved", table_name="tickets")
    op.drop_table("kb_coverage_figures")
    op.drop_index("ix_ticket_day_dirty_day", table_name="ticket_day_dirty")
    op.drop_table("ticket_day_dirty")
    op.drop_table("ticket_day_done")
    op.drop_table("ticket_day_stats")
