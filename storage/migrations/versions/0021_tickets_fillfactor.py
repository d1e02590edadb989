"""tickets fillfactor: room on each page for a ticket's next version (PostgreSQL)

Every follow-up rewrites its ticket's row (search text, last message time). On a full page
the new version goes to another page, and each of the tickets table's 17 indexes gets a new
entry for it; with room on the same page the update is HOT and touches no index, as long as
no indexed column changed (a historical import's tickets: their search vector stays NULL
until they are indexed, support/tickets/search_index.py). A bulk import of 20,000 messages
(about 5,000 follow-ups to earlier tickets): HOT updates 1,500 -> 4,300, the follow-ups'
UPDATE 0.40-0.55 -> 0.25-0.34 s, the server's CPU about 0.1 s less (of 2); the table is
10 % larger.
Applies to pages written from now on (existing pages are left as they are: rewriting a big
inbox's table would take minutes under an exclusive lock). SQLite has no fillfactor.

Revision ID: 0021_tickets_fillfactor
Revises: 0020_search_pending
"""
from alembic import op

revision = "0021_tickets_fillfactor"
down_revision = "0020_search_pending"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE tickets SET (fillfactor = 75)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE tickets RESET (fillfactor)")
