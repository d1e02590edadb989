"""The `trkv` command line, run as a user runs it: a subprocess from another folder."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = [[], ["init"], ["up"], ["web"], ["worker"], ["beat"], ["connect"], ["db"], ["db", "upgrade"], ["import"],
            ["user"], ["user", "add"], ["token"], ["token", "create"], ["mail"], ["mail", "parse"], ["sweep"]]


def trkv(args, home: Path, stdin: str | None = None, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TRKV_")}
    environment.update({"TRKV_HOME": str(home), "TRKV_DEMO": "0", **env})
    return subprocess.run([sys.executable, "-m", "trkv.cli", *args], input=stdin, capture_output=True, text=True,
                          env=environment, cwd=home.parent, timeout=120)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "trkv")
def test_every_command_has_help(command, tmp_path):
    result = trkv([*command, "--help"], tmp_path / "home")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_help_loads_none_of_the_heavy_libraries(tmp_path):
    # `trkv --help` answers in ~0.08 s because it imports no database, queue, model or settings
    # library; one eager import of the settings (pydantic, 0.13 s) once made it 0.2 s.
    heavy = ("sqlalchemy", "celery", "kombu", "sklearn", "numpy", "pydantic", "pydantic_settings")
    probe = ("import sys, runpy; sys.argv = ['trkv', '--help']\n"
             "try:\n    runpy.run_module('trkv.cli', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             f"print('LOADED', [m for m in {heavy!r} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert "Usage: trkv" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "LOADED []"


def test_a_user_added_from_stdin_can_get_a_token_printed_on_the_last_line(tmp_path):
    home = tmp_path / "home"
    assert trkv(["init"], home).returncode == 0
    added = trkv(["user", "add", "cm@example.com", "--role", "community_manager"], home, stdin="correct horse battery\n")
    assert added.returncode == 0, added.stderr
    created = trkv(["token", "create", "cm@example.com"], home)
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("trkv_") and len(token) > 30


def test_init_prints_the_first_lead_login_once(tmp_path):
    home = tmp_path / "home"
    first = trkv(["init"], home)
    second = trkv(["init"], home)
    assert "lead@trkv.local" in first.stdout
    assert "lead@trkv.local" not in second.stdout


def test_import_of_jsonl_stores_messages_and_quarantines_a_broken_line(tmp_path):
    home = tmp_path / "home"
    feed = tmp_path / "messages.jsonl"
    lines = [json.dumps({"channel": "api", "external_id": f"imp-{i}", "text": f"question {i}",
                         "author": {"handle": f"user{i}", "email": f"user{i}@example.com"}}) for i in range(50)]
    feed.write_text("\n".join([*lines, "{not json", *lines[:5]]) + "\n")
    result = trkv(["import", str(feed)], home)
    assert result.returncode == 0, result.stderr
    assert "56 read, 50 stored in 50 new tickets, 5 already present, 1 quarantined" in result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_up_serves_demo_tickets_and_stops_cleanly_on_sigterm(tmp_path):
    home, port = tmp_path / "home", _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TRKV_")}
    environment.update({"TRKV_HOME": str(home), "TRKV_WEB_PORT": str(port), "TRKV_DEMO_SPEED": "5",
                        "TRKV_PUBLIC_URL": f"http://127.0.0.1:{port}"})
    log = open(tmp_path / "up.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "trkv.cli", "up"], env=environment, cwd=tmp_path,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        token = _wait_for_token(home)
        tickets = _wait_for_tickets(port, token)
        assert tickets and tickets[0]["ref"].startswith("TRKV-")
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", headers={"Authorization": f"Bearer {token}"},
                           timeout=5).json()
        assert health["database"]["state"] == "ok" and "demo" in health["connectors"]
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # as a service manager stops a process group
        code = process.wait(timeout=60)
    assert code == 0, (tmp_path / "up.log").read_text()[-3000:]


def _wait_for_token(home: Path) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # a hang guard, not a speed check
        if (home / "trkv.db").exists():
            result = trkv(["token", "create", "lead@trkv.local"], home)
            if result.returncode == 0:
                return result.stdout.strip().splitlines()[-1]
        time.sleep(0.5)
    pytest.fail("trkv up did not create the first lead account")


def _wait_for_tickets(port: int, token: str) -> list[dict]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/api/tickets", headers={"Authorization": f"Bearer {token}"})
            if response.status_code == 200 and response.json()["items"]:
                return response.json()["items"]
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail("no demo ticket reached the API")


@pytest.mark.parametrize(("queues", "pool"), [("critical,default", "thread"), ("default,bulk", "prefork")])
def test_a_worker_for_live_queues_alone_runs_threads_and_one_with_bulk_work_runs_processes(tmp_path, queues, pool):
    # trkv.celery_app.pool_for: a live task mostly waits on the database, and a process hop costs it a wake-up.
    home = tmp_path / "home"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TRKV_")}
    environment.update({"TRKV_HOME": str(home), "TRKV_DEMO": "0"})
    assert trkv(["db", "upgrade"], home).returncode == 0
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "trkv.cli", "worker", "-Q", queues], stdout=out,
                                   stderr=subprocess.STDOUT, env=environment, cwd=tmp_path, process_group=0)
        try:
            deadline = time.monotonic() + 90  # a hang guard, not a speed check
            while b" ready." not in log.read_bytes() and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    banner = log.read_text()
    assert " ready." in banner, banner[-2000:]
    assert f"concurrency: 2 ({pool})" in banner
