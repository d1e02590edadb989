"""Health of the hub's parts, for /healthz.

The database decides the overall status: it is the source of truth, so while it
answers the hub accepts and keeps work. A broker outage only delays work until it
returns (the sweep re-kicks), so it is reported but does not make the hub "down".
Connectors report their own state into `connector_states`; we only read it.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sqlalchemy import select, text

from storage.db import session_factory
from storage.models.intake import ConnectorState
from support.tickets.queries import iso
from trkv.settings import Settings, get_settings, mask_url

log = logging.getLogger(__name__)

BROKER_CACHE_SECONDS = 5.0  # /healthz may be polled every second; a broker probe costs a connection
BROKER_TIMEOUT_SECONDS = 2.0

_broker_lock = threading.Lock()
_broker_cache: dict[str, tuple[float, dict[str, Any]]] = {}


def check(settings: Settings | None = None, *, details: bool = True) -> tuple[bool, dict[str, Any]]:
    """(database is up, the /healthz body): the overall status, and each part's state with `details`."""
    settings = settings or get_settings()
    database_ok, database, connectors = _database(settings)
    if not details:  # no broker probe either: an anonymous poll costs one query
        return database_ok, {"status": "ok" if database_ok else "down"}
    body = {
        "status": "ok" if database_ok else "down",
        "database": database,
        "broker": broker_state(settings),
        "connectors": connectors,
    }
    return database_ok, body


def _database(settings: Settings) -> tuple[bool, dict[str, Any], dict[str, Any]]:
    try:
        with session_factory(settings.db_url, readonly=True)() as session:
            session.execute(text("SELECT 1"))
            rows = session.execute(select(ConnectorState).order_by(ConnectorState.name)).scalars().all()
    except Exception as exc:  # any failure here means the hub cannot store work
        log.warning("health check: database unavailable: %s", mask_url(str(exc)))
        return False, {"state": "down", "detail": type(exc).__name__}, {}
    connectors = {r.name: {"state": r.state, "detail": r.detail, "updated_at": iso(r.updated_at)} for r in rows}
    return True, {"state": "ok"}, connectors


def broker_state(settings: Settings) -> dict[str, Any]:
    """The broker's state, probed at most once per BROKER_CACHE_SECONDS per broker."""
    key = settings.broker
    with _broker_lock:  # one probe at a time: a slow broker must not pile up probes
        cached = _broker_cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < BROKER_CACHE_SECONDS:
            return cached[1]
        state = _probe_broker()
        _broker_cache[key] = (time.monotonic(), state)
        return state


def _probe_broker() -> dict[str, Any]:
    # The Celery app's own connection settings: exactly what kicks are published through.
    from trkv.celery_app import app

    try:
        with app.connection_for_write(
            connect_timeout=BROKER_TIMEOUT_SECONDS,
            transport_options={"socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
                               "socket_timeout": BROKER_TIMEOUT_SECONDS},
        ) as connection:
            # max_retries=0: a single attempt; health must answer fast, not wait for the broker
            connection.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT_SECONDS)
            detail = connection.as_uri()  # the password is masked
    except Exception as exc:
        return {"state": "down", "detail": f"{type(exc).__name__}: {exc}"[:300]}
    return {"state": "ok", "detail": detail}


def reset_cache() -> None:
    """Forget cached probes (tests, and after reconfiguring the broker)."""
    with _broker_lock:
        _broker_cache.clear()
