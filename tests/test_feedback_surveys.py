"""Satisfaction surveys: who gets one and when, and the email survey's page (records
only on a POST; refused answers record nothing)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from connectors.logsink import read_deliveries
from inbox.app import create_app
from storage.db import session_factory
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.feedback import Survey
from support.delivery.dispatch import dispatch
from support.intake.ingest import ingest
from support.oncall.sweep import sweep
from support.tickets import actions as ticket_actions
from support.tickets.queries import get_ticket
from support.tickets.replies import reply
from tests.cast import ada_email, bo_discord
from tests.rows import count


def resolved_with_reply(settings, inbound, *, text="Fixed in 2.4, thanks!"):
    ref = ingest(inbound, settings=settings).ref
    reply(ref, text, key=f"k-{ref}", settings=settings)  # queued counts: not dispatched
    ticket_actions.set_status(ref, "resolved", user_id=None, settings=settings)
    return ref


def survey_rows(settings) -> list[Survey]:
    with session_factory(settings.db_url)() as session:
        rows = session.execute(select(Survey).order_by(Survey.id)).scalars().all()
        session.expunge_all()
        return rows


def sent_survey(settings) -> dict:
    """The survey as sent (the log sender's record), with the outbox row's addressing."""
    with session_factory(settings.db_url)() as session:
        outbox_id, payload = session.execute(select(Outbox.id, Outbox.payload).where(Outbox.kind == "survey")).one()
    assert dispatch(outbox_id, settings).status == "sent"
    sent = [d for d in read_deliveries(settings.home_path / "sent.jsonl") if d["kind"] == "survey"][-1]
    return {**payload, **sent}


def test_a_resolved_ticket_gets_one_survey_after_the_delay_and_it_shows_on_the_ticket(settings):
    ref = resolved_with_reply(settings, ada_email())
    now = utcnow()
    assert sweep(settings, now=now + timedelta(minutes=30)) is not None
    assert count(settings, Survey) == 0  # the delay (60 minutes) has not passed
    sweep(settings, now=now + timedelta(minutes=61))
    sweep(settings, now=now + timedelta(minutes=62))
    assert count(settings, Survey) == 1 and count(settings, Outbox, Outbox.kind == "survey") == 1
    mail = sent_survey(settings)
    assert mail["channel"] == "email" and mail["to"] == "ada@example.com"
    links = re.findall(r"https?://\S+/csat/(\S+)\?score=(\d)", mail["text"])
    assert [score for _, score in links] == ["1", "2", "3", "4", "5"]
    outgoing = [m for m in get_ticket(ref, settings)["messages"] if m["direction"] == "out"]
    assert any("/csat/" in m["text"] for m in outgoing)


def test_no_survey_without_an_agent_reply_for_no_action_or_when_the_customer_wrote_again(settings):
    silent = ingest(ada_email("a-1@x", text="hello"), settings=settings).ref
    ticket_actions.set_status(silent, "resolved", user_id=None, settings=settings)
    noisy = resolved_with_reply(settings, bo_discord())
    ingest(bo_discord("1180000000000000002", text="still broken for me"), settings=settings)  # wrote again
    sweep(settings, now=utcnow() + timedelta(minutes=61))
    assert count(settings, Survey) == 0, noisy


def test_one_survey_per_person_per_period_across_tickets(settings):
    resolved_with_reply(settings, ada_email("a-1@x", subject="first"))
    resolved_with_reply(settings, ada_email("a-2@x", subject="second"))
    sweep(settings, now=utcnow() + timedelta(minutes=61))
    assert count(settings, Survey) == 1


def test_a_blocked_contacts_ticket_gets_no_survey(settings):
    ref = resolved_with_reply(settings, ada_email())
    from storage.models.tickets import Ticket

    with session_factory(settings.db_url)() as session:
        contact_id = session.execute(select(Ticket.contact_id)).scalar_one()
    ticket_actions.block_contact(contact_id, "abuse", user_id=None, settings=settings)
    sweep(settings, now=utcnow() + timedelta(minutes=61))
    assert count(settings, Survey) == 0, ref


@pytest.fixture
def web(settings):
    with TestClient(create_app(settings), follow_redirects=False) as client:
        yield client


def email_survey_token(settings) -> str:
    resolved_with_reply(settings, ada_email())
    sweep(settings, now=utcnow() + timedelta(minutes=61))
    return re.search(r"/csat/(\S+)\?score=1", sent_survey(settings)["text"]).group(1)


def test_a_scanner_following_the_links_records_nothing_and_the_customers_post_does(settings, web):
    token = email_survey_token(settings)
    for score in range(1, 6):  # a mail scanner fetches every link
        page = web.get(f"/csat/{token}?score={score}")
        assert page.status_code == 200 and f'value="{score}" checked' in page.text
    assert survey_rows(settings)[0].score is None
    assert "set-cookie" not in {k.lower() for k in web.get(f"/csat/{token}").headers}
    answered = web.post(f"/csat/{token}", data={"score": "2", "reason": "not_solved", "comment": "still slow"})
    assert answered.status_code == 200 and "we recorded 2 out of 5" in answered.text
    survey = survey_rows(settings)[0]
    assert (survey.score, survey.reason, survey.comment, survey.follow_up) == (2, "not_solved", "still slow", True)


def test_a_low_score_without_a_reason_is_asked_for_one(settings, web):
    token = email_survey_token(settings)
    answered = web.post(f"/csat/{token}", json={"score": 3})
    assert answered.json()["asks_reason"] is True
    page = web.post(f"/csat/{token}", data={"score": "3"})
    assert "what went wrong?" in page.text


@pytest.mark.parametrize("body", [{"score": 0}, {"score": 6}, {"score": "five"}, {"score": 4.5}, {},
                                  {"score": 5, "comment": "x" * 1_000_000}, {"score": 2, "reason": "<script>"}])
def test_a_refused_answer_records_nothing_and_leaves_the_token_usable(settings, web, body):
    token = email_survey_token(settings)
    refused = web.post(f"/csat/{token}", content=json.dumps(body), headers={"content-type": "application/json"})
    assert refused.status_code in (413, 422) and refused.json()["detail"]
    assert survey_rows(settings)[0].answered_at is None
    assert web.post(f"/csat/{token}", json={"score": 5}).status_code == 200


def test_a_forged_or_expired_token_records_nothing(settings, web):
    token = email_survey_token(settings)
    survey_id, expires, sig = token.split(".")
    forged = f"{survey_id}.{int(expires) + 10**6}.{sig}"
    assert web.post(f"/csat/{forged}", json={"score": 5}).status_code == 404
    assert web.get(f"/csat/{forged}").status_code == 404
    assert web.post("/csat/nonsense", data={"score": "5"}).status_code == 404
    from support.feedback import answers, tokens
    with pytest.raises(tokens.TokenError):
        answers.record(token, 5, settings=settings, now=utcnow() + timedelta(days=30))
    assert survey_rows(settings)[0].answered_at is None


def test_a_second_answer_within_a_day_replaces_the_first_and_later_ones_are_refused(settings, web):
    from support.feedback import answers

    token = email_survey_token(settings)
    answers.record(token, 2, settings=settings)
    answers.record(token, 4, settings=settings, now=utcnow() + timedelta(hours=2))
    assert [(s.score, s.follow_up) for s in survey_rows(settings)] == [(4, False)]
    with pytest.raises(answers.AnswerError):
        answers.record(token, 1, settings=settings, now=utcnow() + timedelta(days=2))
    assert survey_rows(settings)[0].score == 4


def test_with_no_delay_the_survey_goes_out_in_the_next_sweep(settings, monkeypatch):
    monkeypatch.setattr(settings, "csat_delay_minutes", 0.0)
    resolved_with_reply(settings, ada_email())
    sweep(settings)
    assert count(settings, Survey) == 1


def test_an_x_survey_after_a_tweet_is_a_dm_carrying_the_public_reply_for_closed_dms(settings):
    """The sender tries the DM; X's 403 (DMs closed) makes it post the reply instead
    (tests/test_feedback_x.py shows both against the X API server)."""
    from tests.cast import cy_tweet

    resolved_with_reply(settings, cy_tweet(permalink="https://x.com/cy/status/1860000000000000001"))
    sweep(settings, now=utcnow() + timedelta(minutes=61))
    survey = sent_survey(settings)
    assert survey["channel"] == "x" and survey["to"] == "99001" and survey["meta"]["dm"] is True
    assert "/csat/" in survey["text"]
    public = survey["meta"]["public_reply"]
    assert public["in_reply_to"] == "1860000000000000001"
    assert public["text"].startswith("@cy ") and "/csat/" in public["text"] and len(public["text"]) <= 280


def test_an_x_dm_conversation_gets_the_survey_by_dm(settings):
    from tests.cast import cy_tweet

    dm = cy_tweet("dm-1", text="my export fails", conversation_key="dm-99001",
                  raw={"event_type": "MessageCreate", "sender_id": "99001", "id": "dm-1"}, hints={"x_kind": "dm"})
    resolved_with_reply(settings, dm)
    sweep(settings, now=utcnow() + timedelta(minutes=61))
    private = sent_survey(settings)
    assert private["to"] == "99001" and private["meta"]["dm"] is True and "/csat/" in private["text"]


def test_an_api_ticket_with_an_email_gets_the_email_survey_and_one_without_gets_none(settings):
    from connectors.base import Inbound

    with_mail = Inbound(channel="api", external_id="form-1", text="export fails", author_id="u-1",
                        author_name="Dee", author_email="dee@example.com", subject="Export")
    resolved_with_reply(settings, with_mail)
    sweep(settings, now=utcnow() + timedelta(minutes=61))
    assert sent_survey(settings)["to"] == "dee@example.com"


def test_the_demo_agent_adds_history_replies_resolves_and_answers_surveys_only_with_the_demo_on(settings, monkeypatch):
    from support.feedback import demo
    from support.tickets.metrics import dashboard

    assert demo.tick(settings) == {}  # the demo feed is off: nothing happens
    monkeypatch.setattr(settings, "demo", True)
    monkeypatch.setattr(settings, "csat_delay_minutes", 0.0)
    ref = ingest(ada_email(), settings=settings).ref
    now = utcnow()
    first = demo.tick(settings, now + timedelta(minutes=2))
    assert first["history"] > 400 and first["replied"] == 1
    ticket_actions.set_status(ref, "open", user_id=None, settings=settings)
    assert demo.tick(settings, now + timedelta(minutes=10))["resolved"] == 1
    sweep(settings, now=now + timedelta(minutes=11))
    sent_survey(settings)
    assert demo.tick(settings, now + timedelta(minutes=20))["answered"] == 1
    board = dashboard(30, settings)
    assert next(k for k in board.kpis if k.key == "satisfaction").value is not None
