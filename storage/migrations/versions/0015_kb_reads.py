"""kb_reads: article page views and clicks through the hub's links, with their reader when
a signed link names one, for "read, then a ticket" (the weekly weak-articles list)

Revision ID: 0015_kb_reads
Revises: 0014_kb_coverage
"""
import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0015_kb_reads"
down_revision = "0014_kb_coverage"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "kb_reads",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("article_id", BIG_ID, sa.ForeignKey("kb_articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("client", sa.String(64), nullable=True),
        sa.Column("ticket_id", BIG_ID, sa.ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True),
        sa.Column("reader", sa.String(340), nullable=True),
        sa.Column("created_at", storage.models.base.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_kb_reads_article_id", "kb_reads", ["article_id"])
    op.create_index("ix_kb_reads_created_at", "kb_reads", ["created_at"])


def downgrade() -> None:
    op.drop_table("kb_reads")
