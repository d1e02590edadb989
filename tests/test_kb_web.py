"""The KB editor, the templates page and the ticket page's suggestions through the web
pages of a logged-in agent (SQLite, then PostgreSQL)."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient

from inbox.app import create_app
from support import accounts
from support.intake.ingest import ingest
from support.kb import responses, seed
from tests.cast import cy_tweet
from tests.test_web_inbox import PASSWORD, Browser

LEAD, CM = "lena.lead@trkv.test", "cam.cm@trkv.test"


@pytest.fixture
def lead(settings) -> Browser:
    accounts.create_user(LEAD, "lead", PASSWORD, settings=settings)
    return Browser(TestClient(create_app(settings), follow_redirects=False), LEAD)


def test_an_editor_saves_versions_sees_a_diff_and_reverts_with_one_click(lead):
    made = lead.post("/kb-admin/new", {"title": "Dark mode", "category": "faqs", "body": "Not yet.",
                                       "status": "published"})
    assert made.status_code == 303 and made.headers["location"].startswith("/kb-admin/dark-mode/edit")
    saved = lead.post("/kb-admin/dark-mode/edit", {"title": "Dark mode", "category": "faqs",
                                                    "body": "Dark mode shipped in 2.4.", "status": "published",
                                                    "version": "1"})
    assert saved.status_code == 303
    stale = lead.post("/kb-admin/dark-mode/edit", {"title": "Dark mode", "category": "faqs", "body": "Other edit",
                                                    "status": "published", "version": "1"})
    assert stale.status_code == 409 and "version 1 is not the latest" in html.unescape(stale.text)
    history = lead.get("/kb-admin/dark-mode/history").text
    assert 'class="diff-del">-Not yet.' in history and 'class="diff-add">+Dark mode shipped in 2.4.' in history
    assert LEAD in history
    assert lead.post("/kb-admin/dark-mode/revert/1").status_code == 303
    assert "Not yet." in lead.get("/kb/dark-mode").text
    assert "revert to version 1" in lead.get("/kb-admin/dark-mode/history").text


def test_a_lead_edits_a_template_and_the_composer_offers_it_with_suggestions(lead, settings):
    seed.load(settings)
    saved = lead.post("/templates", {"name": "docs_pointer", "kind": "response", "title": "Point to the docs",
                                     "body": "Hi {name}, this should help: {kb:reset-password} ({ref})"})
    assert saved.status_code == 303
    refused = lead.post("/templates", {"name": "docs_pointer", "kind": "response", "body": "Hi {customer}"})
    assert refused.status_code == 422 and "{customer}" in refused.text
    ref = ingest(cy_tweet(text="@trkvbot how do I reset my password? no reset email"), live=False,
                 settings=settings).ref
    page = lead.get(f"/tickets/{ref}").text
    assert f"this should help: {settings.public_url.rstrip('/')}/kb/reset-password ({ref})" in html.unescape(page)
    assert 'data-insert="Reset a forgotten password: ' in page and 'src="/static/kb.js"' in page
    sent = lead.post(f"/tickets/{ref}/reply", {"text": "Hi, see the article", "channel": "x", "reply_key": "k1",
                                                "template": "docs_pointer"})
    assert sent.status_code == 303
    assert next(t for t in responses.listing(settings) if t["name"] == "docs_pointer")["usage_count"] == 1


def test_community_managers_cannot_edit_templates(settings):
    accounts.create_user(CM, "community_manager", PASSWORD, settings=settings)
    cm = Browser(TestClient(create_app(settings), follow_redirects=False), CM)
    assert cm.post("/templates", {"name": "fixed", "body": "x"}).status_code == 403
