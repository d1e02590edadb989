"""Small dialect-aware helpers shared by the workflows."""

from __future__ import annotations

import json
import re
from collections import defaultdict

from sqlalchemy import ColumnElement, Insert, and_, insert, or_, text
from sqlalchemy.orm import Session

from storage.models import REF_PREFIX

_REF = re.compile(rf"^{REF_PREFIX}(\d+)$", re.IGNORECASE)


def insert_ignoring_conflicts(session: Session, model: type) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING for SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model.__table__).on_conflict_do_nothing()  # the table: Core, not the ORM's bulk path


def bulk_insert_returning_ids(session: Session, model: type, rows: list[dict]) -> list[int]:
    """Insert many rows in one round of Core statements and return their ids in order.

    This goes through the table, not the ORM entity: the ORM's bulk path groups rows by
    which values are None and splices the RETURNING results group by group, which
    grew quadratically with the batch in our measurements."""
    table = model.__table__
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        # Take the ids from the sequence first, then COPY the rows: several times faster
        # than INSERT ... RETURNING in parameter order.
        ids = session.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
            {"table": table.name, "n": len(rows)},
        ).scalars().all()
        _copy(session, table, [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
        return list(ids)
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.connection().execute(statement, rows).scalars().all())


def _copy(session: Session, table, rows: list[dict]) -> None:
    """COPY rows into a PostgreSQL table (psycopg 3), filling Python-side defaults as
    an INSERT would; other drivers get a plain executemany."""
    dbapi = session.connection().connection.dbapi_connection
    if not hasattr(dbapi.cursor(), "copy"):
        session.connection().execute(insert(table), rows)
        return
    columns = [c for c in table.columns if c.name in rows[0] or c.default is not None]
    names = ", ".join(f'"{c.name}"' for c in columns)
    with dbapi.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([_copy_value(row[c.name]) if c.name in row else _default(c) for c in columns])


def _default(column):
    default = column.default
    return default.arg(None) if default.is_callable else default.arg


def _copy_value(value):
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def ticket_id_from_ref(ref: str) -> int | None:
    match = _REF.match(ref.strip())
    return int(match.group(1)) if match else None


def chunked(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def pairs_in(first: ColumnElement, second: ColumnElement, pairs: list[tuple]) -> ColumnElement[bool]:
    """(first, second) IN pairs, written as `first = a AND second IN (...)` per distinct
    `a`: SQLite scans the whole table for a row-value IN but uses the index for this."""
    grouped: dict = defaultdict(list)
    for a, b in pairs:
        grouped[a].append(b)
    return or_(*(and_(first == a, second.in_(bs)) for a, bs in grouped.items()))
