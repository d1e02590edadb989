"""Agent replies: one outbox row per submitted reply, sent once, recorded on the ticket."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from connectors.logsink import read_deliveries
from storage.db import session_factory
from storage.models.delivery import Outbox
from storage.models.tickets import Message, Ticket
from support.delivery.dispatch import dispatch
from support.intake.ingest import ingest
from support.tickets.queries import TicketFilters, list_tickets
from support.tickets.replies import ReplyError, reply
from tests.cast import bo_discord


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
