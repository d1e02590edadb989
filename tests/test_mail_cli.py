"""`trkv mail parse FILE --json`, as ARCHITECTURE.md's public surface promises: run as a
user runs it (a subprocess, from another folder, with no database)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.shared_data import shared_data

ROOT = Path(__file__).resolve().parents[1]


def mail_parse(path: Path, tmp_path: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRKV_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT), **(env or {})}
    env.pop("TRKV_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "trkv.cli", "mail", "parse", str(path), "--json"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)


def test_a_customer_mail_would_be_acknowledged(tmp_path):
    result = mail_parse(shared_data("email-rubymail", "rfc2822", "example01.eml"), tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["would_acknowledge", "reason", "message"]
    assert data["would_acknowledge"] is True
    assert data["message"]["subject"] == "Saying Hello" and data["message"]["external_id"] == "1234@local.machine.example"
    assert "raw" not in data["message"]
    assert not (tmp_path / "home" / "trkv.db").exists()  # no database needed, none created


def test_a_bounce_would_not_be_acknowledged_and_says_why(tmp_path):
    result = mail_parse(shared_data("email-flanker", "bounce", "office365.eml"), tmp_path)
    data = json.loads(result.stdout)
    assert data["would_acknowledge"] is False and "multipart/report" in data["reason"]
    assert [k for k, v in data.items() if isinstance(v, bool)] == ["would_acknowledge"]
    assert data["message"]["hints"]["bounce_of"] == "20171013111011.20866.254C2F3A4D7AA526@ninomail.com"


def test_input_that_is_not_mail_fails_with_one_line_and_no_traceback(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\nno headers here\n")
    result = mail_parse(path, tmp_path)
    assert result.returncode != 0 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert "not an email" in result.stderr
