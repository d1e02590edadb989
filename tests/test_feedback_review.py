"""Story 4: `trkv report weekly --json` on a generated 4-week history with a topic
planted in the last week shows that topic as new and growing; volume changes are
flagged; feature themes are ranked and the lead's decision shows."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from click.testing import CliRunner

from storage.db import transaction
from storage.models.base import utcnow
from support.feedback import history, review, themes
from trkv.cli import main

WEEK = "2026-W45"  # Monday 2 November 2026 to Sunday 8 November
PLANTED = "Calendar sync duplicates every event in Google Calendar"


@pytest.fixture
def four_weeks(settings):
    _, start, end = review.parse_week(WEEK, settings)
    with transaction(settings.db_url) as session:
        history.generate(session, end=end, weeks=5, per_week=60, planted=PLANTED, planted_count=15)
    return settings


def weekly_json(*args: str) -> dict:
    result = CliRunner().invoke(main, ["report", "weekly", *args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_topic_planted_in_the_last_week_is_new_and_growing(four_weeks):
    report = weekly_json("--week", WEEK)
    assert set(report) >= {"week", "volume", "topics", "csat", "incidents", "sla", "feature_requests", "actions"}
    assert report["week"] == WEEK
    planted = [t for t in report["topics"] if "calendar" in t["terms"] or "sync" in t["terms"]]
    assert planted, [t["name"] for t in report["topics"]]
    assert planted[0]["new"] and planted[0]["growing"] and planted[0]["trend"] == "new"
    assert planted[0]["tickets"] >= 15
    steady = [t for t in report["topics"] if t is not planted[0]]
    assert steady and not any(t["new"] for t in steady)  # the ordinary topics were there before
    assert report["volume"]["total"]["this_week"] > report["volume"]["total"]["avg_4w"]
    bug_reports = next(r for r in report["volume"]["by"]["category"] if r["value"] == "bug_report")
    assert bug_reports["flag"] == "up"  # 15 planted bug reports on top of the usual ones
    assert report["csat"]["answers"] > 0 and report["csat"]["satisfaction"] is not None
    assert report["sla"]["first_response"] is not None and report["incidents"] == []


def test_feature_themes_are_ranked_and_a_lead_decision_shows(four_weeks):
    report = weekly_json("--week", WEEK)
    ranked = report["feature_requests"]
    assert len(ranked) >= 2 and ranked[0]["score"] >= ranked[-1]["score"]
    assert all(t["requesters"] >= 1 and t["status"] is None for t in ranked)
    themes.mark(ranked[0]["theme"], "planned", user_id=None, settings=four_weeks)
    again = weekly_json("--week", WEEK)
    assert again["feature_requests"][0]["status"] == "planned"
    assert [(a["theme"], a["status"]) for a in again["actions"]] == [(ranked[0]["theme"], "planned")]


@pytest.mark.parametrize("week", ["2026-49", "2026-W60", "last week", "2026-W00"])
def test_a_malformed_week_is_a_clear_error(settings, week):
    result = CliRunner().invoke(main, ["report", "weekly", "--week", week])
    assert result.exit_code == 2 and "is not a week" in result.output


def test_the_text_report_reads_like_a_review(four_weeks):
    result = CliRunner().invoke(main, ["report", "weekly", "--week", WEEK], catch_exceptions=False)
    assert result.exit_code == 0 and "Weekly review 2026-W45" in result.output and "calendar" in result.output


def test_the_default_week_is_the_last_complete_one(settings):
    label, start, end = review.parse_week(None, settings, now=datetime.fromisoformat("2026-12-09T12:00:00+00:00"))
    assert label == "2026-W49" and start.isoformat().startswith("2026-11-30") and end <= utcnow().replace(year=2030)


def test_the_review_is_mailed_to_the_leads_on_monday_morning_once(four_weeks):
    from sqlalchemy import select

    from storage.db import session_factory
    from storage.models.delivery import Outbox
    from support import accounts
    from support.feedback.review_mail import send_weekly

    accounts.create_user("lena@trkv.test", "lead", "correct horse battery", settings=four_weeks)
    accounts.create_user("eve@trkv.test", "engineer", "correct horse battery", settings=four_weeks)
    accounts.create_user("olga@trkv.test", "lead", "correct horse battery", settings=four_weeks)
    accounts.set_active("olga@trkv.test", False, settings=four_weeks)  # she left the team: no more review mail
    sunday = datetime.fromisoformat("2026-11-15T20:00:00+00:00")
    monday_early = datetime.fromisoformat("2026-11-09T07:00:00+00:00")
    monday = datetime.fromisoformat("2026-11-09T09:00:00+00:00")
    assert send_weekly(four_weeks, sunday) == [] and send_weekly(four_weeks, monday_early) == []
    assert len(send_weekly(four_weeks, monday)) == 1
    again = send_weekly(four_weeks, monday.replace(hour=10))
    assert again == []  # once per lead and week
    with session_factory(four_weeks.db_url)() as session:
        mail = session.execute(select(Outbox.payload)).scalar_one()
    assert mail["to"] == "lena@trkv.test" and "Weekly review 2026-W45" in mail["text"] and "calendar" in mail["text"]
