"""delivery: outbox claims carry a token, so a send that outlived its lease cannot record over the resend

Revision ID: 0013_delivery
Revises: 0008_search_text
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_delivery"
down_revision = "0012_feedback"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claim_token")
