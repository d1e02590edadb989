"""Incidents over the JSON API and the public status page, on SQLite and PostgreSQL:
declare, update, resolve, roles, the report, /status, /status.json and the Atom feed."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from inbox.app import create_app
from storage.db import transaction
from storage.models.delivery import Outbox
from support import accounts
from support.incidents import status
from support.intake.ingest import ingest
from tests.cast import ada_email

LEAD, ENGINEER, CM = "lena.lead@trkv.test", "eli.eng@trkv.test", "cam.cm@trkv.test"


@pytest.fixture
def tokens(settings) -> dict[str, str]:
    status.forget()
    out = {}
    for email, role in ((LEAD, "lead"), (ENGINEER, "engineer"), (CM, "community_manager")):
        accounts.create_user(email, role, "correct horse battery", settings=settings)
        out[role] = accounts.create_token(email, settings=settings)
    return out


@pytest.fixture
def client(settings, tokens) -> TestClient:
    with TestClient(create_app(settings)) as client:
        yield client


def auth(tokens, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


def declare(client, tokens, **fields) -> dict:
    body = {"title": "API answers 502", "severity": "critical", "components": ["API"],
            "message": "We are looking into errors on the API.", **fields}
    response = client.post("/api/incidents", json=body, headers=auth(tokens, "engineer"))
    assert response.status_code == 201, response.text
    return response.json()


def test_an_engineer_declares_an_incident_that_everyone_can_read(client, tokens, settings):
    ref = ingest(ada_email("inc-1@mail", text="the API says 502 bad gateway"), live=False, settings=settings).ref
    incident = declare(client, tokens, ticket_refs=[ref])
    assert incident["status"] == "investigating" and incident["severity"] == "critical"
    assert incident["components"] == ["API"] and incident["ticket_refs"] == [ref]
    assert [u["message"] for u in incident["updates"]] == ["We are looking into errors on the API."]
    for role in ("lead", "engineer", "community_manager"):
        listed = client.get("/api/incidents?state=open", headers=auth(tokens, role)).json()["items"]
        assert [i["id"] for i in listed] == [incident["id"]]
    assert client.get(f"/api/incidents/{incident['id']}", headers=auth(tokens, "community_manager")).json() == incident


def test_a_community_manager_publishes_updates_but_neither_declares_nor_resolves(client, tokens):
    incident = declare(client, tokens)
    cm = auth(tokens, "community_manager")
    assert client.post("/api/incidents", json={"title": "x", "severity": "minor"}, headers=cm).status_code == 403
    url = f"/api/incidents/{incident['id']}/updates"
    response = client.post(url, json={"status": "identified", "message": "A bad deploy; rolling back."}, headers=cm)
    assert response.status_code == 201 and response.json()["status"] == "identified"
    assert client.post(url, json={"status": "resolved", "message": "Fixed."}, headers=cm).status_code == 403
    done = client.post(url, json={"status": "resolved", "message": "Fixed."}, headers=auth(tokens, "engineer"))
    assert done.status_code == 201 and done.json()["resolved_at"] is not None
    assert client.post(url, json={"status": "monitoring", "message": "again"}, headers=cm).status_code == 409


def test_bad_input_gets_a_clear_refusal_not_a_500(client, tokens):
    eng = auth(tokens, "engineer")
    assert client.post("/api/incidents", json={"title": "x", "severity": "apocalyptic"}, headers=eng).status_code == 422
    unknown = client.post("/api/incidents", json={"title": "x", "severity": "minor", "components": ["Moon base"]},
                          headers=eng)
    assert unknown.status_code == 422 and "Moon base" in str(unknown.json()["detail"])
    missing = client.post("/api/incidents", json={"title": "x", "severity": "minor", "ticket_refs": ["TRKV-999"]},
                          headers=eng)
    assert missing.status_code == 404 and "TRKV-999" in missing.json()["detail"]
    assert client.get("/api/incidents/424242", headers=eng).status_code == 404
    assert client.get("/api/incidents?state=sideways", headers=eng).status_code == 422
    assert client.get("/api/incidents").status_code == 401


def test_an_update_reaches_the_status_page_json_and_feed_without_login(client, tokens):
    incident = declare(client, tokens, message="Errors on the API; <script>alert(1)</script> we are on it.")
    page = client.get("/status")
    assert page.status_code == 200 and "API answers 502" in page.text
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text
    assert page.headers["cache-control"].startswith("public")
    assert client.get("/status", headers={"If-None-Match": page.headers["etag"]}).status_code == 304
    body = client.get("/status.json").json()
    assert {"name": "API", "status": "major_outage"} in body["components"]
    assert {"name": "Web app", "status": "operational"} in body["components"]
    assert [i["id"] for i in body["incidents"]] == [incident["id"]] and "ticket_refs" not in body["incidents"][0]
    feed = client.get("/status/feed.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml") and "API answers 502" in feed.text
    client.post(f"/api/incidents/{incident['id']}/updates", json={"status": "resolved", "message": "Fixed."},
                headers=auth(tokens, "engineer"))
    status.forget()
    after = client.get("/status.json").json()
    assert {"name": "API", "status": "operational"} in after["components"]
    assert [u["status"] for u in after["incidents"][0]["updates"]] == ["investigating", "resolved"]


def test_an_unpublished_update_stays_off_the_status_page_and_sends_nothing(client, tokens, settings):
    incident = declare(client, tokens)
    with transaction(settings.db_url) as session:
        before = len(session.execute(select(Outbox.id)).all())
    client.post(f"/api/incidents/{incident['id']}/updates",
                json={"status": "identified", "message": "internal only", "publish": False},
                headers=auth(tokens, "engineer"))
    status.forget()
    assert "internal only" not in client.get("/status").text
    with transaction(settings.db_url) as session:
        assert len(session.execute(select(Outbox.id)).all()) == before


def test_the_report_is_prefilled_edited_in_markdown_and_published_as_the_post_mortem(client, tokens):
    incident = declare(client, tokens)
    url = f"/api/incidents/{incident['id']}/report"
    eng = auth(tokens, "engineer")
    prefilled = client.get(url, headers=eng).json()
    assert set(prefilled) >= {"title", "start", "end", "impact", "root_cause", "resolution", "prevention", "markdown"}
    assert prefilled["markdown"].startswith("# API answers 502")
    edited = client.put(url, json={"root_cause": "A **bad** deploy <script>x()</script>"}, headers=eng).json()
    assert "A **bad** deploy" in edited["markdown"]
    assert client.put(url, json={"published": True}, headers=eng).status_code == 409  # not resolved yet
    client.post(f"/api/incidents/{incident['id']}/updates", json={"status": "resolved", "message": "Fixed."}, headers=eng)
    assert client.put(url, json={"published": True}, headers=eng).status_code == 200
    status.forget()
    page = client.get("/status").text
    assert "<strong>bad</strong> deploy" in page and "<script>x()" not in page


def test_an_overdue_next_update_reminds_the_commander_once(client, tokens, settings):
    from datetime import timedelta

    from storage.models.base import utcnow
    from support.oncall.sweep import sweep

    incident = declare(client, tokens)
    promise = (utcnow() + timedelta(minutes=30)).isoformat()
    client.post(f"/api/incidents/{incident['id']}/updates",
                json={"status": "identified", "message": "Rolling back.", "next_update_at": promise},
                headers=auth(tokens, "engineer"))
    sweep(settings, now=utcnow() + timedelta(minutes=10))
    assert _reminders(settings) == []
    sweep(settings, now=utcnow() + timedelta(minutes=31))
    sweep(settings, now=utcnow() + timedelta(minutes=32))
    [reminder] = _reminders(settings)
    assert reminder["to"] == ENGINEER and "overdue" in reminder["subject"].lower()


def _reminders(settings) -> list[dict]:
    with transaction(settings.db_url) as session:
        return [r.payload for r in session.execute(select(Outbox).where(Outbox.idempotency_key.like("inc:%:remind:%")))
                .scalars()]
