"""Story 3: the same person writes on X and by email and mentions their address. A
suggestion appears; linking them gives one timeline, and the survey period holds across
both. Links are audited and undone with one click; two agents are never one person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from connectors.base import Inbound
from storage.db import session_factory
from storage.models.base import utcnow
from storage.models.feedback import ContactLink, Survey
from storage.models.tickets import Ticket
from support import accounts
from support.intake.ingest import ingest
from support.oncall.sweep import sweep
from tests.cast import ada_email, bo_discord, cy_tweet
from tests.rows import count
from tests.test_feedback_kpis import api  # noqa: F401
from tests.test_feedback_surveys import resolved_with_reply


def mail_from(address: str, external_id: str, name: str = "", text: str = "hello", **kw) -> Inbound:
    return Inbound(channel="email", external_id=external_id, text=text, author_id=address, author_handle=address,
                   author_name=name, author_email=address, subject="Hello", **kw)


def contact_of(settings, ref: str) -> int:
    with session_factory(settings.db_url)() as session:
        return session.get(Ticket, int(ref[5:])).contact_id


def test_a_stated_address_suggests_one_person_and_linking_gives_one_timeline_and_one_survey(settings, api):
    tweet = resolved_with_reply(settings, cy_tweet(text="@trkvbot export fails again, my email is Ada@Example.com"))
    mail = resolved_with_reply(settings, ada_email())
    x_contact, mail_contact = contact_of(settings, tweet), contact_of(settings, mail)
    body = api.get(f"/api/contacts/{x_contact}").json()
    assert set(body) >= {"id", "name", "identities", "tickets", "suggestions"}
    assert body["suggestions"] == [{"contact_id": mail_contact,
                                    "reason": f"stated the address ada@example.com in {tweet}"}]
    assert api.post(f"/api/contacts/{x_contact}/link", json={"contact_id": mail_contact}).status_code == 200
    person = api.get(f"/api/contacts/{mail_contact}").json()
    assert {(i["channel"]) for i in person["identities"]} == {"x", "email"}
    assert {t["ref"] for t in person["tickets"]} == {tweet, mail}
    assert {i["channel"] for i in person["timeline"] if i["direction"] == "in"} == {"x", "email"}
    assert person["suggestions"] == []
    with session_factory(settings.db_url)() as session:  # merging moved nothing between channels
        channels = dict(session.execute(select(Ticket.id, Ticket.channel)).all())
    assert channels == {int(tweet[5:]): "x", int(mail[5:]): "email"}
    sweep(settings, now=utcnow() + timedelta(minutes=61))
    assert count(settings, Survey) == 1  # one person, one survey per period


def test_unlinking_is_one_click_and_both_actions_are_audited(settings, api):
    a = contact_of(settings, ingest(ada_email(), settings=settings).ref)
    b = contact_of(settings, ingest(bo_discord(), settings=settings).ref)
    assert api.post(f"/api/contacts/{a}/link", json={"contact_id": b, "reason": "same person"}).status_code == 200
    assert api.post(f"/api/contacts/{b}/unlink").status_code == 200
    assert api.get(f"/api/contacts/{a}").json()["linked"] == []
    with session_factory(settings.db_url)() as session:
        actions = session.execute(select(ContactLink.action, ContactLink.reason)).all()
    assert [tuple(a) for a in actions] == [("link", "same person"), ("unlink", "")]
    assert api.post(f"/api/contacts/{b}/unlink").status_code == 409  # nothing to undo


def test_the_same_handle_across_channels_and_the_same_name_on_the_same_topic_are_suggested(settings, api):
    x = contact_of(settings, ingest(cy_tweet(author_handle="@Bo_Dev"), settings=settings).ref)
    discord = contact_of(settings, ingest(Inbound(channel="discord", external_id="1180000000000000098", text="hi",
                                                  author_id="400000000000000078", author_handle="bo.dev",
                                                  conversation_key="t-2"), settings=settings).ref)
    reasons = {s["contact_id"]: s["reason"] for s in api.get(f"/api/contacts/{x}").json()["suggestions"]}
    assert "same handle" in reasons[discord]
    one = contact_of(settings, ingest(mail_from("dee@one.example", "n-1@x", name="Dee Vee",
                                                text="the timeline view crashes", hints={"category": "bug_report"}),
                                      settings=settings).ref)
    two = contact_of(settings, ingest(Inbound(channel="discord", external_id="1180000000000000099",
                                              text="timeline crash again", author_id="400000000000000077",
                                              author_handle="deev", author_name="Dee Vee", conversation_key="t-1",
                                              hints={"category": "bug_report"}), settings=settings).ref)
    reasons = {s["contact_id"]: s["reason"] for s in api.get(f"/api/contacts/{one}").json()["suggestions"]}
    assert "same name" in reasons[two]


def test_two_different_agents_are_never_linked(settings, api):
    accounts.create_user("eve@trkv.test", "engineer", "correct horse battery", settings=settings)
    accounts.create_user("max@trkv.test", "engineer", "correct horse battery", settings=settings)
    eve = contact_of(settings, ingest(mail_from("eve@trkv.test", "e-1@x"), settings=settings).ref)
    max_ = contact_of(settings, ingest(mail_from("max@trkv.test", "m-1@x"), settings=settings).ref)
    refused = api.post(f"/api/contacts/{eve}/link", json={"contact_id": max_})
    assert refused.status_code == 409 and "two different agents" in refused.json()["detail"]
    assert api.get(f"/api/contacts/{eve}").json()["linked"] == []


@pytest.mark.parametrize("contact_id", ["999999", "abc"])
def test_an_unknown_contact_is_a_clear_error(settings, api, contact_id):
    assert api.get(f"/api/contacts/{contact_id}").status_code in (404, 422)
