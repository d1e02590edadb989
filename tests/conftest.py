"""Shared fixtures: a fixed cast, real databases (SQLite and PostgreSQL), settings
pointing at a fresh $TRKV_HOME for every test."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from storage.db import dispose_engines
from storage.migrate import upgrade
from storage.models.base import all_metadata
from tests.services import PG_HOST, require
from trkv.settings import Settings, reset_settings

BACKENDS = ["sqlite", "postgresql"]

# Before any test module imports worker.py (which prepares the embedded broker's folders
# under $TRKV_HOME): no test writes into the working folder, whatever it forgets to set.
os.environ.setdefault("TRKV_HOME", tempfile.mkdtemp(prefix="trkv-tests-"))
os.environ.setdefault("TRKV_DEMO", "0")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "trkv.db"
    upgrade(f"sqlite:///{path}")
    dispose_engines()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database of this test run's own, migrated, dropped at the end."""
    require("postgresql")
    name = f"trkv_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(f"postgresql+psycopg://postgres@{PG_HOST}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+psycopg://postgres@{PG_HOST}/{name}"
    upgrade(url)
    yield url
    dispose_engines()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_pg(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in all_metadata().sorted_tables)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


def make_db_url(backend: str, request, tmp_path: Path) -> str:
    if backend == "sqlite":
        path = tmp_path / "trkv.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_database")
    _empty_pg(url)
    return url


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """A triage model folder shared by the connector tests: the seed model is loaded
    once per run rather than once per test, and no test promotes into it."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path) -> str:
    """Each test that uses it runs on SQLite and again on PostgreSQL."""
    return make_db_url(request.param, request, tmp_path)


@pytest.fixture
def sqlite_url(request, tmp_path) -> str:
    return make_db_url("sqlite", request, tmp_path)


def settings_for(monkeypatch, tmp_path: Path, db_url: str, **env: str) -> Settings:
    home = tmp_path / "home"
    monkeypatch.setenv("TRKV_HOME", str(home))
    monkeypatch.setenv("TRKV_DATABASE_URL", db_url)
    monkeypatch.setenv("TRKV_DEMO", "0")
    for key, value in env.items():
        monkeypatch.setenv(f"TRKV_{key.upper()}", value)
    if "broker_url" not in env:
        monkeypatch.delenv("TRKV_BROKER_URL", raising=False)
    settings = reset_settings()
    import worker

    worker.reconfigure(settings)
    return settings


@pytest.fixture
def settings(monkeypatch, tmp_path, db_url) -> Iterator[Settings]:
    """Settings for a fresh $TRKV_HOME on the test's database (SQLite, then PostgreSQL)."""
    yield settings_for(monkeypatch, tmp_path, db_url)
    dispose_engines()


@pytest.fixture
def sqlite_settings(monkeypatch, tmp_path, sqlite_url) -> Iterator[Settings]:
    yield settings_for(monkeypatch, tmp_path, sqlite_url)
    dispose_engines()


@pytest.fixture(autouse=True)
def _forget_settings() -> Iterator[None]:
    """Settings are cached per process; a test that changed the environment must not leak them."""
    yield
    from trkv.settings import get_settings

    get_settings.cache_clear()


def pytest_terminal_summary(terminalreporter) -> None:
    """End every run with what it left out and the one command that provides it, so
    a green run on a machine without the services does not pass for a full one."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    reasons: dict[str, int] = {}
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    terminalreporter.section("what this run left out")
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        terminalreporter.write_line(f"{count:5d} test(s): {reason}")
    terminalreporter.write_line("Run everything, with the services started for you: make test (as root), or bash .ci/run")
