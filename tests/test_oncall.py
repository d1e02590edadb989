"""On-call schedules (weekly rotation, overrides, time zones), escalation policies,
and which notifier a page takes (email, Discord DM, webhook, PagerDuty)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from storage.db import transaction
from storage.models.delivery import Outbox
from storage.models.oncall import Alert, OncallSchedule
from support.accounts import create_user
from support.intake.ingest import ingest
from support.oncall import rotations as oncall
from support.oncall.sweep import sweep
from tests.cast import cy_tweet

OUTAGE = "@trkvbot the site is down, total outage in Europe"


def test_a_weekly_rotation_hands_over_at_the_local_wall_clock_time_across_dst():
    members = [1, 2, 3]
    start = "2026-10-19T09:00"  # a Monday, Berlin summer time
    at = lambda text: datetime.fromisoformat(text)  # noqa: E731
    assert oncall.rotation_member(members, start, "Europe/Berlin", 7, at("2026-10-19T07:00:00+00:00")) == 1
    assert oncall.rotation_member(members, start, "Europe/Berlin", 7, at("2026-10-26T07:59:00+00:00")) == 1
    # Clocks went back on 25 October: 09:00 Berlin is now 08:00 UTC, and the handoff follows it.
    assert oncall.rotation_member(members, start, "Europe/Berlin", 7, at("2026-10-26T08:00:00+00:00")) == 2
    assert oncall.rotation_member(members, start, "Europe/Berlin", 7, at("2026-11-02T08:00:00+00:00")) == 3
    assert oncall.rotation_member(members, start, "Europe/Berlin", 7, at("2026-11-09T08:00:00+00:00")) == 1
    assert oncall.rotation_member([], start, "UTC", 7, at("2026-11-09T08:00:00+00:00")) is None


@pytest.fixture
def team(settings):
    with transaction(settings.db_url) as session:
        for email, role in (("ana@trkv.test", "engineer"), ("ben@trkv.test", "engineer"), ("lead@trkv.test", "lead")):
            create_user(email, role, "a long enough password", settings=settings)
        # ana's turn began yesterday, whenever the test runs
        yesterday = (datetime.now(ZoneInfo("Europe/Berlin")) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
        oncall.add_schedule(session, "primary", ["ana@trkv.test", "ben@trkv.test"], yesterday, "Europe/Berlin")
    return settings


def test_an_override_puts_someone_else_on_call_for_its_span(team):
    with transaction(team.db_url) as session:
        schedule = session.execute(select(OncallSchedule)).scalar_one()
        handoff = datetime.fromisoformat(schedule.starts_local).replace(tzinfo=ZoneInfo("Europe/Berlin"))
        monday = handoff.astimezone(UTC) + timedelta(hours=3)  # three hours into ana's turn
        ana, ben = oncall.user_id(session, "ana@trkv.test"), oncall.user_id(session, "ben@trkv.test")
        assert oncall.on_call(session, schedule, monday) == ana
        assert oncall.on_call(session, schedule, monday + timedelta(days=7)) == ben
        oncall.add_override(session, "primary", "ben@trkv.test", monday, monday + timedelta(hours=4))
        session.flush()
        assert oncall.on_call(session, schedule, monday + timedelta(hours=1)) == ben
        assert oncall.on_call(session, schedule, monday + timedelta(hours=4)) == ana
        with pytest.raises(oncall.OncallError, match="end after"):
            oncall.add_override(session, "primary", "ben@trkv.test", monday, monday)


def test_escalation_steps_parse_and_bad_ones_say_why():
    assert oncall.parse_steps("oncall:5, oncall@night:10,lead:15") == [
        {"notify": "oncall", "wait_minutes": 5.0}, {"notify": "oncall", "wait_minutes": 10.0, "schedule": "night"},
        {"notify": "lead", "wait_minutes": 15.0}]
    assert oncall.parse_steps("user:3:2") == [{"notify": "user:3", "wait_minutes": 2.0}]
    with pytest.raises(oncall.OncallError, match="notify oncall, lead or user:ID"):
        oncall.parse_steps("everyone:5")
    with pytest.raises(oncall.OncallError, match="minutes"):
        oncall.parse_steps("lead:soon")


def _pages(settings) -> list[Outbox]:
    with transaction(settings.db_url) as session:
        rows = session.execute(select(Outbox).where(Outbox.kind == "page").order_by(Outbox.id)).scalars().all()
        session.expunge_all()
        return rows


def test_the_person_on_call_is_paged_on_their_contacts_then_the_chain_follows_the_policy(team):
    with transaction(team.db_url) as session:
        oncall.add_contact(session, "ana@trkv.test", "discord", "400000000000000077")
        oncall.add_contact(session, "ana@trkv.test", "email", "ana.pager@trkv.test")
        oncall.add_contact(session, "lead@trkv.test", "pagerduty", "LEADROUTINGKEY")
        oncall.set_policy(session, "critical", oncall.parse_steps("oncall:2,lead:3"))
    ingest(cy_tweet("1860000000000000777", OUTAGE), settings=team)
    first = _pages(team)
    # ana is on call (her turn began yesterday)
    assert [(p.channel, p.payload["to"]) for p in first] == [("discord", "400000000000000077"),
                                                              ("email", "ana.pager@trkv.test")]
    assert all(p.queue == "critical" for p in first)
    assert first[0].payload["kind"] == "page" and "site is down" in first[0].payload["text"]

    with transaction(team.db_url) as session:
        alert = session.execute(select(Alert)).scalar_one()
        paged_at = alert.notified_at
    sweep(team, now=paged_at + timedelta(minutes=1))
    assert len(_pages(team)) == 2  # the policy waits 2 minutes here
    sweep(team, now=paged_at + timedelta(minutes=2, seconds=1))
    lead = _pages(team)[2:]
    assert [(p.channel, p.payload["meta"]["notifier"], p.payload["meta"]["target"]["email"]) for p in lead] == [
        ("oncall", "pagerduty", "lead@trkv.test")]
    sweep(team, now=paged_at + timedelta(minutes=5, seconds=2))
    assert [p.payload["meta"]["event"] for p in _pages(team)[3:]] == ["repage"]  # the last step repeats


def test_nobody_configured_and_no_webhook_still_pages_somewhere(settings):
    ingest(cy_tweet("1860000000000000778", OUTAGE), settings=settings)
    [page] = _pages(settings)
    assert page.channel == "oncall" and page.payload["meta"]["notifier"] == "log"  # the log receiver, not dropped


def test_trkv_page_ack_stops_the_paging_and_says_who(team):
    from trkv.cli import main

    ingest(cy_tweet("1860000000000000779", OUTAGE), settings=team)
    with transaction(team.db_url) as session:
        alert_id = session.execute(select(Alert.id)).scalar_one()
    runner = CliRunner()
    result = runner.invoke(main, ["page", "ack", str(alert_id), "--by", "ana@trkv.test"])
    assert result.exit_code == 0, result.output
    assert "acknowledged by ana@trkv.test" in result.output
    with transaction(team.db_url) as session:
        queued = session.execute(select(Outbox.status).where(Outbox.kind == "page")).scalars().all()
    assert set(queued) == {"cancelled"}  # the page not yet sent is not sent at all
    again = runner.invoke(main, ["page", "ack", str(alert_id)])
    assert again.exit_code == 0 and "already acknowledged by ana@trkv.test" in again.output
    missing = runner.invoke(main, ["page", "ack", "999999"])
    assert missing.exit_code == 1 and "no alert 999999" in missing.output
