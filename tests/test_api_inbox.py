"""The JSON API's inbox actions and filters, and the per-token rate limit on
POST /api/inbound (SQLite, then PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from inbox.app import create_app
from inbox.ratelimit import TokenBuckets
from storage.db import transaction
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.tickets import Ticket, TicketEvent
from support import accounts
from support.intake.ingest import ingest
from tests.cast import ada_email, bo_discord, cy_tweet

CM, LEAD = "cam.cm@trkv.test", "lena.lead@trkv.test"


@pytest.fixture
def client(settings) -> TestClient:
    accounts.create_user(CM, "community_manager", "correct horse battery", settings=settings)
    accounts.create_user(LEAD, "lead", "correct horse battery", settings=settings)
    token = accounts.create_token(CM, settings=settings)
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def refs(client, **params) -> list[str]:
    response = client.get("/api/tickets", params=params)
    assert response.status_code == 200, response.text
    return [item["ref"] for item in response.json()["items"]]


def test_search_is_full_text_with_a_prefix(client, settings):
    export = ingest(ada_email(subject="Exporting projects to CSV"), live=False, settings=settings).ref
    ingest(bo_discord(text="the timeline view crashes when I zoom"), live=False, settings=settings)
    assert refs(client, q="export") == [export]
    assert refs(client, q="csv expo") == [export]
    assert refs(client, q="crash zoom timeline") != [] and export not in refs(client, q="crash zoom")
    assert refs(client, q="export crash") == []


def test_search_finds_words_anywhere_in_the_conversation_not_only_the_snippet(client, settings):
    """An agent looks for the order number a customer gave in a follow-up, or the error code
    at the end of a long email; neither is in the subject or the snippet."""
    long_email = "Hello,\n\n" + "We use the board every day and mostly it works well. " * 60 + "Error code QX4471 appears."
    mail = ingest(ada_email(text=long_email), live=False, settings=settings).ref
    first = ingest(bo_discord(), live=False, settings=settings).ref
    again = ingest(bo_discord(external_id="1180000000000000002", text="my order number is 88-31-zebra, if that helps"),
                   live=False, settings=settings).ref
    assert again == first  # the follow-up joined the ticket
    assert refs(client, q="zebra") == [first]
    assert refs(client, q="order zeb") == [first]  # the last word a prefix
    assert refs(client, q="timeline zebra") == [first]  # the first message's words and the follow-up's
    assert refs(client, q="error qx4471") == [mail]
    assert refs(client, q="zebra qx4471") == []  # every word, in one ticket


def test_sort_by_due_and_sla_filters(client, settings):
    a = ingest(ada_email(), live=False, settings=settings).ref
    b = ingest(bo_discord(), live=False, settings=settings).ref
    c = ingest(cy_tweet(), live=False, settings=settings).ref
    now = utcnow()
    with transaction(settings.db_url) as session:
        for ref, due in ((a, now + timedelta(minutes=30)), (b, now - timedelta(minutes=1)), (c, now + timedelta(hours=5))):
            session.execute(update(Ticket).where(Ticket.id == int(ref[5:])).values(first_response_due_at=due))
    assert refs(client, sort="due") == [b, a, c]
    assert refs(client, sla="breached") == [b]
    assert refs(client, sla="at_risk") == [a]
    page = client.get("/api/tickets", params={"sort": "due", "limit": 2}).json()
    rest = client.get("/api/tickets", params={"sort": "due", "limit": 2, "cursor": page["next_cursor"]}).json()
    assert [i["ref"] for i in page["items"] + rest["items"]] == [b, a, c]
    assert client.get("/api/tickets", params={"sort": "newest", "cursor": page["next_cursor"]}).status_code == 422


def test_triage_through_the_api_is_recorded_as_a_correction(client, settings):
    ref = ingest(bo_discord(), live=False, settings=settings).ref
    before = client.get(f"/api/tickets/{ref}").json()
    new = "critical" if before["priority"] != "critical" else "low"
    response = client.post(f"/api/tickets/{ref}/triage", json={"field": "priority", "value": new})
    assert response.status_code == 200 and response.json()["priority"] == new
    assert response.json()["first_response_due_at"] != before["first_response_due_at"]
    with transaction(settings.db_url) as session:
        event = session.execute(select(TicketEvent).where(TicketEvent.kind == "triage")).scalar_one()
    assert (event.field, event.suggested, event.old_value, event.new_value) == (
        "priority", before["suggestion"]["priority"], before["priority"], new)
    assert client.post(f"/api/tickets/{ref}/triage", json={"field": "priority", "value": "urgent"}).status_code == 422
    assert client.post("/api/tickets/TRKV-999999/triage", json={"accept": True}).status_code == 404


def test_assign_by_email_status_notes_and_reply(client, settings):
    ref = ingest(ada_email(), live=False, settings=settings).ref
    assert client.post(f"/api/tickets/{ref}/assign", json={"assignee": LEAD}).json()["assignee"] == LEAD
    assert client.post(f"/api/tickets/{ref}/assign", json={"assignee": "nobody@x.test"}).status_code == 422
    assert refs(client, assignee=LEAD) == [ref] and refs(client, assignee="none") == []
    assert client.post(f"/api/tickets/{ref}/notes", json={"text": "called her"}).status_code == 201
    first = client.post(f"/api/tickets/{ref}/reply", json={"text": "On it!"}, headers={"Idempotency-Key": "k-1"})
    again = client.post(f"/api/tickets/{ref}/reply", json={"text": "On it!"}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 202 and first.json() == again.json()
    with transaction(settings.db_url) as session:
        assert len(session.execute(select(Outbox).where(Outbox.kind == "reply")).scalars().all()) == 1
    assert client.post(f"/api/tickets/{ref}/status", json={"status": "resolved"}).json()["status"] == "resolved"
    assert client.post(f"/api/tickets/{ref}/status", json={"status": "done"}).status_code == 422


def test_a_community_manager_cannot_read_metrics(client):
    response = client.get("/api/metrics")
    assert response.status_code == 403 and "lead" in response.json()["detail"]


def test_inbound_is_rate_limited_per_token(client, settings):
    client.app.state.inbound_buckets = TokenBuckets(rate=0.001, burst=2)
    body = {"channel": "api", "text": "hi", "author": {"handle": "ann"}}
    statuses = [client.post("/api/inbound", json={**body, "external_id": f"r-{n}"}).status_code for n in range(3)]
    assert statuses == [201, 201, 429]
    limited = client.post("/api/inbound", json={**body, "external_id": "r-9"})
    assert int(limited.headers["retry-after"]) >= 1
    token = accounts.create_token(LEAD, settings=settings)
    other = client.post("/api/inbound", json={**body, "external_id": "r-10"}, headers={"Authorization": f"Bearer {token}"})
    assert other.status_code == 201  # another token has its own bucket


def test_the_token_bucket_refills_with_time():
    now = [0.0]
    buckets = TokenBuckets(rate=2.0, burst=1, clock=lambda: now[0])
    assert buckets.take("t") == 0
    assert buckets.take("t") == pytest.approx(0.5)
    now[0] += 0.5
    assert buckets.take("t") == 0
