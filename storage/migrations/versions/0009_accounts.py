"""accounts: revocable web sessions, revocable API tokens named by their prefix, login throttling

Revision ID: 0009_accounts
Revises: 0008_search_text
"""
import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0009_accounts"
down_revision = "0008_search_text"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.add_column(sa.Column("prefix", sa.String(length=16), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("revoked_at", storage.models.base.UTCDateTime(), nullable=True))
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_table(
        "login_throttles",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", storage.models.base.UTCDateTime(), nullable=False),
        sa.Column("blocked_until", storage.models.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key_hash"),
    )


def downgrade() -> None:
    op.drop_table("login_throttles")
    op.drop_index("ix_web_sessions_user_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("prefix")
