"""Every real-world message in ../shared/data/email-* through parse -> ingest: each
becomes a ticket (or joins one, or is recognised as a redelivery) or is quarantined
with a reason; none raises; bounces and auto-replies get no acknowledgement; the
known-good ones keep their decoded subject and body."""

from __future__ import annotations

import mailbox
from pathlib import Path

from sqlalchemy import select

from connectors.mail import MAX_DEPTH, MAX_PARTS, parse_email
from storage.db import session_factory
from storage.models.delivery import Outbox
from storage.models.intake import Quarantine
from storage.models.tickets import Message
from support.intake.importer import import_path
from tests.shared_data import shared_data, shared_data_root


def corpus() -> list[Path]:
    shared_data()  # skips (or fails under TRKV_REQUIRE_SERVICES=1) when the data is missing
    return sorted(p for folder in shared_data_root().glob("email-*") for p in folder.rglob("*") if p.is_file())


def import_corpus(settings, tmp_path):
    """The whole corpus as a Maildir, imported live (acknowledgements decided as for new mail)."""
    files = corpus()
    box = mailbox.Maildir(tmp_path / "corpus", create=True)
    for path in files:
        box.add(path.read_bytes())
    report = import_path(tmp_path / "corpus", live=True, settings=settings)
    return files, report, settings


def _one(settings, model, *where):
    with session_factory(settings.db_url)() as session:
        return session.execute(select(model).where(*where)).scalars().all()


def test_the_corpus_through_parse_and_ingest(settings, tmp_path):
    """One import per database (it is the slow part); each check below is one claim of the issue."""
    imported = import_corpus(settings, tmp_path)
    every_message_becomes_a_ticket_or_is_quarantined_with_a_reason(imported)
    for case in KNOWN_GOOD:
        known_good_message_keeps_its_decoded_subject_and_body(imported, *case)
    bounces_reports_and_list_mail_get_no_acknowledgement(imported)


def every_message_becomes_a_ticket_or_is_quarantined_with_a_reason(imported):
    files, report, settings = imported
    assert len(files) >= 200
    assert report.read == len(files)
    assert report.stored + report.duplicates + report.quarantined == len(files)
    # Quarantine is for what is truly not mail (the collections' HTML snippets and
    # signature fixtures): every .eml file is stored, however broken.
    rejected = []
    for path in files:
        try:
            parse_email(path.read_bytes())
        except ValueError:
            rejected.append(path)
    assert not [p for p in rejected if p.suffix == ".eml"]
    assert report.quarantined == len(rejected)
    for row in _one(settings, Quarantine):
        assert row.reason and "not an email" in row.reason
    for message in _one(settings, Message, Message.direction == "in"):
        assert message.ticket_id and message.raw  # the full original stays viewable


KNOWN_GOOD = [
    # (path, Message-ID, subject, body start)
    (("email-rubymail", "rfc2822", "example01.eml"), "1234@local.machine.example", "Saying Hello",
     'This is a message just to say hello.\nSo, "Hello".'),
    (("email-rubymail", "rfc2822", "example03.eml"), "5678.21-Nov-1997@example.com", None, "Hi everyone."),
    (("email-rubymail", "rfc2822", "example06.eml"), "3456@example.net", "Re: Saying Hello", "This is a reply to your hello."),
    (("email-rubymail", "rfc2822", "example07.eml"), "abcd.1234@local.machine.tld", "Re: Saying Hello",
     "This is a reply to your reply."),
    (("email-rubymail", "rfc2822", "example14.eml"), "0CC5E11ED2C1D@example.com", "Re: TESTテストテスト", "Hello"),
    (("email-rubymail", "multi_charset", "japanese_shift_jis.eml"), "xxxxx@docomo.ne.jp", "test", "あいうえお"),
    (("email-rubymail", "multi_charset", "ks_c_5601-1987.eml"), "from@example.com", "test", "스티해"),
    (("email-rubymail", "multi_charset", "japanese_attachment.eml"), None, "testing", "testing"),
    (("email-rubymail", "multi_charset", "japanese_iso_2022.eml"), None, "まみむめも", "すみません。"),
    (("email-rubymail", "multi_charset", "japanese.eml"), None, "まみむめも", "かきくえこ"),
    (("email-rubymail", "rfc6532", "utf8_headers.eml"), None, "Säying Hello", "body"),
    (("email-flanker", "from-encoding.eml"), None, None, None),
]


def known_good_message_keeps_its_decoded_subject_and_body(imported, path, msgid, subject, body):
    _, _, settings = imported
    inbound = parse_email(shared_data(*path).read_bytes())
    assert inbound.problems == [] or all("Message-ID" in p or "Date" in p for p in inbound.problems), (path, inbound.problems)
    if msgid is not None:
        assert inbound.external_id == msgid
    stored = _one(settings, Message, Message.channel == "email", Message.external_id == inbound.external_id)
    assert len(stored) == 1, path
    if subject is not None:
        assert stored[0].subject == subject, path
    if body is not None:
        assert stored[0].text.startswith(body), (path, stored[0].text[:100])
    assert (stored[0].subject, stored[0].text) == (inbound.subject, inbound.text), path


BOUNCES_AND_AUTO = [
    ("email-flanker", "bounce", "gmail-invalid-address.eml"),
    ("email-flanker", "bounce", "mailbox-full.eml"),
    ("email-flanker", "bounce", "office365.eml"),
    ("email-flanker", "bounce", "zed.eml"),
    ("email-flanker", "disposition-notification.eml"),
    ("email-rubymail", "multipart_report_emails", "report_422.eml"),
    ("email-mailparser", "mail_test_13.eml"),
    ("email-mailparser", "mail_test_16.eml"),
]


def bounces_reports_and_list_mail_get_no_acknowledgement(imported):
    files, _, settings = imported
    acknowledged = {row.ticket_id for row in _one(settings, Outbox, Outbox.kind == "ack")}
    assert acknowledged  # ordinary mail in the corpus is acknowledged
    every_auto = 0
    for path in files:
        try:
            inbound = parse_email(path.read_bytes())
        except ValueError:
            continue
        if inbound.no_ack_reason is None:
            continue
        every_auto += 1
        rows = _one(settings, Message, Message.channel == "email", Message.external_id == inbound.external_id)
        assert rows and rows[0].ticket_id not in acknowledged or _shared_ticket(settings, rows[0].ticket_id), path
    assert every_auto >= 20
    for parts in BOUNCES_AND_AUTO:
        assert parse_email(shared_data(*parts).read_bytes()).no_ack_reason, parts


def _shared_ticket(settings, ticket_id: int) -> bool:
    """A ticket opened by an ordinary message may later be joined by an automatic one
    (an out-of-office reply to it): its acknowledgement is the ordinary message's."""
    messages = _one(settings, Message, Message.ticket_id == ticket_id, Message.direction == "in")
    return len(messages) > 1


def test_the_endlessly_nested_message_is_stopped_by_the_guard():
    raw = shared_data("email-flanker", "enclosed-endless.eml").read_bytes()
    assert len(raw) > 2_000_000
    inbound = parse_email(raw)
    # The walk stopped at a bound instead of following the nesting to the end.
    assert any(f"deeper than {MAX_DEPTH}" in p or f"more than {MAX_PARTS}" in p for p in inbound.problems), inbound.problems
    assert len(inbound.attachments) <= MAX_PARTS
