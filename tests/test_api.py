"""The HTTP API over the real app and real databases (SQLite, then PostgreSQL)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from inbox.app import create_app
from storage.db import transaction
from storage.models.delivery import Outbox
from storage.models.intake import ConnectorState
from storage.models.tickets import Message, Ticket
from support import accounts, health
from support.intake.ingest import ingest
from tests.cast import ada_email, bo_discord

LEAD = "lena.lead@trkv.test"
CUSTOMER = {"handle": "ann", "name": "Ann Customer", "email": "ann@example.com"}


@pytest.fixture
def token(settings) -> str:
    accounts.create_user(LEAD, "lead", "correct horse battery", settings=settings)
    return accounts.create_token(LEAD, settings=settings)


@pytest.fixture
def client(settings, token) -> TestClient:
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def message(external_id: str = "form-1", **fields) -> dict:
    body = {"channel": "api", "external_id": external_id, "text": "The export button does nothing.",
            "subject": "Export broken", "author": dict(CUSTOMER)}
    body.update(fields)
    return body


def count(settings, model) -> int:
    with transaction(settings.db_url) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def stored_message(settings, external_id: str) -> Message:
    with transaction(settings.db_url) as session:
        return session.execute(select(Message).where(Message.external_id == external_id)).scalar_one()


def seed(settings, external_id: str, subject: str = "Exporting projects") -> str:
    """A ticket from Ada's email, ingested as a connector would (no acknowledgement)."""
    return ingest(ada_email(external_id, subject=subject), live=False, settings=settings).ref


# POST /api/inbound ---------------------------------------------------------


def test_posting_a_message_creates_a_ticket_and_an_acknowledgement(client, settings):
    response = client.post("/api/inbound", json=message())
    assert response.status_code == 201
    body = response.json()
    assert body["ref"].startswith("TRKV-") and body["duplicate"] is False
    assert body["ticket"]["ref"] == body["ref"]
    assert {k: body["ticket"]["contact"][k] for k in ("name", "email")} == {"name": "Ann Customer", "email": "ann@example.com"}
    with transaction(settings.db_url) as session:
        ack = session.execute(select(Outbox).where(Outbox.kind == "ack")).scalar_one()
    assert f"TRKV-{ack.ticket_id}" == body["ref"]
    assert ack.channel == "email" and ack.payload["to"] == "ann@example.com"


def test_an_author_without_email_gets_no_acknowledgement(client, settings):
    response = client.post("/api/inbound", json=message(author={"handle": "anon"}))
    assert response.status_code == 201
    assert "ack" not in _outbox_kinds(settings)


def _outbox_kinds(settings) -> list[str]:
    with transaction(settings.db_url) as session:
        return list(session.execute(select(Outbox.kind)).scalars())


def test_redelivery_answers_the_same_ref_and_stores_one_message(client, settings):
    first = client.post("/api/inbound", json=message("form-7"))
    again = client.post("/api/inbound", json=message("form-7"))
    assert again.status_code == 200
    assert again.json()["ref"] == first.json()["ref"] and again.json()["duplicate"] is True
    assert count(settings, Message) == 1


def test_text_of_one_megabyte_is_accepted(client, settings):
    text = "x" * settings.max_text_bytes
    response = client.post("/api/inbound", json=message(text=text))
    assert response.status_code == 201
    assert stored_message(settings, "form-1").text == text


def test_ten_megabyte_text_is_refused_and_nothing_stored(client, settings):
    response = client.post("/api/inbound", json=message(text="x" * 10_000_000))
    assert response.status_code == 413
    assert count(settings, Message) == 0 and count(settings, Ticket) == 0


def test_text_just_over_the_limit_is_refused(client, settings):
    response = client.post("/api/inbound", json=message(text="é" * (settings.max_text_bytes // 2 + 1)))
    assert response.status_code == 413
    assert "text" in response.json()["detail"]


def test_a_large_body_without_a_length_is_refused_while_streaming(client, settings):
    chunks = (b"x" * 1_000_000 for _ in range(12))
    response = client.post("/api/inbound", content=chunks, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert count(settings, Message) == 0


def test_invalid_utf8_body_is_a_client_error(client, settings):
    raw = json.dumps(message()).encode().replace(b"does nothing", b"does \xff\xfe nothing")
    response = client.post("/api/inbound", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "UTF-8" in response.json()["detail"]
    assert count(settings, Message) == 0


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"not json", 400),
        (b"", 400),
        (b"[1, 2]", 422),
        (b"[" * 100_000, 400),
        (json.dumps(message(text={"nested": True})).encode(), 422),
        (json.dumps(message(external_id=12)).encode(), 422),
        (json.dumps(message(channel="email")).encode(), 422),
        (json.dumps(message(sent_at="yesterday")).encode(), 422),
        (json.dumps(message(sent_at="9999-12-31T23:59:59-05:00")).encode(), 422),
        (json.dumps(message(author={"handle": "ann", "email": "not an address"})).encode(), 422),
        (json.dumps(message(external_id="x" * 501)).encode(), 422),
        (json.dumps(message()).encode().replace(b'"form-1"', b"NaN"), 400),
    ],
    ids=["text", "empty", "array", "deep", "text-object", "int-id", "channel", "sent-at", "sent-at-overflow",
         "bad-email", "long-id", "nan"],
)
def test_malformed_body_is_refused_with_a_reason(client, settings, raw, status):
    response = client.post("/api/inbound", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert response.json()["detail"]
    assert count(settings, Message) == 0


def test_missing_author_is_422(client, settings):
    body = message()
    del body["author"]
    response = client.post("/api/inbound", json=body)
    assert response.status_code == 422
    assert any(error["loc"][-1] == "author" for error in response.json()["detail"])


def test_nul_bytes_are_removed_and_the_problem_recorded(client, settings):
    response = client.post("/api/inbound", json=message(text="export\x00 fails", subject="NUL\x00 here"))
    assert response.status_code == 201
    stored = stored_message(settings, "form-1")
    assert stored.text == "export fails" and "\x00" not in stored.subject
    assert any(problem.startswith("text:") for problem in stored.problems)


def test_year_3000_sent_at_is_stored_with_the_problem_and_sla_from_receipt(client, settings):
    response = client.post("/api/inbound", json=message(sent_at="3000-01-01T00:00:00Z"))
    assert response.status_code == 201
    ticket = client.get(f"/api/tickets/{response.json()['ref']}").json()
    received = datetime.fromisoformat(ticket["messages"][0]["received_at"])
    due = datetime.fromisoformat(ticket["first_response_due_at"])
    assert due - received == timedelta(hours=settings.sla_hours()[ticket["priority"]])
    assert any(problem.startswith("sent_at:") for problem in ticket["messages"][0]["problems"])


def test_no_token_is_401(settings, token):
    with TestClient(create_app(settings)) as anonymous:
        response = anonymous.post("/api/inbound", json=message())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert count(settings, Message) == 0


def test_a_wrong_token_is_401(settings, token):
    with TestClient(create_app(settings), headers={"Authorization": "Bearer trkv_wrong"}) as stranger:
        assert stranger.get("/api/tickets").status_code == 401


# GET /api/tickets ----------------------------------------------------------


def test_list_filters_by_channel_status_and_text(client, settings):
    login_ref = seed(settings, "m1", subject="Login page is slow")
    discord_ref = ingest(bo_discord(), live=False, settings=settings).ref
    invoice_ref = seed(settings, "m3", subject="Invoice 100% sure")
    with transaction(settings.db_url) as session:
        session.execute(update(Ticket).where(Ticket.channel == "discord").values(status="open"))

    def refs(**params) -> list[str]:
        return [item["ref"] for item in client.get("/api/tickets", params=params).json()["items"]]

    assert refs(channel="discord") == [discord_ref]
    assert refs(status="open") == [discord_ref]
    assert len(refs(status="new,open")) == 3
    assert refs(q="LOGIN") == [login_ref]
    assert refs(q="%") == [invoice_ref]  # a literal percent sign, not a wildcard
    assert refs(q="nothing like it") == []


def test_keyset_pagination_walks_all_tickets_exactly_once(client, settings):
    created = [seed(settings, f"m{n}") for n in range(7)]
    seen, url, pages = [], "/api/tickets?limit=3", 0
    while url:
        body = client.get(url).json()
        seen += [item["ref"] for item in body["items"]]
        url, pages = body["next"], pages + 1
        if url:
            assert parse_qs(urlsplit(url).query)["cursor"] == [body["next_cursor"]]
    assert seen == list(reversed(created)) and pages == 3


def test_an_invalid_cursor_is_422(client):
    assert client.get("/api/tickets", params={"cursor": "not-a-cursor"}).status_code == 422


def test_a_limit_above_the_maximum_is_served_as_the_maximum(client, settings):
    seed(settings, "m1")
    response = client.get("/api/tickets", params={"limit": 5000})
    assert response.status_code == 200 and len(response.json()["items"]) == 1


def test_list_items_carry_the_suggestion_and_due_times(client, settings):
    seed(settings, "m1")
    item = client.get("/api/tickets").json()["items"][0]
    assert set(item["suggestion"]) == {"priority", "category", "confidence", "model_version", "evidence",
                                       "needs_triage"}
    assert item["first_response_due_at"].endswith("Z") and item["resolution_due_at"].endswith("Z")
    assert item["breached"] == {"first_response": False, "resolution": False}


def test_ticket_detail_has_messages_with_direction(client, settings):
    ref = client.post("/api/inbound", json=message()).json()["ref"]
    with transaction(settings.db_url) as session:
        ticket_id = session.execute(select(Message.ticket_id)).scalar_one()
        session.add(Message(ticket_id=ticket_id, direction="out", channel="email", external_id="reply-1",
                            author="Lena Lead", text="Fixed in 2.3"))
    messages = client.get(f"/api/tickets/{ref}").json()["messages"]
    assert [(m["direction"], m["text"]) for m in messages] == [
        ("in", "The export button does nothing."), ("out", "Fixed in 2.3")]
    assert {"channel", "html", "author", "sent_at", "received_at", "external_id", "problems",
            "attachments"} <= set(messages[0])


@pytest.mark.parametrize("ref", ["TRKV-424242", "nonsense", "TRKV-99999999999999999999999", "TRKV-" + "9" * 5000])
def test_unknown_or_malformed_ref_is_404(client, ref):
    assert client.get(f"/api/tickets/{ref}").status_code == 404


# health and schema ---------------------------------------------------------


def test_healthz_reports_the_database_and_each_connector_to_a_token_holder(settings, token):
    with transaction(settings.db_url) as session:
        session.add(ConnectorState(name="email", state="degraded", detail="IMAP login refused"))
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"}) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"]["state"] == "ok"
    assert body["connectors"]["email"]["state"] == "degraded"
    assert body["connectors"]["email"]["detail"] == "IMAP login refused"
    assert body["broker"]["state"] in ("ok", "down")


@pytest.mark.parametrize("authorization", [None, "Bearer trkv_not-a-token", "Basic abc"])
def test_healthz_without_a_valid_token_shows_only_the_overall_state(settings, authorization):
    with transaction(settings.db_url) as session:
        session.add(ConnectorState(name="email", state="degraded", detail="IMAP login refused at imap.internal"))
    headers = {"Authorization": authorization} if authorization else {}
    with TestClient(create_app(settings), headers=headers) as anonymous:
        response = anonymous.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(settings):
    broken = settings.model_copy(update={"database_url": "postgresql+psycopg://nobody:pw@127.0.0.1:1/none"})
    with TestClient(create_app(broken)) as anonymous:
        response = anonymous.get("/healthz")
    assert response.status_code == 503 and response.json() == {"status": "down"}


def test_openapi_json_describes_the_api(settings):
    with TestClient(create_app(settings)) as anonymous:
        paths = anonymous.get("/openapi.json").json()["paths"]
    assert {"/healthz", "/api/inbound", "/api/tickets", "/api/tickets/{ref}"} <= set(paths)


def test_healthz_reports_a_broker_that_is_down(sqlite_settings):
    import worker

    accounts.create_user(LEAD, "lead", "correct horse battery", settings=sqlite_settings)
    token = accounts.create_token(LEAD, settings=sqlite_settings)
    down = sqlite_settings.model_copy(update={"broker_url": "amqp://guest:guest@127.0.0.1:1//"})
    worker.reconfigure(down)
    health.reset_cache()
    try:
        with TestClient(create_app(down), headers={"Authorization": f"Bearer {token}"}) as client:
            response = client.get("/healthz")
    finally:
        worker.reconfigure(sqlite_settings)
        health.reset_cache()
    assert response.status_code == 200
    assert response.json()["broker"]["state"] == "down"
