"""historical tickets: tickets.historical marks those a historical `trkv import` stored

Live incident detection gathers the recent urgent tickets of its window. A historical
import stores thousands of tickets a second, all created "now": they filled the window,
an old outage in an archive could be proposed as a current incident, and every live urgent
message grouped hundreds of them under the proposal lock (seconds per message during an
import, bench/paging.py). Detection now reads only live tickets, through a partial index
on their creation time.

Revision ID: 0019_historical_tickets
Revises: 0018_dashboard_rollup
"""
import sqlalchemy as sa
from alembic import op

revision = "0019_historical_tickets"
down_revision = "0018_dashboard_rollup"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("historical", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_tickets_live_created", "tickets", ["created_at"],
                    postgresql_where=sa.text("historical = false"), sqlite_where=sa.text("historical = 0"))


def downgrade() -> None:
    op.drop_index("ix_tickets_live_created", table_name="tickets")
    op.drop_column("tickets", "historical")  # in place (SQLite 3.35+): a rebuilt table would lose its triggers
