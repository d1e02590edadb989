"""search text: full-text search covers the whole conversation, not only the subject and snippet

Revision ID: 0008_search_text
Revises: 0007_inbox
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_search_text"
down_revision = "0007_inbox"
branch_labels = None
depends_on = None

# tickets.search_text holds the conversation's words (customers' messages, agents' replies; the
# first SEARCH_CHARS characters, see storage/queries.py), appended as messages arrive. It joins
# the subject and snippet in the one full-text index the inbox already searches, so a search
# stays one filter on tickets: walked in the list's order for common words, looked up in the
# index for rare ones. (A second index over messages would make every search collect all of
# its matching messages first: 10x slower for common words at 100 k tickets.)
SEARCH_CHARS = 32_000
_FTS = "tokenize='porter unicode61 remove_diacritics 2'"


def _sqlite_fts(columns: list[str]) -> list[str]:
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return [
        f"CREATE VIRTUAL TABLE tickets_fts USING fts5({names}, content='tickets', content_rowid='id', {_FTS})",
        f"CREATE TRIGGER tickets_fts_ai AFTER INSERT ON tickets BEGIN "
        f"INSERT INTO tickets_fts(rowid, {names}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER tickets_fts_ad AFTER DELETE ON tickets BEGIN "
        f"INSERT INTO tickets_fts(tickets_fts, rowid, {names}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER tickets_fts_au AFTER UPDATE OF {names} ON tickets BEGIN "
        f"INSERT INTO tickets_fts(tickets_fts, rowid, {names}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO tickets_fts(rowid, {names}) VALUES (new.id, {new}); END",
        "INSERT INTO tickets_fts(tickets_fts) VALUES ('rebuild')",
    ]


def _sqlite_drop() -> None:
    for name in ("tickets_fts_ai", "tickets_fts_ad", "tickets_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS tickets_fts")


def _pg_fts(expression: str) -> list[str]:
    return [
        "DROP INDEX IF EXISTS ix_tickets_fts",
        "ALTER TABLE tickets DROP COLUMN IF EXISTS fts",
        f"ALTER TABLE tickets ADD COLUMN fts tsvector GENERATED ALWAYS AS (to_tsvector('english', {expression})) STORED",
        "CREATE INDEX ix_tickets_fts ON tickets USING gin (fts)",
    ]


def upgrade() -> None:
    op.add_column("tickets", sa.Column("search_text", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "UPDATE tickets SET search_text = substr((SELECT group_concat(text, char(10)) FROM "
            "(SELECT text FROM messages WHERE messages.ticket_id = tickets.id AND direction = 'in' "
            f"ORDER BY received_at, id)), 1, {SEARCH_CHARS})"
        )
        _sqlite_drop()
        for statement in _sqlite_fts(["subject", "snippet", "search_text"]):
            op.execute(statement)
    else:
        op.execute(
            "UPDATE tickets SET search_text = left((SELECT string_agg(text, E'\\n' ORDER BY received_at, id) "
            f"FROM messages WHERE messages.ticket_id = tickets.id AND direction = 'in'), {SEARCH_CHARS})"
        )
        for statement in _pg_fts("coalesce(subject, '') || ' ' || coalesce(snippet, '') || ' ' || "
                                 "coalesce(search_text, '')"):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_drop()  # the triggers name the column
        op.execute("ALTER TABLE tickets DROP COLUMN search_text")  # SQLite 3.35+
        for statement in _sqlite_fts(["subject", "snippet"]):
            op.execute(statement)
    else:
        for statement in _pg_fts("coalesce(subject, '') || ' ' || coalesce(snippet, '')"):
            op.execute(statement)
        op.drop_column("tickets", "search_text")
