"""Alembic environment: the URL comes from the caller (storage.migrate) or settings."""

from __future__ import annotations

from alembic import context

from storage.db import get_engine
from storage.models.base import all_metadata

config = context.config
url = config.get_main_option("sqlalchemy.url") or None
engine = get_engine(url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=all_metadata(),
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
