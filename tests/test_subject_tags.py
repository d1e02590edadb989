"""A `[TRKV-n]` tag in a subject joins ticket n only for its participants: anyone else
who writes it (ids are sequential) opens a new ticket, linked, with the reason shown."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient

from inbox.app import create_app
from support import accounts
from support.intake.ingest import ingest
from support.tickets.queries import get_ticket
from tests.cast import ada_email
from tests.test_web_inbox import PASSWORD, Browser

RAW_CC = (
    "From: Ada Lovelace <ada@example.com>\r\nTo: support@trkv.test\r\nCc: Grace <grace@example.com>\r\n"
    "Subject: Exporting projects\r\nMessage-ID: <ada-1@mail.example>\r\n\r\nHow do I export my projects to CSV?\r\n"
)


def _mail(external_id: str, sender: str, subject: str):
    return replace(ada_email(external_id, "About that ticket", subject=subject), author_id=sender,
                   author_handle=sender, author_name=sender, author_email=sender)


def test_a_stranger_writing_a_tag_opens_a_linked_ticket_and_the_page_says_why(settings):
    first = ingest(ada_email(), settings=settings)
    stranger = ingest(_mail("mallory-1@evil.example", "mallory@evil.example", f"Re: [{first.ref}] refund to me"),
                      settings=settings)
    assert stranger.ticket_id != first.ticket_id and stranger.created_ticket
    ticket = get_ticket(stranger.ref, settings, with_details=True)
    assert ticket["parent"] == first.ref
    reasons = [e for e in ticket["events"] if e["kind"] == "tag_refused"]
    assert reasons and "mallory@evil.example" in reasons[0]["detail"]["reason"]
    accounts.create_user("lena@trkv.test", "lead", PASSWORD, settings=settings)
    with TestClient(create_app(settings), follow_redirects=False) as client:
        Browser(client, "lena@trkv.test")
        page = client.get(f"/tickets/{stranger.ref}").text
    assert "is not a participant of" in page


def test_the_customer_and_people_copied_on_the_ticket_join_it_by_tag(settings):
    first = ingest(ada_email(raw=RAW_CC), settings=settings)
    again = ingest(_mail("ada-5@mail.example", "Ada@Example.com", f"Re: [{first.ref}]"), settings=settings)
    copied = ingest(_mail("grace-1@mail.example", "grace@example.com", f"Re: [{first.ref}]"), settings=settings)
    assert again.ticket_id == first.ticket_id and copied.ticket_id == first.ticket_id
