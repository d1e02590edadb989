"""search pending: a historical import's tickets are indexed for search after the import

Full-text indexing was half of a historical import's cost: SQLite's FTS5 trigger and
PostgreSQL's generated tsvector with its GIN index, per ticket and again per follow-up (the
conversation's search text grows, and the whole of it is indexed again). An import of 20,000
messages took 5.4 s on SQLite with it and 3.6 s without; 8.7 s and 5.4 s on PostgreSQL.

tickets.search_pending marks the tickets a historical import stored and the search index does
not hold yet; support/tickets/search_index.py indexes them afterwards, in short transactions on
the bulk queue. Until then the inbox's search still finds them, by substring
(support/tickets/queries.py). Live tickets are indexed as they are written, as before.

SQLite: the triggers index a ticket only while it is not pending, and indexing it is an UPDATE
that clears the mark (the update trigger then adds it to the index). PostgreSQL: the generated
column is NULL while pending, so the GIN index skips the ticket, and clearing the mark computes it.
Rewrites tickets on PostgreSQL (the generated column's expression changes): minutes at millions.

Revision ID: 0020_search_pending
Revises: 0019_historical_tickets
"""
import sqlalchemy as sa
from alembic import op

revision = "0020_search_pending"
down_revision = "0019_historical_tickets"
branch_labels = None
depends_on = None

_COLUMNS = "subject, snippet, search_text"
_TEXT = "coalesce(subject, '') || ' ' || coalesce(snippet, '') || ' ' || coalesce(search_text, '')"


def _new(prefix: str) -> str:
    return ", ".join(f"{prefix}.{c.strip()}" for c in _COLUMNS.split(","))


def _sqlite_triggers(pending: bool) -> list[str]:
    """With `pending`, a pending ticket is kept out of the index: the 'delete' of FTS5's external
    content mode must name exactly what was indexed, so a ticket never indexed is never deleted."""
    drop = [f"DROP TRIGGER IF EXISTS tickets_fts_{t}" for t in ("ai", "ad", "au")]
    add, remove = (
        f"INSERT INTO tickets_fts(rowid, {_COLUMNS}) SELECT new.id, {_new('new')}",
        f"INSERT INTO tickets_fts(tickets_fts, rowid, {_COLUMNS}) SELECT 'delete', old.id, {_new('old')}",
    )
    if not pending:
        return [*drop,
                f"CREATE TRIGGER tickets_fts_ai AFTER INSERT ON tickets BEGIN {add}; END",
                f"CREATE TRIGGER tickets_fts_ad AFTER DELETE ON tickets BEGIN {remove}; END",
                f"CREATE TRIGGER tickets_fts_au AFTER UPDATE OF {_COLUMNS} ON tickets BEGIN {remove}; {add}; END"]
    return [*drop,
            f"CREATE TRIGGER tickets_fts_ai AFTER INSERT ON tickets WHEN new.search_pending = 0 BEGIN {add}; END",
            f"CREATE TRIGGER tickets_fts_ad AFTER DELETE ON tickets WHEN old.search_pending = 0 BEGIN {remove}; END",
            f"CREATE TRIGGER tickets_fts_au AFTER UPDATE OF {_COLUMNS}, search_pending ON tickets BEGIN "
            f"{remove} WHERE old.search_pending = 0; {add} WHERE new.search_pending = 0; END"]


def _pg_fts(expression: str) -> list[str]:
    return [
        "DROP INDEX IF EXISTS ix_tickets_fts",
        "ALTER TABLE tickets DROP COLUMN IF EXISTS fts",
        f"ALTER TABLE tickets ADD COLUMN fts tsvector GENERATED ALWAYS AS ({expression}) STORED",
        "CREATE INDEX ix_tickets_fts ON tickets USING gin (fts)",
    ]


def upgrade() -> None:
    op.add_column("tickets", sa.Column("search_pending", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_tickets_search_pending", "tickets", ["id"],
                    postgresql_where=sa.text("search_pending"), sqlite_where=sa.text("search_pending = 1"))
    if op.get_bind().dialect.name == "sqlite":
        for statement in _sqlite_triggers(pending=True):
            op.execute(statement)
    else:
        for statement in _pg_fts(f"CASE WHEN search_pending THEN NULL ELSE to_tsvector('english', {_TEXT}) END"):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"INSERT INTO tickets_fts(rowid, {_COLUMNS}) SELECT id, {_COLUMNS} FROM tickets WHERE search_pending = 1")
        for statement in _sqlite_triggers(pending=False):
            op.execute(statement)
    else:
        for statement in _pg_fts(f"to_tsvector('english', {_TEXT})"):
            op.execute(statement)
    op.drop_index("ix_tickets_search_pending", table_name="tickets")
    op.drop_column("tickets", "search_pending")  # in place (SQLite 3.35+): a rebuilt table would lose its triggers
