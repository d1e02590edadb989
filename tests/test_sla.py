"""SLA clocks with an injected clock: due times per priority and channel, business
hours across a weekend, pause and resume, the 75 % warning, breaches, a priority change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from storage.db import transaction
from storage.models.delivery import Outbox
from storage.models.oncall import Alert
from storage.models.tickets import Ticket, TicketEvent
from support.accounts import create_user
from support.intake.ingest import ingest
from support.oncall import sla
from support.oncall.sweep import sweep
from tests.cast import ada_email, cy_tweet
from tests.rows import ticket as _ticket
from triage.sla import BusinessHours, Policy

PRIORITY_HOURS = {"critical": 1, "high": 4, "medium": 12, "low": 24}
CHANNEL_HOURS = {"email": 24, "x": 2, "discord": 2}
SEED = Policy(PRIORITY_HOURS, CHANNEL_HOURS, {p: 24 for p in PRIORITY_HOURS})
START = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # a Friday


@pytest.mark.parametrize("priority", list(PRIORITY_HOURS))
@pytest.mark.parametrize("channel", ["email", "x", "discord", "api"])
def test_first_response_is_due_at_the_earlier_of_the_priority_and_channel_targets(priority, channel):
    expected = min(PRIORITY_HOURS[priority], CHANNEL_HOURS.get(channel, PRIORITY_HOURS[priority]))
    due = SEED.due_times(START, priority, channel)
    assert due.first_response == START + timedelta(hours=expected)
    assert due.resolution == START + timedelta(hours=24)


def test_the_settings_give_the_seed_targets_and_a_resolution_target_per_priority(sqlite_settings, monkeypatch):
    rules = sla.policy(sqlite_settings)
    assert rules.first_response_target("high", "email") == 4 and rules.first_response_target("low", "x") == 2
    assert rules.first_response_target("low", "discord") == 2 and rules.first_response_target("medium", "api") == 12
    assert rules.resolution_hours == {"critical": 24, "high": 24, "medium": 24, "low": 24}
    changed = sqlite_settings.model_copy(update={"resolution_critical_hours": 8, "sla_discord_hours": 6})
    assert sla.policy(changed).resolution_hours["critical"] == 8
    assert sla.policy(changed).first_response_target("low", "discord") == 6


def test_business_hours_skip_the_weekend_and_holidays_in_the_time_zone():
    hours = BusinessHours.parse("mon-fri 09:00-17:00", "Europe/Berlin")
    friday_4pm = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # 16:00 in Berlin
    assert hours.add(friday_4pm, 4 * 3600) == datetime(2026, 11, 30, 11, 0, tzinfo=UTC)  # Monday 12:00 Berlin
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert hours.add(saturday, 3600) == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Monday 10:00 Berlin
    assert hours.between(friday_4pm, datetime(2026, 11, 30, 11, 0, tzinfo=UTC)) == 4 * 3600
    with_holiday = BusinessHours.parse("mon-fri 09:00-17:00", "Europe/Berlin", ["2026-11-30"])
    assert with_holiday.add(friday_4pm, 4 * 3600) == datetime(2026, 12, 1, 11, 0, tzinfo=UTC)  # Tuesday


def test_business_hours_reject_a_malformed_spec_with_the_reason():
    with pytest.raises(ValueError, match="expected like"):
        BusinessHours.parse("weekdays nine to five")
    with pytest.raises(ValueError, match="closing time"):
        BusinessHours.parse("mon-fri 17:00-09:00")


def test_tickets_get_business_hours_due_times_when_configured(sqlite_settings):
    settings = sqlite_settings.model_copy(update={"business_hours": "mon-fri 09:00-17:00",
                                                  "business_timezone": "Europe/Berlin"})
    fields = sla.clock_fields(datetime(2026, 11, 27, 15, 0, tzinfo=UTC), "low", "x", settings)
    assert fields["first_response_due_at"] == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # 1 h Fri + 1 h Mon


def _events(settings, ticket_id: int, kind: str) -> list[TicketEvent]:
    with transaction(settings.db_url) as session:
        return list(session.execute(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id,
                                                              TicketEvent.kind == kind)).scalars())


def test_ingest_sets_the_due_times_from_receipt(settings):
    ticket = _ticket(settings, ingest(cy_tweet(), settings=settings).ticket_id)
    assert ticket.first_response_due_at - ticket.created_at == timedelta(hours=2)  # X: 2 h
    assert ticket.resolution_due_at - ticket.created_at == timedelta(hours=24)
    assert ticket.sla_next_at == ticket.created_at + timedelta(minutes=90)  # 75 % of 2 h: the warning


def test_the_75_percent_warning_then_the_breach_are_recorded_once(settings):
    create_user("lead@trkv.test", "lead", "a long enough password", settings=settings)
    ticket_id = ingest(cy_tweet(), settings=settings).ticket_id
    start = _ticket(settings, ticket_id).created_at

    assert sweep(settings, now=start + timedelta(minutes=89)).warnings == []
    assert sweep(settings, now=start + timedelta(minutes=91)).warnings == [ticket_id]
    assert sweep(settings, now=start + timedelta(minutes=95)).warnings == []  # once
    [warning] = _events(settings, ticket_id, "sla_warning")
    assert warning.field == "first_response" and warning.detail["due_in_seconds"] == 29 * 60
    with transaction(settings.db_url) as session:
        mails = session.execute(select(Outbox).where(Outbox.kind == "sla_warning")).scalars().all()
        assert [m.payload["to"] for m in mails] == ["lead@trkv.test"]
        assert "at risk" in mails[0].payload["subject"]

    late = start + timedelta(hours=2, minutes=3)
    assert sweep(settings, now=late).breaches == [ticket_id]
    assert sweep(settings, now=late + timedelta(minutes=1)).breaches == []
    [breach] = _events(settings, ticket_id, "sla_breach")
    assert breach.field == "first_response" and breach.detail["late_by_seconds"] == 180
    ticket = _ticket(settings, ticket_id)
    assert ticket.first_response_breached_at == late and ticket.resolution_breached_at is None
    assert ticket.sla_next_at == start + timedelta(hours=18)  # next: the resolution warning


def test_pending_pauses_the_clocks_and_the_customers_reply_resumes_them(settings, monkeypatch):
    first = cy_tweet()
    ticket_id = ingest(first, settings=settings).ticket_id
    start = _ticket(settings, ticket_id).created_at
    with transaction(settings.db_url) as session:  # the agent asks a question and waits
        ticket = session.get(Ticket, ticket_id)
        ticket.status = "pending"
        sla.status_changed(session, ticket, "open", settings=settings, now=start + timedelta(minutes=30))
    assert sweep(settings, now=start + timedelta(hours=5)).breaches == []  # paused: no breach, no warning

    reply = cy_tweet("1860000000000000002", "@trkvbot here is the screenshot", conversation_key=first.conversation_key)
    monkeypatch.setattr("support.intake.ingest.utcnow", lambda: start + timedelta(hours=5))  # the reply comes 5 h in
    assert ingest(reply, settings=settings).ticket_id == ticket_id
    ticket = _ticket(settings, ticket_id)
    paused = ticket.sla_paused_seconds
    assert ticket.status == "open" and ticket.sla_paused_at is None and paused == 4.5 * 3600
    assert ticket.first_response_due_at == start + timedelta(hours=2, seconds=paused)
    assert ticket.resolution_due_at == start + timedelta(hours=24, seconds=paused)


def test_a_priority_change_recomputes_the_due_times_is_audited_and_pages_when_critical(settings):
    ticket_id = ingest(ada_email(), settings=settings).ticket_id
    with transaction(settings.db_url) as session:
        ticket = session.get(Ticket, ticket_id)
        old, ticket.priority = ticket.priority, "low"
        sla.priority_changed(session, ticket, old, settings=settings)
    low = _ticket(settings, ticket_id)
    assert low.first_response_due_at - low.created_at == timedelta(hours=24)

    with transaction(settings.db_url) as session:
        ticket = session.get(Ticket, ticket_id)
        ticket.priority = "critical"
        sla.priority_changed(session, ticket, "low", settings=settings, user_id=None)
    critical = _ticket(settings, ticket_id)
    assert critical.first_response_due_at - critical.created_at == timedelta(hours=1)
    event = _events(settings, ticket_id, "sla_recomputed")[-1]
    assert (event.old_value, event.new_value) == ("low", "critical")
    assert event.detail["first_response_due_at"][1].startswith(critical.first_response_due_at.isoformat()[:19])
    with transaction(settings.db_url) as session:
        alert = session.execute(select(Alert)).scalar_one()
        assert alert.first_ticket_id == ticket_id and alert.status == "triggered"


def test_the_api_state_says_due_in_at_risk_and_breached(sqlite_settings):
    ticket_id = ingest(cy_tweet(), settings=sqlite_settings).ticket_id
    ticket = _ticket(sqlite_settings, ticket_id)
    start = ticket.created_at
    fresh = sla.state(ticket, sqlite_settings, start + timedelta(minutes=10))
    assert fresh["first_response"]["due_in_seconds"] == 110 * 60 and not fresh["first_response"]["at_risk"]
    risky = sla.state(ticket, sqlite_settings, start + timedelta(minutes=100))
    assert risky["first_response"]["at_risk"] and not risky["first_response"]["breached"]
    late = sla.state(ticket, sqlite_settings, start + timedelta(hours=3))
    assert late["first_response"]["breached"] and late["first_response"]["late_by_seconds"] == 3600
