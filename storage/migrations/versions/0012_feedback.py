"""feedback: satisfaction surveys, contact link audit, review theme actions, message sentiment

Revision ID: 0012_feedback
Revises: 0008_search_text
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_feedback"
down_revision = "0011_kb"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "csat_surveys",
        sa.Column("id", _ID, nullable=False),
        sa.Column("ticket_id", _ID, nullable=False),
        sa.Column("person_id", _ID, nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("outbox_id", _ID, nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("answered_via", sa.String(16), nullable=True),
        sa.Column("follow_up", sa.Boolean(), nullable=False),
        sa.Column("followed_up_at", sa.DateTime(), nullable=True),
        sa.Column("followed_up_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.ForeignKeyConstraint(["followed_up_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id"),
    )
    op.create_index("ix_csat_surveys_person_sent", "csat_surveys", ["person_id", "sent_at"])
    op.create_index("ix_csat_surveys_answered", "csat_surveys", ["answered_at"])
    op.create_table(
        "contact_links",
        sa.Column("id", _ID, nullable=False),
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("linked_to_id", _ID, nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"]),
        sa.ForeignKeyConstraint(["linked_to_id"], ["contacts.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_contact_links_contact_id", "contact_links", ["contact_id"])
    op.create_table(
        "review_theme_actions",
        sa.Column("theme", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("release", sa.String(200), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("theme"),
    )
    op.add_column("messages", sa.Column("sentiment", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("sentiment")
    op.drop_table("review_theme_actions")
    op.drop_index("ix_contact_links_contact_id", table_name="contact_links")
    op.drop_table("contact_links")
    op.drop_index("ix_csat_surveys_answered", table_name="csat_surveys")
    op.drop_index("ix_csat_surveys_person_sent", table_name="csat_surveys")
    op.drop_table("csat_surveys")
