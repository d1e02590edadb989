"""The migrations build exactly the schema the models describe, on both databases:
a model change without its migration (or the reverse) fails here, not in production."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, insert, select, text

from storage.migrate import alembic_config
from storage.models.base import all_metadata, utcnow
from storage.models.tickets import Message, Ticket
from support.tickets.queries import search_clause


def _ours(obj, name, type_, reflected, compare_to) -> bool:
    # Full-text search helpers are created by raw SQL in migrations (FTS5 tables,
    # tsvector triggers): they have no model, on purpose.
    return not (name and ("fts" in name or name.startswith("sqlite_")))


def test_the_migrated_schema_matches_the_models(db_url):
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": _ours, "target_metadata": all_metadata()}
            )
            differences = compare_metadata(context, all_metadata())
    finally:
        engine.dispose()
    assert differences == []


def test_an_inbox_upgraded_to_search_text_finds_the_words_of_its_earlier_conversations(db_url):
    """0008 fills the search text of the tickets already stored from their messages."""
    config = alembic_config(db_url)
    command.downgrade(config, "0007_inbox")
    engine = create_engine(db_url)
    try:
        now = utcnow()
        with engine.begin() as conn:
            ticket_id = conn.execute(insert(Ticket.__table__).values(
                channel="discord", conversation_key="thread-9", subject="timeline crashes", snippet="timeline crashes",
                status="open", priority="high", category="bug_report", needs_triage=False, created_at=now,
                updated_at=now, last_message_at=now).returning(Ticket.__table__.c.id)).scalar_one()
            for n, words in enumerate(("the timeline crashes", "order number 88-31-zebra")):
                conn.execute(insert(Message.__table__).values(
                    ticket_id=ticket_id, direction="in", channel="discord", external_id=f"m{n}", author="bo",
                    text=words, received_at=now))
    finally:
        command.upgrade(config, "heads")  # the session's PostgreSQL database stays at the head for the next test
    dialect = engine.dialect.name
    try:
        with engine.connect() as conn:
            found = conn.execute(select(Ticket.id).where(search_clause("zebra", dialect))).scalars().all()
            text_ = conn.execute(select(Ticket.search_text).where(Ticket.id == ticket_id)).scalar_one()
    finally:
        engine.dispose()
    assert found == [ticket_id]
    assert text_ == "the timeline crashes\norder number 88-31-zebra"  # in the order they arrived


def test_postgresql_leaves_room_on_each_tickets_page_for_the_next_version_of_a_row(db_url):
    # 0021: a follow-up's UPDATE of its ticket is HOT (no index entries) when the page has room.
    if not db_url.startswith("postgresql"):
        return
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            options = conn.execute(text("SELECT reloptions FROM pg_class WHERE relname = 'tickets'")).scalar_one()
    finally:
        engine.dispose()
    assert "fillfactor=75" in options
