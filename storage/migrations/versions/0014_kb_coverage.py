"""kb_coverage: each resolved ticket's KB match, kept, so documentation coverage reads rows;
tickets get an index on resolved_at (coverage and the resolution KPIs select by it)

Revision ID: 0014_kb_coverage
Revises: 0013_delivery
"""
import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0014_kb_coverage"
down_revision = "0013_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_coverage",
        sa.Column("ticket_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  sa.ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("slug", sa.String(120), nullable=True),
        sa.Column("checked_at", storage.models.base.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_tickets_resolved", "tickets", ["resolved_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_resolved", table_name="tickets")
    op.drop_table("kb_coverage")
