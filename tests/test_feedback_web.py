"""The feedback pages: the weekly review with its drill-down and theme decisions, the
satisfaction figures, the follow-up list and the contact page (SQLite)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from inbox.app import create_app
from storage.db import transaction
from storage.models.base import utcnow
from support import accounts
from support.feedback import answers, history, review, tokens
from support.oncall.sweep import sweep
from tests.cast import ada_email, cy_tweet
from tests.test_feedback_surveys import resolved_with_reply, survey_rows
from tests.test_web import LEAD, PASSWORD, csrf_from, log_in

WEEK = "2026-W45"


@pytest.fixture
def lead(sqlite_settings):
    accounts.create_user(LEAD, "lead", PASSWORD, settings=sqlite_settings)
    with TestClient(create_app(sqlite_settings), follow_redirects=False) as browser:
        log_in(browser)
        yield browser


def test_the_weekly_review_drills_down_to_low_scores_and_marks_a_theme(lead, sqlite_settings):
    _, _, end = review.parse_week(WEEK, sqlite_settings)
    with transaction(sqlite_settings.db_url) as session:
        history.generate(session, end=end, weeks=5, per_week=150, planted="Calendar sync duplicates events",
                         planted_count=12)
    page = lead.get(f"/reports/weekly?week={WEEK}")
    assert page.status_code == 200
    for section in ("volume", "topics", "csat", "sla", "incidents", "features", "actions"):
        assert f'id="{section}"' in page.text
    assert "<svg" in page.text and "significant up" in page.text
    link = re.search(r'id="low-scores" href="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    low = lead.get(link)
    scores = re.findall(r"<td>(\d)</td><td>", low.text)
    assert scores and all(s in "123" for s in scores)
    theme = re.search(r'<tr data-theme="([^"]+)">', page.text).group(1)
    marked = lead.post("/reports/weekly/themes", data={"csrf_token": csrf_from(page.text), "theme": theme,
                                                       "status": "planned", "week": WEEK})
    assert marked.status_code == 303
    again = lead.get(marked.headers["location"]).text
    assert "marked planned" in again and 'aria-pressed="true">planned' in again


def test_a_bad_week_or_theme_status_is_a_clear_answer(lead):
    assert lead.get("/reports/weekly?week=2026-99").status_code == 422
    page = lead.get("/reports/weekly")
    refused = lead.post("/reports/weekly/themes", data={"csrf_token": csrf_from(page.text), "theme": "x",
                                                        "status": "maybe"})
    assert "the status must be one of" in lead.get(refused.headers["location"]).text


def test_a_2_appears_in_needs_follow_up_until_someone_follows_up(lead, sqlite_settings):
    resolved_with_reply(sqlite_settings, ada_email())
    sweep(sqlite_settings, now=utcnow() + timedelta(minutes=61))
    survey = survey_rows(sqlite_settings)[0]
    answers.record(tokens.make(survey.id, survey.expires_at, sqlite_settings), 2, reason="slow",
                   settings=sqlite_settings)
    page = lead.get("/feedback/follow-up").text
    assert "TRKV-1" in page and "slow" in page
    assert "rated 4 or 5" in lead.get("/feedback").text
    done = lead.post("/feedback/follow-up/done", data={"csrf_token": csrf_from(page), "ref": "TRKV-1"})
    assert "Nothing needs a follow-up" in lead.get(done.headers["location"]).text


def test_the_contact_page_links_a_suggestion_with_one_click_and_shows_one_timeline(lead, sqlite_settings):
    resolved_with_reply(sqlite_settings, cy_tweet(text="@trkvbot sync broken. I'm ada@example.com by mail"))
    resolved_with_reply(sqlite_settings, ada_email())
    page = lead.get("/contacts/1").text
    assert "stated the address ada@example.com" in page
    linked = lead.post("/contacts/1/link", data={"csrf_token": csrf_from(page), "other": "2", "reason": "stated"})
    person = lead.get(linked.headers["location"]).text
    assert "one person now" in person
    assert 'data-channel="x"' in person and 'data-channel="email"' in person
    assert lead.get("/contacts/99").status_code == 404
