"""Run the packaged Alembic migrations from any working folder."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN = re.compile(r"^down_revision\s*=\s*(.+)$", re.MULTILINE)


def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "heads") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def upgrade_if_needed(url: str) -> None:
    """Migrate unless the database is already at the packaged heads. Loading Alembic and its
    scripts costs a few tenths of a second, which a command run by hand (`trkv import` of
    a few mails) should not pay on every start."""
    if not is_current(url):
        upgrade(url)


def script_heads() -> set[str]:
    """The packaged revisions nothing revises, read from the scripts' text (no Alembic)."""
    revisions, revised = set(), set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        source = script.read_text(encoding="utf-8")
        if match := _REVISION.search(source):
            revisions.add(match.group(1))
        if match := _DOWN.search(source):
            revised.update(re.findall(r"['\"]([^'\"]+)['\"]", match.group(1)))
    return revisions - revised


def is_current(url: str) -> bool:
    """True when the database's alembic_version rows are exactly the packaged heads."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from storage.db import get_engine

    try:
        # A deferred BEGIN on SQLite: reading the version must not queue for the write lock.
        with get_engine(url).execution_options(sqlite_begin="DEFERRED").connect() as conn:
            stored = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
    except SQLAlchemyError:  # no table yet: a fresh database
        return False
    return bool(stored) and stored == script_heads()


def revision(message: str, url: str | None = None) -> None:
    """Developers: write a new migration from the difference to the models."""
    from alembic import command

    command.revision(alembic_config(url), message=message, autogenerate=True)
