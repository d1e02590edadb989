"""What the fuzzer found, each pinned by a test on both databases: no input a client can
send makes a 500, and every answer has the shape the published schema gives it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from inbox.app import create_app
from support import accounts
from support.intake.ingest import ingest
from tests.cast import ada_email

LEAD = "lena.lead@trkv.test"


@pytest.fixture
def client(settings) -> TestClient:
    accounts.create_user(LEAD, "lead", "correct horse battery", settings=settings)
    token = accounts.create_token(LEAD, settings=settings)
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.mark.parametrize("sig", ["y\x10\U000f5125", "é" * 27, "\x00"])
def test_an_ack_link_with_a_non_ascii_signature_is_refused_not_a_server_error(client, sig):
    assert client.get("/oncall/ack/1353", params={"who": "user:1", "exp": 1, "sig": sig}).status_code == 403
    assert client.post("/oncall/ack/1353", data={"who": "user:1", "exp": "1", "sig": sig}).status_code == 403


@pytest.mark.parametrize("path", ["/api/oncall/alerts/{id}", "/oncall/ack/{id}"])
def test_an_id_beyond_64_bits_is_refused_with_422(client, path):
    assert client.get(path.format(id=2**64)).status_code == 422
    assert client.post("/api/oncall/alerts/99999999999999999999999/ack").status_code == 422
    assert client.post("/api/contacts/merge", json={"source": 2**70, "target": 1}).status_code == 422
    assert client.post(f"/api/operations/outbox/{2**63}/retry").status_code == 422


@pytest.mark.parametrize("status", ["", "triggered"])
def test_listing_alerts_with_an_empty_or_known_status_answers_200(client, status):
    response = client.get("/api/oncall/alerts", params={"status": status})
    assert response.status_code == 200 and response.json() == {"items": []}


def test_an_unknown_alert_status_is_a_422_not_a_500(client):
    assert client.get("/api/oncall/alerts", params={"status": "&dê"}).status_code == 422


def test_every_422_carries_a_list_of_problems_as_the_schema_says(client, settings):
    ref = ingest(ada_email(), live=False, settings=settings).ref
    refused = [
        client.post(f"/api/tickets/{ref}/triage", json={}),  # a handler's own refusal
        client.post(f"/api/tickets/{ref}/assign", json={"assignee": "nobody@trkv.test"}),
        client.get("/api/tickets", params={"cursor": "not-a-cursor"}),
        client.post(f"/api/tickets/{ref}/status", json={"status": 5}),  # FastAPI's validation
    ]
    for response in refused:
        assert response.status_code == 422
        detail = response.json()["detail"]
        assert isinstance(detail, list) and all({"loc", "msg", "type"} <= set(p) for p in detail), detail
    assert "give accept" in refused[0].json()["detail"][0]["msg"]


FOUND = ['"export', "export*", "(export", "^export", "-export", "'export'", "export\\", "+export", "export)",
         "export\x00"]
NOT_FOUND = ["subject:export", "export AND x", "export:* & !x", "exp ort | ", "NEAR(export button)", "ex'port",
             "ex:port", "ex_port", "€xport ⅷ ²", "*", ":*", "!", "&|"]
STOP_WORDS = ["export OR", "NOT export"]  # PostgreSQL drops English stop words; SQLite looks for them


@pytest.mark.parametrize("q", FOUND + NOT_FOUND + STOP_WORDS)
def test_search_input_in_full_text_query_syntax_is_searched_as_words(client, settings, q):
    """Operators and quotes are searched as the words they hold, never parsed by the engine."""
    ref = ingest(ada_email(subject="Export button broken"), live=False, settings=settings).ref
    response = client.get("/api/tickets", params={"q": q})
    assert response.status_code == 200
    if q not in STOP_WORDS:
        assert [t["ref"] for t in response.json()["items"]] == ([ref] if q in FOUND else [])
