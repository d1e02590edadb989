"""discord: edits and deletions of stored messages (message_revisions)

Revision ID: 0003_discord
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0003_discord"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONType = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(astext_type=sa.Text()), "postgresql")
When = storage.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "message_revisions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("message_id", BigId, nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("old_text", sa.Text(), nullable=True),
        sa.Column("new_text", sa.Text(), nullable=True),
        sa.Column("changed_at", When(), nullable=True),
        sa.Column("raw", JSONType, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", When(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_message_revisions_external", "message_revisions", ["channel", "external_id"])
    op.create_index("ix_message_revisions_status", "message_revisions", ["status"])
    op.create_index(op.f("ix_message_revisions_message_id"), "message_revisions", ["message_id"])


def downgrade() -> None:
    op.drop_table("message_revisions")
