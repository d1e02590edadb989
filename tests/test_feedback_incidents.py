"""Satisfaction per incident: the survey answers of the tickets linked to an incident are
that incident's figure, on its agent page, in the weekly review and in the KPIs (with the
drill-down to the conversations behind it). SQLite, then PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from inbox.app import create_app
from storage.db import session_factory
from storage.models.base import utcnow
from support import accounts
from support.feedback import answers, kpis, review, tokens
from support.incidents import core
from support.oncall.sweep import sweep
from tests.cast import ada_email, bo_discord
from tests.test_feedback_surveys import resolved_with_reply, survey_rows
from tests.test_web import LEAD, PASSWORD, log_in


@pytest.fixture
def lead(settings):
    accounts.create_user(LEAD, "lead", PASSWORD, settings=settings)
    with TestClient(create_app(settings), follow_redirects=False) as browser:
        log_in(browser)
        yield browser


def test_a_customers_score_on_a_ticket_linked_to_an_incident_is_that_incidents_satisfaction(settings, lead):
    linked = resolved_with_reply(settings, ada_email())
    unlinked = resolved_with_reply(settings, bo_discord())
    incident = core.declare("Exports time out", "major", core.Actor(LEAD, "lead"), ticket_refs=[linked],
                            settings=settings, publish=False)
    quiet = core.declare("Webhooks delayed", "minor", core.Actor(LEAD, "lead"), settings=settings, publish=False)
    page = lead.get(f"/incidents/{incident['id']}")
    assert page.status_code == 200 and "No survey on the linked tickets yet." in page.text

    sweep(settings, now=utcnow() + timedelta(minutes=61))
    scores = {linked: 2, unlinked: 5}
    for survey in survey_rows(settings):  # Ada answers 2 on the linked ticket, Bo 5 on the other
        answers.record(tokens.make(survey.id, survey.expires_at, settings), scores[f"TRKV-{survey.ticket_id}"],
                       settings=settings)

    page = lead.get(f"/incidents/{incident['id']}").text
    figure = re.search(r'id="satisfaction">.*?</section>', page, re.S).group(0)
    assert "<strong>0.0 %</strong> rated 4 or 5 · 1 answers of 1 surveys" in figure and "1 rated 1 to 3" in figure
    drill = re.search(r'href="(/feedback/conversations\?[^"]+)"', figure).group(1).replace("&amp;", "&")
    behind = lead.get(drill).text
    assert linked in behind and unlinked not in behind
    assert "No survey on the linked tickets yet." in lead.get(f"/incidents/{quiet['id']}").text

    week = kpis.iso_week(datetime.now(ZoneInfo(settings.business_timezone)))
    entries = {i["id"]: i["satisfaction"] for i in review.weekly(week, settings)["incidents"]}
    assert (entries[incident["id"]]["value"], entries[incident["id"]]["answers"]) == (0.0, 1)
    assert entries[quiet["id"]]["value"] is None and entries[quiet["id"]]["answers"] == 0

    board = lead.get("/feedback").text
    assert f"#{incident['id']} Exports time out" in board
    with session_factory(settings.db_url, readonly=True)() as session:
        result = kpis.satisfaction(session, utcnow() - timedelta(days=1), utcnow() + timedelta(days=1), settings)
    assert {k: (f.value, f.answers) for k, f in result.by["incident"].items()} == {str(incident["id"]): (0.0, 1)}
    assert result.total.answers == 2


def test_an_incident_drill_down_with_a_nonsense_value_lists_nothing(settings, lead):
    for value in ("abc", "9" * 40, "-1"):
        page = lead.get(f"/feedback/conversations?dimension=incident&value={value}")
        assert page.status_code == 200
