"""Agent replies: one outbox row per submitted reply, sent once, recorded on the ticket."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from connectors.logsink import read_deliveries
from storage.db import session_factory
from storage.models.delivery import Outbox
from storage.models.tickets import Message, Ticket
from support.accounts import create_user
from support.delivery.dispatch import dispatch
from support.intake.ingest import ingest
from support.tickets.queries import TicketFilters, list_tickets
from support.tickets.replies import ReplyError, ReplyTooLong, reply
from tests.cast import bo_discord, cy_tweet


def test_an_agent_reply_is_sent_on_the_tickets_channel_once_and_counts_as_first_response(settings):
    ref = ingest(bo_discord(), settings=settings).ref
    first = reply(ref, "Thanks Bo, we can reproduce it and are on it.", key="form-1", settings=settings)
    again = reply(ref, "Thanks Bo, we can reproduce it and are on it.", key="form-1", settings=settings)
    assert again.outbox_id == first.outbox_id  # a form submitted twice is one reply
    assert dispatch(first.outbox_id, settings).status == "sent"
    replies = [d for d in read_deliveries(settings.home_path / "sent.jsonl") if d["kind"] == "reply"]
    assert [d["text"] for d in replies] == ["Thanks Bo, we can reproduce it and are on it."]
    assert replies[0]["channel"] == "discord"
    with session_factory(settings.db_url)() as session:
        ticket = session.execute(select(Ticket)).scalar_one()
        assert ticket.first_responded_at is not None
        outgoing = session.execute(select(Message).where(Message.direction == "out", Message.ticket_id == ticket.id))
        assert [m.text for m in outgoing.scalars() if m.text.startswith("Thanks Bo")]
        assert session.execute(select(Outbox.status).where(Outbox.id == first.outbox_id)).scalar() == "sent"
    assert [t["ref"] for t in list_tickets(TicketFilters(q="reproduce"), settings=settings).items] == [ref]


def test_a_reply_to_an_unknown_ticket_or_without_text_is_refused(settings):
    ref = ingest(bo_discord(), settings=settings).ref
    with pytest.raises(ReplyError):
        reply("TRKV-999999", "hello", settings=settings)
    with pytest.raises(ReplyError):
        reply(ref, "   ", settings=settings)


def _agent(settings, email: str) -> int:
    return create_user(email, "engineer", "a long enough password", settings=settings).id


def test_a_reply_key_reused_on_another_ticket_makes_a_reply_on_that_ticket(settings):
    bo = ingest(bo_discord(), settings=settings).ref
    cy = ingest(cy_tweet(), settings=settings).ref
    agent = _agent(settings, "ana@trkv.test")
    first = reply(bo, "Fixed on our side, Bo.", key="client-key-1", user_id=agent, settings=settings)
    other = reply(cy, "Fixed on our side, Cy.", key="client-key-1", user_id=agent, settings=settings)
    assert other.outbox_id != first.outbox_id
    assert dispatch(other.outbox_id, settings).status == "sent"
    texts = [d["text"] for d in read_deliveries(settings.home_path / "sent.jsonl") if d["kind"] == "reply"]
    assert any("Fixed on our side, Cy." in t for t in texts)


def test_the_same_key_from_another_caller_is_another_reply(settings):
    ref = ingest(bo_discord(), settings=settings).ref
    mine = reply(ref, "On it.", key="k", user_id=_agent(settings, "ana@trkv.test"), settings=settings)
    theirs = reply(ref, "Me too.", key="k", user_id=_agent(settings, "ben@trkv.test"), settings=settings)
    assert mine.outbox_id != theirs.outbox_id


@pytest.mark.parametrize("make, limit", [(cy_tweet, 280), (bo_discord, 2000)])
def test_a_reply_longer_than_the_channel_allows_is_refused_with_the_limit(settings, make, limit):
    ref = ingest(make(), settings=settings).ref
    with pytest.raises(ReplyTooLong) as refused:
        reply(ref, "word " * (limit // 5 + 1), settings=settings)
    assert refused.value.limit == limit and str(limit) in str(refused.value)
    with session_factory(settings.db_url)() as session:
        assert session.execute(select(Outbox).where(Outbox.kind == "reply")).first() is None
    assert reply(ref, "short enough", settings=settings).outbox_id  # a reply within the limit goes


def test_the_api_refuses_a_reply_too_long_for_x_with_422_and_the_limit(settings):
    from fastapi.testclient import TestClient

    from inbox.app import create_app
    from support import accounts

    ref = ingest(cy_tweet(permalink="https://x.com/cy/status/1860000000000000001"), settings=settings).ref
    accounts.create_user("lena@trkv.test", "lead", "a long enough password", settings=settings)
    token = accounts.create_token("lena@trkv.test", settings=settings)
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"}) as client:
        answer = client.post(f"/api/tickets/{ref}/reply", json={"text": "x" * 279}, headers={"Idempotency-Key": "k"})
        again = client.post(f"/api/tickets/{ref}/reply", json={"text": "fits"}, headers={"Idempotency-Key": "k"})
    assert answer.status_code == 422 and "280" in json.dumps(answer.json())  # "@cy " + 279 is over 280
    assert again.status_code == 202
