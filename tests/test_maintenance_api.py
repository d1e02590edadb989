"""Scheduled maintenance over the JSON API, the agents' page and the CLI: engineers
schedule and cancel, everyone with a token reads, refusals name their reason."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from inbox.app import create_app
from storage.models.base import utcnow
from support import accounts
from support.incidents import status
from tests.test_cli import trkv
from tests.test_web import csrf_from

ENGINEER, CM = "eli.eng@trkv.test", "cam.cm@trkv.test"


@pytest.fixture
def client(settings):
    status.forget()
    for email, role in ((ENGINEER, "engineer"), (CM, "community_manager")):
        accounts.create_user(email, role, "correct horse battery", settings=settings)
    with TestClient(create_app(settings)) as client:
        client.tokens = {role: {"Authorization": f"Bearer {accounts.create_token(email, settings=settings)}"}
                         for email, role in ((ENGINEER, "engineer"), (CM, "cm"))}
        yield client


def window(hours: float = 3, length: float = 1, **fields) -> dict:
    start = utcnow() + timedelta(hours=hours)
    return {"title": "Database upgrade", "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=length)).isoformat(), "components": ["API"], **fields}


def test_an_engineer_schedules_and_everyone_reads_it(client):
    made = client.post("/api/maintenance", json=window(description="503s for a minute"),
                       headers=client.tokens["engineer"])
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["status"] == "scheduled" and body["announced_at"] and body["created_by"] == ENGINEER
    assert body["progress"]["held"] + body["progress"]["queued"] + body["progress"]["sent"] >= 2  # Discord and X
    listed = client.get("/api/maintenance?state=upcoming", headers=client.tokens["cm"]).json()["items"]
    assert [w["id"] for w in listed] == [body["id"]]
    assert client.get("/api/maintenance?state=past", headers=client.tokens["cm"]).json()["items"] == []
    assert client.get(f"/api/maintenance/{body['id']}", headers=client.tokens["cm"]).json()["title"] == "Database upgrade"
    assert client.get("/status.json").json()["maintenance"][0]["id"] == body["id"]


def test_refusals_name_their_reason(client):
    cm = client.post("/api/maintenance", json=window(), headers=client.tokens["cm"])
    assert cm.status_code == 403
    backwards = client.post("/api/maintenance", json=window(length=-1), headers=client.tokens["engineer"])
    assert backwards.status_code == 422 and "end after it starts" in backwards.json()["detail"][0]["msg"]
    unknown = client.post("/api/maintenance", json=window(components=["Moon base"]), headers=client.tokens["engineer"])
    assert unknown.status_code == 422 and "unknown component" in unknown.text
    assert client.get("/api/maintenance/99", headers=client.tokens["cm"]).status_code == 404
    assert client.post("/api/maintenance", json=window()).status_code == 401


def test_cancel_once_and_only_before_it_starts(client):
    made = client.post("/api/maintenance", json=window(), headers=client.tokens["engineer"]).json()
    assert client.post(f"/api/maintenance/{made['id']}/cancel", headers=client.tokens["cm"]).status_code == 403
    done = client.post(f"/api/maintenance/{made['id']}/cancel", headers=client.tokens["engineer"])
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    again = client.post(f"/api/maintenance/{made['id']}/cancel", headers=client.tokens["engineer"])
    assert again.status_code == 409 and "only a scheduled window" in again.text


def test_an_engineer_moves_a_window_before_it_starts(client):
    made = client.post("/api/maintenance", json=window(), headers=client.tokens["engineer"]).json()
    later = window(hours=6)
    moved = client.patch(f"/api/maintenance/{made['id']}", json={"starts_at": later["starts_at"],
                                                                 "ends_at": later["ends_at"]},
                         headers=client.tokens["engineer"])
    assert moved.status_code == 200 and moved.json()["starts_at"][:16] == later["starts_at"][:16]
    assert client.patch(f"/api/maintenance/{made['id']}", json={"title": "x"},
                        headers=client.tokens["cm"]).status_code == 403
    backwards = client.patch(f"/api/maintenance/{made['id']}", json={"ends_at": window(hours=1)["starts_at"]},
                             headers=client.tokens["engineer"])
    assert backwards.status_code == 422 and "end after it starts" in backwards.text
    client.post(f"/api/maintenance/{made['id']}/cancel", headers=client.tokens["engineer"])
    assert client.patch(f"/api/maintenance/{made['id']}", json={"title": "x"},
                        headers=client.tokens["engineer"]).status_code == 409


def test_the_agents_page_lists_and_schedules(client, settings):
    client.post("/login", data={"email": ENGINEER, "password": "correct horse battery",
                                "csrf_token": csrf_from(client.get("/login").text)})
    page = client.get("/maintenance")
    assert page.status_code == 200 and "Schedule maintenance" in page.text
    csrf = csrf_from(page.text)
    start = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    end = (utcnow() + timedelta(days=1, hours=1)).strftime("%Y-%m-%dT%H:%M")
    done = client.post("/maintenance", data={"title": "Disk swap", "starts_at": start, "ends_at": end,
                                             "components": ["API"], "csrf_token": csrf})
    assert done.status_code == 200 and "scheduled and announced" in done.text and "Disk swap" in done.text
    bad = client.post("/maintenance", data={"title": "x", "starts_at": "tomorrow", "ends_at": "", "csrf_token": csrf})
    assert "Give a start and an end time" in bad.text


def test_schedule_list_and_cancel_from_the_shell(tmp_path):
    home = tmp_path / "home"
    assert trkv(["init"], home).returncode == 0
    start = (utcnow() + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M")
    end = (utcnow() + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M")
    made = trkv(["maintenance", "schedule", "Disk swap", "--start", start, "--end", end, "--component", "API",
                 "--json"], home)
    assert made.returncode == 0, made.stderr
    window_id = json.loads(made.stdout)["id"]
    assert "Disk swap" in trkv(["maintenance", "list", "--state", "upcoming"], home).stdout
    assert trkv(["maintenance", "cancel", str(window_id)], home).returncode == 0
    again = trkv(["maintenance", "cancel", str(window_id)], home)
    assert again.returncode == 1 and "only a scheduled window" in again.stderr
    wrong = trkv(["maintenance", "schedule", "x", "--start", "soon", "--end", end], home)
    assert wrong.returncode == 2 and "not an ISO 8601 time" in wrong.stderr
    assert "schedule" in trkv(["maintenance", "--help"], home).stdout
