"""on-call and SLA: alerts, schedules, overrides, escalation policies, contacts; SLA
clock columns on tickets, the alert of a page on outbox rows

Revision ID: 0006_oncall
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0006_oncall"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONType = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(astext_type=sa.Text()), "postgresql")
When = storage.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("fingerprint", JSONType, nullable=False),
        sa.Column("channels", JSONType, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_ticket_id", BigId, nullable=True),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("notified_count", sa.Integer(), nullable=False),
        sa.Column("notified_at", When(), nullable=True),
        sa.Column("last_sent_at", When(), nullable=True),
        sa.Column("next_action_at", When(), nullable=True),
        sa.Column("acknowledged_at", When(), nullable=True),
        sa.Column("acknowledged_by", sa.String(320), nullable=True),
        sa.Column("acknowledged_via", sa.String(16), nullable=True),
        sa.Column("resolved_at", When(), nullable=True),
        sa.Column("created_at", When(), nullable=False),
        sa.Column("updated_at", When(), nullable=False),
        sa.Column("last_message_at", When(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alerts_next_action_at", "alerts", ["next_action_at"])
    op.create_index("ix_alerts_last_message_at", "alerts", ["last_message_at"])
    op.create_table(
        "oncall_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("starts_local", sa.String(32), nullable=False),
        sa.Column("rotation_days", sa.Integer(), nullable=False),
        sa.Column("members", JSONType, nullable=False),
        sa.Column("created_at", When(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "oncall_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", When(), nullable=False),
        sa.Column("ends_at", When(), nullable=False),
        sa.Column("created_at", When(), nullable=False),
        sa.ForeignKeyConstraint(["schedule_id"], ["oncall_schedules.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_oncall_overrides_schedule_starts", "oncall_overrides", ["schedule_id", "starts_at"])
    op.create_table(
        "escalation_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("steps", JSONType, nullable=False),
        sa.Column("created_at", When(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("severity"),
    )
    op.create_table(
        "oncall_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("created_at", When(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "method", "address", name="uq_oncall_contacts"),
    )
    op.create_index("ix_oncall_contacts_user_id", "oncall_contacts", ["user_id"])
    # Plain ADD COLUMN (no batch mode): recreating `tickets` on SQLite would drop the
    # triggers other migrations put on it.
    for column in (
        sa.Column("sla_paused_at", When(), nullable=True),
        sa.Column("sla_paused_seconds", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("sla_next_at", When(), nullable=True),
        sa.Column("first_response_warned_at", When(), nullable=True),
        sa.Column("resolution_warned_at", When(), nullable=True),
        sa.Column("alert_id", BigId, nullable=True),
    ):
        op.add_column("tickets", column)
    op.create_index("ix_tickets_sla_next_at", "tickets", ["sla_next_at"])
    op.create_index("ix_tickets_alert_id", "tickets", ["alert_id"])
    op.add_column("outbox", sa.Column("alert_id", BigId, nullable=True))
    op.create_index("ix_outbox_alert_id", "outbox", ["alert_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_alert_id", "outbox")
    op.drop_index("ix_tickets_alert_id", "tickets")
    op.drop_index("ix_tickets_sla_next_at", "tickets")
    for table, columns in (
        ("outbox", ["alert_id"]),
        ("tickets", ["alert_id", "resolution_warned_at", "first_response_warned_at", "sla_next_at",
                     "sla_paused_seconds", "sla_paused_at"]),
    ):
        for name in columns:
            op.drop_column(table, name)  # SQLite 3.35+ drops a column in place
    op.drop_table("oncall_contacts")
    op.drop_table("escalation_policies")
    op.drop_table("oncall_overrides")
    op.drop_table("oncall_schedules")
    op.drop_index("ix_alerts_last_message_at", "alerts")
    op.drop_index("ix_alerts_next_action_at", "alerts")
    op.drop_table("alerts")
