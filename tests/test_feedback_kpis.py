"""Satisfaction KPIs: the dashboard's figure, its breakdowns and targets, the
conversations behind a figure, response rate, and accurate solutions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from inbox.app import create_app
from storage.models.base import utcnow
from support import accounts
from support.feedback import answers, tokens
from support.oncall.sweep import sweep
from support.tickets import actions as ticket_actions
from support.tickets import metrics
from tests.cast import ada_email, bo_discord, cy_tweet
from tests.test_feedback_surveys import resolved_with_reply, survey_rows

LEAD = "lena.lead@trkv.test"


@pytest.fixture
def api(settings):
    accounts.create_user(LEAD, "lead", "correct horse battery", settings=settings)
    token = accounts.create_token(LEAD, settings=settings)
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def answered(settings, scores: dict[str, int | None]) -> None:
    """Ada (email), Bo (Discord) and Cy (X) each resolved with a reply, surveyed, and answering."""
    inbounds = {"email": ada_email(), "discord": bo_discord(), "x": cy_tweet()}
    for channel in scores:
        resolved_with_reply(settings, inbounds[channel])
    sweep(settings, now=utcnow() + timedelta(minutes=61))
    for survey in survey_rows(settings):
        score = scores[survey.channel]
        if score is not None:
            answers.record(tokens.make(survey.id, survey.expires_at, settings), score, settings=settings)


def kpi(api, key: str) -> dict:
    return next(k for k in api.get("/api/metrics").json()["kpis"] if k["key"] == key)


def test_satisfaction_is_no_data_until_the_first_answer_then_the_share_of_4_and_5(settings, api):
    answered(settings, {"email": None, "discord": 5, "x": 2})
    satisfaction = kpi(api, "satisfaction")
    assert (satisfaction["value"], satisfaction["sample"]) == (50.0, 2)
    body = api.get("/api/feedback/satisfaction").json()
    assert body["total"]["value"] == 50.0 and body["total"]["response_rate"] == pytest.approx(66.7)
    assert body["by"]["channel"]["discord"]["value"] == 100.0 and body["by"]["channel"]["x"]["value"] == 0.0
    assert body["by"]["channel"]["x"]["target"] < body["by"]["channel"]["discord"]["target"]
    assert body["by"]["agent"]["unassigned"]["answers"] == 2


def test_no_answer_means_no_data(settings, api):
    answered(settings, {"email": None})
    assert kpi(api, "satisfaction")["value"] is None


def test_a_low_figure_drills_down_to_its_conversations(settings, api):
    answered(settings, {"email": 4, "discord": 5, "x": 1})
    items = api.get("/api/feedback/conversations", params={"dimension": "channel", "value": "x", "low": True}).json()
    assert [(i["channel"], i["score"]) for i in items["items"]] == [("x", 1)]
    follow_up = api.get("/api/feedback/follow-up").json()["items"]
    assert [i["score"] for i in follow_up] == [1]
    assert api.post("/api/feedback/follow-up/done", json={"ref": follow_up[0]["ref"]}).status_code == 200
    assert api.get("/api/feedback/follow-up").json()["items"] == []


def test_accurate_solutions_count_tickets_not_reopened_within_seven_days(settings):
    kept = resolved_with_reply(settings, ada_email())
    reopened = resolved_with_reply(settings, bo_discord())
    ticket_actions.set_status(reopened, "open", user_id=None, settings=settings)
    ticket_actions.set_status(reopened, "resolved", user_id=None, settings=settings)
    duplicate = resolved_with_reply(settings, ada_email("a-2@x", subject="the same again"))
    ticket_actions.merge_tickets(duplicate, kept, user_id=None, settings=settings)  # merged: not a solution
    board = metrics.dashboard(30, settings, now=utcnow() + timedelta(days=8))
    accurate = next(k for k in board.kpis if k.key == "accurate_solutions")
    assert (accurate.value, accurate.sample) == (50.0, 2), kept


def test_the_weekly_review_and_theme_decisions_over_the_api(settings, api):
    report = api.get("/api/reports/weekly", params={"week": "2026-W45"}).json()
    assert report["week"] == "2026-W45" and report["topics"] == [] and report["csat"]["satisfaction"] is None
    assert api.get("/api/reports/weekly", params={"week": "W45"}).status_code == 422
    marked = api.post("/api/reports/weekly/themes", json={"theme": "dark · mode · mobile", "status": "shipped",
                                                          "release": "2.5"})
    assert marked.status_code == 200
    assert api.get("/api/reports/weekly").json()["actions"][0]["release"] == "2.5"
    assert api.post("/api/reports/weekly/themes", json={"theme": "x", "status": "maybe"}).status_code == 422


def test_an_agent_may_link_contacts_but_not_mark_themes(settings, api):
    accounts.create_user("cm@trkv.test", "community_manager", "correct horse battery", settings=settings)
    token = accounts.create_token("cm@trkv.test", settings=settings)
    headers = {"Authorization": f"Bearer {token}"}
    assert api.post("/api/reports/weekly/themes", json={"theme": "x", "status": "planned"},
                    headers=headers).status_code == 403
    assert api.get("/api/feedback/follow-up", headers=headers).status_code == 200
