"""Small dialect-aware helpers shared by the workflows."""

from __future__ import annotations

import functools
import json
import re
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC

from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    ColumnElement,
    Insert,
    Text,
    and_,
    any_,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from storage.db import BinaryList
from storage.models.base import REF_PREFIX, UTCDateTime, naive_utc
from storage.models.tickets import Ticket

# How much of a conversation full-text search covers: every word people write in a normal
# thread, while a pasted 5 MB log cannot bloat the index (PostgreSQL refuses a tsvector over
# 1 MB, and with it the row).
SEARCH_CHARS = 32_000

_REF = re.compile(rf"^{REF_PREFIX}(\d+)$", re.IGNORECASE)


class BinaryArray(TypeDecorator):
    """An array parameter sent in PostgreSQL's binary format (psycopg 3): the text form quotes and
    escapes every element in Python, which cost more than the statement. A lookup of 1,000 pairs
    (two text arrays): client 2.2 -> 0.65 ms, wall 2.6 -> 0.9 ms. Same SQL (`%(name)s::TEXT[]`),
    same values: only `BinaryList`, made here, dumps in binary (storage/db.py registers it on each
    PostgreSQL connection), so no other statement changes. `BinaryArray(Text)` as an
    `ARRAY(Text)`; the item type's bind processor still applies."""

    impl = ARRAY
    cache_ok = True

    def bind_processor(self, dialect):
        if dialect.driver != "psycopg":
            return self.impl_instance.dialect_impl(dialect).bind_processor(dialect)
        item = self.impl_instance.item_type.dialect_impl(dialect).bind_processor(dialect)
        if item is None:
            return lambda value: None if value is None else BinaryList(value)
        return lambda value: None if value is None else BinaryList(map(item, value))


def insert_ignoring_conflicts(session: Session, model: type) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING for SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model.__table__).on_conflict_do_nothing()  # the table: Core, not the ORM's bulk path


def insert_many_ignoring_conflicts(session: Session, model: type, rows: list[dict], returning: tuple = ()) -> list | None:
    """Insert rows, skipping those a unique key already holds. On PostgreSQL it is one
    INSERT ... SELECT FROM unnest(arrays) statement, a fraction of the cost of a
    many-row VALUES list with a parameter per field, and it returns the `returning`
    columns of the rows it inserted; SQLite returns None (read them back instead)."""
    if not rows:
        return []
    table = model.__table__
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert_ignoring_conflicts(session, model), rows)
        return None
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    names = list(rows[0])
    arrays = [bindparam(f"many_{name}", [row[name] for row in rows], type_=BinaryArray(table.c[name].type)) for name in names]
    source = func.unnest(*arrays).table_valued(*names).render_derived()
    statement = pg_insert(table).from_select(names, select(*(source.c[name] for name in names))).on_conflict_do_nothing()
    if not returning:
        session.execute(statement)
        return []
    return session.execute(statement.returning(*(table.c[name] for name in returning))).all()


class EncodedJSON(str):
    """A JSON column's value already serialized (`encode_json`), stored as it is. A bulk
    import encodes messages' raw payloads in its worker processes: the writing process, the
    one that does not spread over cores, then neither serializes them nor unpickles them as
    nested objects."""


def encode_json(value, db_url: str) -> EncodedJSON:
    """`value` serialized exactly as the insert into `db_url` would serialize it: SQLAlchemy's
    default serializer on SQLite, `_copy`'s on PostgreSQL."""
    return EncodedJSON(json.dumps(value, ensure_ascii=not db_url.startswith("postgresql")))


def encode_json_from(unescaped: str, value, db_url: str) -> EncodedJSON:
    """`encode_json(value, db_url)`, given `unescaped` = `json.dumps(value, ensure_ascii=False)` made
    already (to measure the value): the same text on PostgreSQL, and on SQLite where it is all ASCII
    but DEL (which `ensure_ascii` escapes), so the value is not serialized a second time."""
    if db_url.startswith("postgresql") or (unescaped.isascii() and "\x7f" not in unescaped):
        return EncodedJSON(unescaped)
    return encode_json(value, db_url)


def _decoded(rows: list[dict]) -> list[dict]:
    """Rows for SQLAlchemy's own insert, which serializes every JSON value itself."""
    return [{k: json.loads(v) if isinstance(v, EncodedJSON) else v for k, v in row.items()} for row in rows]


def bulk_insert_returning_ids(session: Session, model: type, rows: list[dict]) -> list[int]:
    """Insert many rows and return their ids in order, as fast as each database allows.

    Through the table, not the ORM entity: the ORM's bulk path groups rows by which
    values are None and splices RETURNING results group by group, which grew
    quadratically with the batch in our measurements."""
    table = model.__table__
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        if len(rows) == 1:
            # One row (a live message's ticket, message, outbox row): one round trip, where
            # the sequence and a COPY (its start and its end) take three.
            return [session.execute(insert(table).returning(table.c.id), _decoded(rows)[0]).scalar_one()]
        # Take the ids from the sequence first, then COPY the rows: several times faster
        # than INSERT ... RETURNING in parameter order. The sequence is looked up once, not
        # per row (1,000 ids: 2.4 -> 0.4 ms on the server).
        ids = session.execute(
            text("SELECT nextval(seq) FROM (SELECT CAST(pg_get_serial_sequence(:table, 'id') AS regclass) AS seq "
                 "OFFSET 0) AS once, generate_series(1, :n)"),
            {"table": table.name, "n": len(rows)},
        ).scalars().all()
        _copy(session, table, [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
        return list(ids)
    # SQLite: the write transaction began IMMEDIATE, so this session holds the write
    # lock and max(id) + n are ours; a plain executemany beats one INSERT ... RETURNING
    # per row, which is what RETURNING in parameter order costs on SQLite.
    start = session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    ids = list(range(start + 1, start + 1 + len(rows)))
    _executemany(session, table, [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
    return ids


def insert_with_child(session: Session, parent: type, parent_row: dict, child: type, child_row: dict,
                      link: str, *, child_may_conflict: bool = False) -> tuple[int, int | None]:
    """PostgreSQL: a row and one row of `child` pointing at it by `link` (its value in `child_row`
    is ignored), in one statement (INSERT ... RETURNING in a WITH): one round trip where two
    INSERTs take two. Returns (parent id, child id). `child_may_conflict`: a child row that a
    unique key holds already is skipped (ON CONFLICT DO NOTHING), and its id is None."""
    parent_row = _with_defaults(parent.__table__, _decoded([parent_row])[0])
    child_row = {k: v for k, v in _with_defaults(child.__table__, _decoded([child_row])[0]).items() if k != link}
    statement = _with_child(parent.__table__, tuple(parent_row), child.__table__, tuple(child_row), link, child_may_conflict)
    params = {**{f"p_{name}": value for name, value in parent_row.items()},
              **{f"c_{name}": value for name, value in child_row.items()}}
    parent_id, child_id = session.execute(statement, params).one()
    return parent_id, child_id


def _with_defaults(table, row: dict) -> dict:
    """`row` and the Python-side defaults of the columns it leaves out: a statement inside a
    WITH gets none from SQLAlchemy."""
    return {**{c.name: _default(c) for c in table.columns if c.default is not None and c.name not in row}, **row}


@functools.cache
def _with_child(parent_table, parent_names: tuple, child_table, child_names: tuple, link: str, may_conflict: bool):
    """`insert_with_child`'s statement for these columns, built once: building it per row (a
    CTE, a SELECT of a bound value per column) cost more CPU than the round trip it saves."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    made = (insert(parent_table).values({n: bindparam(f"p_{n}", type_=parent_table.c[n].type) for n in parent_names})
            .returning(parent_table.c.id).cte("parent_row"))
    child = pg_insert(child_table).from_select(
        [link, *child_names], select(made.c.id, *(bindparam(f"c_{n}", type_=child_table.c[n].type) for n in child_names)))
    if not may_conflict:
        stored = child.returning(child_table.c.id).cte("child_row")
        return select(made.c.id, stored.c.id).select_from(made.join(stored, literal(True)))
    # The parent's id comes from its own RETURNING, which a skipped child does not hide.
    stored = child.on_conflict_do_nothing().returning(child_table.c.id).cte("child_row")
    return select(made.c.id, select(stored.c.id).scalar_subquery())


def _insert_columns(table, rows: list[dict]) -> list | None:
    """The columns an INSERT of `rows` writes: every key any row has, and those with a
    Python-side default; None when a default is a SQL expression (left to SQLAlchemy)."""
    keys = set().union(*rows)
    columns = [c for c in table.columns if c.name in keys or c.default is not None]
    if any(c.default is not None and not (c.default.is_scalar or c.default.is_callable) for c in columns):
        return None
    return columns


def _executemany(session: Session, table, rows: list[dict]) -> None:
    """INSERT rows through the driver's executemany, with each column's bind processor
    applied in one pass. The same values SQLAlchemy's Core insert sends, at a fraction of
    its per-row cost (it builds each row's parameters through the compiler: 40 % of a
    bulk import's writer time on SQLite)."""
    connection = session.connection()
    columns = _insert_columns(table, rows)
    if columns is None:
        connection.execute(insert(table), _decoded(rows))
        return
    dialect = connection.dialect
    values = [_column_values(rows, c, _processor(c, c.type.dialect_impl(dialect).bind_processor(dialect)))
              for c in columns]
    params = list(zip(*values))
    names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)
    marks = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {dialect.identifier_preparer.quote(table.name)} ({names}) VALUES ({marks})", params)


def _column_values(rows: list[dict], column, process) -> list:
    """One column's parameters for all rows, processed (`_processor`): a column at a time, so
    that a column without a bind processor costs no call per value."""
    name = column.name
    try:
        values = [row[name] for row in rows]
    except KeyError:  # some rows leave it to its default
        values = [row[name] if name in row else _default(column) for row in rows]
    return values if process is None else process(values)


def _processor(column, process):
    """A column's bind processor over a list of values (None: it has none). Times are
    formatted once per distinct value: a batch's rows share a few moments (its `now`, due
    times), and formatting one costs more than the insert. JSON already encoded passes as it is."""
    if process is None:
        return None
    if isinstance(column.type, JSON):  # None (most messages' attachments and problems) serializes alike every time
        null = process(None)
        return lambda values: [null if v is None else v if v.__class__ is EncodedJSON else process(v) for v in values]
    if not isinstance(column.type, UTCDateTime):  # equal instants are stored alike only when converted to UTC
        return lambda values: list(map(process, values))

    def once(values: list) -> list:
        known = {value: process(value) for value in set(values) if value is not None}
        known[None] = None
        return [known[value] for value in values]

    return once


def _copy(session: Session, table, rows: list[dict]) -> None:
    """COPY rows into a PostgreSQL table (psycopg 3), filling Python-side defaults as
    an INSERT would; other drivers get a plain executemany."""
    dbapi = session.connection().connection.dbapi_connection
    columns = _insert_columns(table, rows)
    if columns is None or not hasattr(dbapi.cursor(), "copy"):
        session.connection().execute(insert(table), _decoded(rows))
        return
    names = ", ".join(f'"{c.name}"' for c in columns)
    fields = [(c.name, c) for c in columns]
    # JSON columns take any JSON value (an email's raw text is a JSON string), as an INSERT
    # would; the others go as they are. Chosen once per column, not per value.
    json_at = [i for i, c in enumerate(columns) if isinstance(c.type, JSON)]
    # Times are stored as naive UTC (storage.models.base.UTCDateTime), which an INSERT's bind
    # processing does and COPY skips: PostgreSQL reads "10:00+02:00" into a timestamp without
    # time zone as 10:00. A time in another zone (an email's Date header) is converted here.
    time_at = [i for i, c in enumerate(columns) if isinstance(c.type, UTCDateTime)]
    with dbapi.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            values = [row[name] if name in row else _default(c) for name, c in fields]
            for i in json_at:
                if values[i] is not None and values[i].__class__ is not EncodedJSON:
                    values[i] = json.dumps(values[i], ensure_ascii=False)
            for i in time_at:
                if values[i] is not None and values[i].tzinfo not in (None, UTC):  # UTC needs no work
                    values[i] = naive_utc(values[i])
            copy.write_row(values)


def _default(column):
    """A column's Python-side default (None when it has none), evaluated as an INSERT would."""
    default = column.default
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg


def ticket_id_from_ref(ref: str) -> int | None:
    match = _REF.match(ref.strip())
    return int(match.group(1)) if match else None


def chunked(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def pair_chunks(session: Session, pairs: list[tuple]):
    """`pairs` in slices a statement each for `pairs_in`: 400 on SQLite (a bound parameter
    per value), all at once on PostgreSQL (two array parameters whatever their length: a
    round trip per 400 pairs cost more than the index probes)."""
    return chunked(pairs, 400) if session.get_bind().dialect.name != "postgresql" else [pairs] if pairs else []


def pairs_in(session: Session, first: ColumnElement, second: ColumnElement, pairs: list[tuple]) -> ColumnElement[bool]:
    """(first, second) IN pairs, in the form each database plans well.

    SQLite scans the whole table for a row-value IN, so there it is `first = a AND
    second IN (...)` per distinct `a`. PostgreSQL, without fresh statistics (a new
    database, or autovacuum off), probes the index by `first` alone for that form and
    reads a whole channel; a semi-join on two unnested arrays probes the unique
    index once per pair whatever the statistics."""
    if session.get_bind().dialect.name == "postgresql":
        # Two array parameters, not one parameter per key: the statement compiles once.
        keys = func.unnest(
            bindparam(None, [a for a, _ in pairs], type_=BinaryArray(Text)),
            bindparam(None, [b for _, b in pairs], type_=BinaryArray(Text)),
        ).table_valued("a", "b").render_derived()
        return tuple_(first, second).in_(select(keys.c.a, keys.c.b))
    return or_(*(and_(first == a, second.in_(bs)) for a, bs in _by_first(pairs).items()))


def ids_in(session: Session, column: ColumnElement, ids: list[int]) -> ColumnElement[bool]:
    """`column IN ids`: on PostgreSQL `= ANY` of one binary array parameter, not a parameter per id
    (SQLAlchemy renders and processes each: ~0.1 ms per 1,000 ids in the writer of a bulk import)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=BinaryArray(BigInteger)))
    return column.in_(ids)


def _by_first(pairs: list[tuple]) -> dict:
    """Pairs grouped by their first value: SQLite's form of a pairs lookup, `a = ? AND b IN (...)` per `a`."""
    grouped: dict = defaultdict(list)
    for a, b in pairs:
        grouped[a].append(b)
    return grouped


def rows_by_pairs(session: Session, table, columns: tuple[str, ...], first: str, second: str, pairs: list[tuple]) -> list:
    """The `columns` (plain numbers and strings: no result processing) of `table`'s rows whose
    (`first`, `second`) is one of `pairs` (400 pairs a statement on SQLite, all in one on PostgreSQL).

    The statement is written here in `pairs_in`'s form, not built and compiled by SQLAlchemy:
    on SQLite a bulk import's batch looks up thousands of keys, and compiling an OR of IN lists
    (one bound parameter each) cost ten times what SQLite takes to run it; on PostgreSQL a live
    message makes two such lookups, and building them was a tenth of its worker's time."""
    connection = session.connection()
    quote = connection.dialect.identifier_preparer.quote
    head = f"SELECT {', '.join(map(quote, columns))} FROM {quote(table.name)} WHERE "
    if connection.dialect.name == "postgresql":  # `pairs_in`'s form, two binary arrays: one statement
        if not pairs:
            return []
        return list(connection.exec_driver_sql(
            head + f"({quote(first)}, {quote(second)}) IN (SELECT a, b FROM unnest(%(a)s::text[], %(b)s::text[]) AS k(a, b))",
            {"a": BinaryList(a for a, _ in pairs), "b": BinaryList(b for _, b in pairs)}))
    rows = []
    for chunk in chunked(pairs, 400):
        grouped = _by_first(chunk)
        where = " OR ".join(f"({quote(first)} = ? AND {quote(second)} IN ({', '.join('?' * len(bs))}))"
                            for bs in grouped.values())
        params = tuple(value for a, bs in grouped.items() for value in (a, *bs))
        rows.extend(connection.exec_driver_sql(head + where, params))
    return rows


def append_search_text(session: Session, texts: Mapping[int, str], touched_at=None,
                       search_pending: bool | None = None) -> set[int] | None:
    """Add a message's words to its ticket's search text (ticket id -> text), up to
    SEARCH_CHARS characters per ticket; the full-text index follows (a generated column on
    PostgreSQL, a trigger on SQLite). With `touched_at`, the same UPDATE also sets the
    ticket's last_message_at and updated_at: one new row version (and one round of index
    updates on PostgreSQL) per follow-up, not two. `search_pending=True` leaves the index to
    the search index's backlog (a historical import). Returns the ids of the tickets it
    updated on PostgreSQL (None on SQLite, whose executemany returns no rows)."""
    rows = [{"tid": ticket_id, "words": "\n" + words} for ticket_id, words in texts.items() if words and words.strip()]
    if not rows:
        return set()
    table = Ticket.__table__
    not_full = func.coalesce(func.length(table.c.search_text), 0) < SEARCH_CHARS
    touched = {} if touched_at is None else {"last_message_at": touched_at, "updated_at": touched_at}
    if search_pending is not None:
        touched["search_pending"] = search_pending
    if session.get_bind().dialect.name == "postgresql":
        # One UPDATE ... FROM unnest(ids, words) for all tickets (the ids are distinct: the keys
        # of `texts`): an executemany is a statement per ticket to parse, plan and answer, and
        # it was the largest server-side cost of a bulk import's batch.
        source = func.unnest(
            bindparam("tids", [row["tid"] for row in rows], type_=BinaryArray(table.c.id.type)),
            bindparam("words", [row["words"] for row in rows], type_=BinaryArray(Text)),
        ).table_valued("tid", "words").render_derived()
        appended = func.substr(func.coalesce(table.c.search_text, "") + source.c.words, 1, SEARCH_CHARS)
        return set(session.execute(update(table).where(table.c.id == source.c.tid, not_full)
                                   .values(search_text=appended, **touched).returning(table.c.id)).scalars())
    appended = func.substr(func.coalesce(table.c.search_text, "") + bindparam("words"), 1, SEARCH_CHARS)
    session.execute(update(table).where(table.c.id == bindparam("tid"), not_full).values(search_text=appended, **touched), rows)
    return None


def remember(session: Session, **facts) -> None:
    """Facts a transaction's first read learned (on PostgreSQL ingest's lookup also counts the
    active incidents and reads the response templates' version), for later steps of the same
    transaction: each may then skip a read of its own. Forgotten when the transaction ends."""
    session.info["trkv_known"] = (session.get_transaction(), {**_known(session), **facts})


def known(session: Session, name: str):
    """A fact `remember`ed in this transaction, or None."""
    return _known(session).get(name)


def _known(session: Session) -> dict:
    entry = session.info.get("trkv_known")
    return entry[1] if entry is not None and entry[0] is session.get_transaction() else {}


def upsert_named(db_url: str, model: type, name: str, **values) -> None:
    """Create or update the row called `name` of a name-keyed table (cursors, states)."""
    from storage.db import session_factory
    from storage.models.base import utcnow

    now = utcnow()
    with session_factory(db_url)() as session, session.begin():
        session.execute(insert_ignoring_conflicts(session, model).values(name=name, updated_at=now, **values))
        session.execute(model.__table__.update().where(model.name == name).values(updated_at=now, **values))


def set_connector_state(db_url: str, name: str, state: str, detail: str = "") -> None:
    """A connector's (or a sender's) health, for /healthz: `up`, `degraded` or `down` and why."""
    from storage.models.intake import ConnectorState

    upsert_named(db_url, ConnectorState, name, state=state, detail=detail[:2000])
