"""incidents: incidents, their timeline events and linked tickets, status page subscribers

Revision ID: 0010_incidents
Revises: 0008_search_text
"""
import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0010_incidents"
down_revision = "0009_accounts"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONType = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(astext_type=sa.Text()), "postgresql")
When = storage.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", BigId, nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("components", JSONType, nullable=False),
        sa.Column("commander", sa.String(320), nullable=True),
        sa.Column("detected", sa.Boolean(), nullable=False),
        sa.Column("alert_id", BigId, nullable=True),
        sa.Column("first_report_at", When(), nullable=True),
        sa.Column("started_at", When(), nullable=False),
        sa.Column("declared_at", When(), nullable=True),
        sa.Column("resolved_at", When(), nullable=True),
        sa.Column("next_update_at", When(), nullable=True),
        sa.Column("reminded_at", When(), nullable=True),
        sa.Column("report", JSONType, nullable=False),
        sa.Column("created_at", When(), nullable=False),
        sa.Column("updated_at", When(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_incidents_status_updated", "incidents", ["status", "updated_at"])
    op.create_index("ix_incidents_next_update_at", "incidents", ["next_update_at"])
    op.create_table(
        "incident_events",
        sa.Column("id", BigId, nullable=False),
        sa.Column("incident_id", BigId, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("who", sa.String(320), nullable=False),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("next_update_at", When(), nullable=True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("data", JSONType, nullable=False),
        sa.Column("created_at", When(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_incident_events_incident_id", "incident_events", ["incident_id"])
    op.create_table(
        "incident_tickets",
        sa.Column("ticket_id", BigId, nullable=False),
        sa.Column("incident_id", BigId, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("contact_id", BigId, nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", When(), nullable=False),
        sa.Column("linked_at", When(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    op.create_index("ix_incident_tickets_incident_id", "incident_tickets", ["incident_id"])
    op.create_table(
        "status_subscribers",
        sa.Column("id", BigId, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("components", JSONType, nullable=False),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("confirmed_at", When(), nullable=True),
        sa.Column("unsubscribed_at", When(), nullable=True),
        sa.Column("created_at", When(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("address"),
    )
    op.create_index("ix_status_subscribers_ip_created", "status_subscribers", ["ip", "created_at"])


def downgrade() -> None:
    op.drop_table("status_subscribers")
    op.drop_table("incident_tickets")
    op.drop_table("incident_events")
    op.drop_table("incidents")
