"""Ingest on a real database (each test runs on SQLite and on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from storage.db import session_factory
from storage.models.delivery import Outbox
from storage.models.tickets import Message, Ticket
from storage.queries import SEARCH_CHARS
from support.intake.ingest import ingest, ingest_batch
from support.intake.sanitize import sanitize
from tests.cast import ada_email, bo_discord, cy_tweet
from tests.rows import count as _count
from tests.rows import ticket as _ticket


def test_a_new_message_opens_a_ticket_with_a_suggestion_and_due_times(settings):
    result = ingest(ada_email())
    ticket = _ticket(settings, result.ticket_id)
    assert result.created_ticket and result.ref == f"TRKV-{ticket.id}"
    assert ticket.status == "new" and ticket.priority in ("critical", "high", "medium", "low")
    assert ticket.suggested_category == ticket.category and ticket.model_version
    hours = (ticket.first_response_due_at - ticket.created_at) / timedelta(hours=1)
    assert hours <= 24  # the earlier of the priority's and email's 24 h


def test_a_redelivered_message_is_stored_once(settings):
    first = ingest(cy_tweet())
    again = ingest(cy_tweet())
    assert again.duplicate and again.ticket_id == first.ticket_id and again.message_id == first.message_id
    assert _count(settings, Message) == 1
    assert _count(settings, Outbox, Outbox.kind == "ack") == 1


def test_the_same_message_twice_in_one_batch_is_stored_once(settings):
    results = ingest_batch([cy_tweet(), cy_tweet()])
    assert [r.duplicate for r in results] == [False, True]
    assert results[0].ticket_id == results[1].ticket_id
    assert _count(settings, Message) == 1


def test_an_email_reply_threads_by_in_reply_to(settings):
    first = ingest(ada_email())
    reply = ingest(ada_email("ada-2@mail.example", "Any news?", references=["ada-1@mail.example"]))
    assert reply.ticket_id == first.ticket_id and not reply.created_ticket
    assert _count(settings, Outbox, Outbox.kind == "ack") == 1  # one acknowledgement per ticket


def test_a_reference_tag_in_the_subject_threads_the_message(settings):
    first = ingest(ada_email())
    tagged = ingest(ada_email("ada-9@other.example", "Following up", subject=f"Re: hello [{first.ref}]"))
    assert tagged.ticket_id == first.ticket_id


def test_messages_in_one_discord_thread_share_a_ticket(settings):
    first = ingest(bo_discord())
    second = ingest(bo_discord("1180000000000000002", "also on firefox"))
    assert second.ticket_id == first.ticket_id
    assert _ticket(settings, first.ticket_id).category == "bug_report"  # the channel's hint


def test_follow_ups_in_one_batch_thread_into_a_ticket_opened_in_that_batch(settings):
    results = ingest_batch([cy_tweet(), cy_tweet("1860000000000000002", "hello?", conversation_key="1860000000000000001")])
    assert results[0].created_ticket and results[1].ticket_id == results[0].ticket_id


def test_a_reply_to_a_recently_resolved_ticket_reopens_it(settings):
    first = ingest(bo_discord())
    _set(settings, first.ticket_id, status="resolved", resolved_at=datetime.now(UTC) - timedelta(days=2))
    again = ingest(bo_discord("1180000000000000003", "it is back"))
    assert again.ticket_id == first.ticket_id
    assert _ticket(settings, first.ticket_id).status == "open"


def test_a_reply_long_after_resolution_opens_a_linked_ticket(settings):
    first = ingest(bo_discord())
    _set(settings, first.ticket_id, status="resolved", resolved_at=datetime.now(UTC) - timedelta(days=8))
    again = ingest(bo_discord("1180000000000000004", "it is back, weeks later"))
    assert again.created_ticket and again.ticket_id != first.ticket_id
    assert _ticket(settings, again.ticket_id).parent_id == first.ticket_id


def test_a_customer_reply_restarts_a_pending_ticket(settings):
    first = ingest(ada_email())
    _set(settings, first.ticket_id, status="pending")
    ingest(ada_email("ada-3@mail.example", "here are the logs", references=["ada-1@mail.example"]))
    assert _ticket(settings, first.ticket_id).status == "open"


def test_a_critical_message_pages_on_the_critical_queue(settings):
    result = ingest(cy_tweet(text="@trkvbot the site is down for everyone, 502 on every page"))
    assert _ticket(settings, result.ticket_id).priority == "critical"
    assert "critical" in [queue for _, queue in result.outbox]
    assert _count(settings, Outbox, Outbox.kind == "page", Outbox.queue == "critical") == 1


def test_an_auto_reply_gets_no_acknowledgement_but_a_ticket(settings):
    result = ingest(ada_email(no_ack_reason="Auto-Submitted: auto-replied"))
    assert result.created_ticket
    assert _count(settings, Outbox, Outbox.kind == "ack") == 0


def test_a_historical_import_sends_nothing(settings):
    ingest_batch([ada_email(), cy_tweet(text="@trkvbot everything is down!!")], live=False)
    assert _count(settings, Outbox) == 0
    assert _count(settings, Ticket) == 2


def test_nul_bytes_and_broken_unicode_are_stored_cleaned_with_the_problem_noted(settings):
    dirty = sanitize(cy_tweet(text="hi\x00 there \ud800!"), max_text_bytes=1_000_000)
    result = ingest(dirty)
    with session_factory(settings.db_url)() as session:
        message = session.get(Message, result.message_id)
    assert message.text == "hi there \ufffd!"
    assert any("NUL" in p for p in message.problems)


def test_an_oversized_text_is_truncated_and_the_original_size_recorded(settings):
    huge = sanitize(ada_email(text="x" * 10_000_000), max_text_bytes=1_000_000)
    result = ingest(huge)
    with session_factory(settings.db_url)() as session:
        message = session.get(Message, result.message_id)
    assert len(message.text) == 1_000_000
    assert any("10000000 bytes" in p for p in message.problems)


def test_a_timestamp_from_the_year_3000_is_recorded_and_the_clock_uses_receipt_time(settings):
    odd = sanitize(cy_tweet(sent_at=datetime(3000, 1, 1, tzinfo=UTC)), max_text_bytes=1_000_000)
    result = ingest(odd)
    ticket = _ticket(settings, result.ticket_id)
    with session_factory(settings.db_url)() as session:
        message = session.get(Message, result.message_id)
    assert any("future" in p for p in message.problems)
    assert ticket.first_response_due_at < datetime.now(UTC) + timedelta(hours=3)


def test_a_send_time_in_another_zone_is_stored_as_the_same_instant_one_message_or_a_batch(settings):
    # A message of its own is one INSERT; a batch goes by COPY on PostgreSQL, which read
    # "10:00+02:00" into the naive UTC column as 10:00 until the COPY converted it too.
    berlin = timezone(timedelta(hours=2))
    alone = ingest(cy_tweet(external_id="tz-1", sent_at=datetime(2026, 6, 1, 10, 0, tzinfo=berlin)))
    batch = ingest_batch([cy_tweet(external_id=f"tz-{n}", conversation_key=f"tz-{n}", text=f"the export fails, case {n}",
                                   sent_at=datetime(2026, 6, 1, 10, 0, tzinfo=berlin)) for n in (2, 3)],
                         live=False, bulk=True)
    with session_factory(settings.db_url)() as session:
        for result in (alone, *batch):
            assert session.get(Message, result.message_id).sent_at == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("db_url", ["sqlite:///trkv.db", "postgresql://trkv@localhost/trkv"])
@pytest.mark.parametrize("raw", [{"text": "plain"}, {"text": "café ☕"}, {"text": "a\x7fb \x01"}, ["a", "list"],
                                 {"text": "y" * 2_100_000}])
def test_a_raw_payload_left_serialized_is_what_the_database_would_have_stored(raw, db_url):
    """A bulk import's workers leave it serialized: the writer stores the text as it is."""
    from storage.queries import EncodedJSON, encode_json

    as_dict = sanitize(cy_tweet(raw=raw), max_text_bytes=1_000_000)
    serialized = sanitize(cy_tweet(raw=raw), max_text_bytes=1_000_000, encode_raw_for=db_url)
    assert isinstance(serialized.raw, EncodedJSON) and serialized.raw == encode_json(as_dict.raw, db_url)
    assert serialized.problems == as_dict.problems


def test_one_author_across_tickets_is_one_contact(settings):
    a = ingest(cy_tweet())
    b = ingest(cy_tweet("1860000000000000009", "@trkvbot another thing"))
    assert _ticket(settings, a.ticket_id).contact_id == _ticket(settings, b.ticket_id).contact_id


def _set(settings, ticket_id: int, **values) -> None:
    with session_factory(settings.db_url)() as session, session.begin():
        session.execute(update(Ticket).where(Ticket.id == ticket_id).values(**values))


def test_follow_ups_to_several_tickets_in_one_batch_add_their_words_to_each_until_full(settings):
    # One UPDATE for the whole batch on PostgreSQL (storage.queries.append_search_text): each
    # ticket gets its own follow-ups' words, and a ticket whose search text is full is left alone.
    email, discord, tweet = ingest(ada_email()), ingest(bo_discord()), ingest(cy_tweet())
    full = "x" * SEARCH_CHARS
    with session_factory(settings.db_url)() as session, session.begin():
        session.execute(update(Ticket).where(Ticket.id == tweet.ticket_id).values(search_text=full))
    ingest_batch([
        ada_email("ada-2@mail.example", "the export still times out", references=["ada-1@mail.example"]),
        bo_discord("1180000000000000002", "also on firefox"),
        bo_discord("1180000000000000003", "and on safari"),
        cy_tweet("1860000000000000002", conversation_key="1860000000000000001", text="@trkvbot any news?"),
    ])
    with session_factory(settings.db_url)() as session:
        words = dict(session.execute(select(Ticket.id, Ticket.search_text)).all())
    assert words[email.ticket_id].endswith("\nthe export still times out")
    assert words[discord.ticket_id].endswith("\nalso on firefox\nand on safari")
    assert words[tweet.ticket_id] == full
