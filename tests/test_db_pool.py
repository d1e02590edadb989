"""Pooled PostgreSQL connections are checked before use without a round trip: a connection
the server ended while it sat in the pool is replaced, never handed to a worker."""

from __future__ import annotations

import psycopg
from sqlalchemy import text

from storage import db
from storage.db import get_engine, session_factory, transaction
from tests.conftest import make_db_url, settings_for
from tests.services import require


def _backend_pid(url: str) -> int:
    with session_factory(url)() as session:
        return session.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _admin(url: str):
    return psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True)


def test_a_connection_the_server_ended_in_the_pool_is_replaced_before_use(request, monkeypatch, tmp_path):
    require("postgresql")
    settings = settings_for(monkeypatch, tmp_path, make_db_url("postgresql", request, tmp_path))
    first = _backend_pid(settings.db_url)  # back in the pool, idle
    with _admin(settings.db_url) as admin:  # as a restart or an idle timeout would
        assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", (first,)).fetchone()[0]  # waits for its end
    with transaction(settings.db_url) as session:  # no "terminating connection" error reaches the caller
        assert session.execute(text("SELECT 1")).scalar_one() == 1
    assert _backend_pid(settings.db_url) != first


def test_a_recently_used_connection_is_not_pinged_and_a_long_idle_one_is(request, monkeypatch, tmp_path):
    require("postgresql")
    settings = settings_for(monkeypatch, tmp_path, make_db_url("postgresql", request, tmp_path))
    engine = get_engine(settings.db_url)
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(1) or real_ping(conn))
    pid = _backend_pid(settings.db_url)
    assert _backend_pid(settings.db_url) == pid and pings == []  # taken again at once: no round trip spent
    monkeypatch.setattr(db, "PING_IDLE_S", 0.0)
    assert _backend_pid(settings.db_url) == pid and pings == [1]  # idle "long": pinged, and alive
