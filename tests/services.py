"""Real services for tests: find them, or say what is missing and how to get it.

Without TRKV_REQUIRE_SERVICES=1 a missing service skips the tests that need it,
naming the one command that provides it; with it (as in CI), it fails them.
"""

from __future__ import annotations

import os
import socket

import pytest

REQUIRED = os.environ.get("TRKV_REQUIRE_SERVICES") == "1"
# `make test-quick`: SQLite and the embedded broker only, for the inner loop.
QUICK = os.environ.get("TRKV_TEST_QUICK") == "1" and not REQUIRED
QUICK_LEAVES_OUT = ("postgresql", "redis", "rabbitmq", "dovecot", "chromium")

PG_HOST = os.environ.get("TRKV_TEST_PG", "127.0.0.1:5432")
REDIS_HOST = os.environ.get("TRKV_TEST_REDIS", "127.0.0.1:6379")
RABBIT_HOST = os.environ.get("TRKV_TEST_RABBITMQ", "127.0.0.1:5672")

HOW_TO_START = {
    "chromium": "apt-get install -y chromium (and pip install playwright; never `playwright install`)",
    "postgresql": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "redis": "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no",
    "rabbitmq": "rabbitmq-server -detached",
    "dovecot": "apt-get install -y dovecot-imapd",
}


def reachable(hostport: str, timeout: float = 0.5) -> bool:
    host, port = hostport.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def quick_skip(what: str) -> None:
    """In a quick run, leave out what needs `what` (`make test` runs it)."""
    if QUICK and what in QUICK_LEAVES_OUT:
        pytest.skip(f"{what}: left out of the quick run (make test runs it)")


def missing(what: str, detail: str = "") -> None:
    """Skip (or fail under TRKV_REQUIRE_SERVICES=1) because `what` is not available."""
    quick_skip(what)
    hint = HOW_TO_START.get(what, "bash .ci/run")
    message = f"{what} is not available{': ' + detail if detail else ''} (start it with: {hint})"
    if REQUIRED:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require(what: str) -> None:
    quick_skip(what)
    hostport = {"postgresql": PG_HOST, "redis": REDIS_HOST, "rabbitmq": RABBIT_HOST}[what]
    if not reachable(hostport):
        missing(what, f"nothing listens on {hostport}")
