"""`trkv incident ...` as a user runs it: a subprocess on a fresh home."""

from __future__ import annotations

import json

from tests.test_cli import trkv


def test_open_update_resolve_and_report_from_the_shell(tmp_path):
    home = tmp_path / "home"
    assert trkv(["init"], home).returncode == 0
    opened = trkv(["incident", "open", "Logins fail", "--severity", "major", "--component", "Authentication",
                   "--message", "Some users cannot log in.", "--json"], home)
    assert opened.returncode == 0, opened.stderr
    incident = json.loads(opened.stdout)
    assert incident["status"] == "investigating" and incident["components"] == ["Authentication"]
    ident = str(incident["id"])
    updated = trkv(["incident", "update", ident, "--status", "identified", "--message", "An expired certificate.",
                    "--next-minutes", "30"], home)
    assert updated.returncode == 0 and "identified" in updated.stdout
    assert trkv(["incident", "resolve", ident, "--message", "Certificate renewed."], home).returncode == 0
    listed = json.loads(trkv(["incident", "list", "--state", "resolved", "--json"], home).stdout)
    assert [i["id"] for i in listed["items"]] == [incident["id"]]
    report = trkv(["incident", "report", ident, "--root-cause", "The certificate was not renewed.", "--publish"], home)
    assert report.returncode == 0, report.stderr
    assert report.stdout.startswith("# Logins fail") and "## Root Cause\n\nThe certificate was not renewed." in report.stdout


def test_a_wrong_incident_or_component_is_a_clear_error(tmp_path):
    home = tmp_path / "home"
    assert trkv(["init"], home).returncode == 0
    missing = trkv(["incident", "update", "99", "--status", "identified", "--message", "x"], home)
    assert missing.returncode == 1 and "no incident 99" in missing.stderr
    wrong = trkv(["incident", "open", "x", "--severity", "minor", "--component", "Moon base"], home)
    assert wrong.returncode == 1 and "unknown component" in wrong.stderr
