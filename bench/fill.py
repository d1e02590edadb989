"""Fill a benchmark database with N stored tickets fast, by SQL inside the database.

    from fill import fill_tickets; fill_tickets(db_url, 1_000_000)

Filling a million tickets through `ingest_batch` takes longer than the benchmark it sets
up, so the tickets here are made by one INSERT ... SELECT per table (PostgreSQL:
generate_series; SQLite: a recursive CTE), with what the import path reads or indexes
filled in like real data:
- one inbound message per ticket, unique (channel, external id), on email, Discord and X;
- conversation keys (Discord threads, X conversations; email has none) and the contact's
  identity; 200,000 contacts, so identities are looked up in a large table;
- subject, snippet and search text from 1,000 distinct generated texts (bench/synthetic.py,
  cut to 600 characters), so the full-text index (FTS5 / GIN) holds real words;
- statuses as an older inbox has them: 90 % closed, the rest open with due times.
The triggers (SQLite) and generated columns (PostgreSQL) index the search text as a real
insert would. The sequences are moved past the new ids.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import create_engine, text
from synthetic import MessageFactory

TEXTS = 1_000
CONTACTS = 200_000
CHUNK = 100_000


def _texts() -> list[tuple[int, str, str]]:
    factory = MessageFactory(seed=97)
    return [(i, (m.subject or m.text.split("\n", 1)[0])[:120], m.text[:600]) for i, m in enumerate(factory.batch(TEXTS))]


def fill_tickets(url: str, tickets: int) -> float:
    """Add `tickets` tickets (and their messages, contacts, identities); returns the seconds."""
    started = time.perf_counter()
    engine = create_engine(url)
    postgres = url.startswith("postgresql")
    moment = datetime(2026, 6, 1, tzinfo=UTC).replace(tzinfo=None)
    # SQLite keeps times as SQLAlchemy writes them; PostgreSQL takes the datetime.
    stamp = moment if postgres else moment.strftime("%Y-%m-%d %H:%M:%S.%f")
    due = moment.replace(month=7) if postgres else moment.replace(month=7).strftime("%Y-%m-%d %H:%M:%S.%f")
    with engine.connect() as conn:  # one connection throughout: the temporary table lives in it
        with conn.begin():
            contact_base, contacts = _people(conn, postgres, tickets, stamp)
        base = conn.execute(text("SELECT coalesce(max(id), 0) FROM tickets")).scalar_one()
        conn.commit()
        for start in range(0, tickets, CHUNK):  # a transaction per chunk: bounded WAL and memory
            size = min(CHUNK, tickets - start)
            with conn.begin():
                _chunk(conn, postgres, base + start, size, contact_base, contacts, stamp, due)
            print(f"  filled {start + size:,}/{tickets:,} tickets ({time.perf_counter() - started:.0f} s)", flush=True)
        if postgres:
            with conn.begin():
                for table in ("tickets", "messages", "contacts", "identities"):
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                      f"(SELECT max(id) FROM {table}))"))
    if postgres:  # what autovacuum would have done by the time anyone imports into an inbox this size
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE tickets, messages, contacts, identities"))
            # ... and the checkpointer (every checkpoint_timeout, 5 min by default): without it the
            # fill's dirty pages were written out during the measured import, by the import's own
            # backend as it evicted them (~11,000 buffers in 20,000 messages) and by a checkpoint
            # the fill's WAL had started, so the figure at 1 M measured the fill as well.
            conn.execute(text("CHECKPOINT"))
    engine.dispose()
    return time.perf_counter() - started


def _people(conn, postgres: bool, tickets: int, stamp) -> tuple[int, int]:
    """The texts to draw from, and the contacts with their identities: (first id - 1, count)."""
    contact_base = conn.execute(text("SELECT coalesce(max(id), 0) FROM contacts")).scalar_one()
    contacts = min(CONTACTS, tickets)
    conn.execute(text("CREATE TEMP TABLE fill_texts (i INTEGER PRIMARY KEY, subject TEXT, body TEXT)"))
    conn.execute(text("INSERT INTO fill_texts VALUES (:i, :s, :b)"), [{"i": i, "s": s, "b": b} for i, s, b in _texts()])
    conn.execute(text(_series(postgres, contacts) + f"""
        INSERT INTO contacts (id, name, email, blocked, created_at)
        SELECT {contact_base} + n, 'Filler ' || n, 'filler' || n || '@example.com', {_false(postgres)}, :t
        FROM g"""), {"t": stamp})
    conn.execute(text(_series(postgres, contacts) + f"""
        INSERT INTO identities (id, contact_id, channel, external_user_id, handle, display_name, created_at)
        SELECT {contact_base} + n, {contact_base} + n, {_channel('n')}, 'filler-user-' || ({contact_base} + n),
               'filler' || n, 'Filler ' || n, :t
        FROM g"""), {"t": stamp})
    return contact_base, contacts


def _chunk(conn, postgres: bool, first: int, size: int, contact_base: int, contacts: int, stamp, due) -> None:
    key = (f"CASE WHEN {_channel('id')} = 'email' THEN NULL "
           f"ELSE 'fill-conv-' || id END")
    conn.execute(text(_series(postgres, size) + f"""
        INSERT INTO tickets (id, channel, conversation_key, subject, snippet, search_text, status, priority,
                             category, suggested_priority, suggested_category, suggestion_confidence, needs_triage,
                             contact_id, created_at, updated_at, last_message_at, closed_at,
                             first_response_due_at, resolution_due_at, sla_paused_seconds, sla_next_at)
        SELECT id, {_channel('id')}, {key}, f.subject, substr(f.body, 1, 300), f.body,
               CASE WHEN id % 10 = 0 THEN 'open' ELSE 'closed' END,
               'medium', 'support_question', 'medium', 'support_question', 0.8, {_false(postgres)},
               {contact_base} + 1 + id % {contacts}, :t, :t, :t,
               CASE WHEN id % 10 = 0 THEN NULL ELSE :t END,
               CASE WHEN id % 10 = 0 THEN :due ELSE NULL END, CASE WHEN id % 10 = 0 THEN :due ELSE NULL END,
               0, CASE WHEN id % 10 = 0 THEN :due ELSE NULL END
        FROM (SELECT {first} + n AS id FROM g) AS s JOIN fill_texts f ON f.i = s.id % {TEXTS}"""),
        {"t": stamp, "due": due})
    conn.execute(text(_series(postgres, size) + f"""
        INSERT INTO messages (id, ticket_id, direction, channel, external_id, conversation_key, identity_id, author,
                              subject, text, received_at, sent_at)
        SELECT id, id, 'in', {_channel('id')}, 'fill-msg-' || id, {key},
               {contact_base} + 1 + id % {contacts}, 'Filler', f.subject, f.body, :t, :t
        FROM (SELECT {first} + n AS id FROM g) AS s JOIN fill_texts f ON f.i = s.id % {TEXTS}"""), {"t": stamp})


def _series(postgres: bool, n: int) -> str:
    if postgres:
        return f"WITH g AS (SELECT generate_series(1, {n}) AS n) "
    return f"WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {n}) "


def _channel(column: str) -> str:
    return f"CASE {column} % 5 WHEN 0 THEN 'x' WHEN 1 THEN 'discord' WHEN 2 THEN 'discord' ELSE 'email' END"


def _false(postgres: bool) -> str:
    return "false" if postgres else "0"
