"""inbox: notes, saved views, contact blocks, quarantine discards, due-time index, full-text search

Revision ID: 0007_inbox
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0007_inbox"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONType = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(astext_type=sa.Text()), "postgresql")

# Full-text search over a ticket's subject and snippet. SQLite: an FTS5 table whose
# content is the tickets table, kept in step by triggers. PostgreSQL: a generated
# tsvector column with a GIN index. Neither has a model (see tests/test_migrations.py).
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE tickets_fts USING fts5(subject, snippet, content='tickets', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER tickets_fts_ai AFTER INSERT ON tickets BEGIN "
    "INSERT INTO tickets_fts(rowid, subject, snippet) VALUES (new.id, new.subject, new.snippet); END",
    "CREATE TRIGGER tickets_fts_ad AFTER DELETE ON tickets BEGIN "
    "INSERT INTO tickets_fts(tickets_fts, rowid, subject, snippet) VALUES ('delete', old.id, old.subject, old.snippet); END",
    "CREATE TRIGGER tickets_fts_au AFTER UPDATE OF subject, snippet ON tickets BEGIN "
    "INSERT INTO tickets_fts(tickets_fts, rowid, subject, snippet) VALUES ('delete', old.id, old.subject, old.snippet); "
    "INSERT INTO tickets_fts(rowid, subject, snippet) VALUES (new.id, new.subject, new.snippet); END",
    "INSERT INTO tickets_fts(tickets_fts) VALUES ('rebuild')",
]
PG_FTS = [
    "ALTER TABLE tickets ADD COLUMN fts tsvector GENERATED ALWAYS AS "
    "(to_tsvector('english', coalesce(subject, '') || ' ' || coalesce(snippet, ''))) STORED",
    "CREATE INDEX ix_tickets_fts ON tickets USING gin (fts)",
]


def upgrade() -> None:
    op.create_table(
        "ticket_notes",
        sa.Column("id", BigId, nullable=False),
        sa.Column("ticket_id", BigId, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", storage.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_notes_ticket_id", "ticket_notes", ["ticket_id"])
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("filters", JSONType, nullable=False),
        sa.Column("created_at", storage.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "name", name="uq_saved_views_user_name"),
    )
    op.create_table(
        "contact_blocks",
        sa.Column("id", BigId, nullable=False),
        sa.Column("contact_id", BigId, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", storage.models.base.UTCDateTime(), nullable=False),
        sa.Column("lifted_at", storage.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_contact_blocks_contact_id", "contact_blocks", ["contact_id"])
    with op.batch_alter_table("quarantine") as batch_op:
        batch_op.add_column(sa.Column("discarded_at", storage.models.base.UTCDateTime(), nullable=True))
    # The inbox's default order: by due time, then id (the keyset).
    op.create_index("ix_tickets_due_id", "tickets", ["first_response_due_at", "id"])
    op.create_index("ix_tickets_parent", "tickets", ["parent_id"])
    active = sa.text("status IN ('new', 'open', 'pending')")
    op.create_index("ix_tickets_active_due", "tickets", ["first_response_due_at", "id"],
                    postgresql_where=active, sqlite_where=active)
    for statement in SQLITE_FTS if op.get_bind().dialect.name == "sqlite" else PG_FTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("tickets_fts_ai", "tickets_fts_ad", "tickets_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS tickets_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_tickets_fts")
        op.execute("ALTER TABLE tickets DROP COLUMN IF EXISTS fts")
    op.drop_index("ix_tickets_active_due", table_name="tickets")
    op.drop_index("ix_tickets_parent", table_name="tickets")
    op.drop_index("ix_tickets_due_id", table_name="tickets")
    with op.batch_alter_table("quarantine") as batch_op:
        batch_op.drop_column("discarded_at")
    op.drop_index("ix_contact_blocks_contact_id", table_name="contact_blocks")
    op.drop_table("contact_blocks")
    op.drop_table("saved_views")
    op.drop_index("ix_ticket_notes_ticket_id", table_name="ticket_notes")
    op.drop_table("ticket_notes")
