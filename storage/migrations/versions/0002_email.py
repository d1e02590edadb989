"""email channel: the recipient of an outbox row (one acknowledgement per sender per
window) and a lookup of sent mail by Message-ID (bounces find their row)

Revision ID: 0002_email
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_email"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("recipient", sa.String(length=320), nullable=True))
    op.create_index("ix_outbox_recipient_created", "outbox", ["recipient", "created_at"])
    op.create_index("ix_outbox_channel_external_id", "outbox", ["channel", "external_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_channel_external_id", "outbox")
    op.drop_index("ix_outbox_recipient_created", "outbox")
    op.drop_column("outbox", "recipient")  # SQLite 3.35+ drops a column in place
