"""Small dialect-aware helpers shared by the workflows."""

from __future__ import annotations

import re

from sqlalchemy import Insert
from sqlalchemy.orm import Session

from storage.models import REF_PREFIX

_REF = re.compile(rf"^{REF_PREFIX}(\d+)$", re.IGNORECASE)


def insert_ignoring_conflicts(session: Session, model: type) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING for SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model).on_conflict_do_nothing()


def ticket_id_from_ref(ref: str) -> int | None:
    match = _REF.match(ref.strip())
    return int(match.group(1)) if match else None


def chunked(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]
