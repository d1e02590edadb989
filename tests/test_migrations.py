"""The migrations build exactly the schema the models describe, on both databases:
a model change without its migration (or the reverse) fails here, not in production."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from storage.models import Base


def _ours(obj, name, type_, reflected, compare_to) -> bool:
    # Full-text search helpers are created by raw SQL in migrations (FTS5 tables,
    # tsvector triggers): they have no model, on purpose.
    return not (name and ("fts" in name or name.startswith("sqlite_")))


def test_the_migrated_schema_matches_the_models(db_url):
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": _ours, "target_metadata": Base.metadata}
            )
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
