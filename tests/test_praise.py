"""Public praise gets a thank-you where it was written, instead of a ticket
acknowledgement; complaints, anger and questions always get the acknowledgement."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import session_factory
from storage.models.delivery import Outbox
from storage.models.tickets import Ticket
from support.delivery.dispatch import dispatch
from support.intake.ingest import ingest
from tests.cast import bo_discord, cy_tweet
from tests.conftest import settings_for

PRAISE = "@trkvbot the new timeline view is fantastic, great work team! 🎉"


def _answers(settings, ticket_id: int) -> list[Outbox]:
    with session_factory(settings.db_url)() as session:
        return session.execute(select(Outbox).where(Outbox.ticket_id == ticket_id)).scalars().all()


def test_praise_on_x_is_thanked_once_and_still_becomes_a_ticket(settings):
    result = ingest(cy_tweet(text=PRAISE), settings=settings)
    [answer] = _answers(settings, result.ticket_id)
    assert answer.payload["meta"].get("thanks") is True
    assert "Thank you" in answer.payload["text"] and "TRKV-" not in answer.payload["text"]
    assert answer.payload["in_reply_to"] == "1860000000000000001"  # a reply to the praise itself
    assert dispatch(answer.id, settings).status == "sent"
    with session_factory(settings.db_url)() as session:
        ticket = session.get(Ticket, result.ticket_id)
    assert ticket.category == "no_action"  # praise needs no work, but it is on record


def test_praise_on_discord_is_thanked_in_its_conversation(sqlite_settings):
    result = ingest(bo_discord(text="you folks rock, the new release is wonderful, thank you! ❤️"),
                    settings=sqlite_settings)
    [answer] = _answers(sqlite_settings, result.ticket_id)
    assert answer.channel == "discord" and answer.payload["meta"].get("thanks") is True


def test_with_thanks_turned_off_praise_gets_no_answer(monkeypatch, tmp_path, sqlite_url):
    settings = settings_for(monkeypatch, tmp_path, sqlite_url, thank_praise="0")
    result = ingest(cy_tweet(text=PRAISE), settings=settings)
    assert _answers(settings, result.ticket_id) == []


def test_a_complaint_a_curse_and_a_question_are_acknowledged_not_thanked(sqlite_settings):
    for n, text in enumerate(["@trkvbot still waiting to be contacted after you guys damaged my goods",
                              "@trkvbot wow you guys suck", "@trkvbot how do I export my data?"]):
        result = ingest(cy_tweet(f"18600000000000001{n}", text=text), settings=sqlite_settings)
        [answer] = _answers(sqlite_settings, result.ticket_id)
        assert "thanks" not in answer.payload["meta"] and "TRKV-" in answer.payload["text"], text
