"""maintenance_windows: scheduled maintenance on the status page

Revision ID: 0016_maintenance
Revises: 0015_kb_reads
"""
import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0016_maintenance"
down_revision = "0015_kb_reads"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONType = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(astext_type=sa.Text()), "postgresql")
When = storage.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "maintenance_windows",
        sa.Column("id", BigId, nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("components", JSONType, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("starts_at", When(), nullable=False),
        sa.Column("ends_at", When(), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("announced_at", When(), nullable=True),
        sa.Column("reminded_at", When(), nullable=True),
        sa.Column("started_at", When(), nullable=True),
        sa.Column("completed_at", When(), nullable=True),
        sa.Column("cancelled_at", When(), nullable=True),
        sa.Column("created_at", When(), nullable=False),
        sa.Column("updated_at", When(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_maintenance_windows_status_starts", "maintenance_windows", ["status", "starts_at"])


def downgrade() -> None:
    op.drop_index("ix_maintenance_windows_status_starts", table_name="maintenance_windows")
    op.drop_table("maintenance_windows")
