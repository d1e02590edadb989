"""Answers where the question is asked: suggestions in the ticket's JSON and page, and
the acknowledgement's link to a confidently matching article (SQLite, then PostgreSQL)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from connectors.base import Inbound
from inbox.app import create_app
from storage.db import transaction
from storage.models.delivery import Outbox
from support.intake.ingest import ingest
from support.kb import seed
from tests.cast import ada_email, cy_tweet
from tests.test_kb import api

LEAD = "lena.lead@trkv.test"


@pytest.fixture
def client(settings) -> TestClient:
    seed.load(settings)
    with api(settings, LEAD, "lead") as client:
        yield client


def ack_of(settings, ref: str) -> dict:
    with transaction(settings.db_url) as session:
        rows = session.execute(select(Outbox).where(Outbox.kind == "ack")).scalars().all()
        return next(r.payload for r in rows if ref in r.payload["text"])


def test_a_documentation_email_is_acknowledged_with_the_right_article(client, settings):
    question = ada_email("kb-1@mail.example", subject="Exports", hints={"category": "documentation"},
                         text="When I click Export nothing downloads. Where is this documented?")
    ref = ingest(question, settings=settings).ref
    ack = ack_of(settings, ref)
    assert "/kb/go/export-not-working" in ack["text"]
    assert "Exports fail or the download never starts" in ack["text"]
    assert 'href="http://' in ack["html"] and "/kb/go/export-not-working" in ack["html"]
    # The link counts the click and lands on the article.
    public = TestClient(create_app(settings))
    landed = public.get("/kb/go/export-not-working")
    assert landed.status_code == 200 and "Exports fail" in landed.text
    assert client.get("/api/kb/articles/export-not-working").status_code == 200


def test_a_bug_report_or_an_unmatched_question_gets_no_article(client, settings):
    bug = ingest(ada_email("kb-2@mail.example", hints={"category": "bug_report"},
                           text="When I click Export nothing downloads."), settings=settings).ref
    assert "/kb/go/" not in ack_of(settings, bug)["text"]
    vague = ingest(Inbound(channel="email", external_id="kb-3@mail.example", text="Can someone call me back tomorrow morning?",
                           author_id="cy@example.com", author_email="cy@example.com", subject="Hello",
                           hints={"category": "support_question"}), settings=settings).ref
    assert "/kb/go/" not in ack_of(settings, vague)["text"]


def test_the_ticket_json_and_page_suggest_articles(client, settings):
    ref = ingest(cy_tweet(text="@trkvbot how do I reset my password? the reset email never arrives"),
                 live=False, settings=settings).ref
    suggestions = client.get(f"/api/tickets/{ref}").json()["kb_suggestions"]
    assert suggestions[0]["slug"] == "reset-password"
    assert set(suggestions[0]) == {"slug", "title", "url", "score"} and 0 < suggestions[0]["score"] <= 1
    assert suggestions[0]["url"].endswith("/kb/reset-password")


def test_a_resolved_ticket_becomes_a_draft_without_the_customers_personal_data(client, settings):
    question = ada_email("kb-9@mail.example", subject="Export for order 88812345",
                         text="Hi, Ada here (ada@example.com, +44 20 7946 0958). Export does nothing for "
                              "order 88812345. Thanks, Ada Lovelace")
    ref = ingest(question, live=False, settings=settings).ref
    assert client.post("/api/kb/articles/from-ticket", json={"ref": ref}).status_code == 422  # not resolved
    client.post(f"/api/tickets/{ref}/reply", json={"text": "Hi Ada, allow pop-ups for trkv-web.app, then Export."})
    client.post(f"/api/tickets/{ref}/status", json={"status": "resolved"})
    made = client.post("/api/kb/articles/from-ticket", json={"ref": ref})
    assert made.status_code == 201, made.text
    draft = client.get(f"/api/kb/articles/{made.json()['slug']}").json()
    assert draft["status"] == "draft"
    assert "Export does nothing for order [number]" in draft["body"]
    assert "allow pop-ups for trkv-web.app, then Export." in draft["body"]
    for personal in ("ada@example.com", "7946", "88812345", "Ada", "Lovelace", ref):
        assert personal not in draft["body"] + draft["title"]
    assert TestClient(create_app(settings)).get(f"/kb/{draft['slug']}").status_code == 404  # not published


def test_discord_and_x_acknowledgements_link_the_article_too(client, settings):
    tweet = ingest(cy_tweet(text="@trkvbot how do I reset my password? the reset email never arrives",
                            hints={"category": "support_question"}), settings=settings).ref
    x_ack = ack_of(settings, tweet)["text"]
    assert "/kb/go/reset-password" in x_ack and len(x_ack) <= 280
    post = Inbound(channel="discord", external_id="1180000000000000077", conversation_key="thread-kb",
                   text="Is there documentation listing the keyboard shortcuts?",
                   author_id="400000000000000043", author_handle="di", author_name="Di",
                   hints={"category": "documentation"})
    discord_ack = ack_of(settings, ingest(post, settings=settings).ref)["text"]
    assert "**Keyboard shortcuts**" in discord_ack and "/kb/go/keyboard-shortcuts" in discord_ack
