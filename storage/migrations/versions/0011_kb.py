"""knowledge base: articles and their versions, feedback, empty searches, and templates
(the seed templates are defaults in support/kb/responses.py)

Revision ID: 0011_kb
Revises: 0008_search_text
"""
import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0011_kb"
down_revision = "0010_incidents"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = storage.models.base.UTCDateTime


def _articles() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", BigId, nullable=False),
        sa.Column("slug", sa.String(120), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=False),
        sa.Column("created_at", When(), nullable=False),
        sa.Column("updated_at", When(), nullable=False),
        sa.Column("reviewed_at", When(), nullable=False),
        sa.Column("review_reason", sa.String(200), nullable=True),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("helpful", sa.Integer(), nullable=False),
        sa.Column("unhelpful", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    op.create_index("ix_kb_articles_category", "kb_articles", ["category"])
    op.create_index("ix_kb_articles_status", "kb_articles", ["status"])
    op.create_index("ix_kb_articles_updated_at", "kb_articles", ["updated_at"])
    op.create_table(
        "kb_article_versions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("article_id", BigId, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("author", sa.String(320), nullable=False),
        sa.Column("note", sa.String(300), nullable=True),
        sa.Column("created_at", When(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("article_id", "version", name="uq_kb_article_versions_version"),
    )
    op.create_index("ix_kb_article_versions_article_id", "kb_article_versions", ["article_id"])


def _feedback() -> None:
    op.create_table(
        "kb_feedback",
        sa.Column("id", BigId, nullable=False),
        sa.Column("article_id", BigId, nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("created_at", When(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_kb_feedback_article_id", "kb_feedback", ["article_id"])
    op.create_index("ix_kb_feedback_created_at", "kb_feedback", ["created_at"])
    op.create_table(
        "kb_searches",
        sa.Column("id", BigId, nullable=False),
        sa.Column("query", sa.String(200), nullable=False),
        sa.Column("results", sa.Integer(), nullable=False),
        sa.Column("created_at", When(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_kb_searches_created_at", "kb_searches", ["created_at"])


def _templates() -> None:
    op.create_table(
        "response_templates",
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("x_body", sa.Text(), nullable=True),
        sa.Column("category", sa.String(32), nullable=True),
        sa.Column("usage_count", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=False),
        sa.Column("updated_at", When(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )


def _releases() -> None:
    op.create_table(
        "releases",
        sa.Column("id", BigId, nullable=False),
        sa.Column("version", sa.String(50), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("created_at", When(), nullable=False),
        sa.Column("published_at", When(), nullable=True),
        sa.Column("fanned_out_at", When(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version"),
    )
    op.create_index("ix_releases_published_at", "releases", ["published_at"])
    op.create_table(
        "release_tickets",
        sa.Column("release_id", BigId, nullable=False),
        sa.Column("ticket_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(["release_id"], ["releases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("release_id", "ticket_id"),
    )


def upgrade() -> None:
    _articles()
    _feedback()
    _templates()
    _releases()


def downgrade() -> None:
    for name in ("release_tickets", "releases", "response_templates", "kb_searches", "kb_feedback", "kb_article_versions", "kb_articles"):
        op.drop_table(name)
