"""knowledge base: articles and their versions, feedback, empty searches, and templates
(the five canned replies and the issue templates as seed rows)

Revision ID: 0011_kb
Revises: 0008_search_text
"""
import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0011_kb"
down_revision = "0008_search_text"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = storage.models.base.UTCDateTime

# The templates a new hub starts with: the five canned replies agents had before templates
# became data, and issue templates. Issue templates list one question per line as
# `key | question | words that answer it`: the acknowledgement asks the questions whose
# words the first message lacks. A copy here (not imported) so the revision never changes.
SEED = [
    {"name": "thanks_investigating", "kind": "response", "title": "Thanks, investigating", "category": None,
     "body": "Hi {name}, thanks for the report! We're looking into it now and will update you here as soon as we "
             "know more. ({ref})",
     "x_body": "Thanks {name}! We're looking into it and will update you here. ({ref})"},
    {"name": "need_details", "kind": "response", "title": "Need more details", "category": None,
     "body": "Hi {name}, could you tell us which browser and app version you're using, and the steps that lead to "
             "the problem? That helps us reproduce it. ({ref})",
     "x_body": "Hi {name}, which browser and app version, and what steps lead to it? ({ref})"},
    {"name": "fixed", "kind": "response", "title": "Fixed, please confirm", "category": None,
     "body": "Hi {name}, good news: this is fixed now. Could you check on your side and let us know if anything "
             "still looks wrong? ({ref})",
     "x_body": "Hi {name}, this is fixed now. Let us know if anything still looks wrong! ({ref})"},
    {"name": "feature_logged", "kind": "response", "title": "Feature request logged", "category": None,
     "body": "Hi {name}, thanks for the idea! We've logged it for the product team. ({ref})", "x_body": None},
    {"name": "docs_pointer", "kind": "response", "title": "Point to the docs", "category": None,
     "body": "Hi {name}, the steps are in our documentation: https://docs.trkv-web.app. Let us know if anything "
             "there is unclear. ({ref})", "x_body": None},
    {"name": "issue_bug_report", "kind": "issue", "title": "Bug report", "category": "bug_report",
     "body": "steps | What steps lead to the problem? | step, steps, click, clicked, then, open, opened, reproduce\n"
             "version | Which TRKV app version are you on? | version, v1, v2, v3, release, build\n"
             "browser | Which browser (and operating system) do you use? | chrome, firefox, safari, edge, browser, "
             "android, ios, windows, macos, linux",
     "x_body": None},
    {"name": "issue_feature_request", "kind": "issue", "title": "Feature request", "category": "feature_request",
     "body": "goal | What would you like to achieve with it? | so that, because, want to, need to, would like",
     "x_body": None},
]


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
    table = op.create_table(
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
    now = storage.models.base.utcnow()
    op.bulk_insert(table, [{**row, "usage_count": 0, "updated_by": "seed", "updated_at": now} for row in SEED])


def upgrade() -> None:
    _articles()
    _feedback()
    _templates()


def downgrade() -> None:
    for name in ("response_templates", "kb_searches", "kb_feedback", "kb_article_versions", "kb_articles"):
        op.drop_table(name)
