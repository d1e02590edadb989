"""outbox.sent_as: how a row went out when the connector chose (an X survey: "dm", or
"reply" when the customer's DMs are closed)

Revision ID: 0017_feedback_more
Revises: 0014_kb_coverage
"""
import sqlalchemy as sa
from alembic import op

revision = "0017_feedback_more"
down_revision = "0014_kb_coverage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("sent_as", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("sent_as")
