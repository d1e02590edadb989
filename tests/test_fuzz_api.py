"""Schemathesis against a real hub web process (`trkv web` on PostgreSQL), from outside,
through /openapi.json with a lead's token: a bounded run with a fixed seed, so that a new
route that answers 500, or answers what its schema does not say, fails CI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from storage.db import dispose_engines
from support import accounts
from support.intake.ingest import ingest
from tests.cast import ada_email, bo_discord
from tests.conftest import make_db_url
from tests.dovecot import free_port
from trkv.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
# Server errors, and every way an answer can contradict the published schema: an undocumented
# status code, a body or a content type or headers other than documented.
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
          "response_headers_conformance")
EXAMPLES = 15  # per operation and phase: about 1,000 requests
SEED = 1


@pytest.fixture
def hub(request, tmp_path):
    """`trkv web` on its own TRKV_HOME and a fresh PostgreSQL database; yields (base URL, lead's token)."""
    db_url = make_db_url("postgresql", request, tmp_path)
    settings = Settings(home=tmp_path / "home", database_url=db_url, demo=False)
    accounts.create_user("lead@trkv.test", "lead", "correct horse battery", settings=settings)
    accounts.create_user("engineer@trkv.test", "engineer", "correct horse battery", settings=settings)
    token = accounts.create_token("lead@trkv.test", name="fuzzer", settings=settings)
    accounts.create_token("engineer@trkv.test", settings=settings)
    for make in (ada_email, bo_discord):
        ingest(make(), live=False, settings=settings)
    dispose_engines()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRKV_")}
    env.update({"TRKV_HOME": str(tmp_path / "home"), "TRKV_DATABASE_URL": db_url, "TRKV_DEMO": "0",
                "TRKV_WEB_PORT": str(port), "TRKV_QUEUE_PREFIX": f"fuzz{port}_"})
    log = open(tmp_path / "web.log", "wb")
    web = subprocess.Popen([sys.executable, "-m", "trkv.cli", "web"], cwd=tmp_path, env=env, stdout=log,
                           stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # a hang guard, not a speed check
            if web.poll() is not None:
                pytest.fail(f"trkv web exited:\n{(tmp_path / 'web.log').read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base, token
    finally:
        web.terminate()
        web.wait(timeout=30)
        log.close()


def test_the_fuzzer_finds_no_server_error_and_no_answer_the_schema_does_not_describe(hub, tmp_path):
    base, token = hub
    schemathesis = Path(sys.executable).with_name("schemathesis")
    run = subprocess.run(
        [str(schemathesis), "run", f"{base}/openapi.json", "-H", f"Authorization: Bearer {token}",
         "--checks", CHECKS, "-n", str(EXAMPLES), "-w", "1", "--seed", str(SEED), "--no-color",
         "--request-timeout", "30"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    report = run.stdout + run.stderr
    web_log = (tmp_path / "web.log").read_text()
    assert run.returncode == 0, report[-6000:] + "\n--- web log ---\n" + web_log[-3000:]
    tested = re.search(r"Tested:\s+(\d+)", report)
    assert tested and int(tested.group(1)) >= 25, report[-3000:]  # every operation, not a schema that failed to load
    assert "Traceback" not in web_log, web_log[-3000:]
    print(report[-1500:])
