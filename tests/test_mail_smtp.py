"""Sending email: the hub's outbox through smtplib to a real aiosmtpd server on
loopback, and the whole loop with a real Dovecot: a user writes, is acknowledged
once, replies, and an agent's answer arrives in the same thread."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, localtime

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from connectors.base import ConnectorError, Outbound
from connectors.mail import parse_email
from connectors.smtp import SmtpSender, message_id_for
from storage.db import session_factory
from storage.models.delivery import Outbox
from storage.models.tickets import Message, Ticket, TicketEvent
from support.delivery.dispatch import dispatch
from support.intake import staging as intake
from support.intake.ingest import ingest, ingest_batch
from support.tickets.replies import reply
from tests import dovecot
from tests.conftest import settings_for
from tests.dovecot import InlineSink, Running, wait_for
from triage.sla import promised_response

ADA = "ada@example.com"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage


@dataclass
class Recorder:
    """An aiosmtpd handler: keeps what it receives; can refuse recipients; can hand
    each message on (to a Dovecot mailbox)."""

    received: list[Received] = field(default_factory=list)
    rcpt_reply: str | None = None
    deliver: object = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        if self.deliver is not None:
            self.deliver(envelope.content)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Recorder, int]]:
    handler = Recorder()
    port = dovecot.free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def smtp_env(port: int, **extra: str) -> dict[str, str]:
    return {"smtp_host": "127.0.0.1", "smtp_port": str(port), "smtp_starttls": "0", "smtp_timeout": "10",
            "support_address": "support@trkv.example", **extra}


def customer_mail(msgid: str, subject: str = "Export to CSV fails", body: str = "Exporting my project to CSV fails.",
                  sender: str = ADA, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Ada Lovelace <{sender}>"
    msg["To"] = "TRKV Support <support@trkv.example>"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(localtime())
    msg["Message-ID"] = f"<{msgid}>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body + "\n")
    return msg.as_bytes()


def send_queued(settings) -> list[int]:
    with session_factory(settings.db_url)() as session:
        ids = session.execute(select(Outbox.id).where(Outbox.status == "queued").order_by(Outbox.id)).scalars().all()
    for outbox_id in ids:
        dispatch(outbox_id, settings)
    return list(ids)


def rows(settings, model, *where):
    with session_factory(settings.db_url)() as session:
        return session.execute(select(model).where(*where)).scalars().all()


def msgids(value: str | None) -> list[str]:
    return re.findall(r"<([^<>]+)>", str(value or ""))


def body_text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


# --- the acknowledgement ---------------------------------------------------------------


def test_an_acknowledgement_is_multipart_threaded_tagged_and_marked_auto_replied(monkeypatch, tmp_path, sqlite_url, smtp):
    recorder, port = smtp
    settings = settings_for(monkeypatch, tmp_path, sqlite_url, **smtp_env(port))
    result = ingest(parse_email(customer_mail("first@mail.example", references="<older@mail.example>")), settings=settings)
    assert send_queued(settings)
    [ack] = recorder.received
    msg = ack.message
    assert ack.rcpt_tos == [ADA]
    assert ack.mail_from == "<>"  # RFC 3834 3.3: an automatic answer has an empty return path
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["Subject"] == f"Re: Export to CSV fails [{result.ref}]"
    assert msgids(msg["In-Reply-To"]) == ["first@mail.example"]
    assert msgids(msg["References"]) == ["older@mail.example", "first@mail.example"]
    assert msgids(msg["Message-ID"]) == [message_id_for(f"ack:{result.ticket_id}", "trkv.example")]
    assert msg.get_content_type() == "multipart/alternative"
    text, html = body_text(msg), msg.get_body(preferencelist=("html",)).get_content()
    assert result.ref in text and "within" in text
    assert f"<strong>{result.ref}</strong>" in html
    # The sent acknowledgement is stored under its Message-ID, so a reply to it threads.
    [out] = rows(settings, Message, Message.direction == "out")
    assert out.external_id == msgids(msg["Message-ID"])[0]


def test_a_resend_of_the_same_row_carries_the_same_message_id(smtp):
    recorder, port = smtp
    sender = SmtpSender("127.0.0.1", port, from_address="support@trkv.example", starttls=False)
    outbound = Outbound(channel="email", kind="reply", idempotency_key="reply:abc", text="Fixed now.", to=ADA,
                        subject="Re: hi [TRKV-7]")
    first, second = sender.send(outbound), sender.send(outbound)
    assert first.external_id == second.external_id
    assert [msgids(r.message["Message-ID"]) for r in recorder.received] == [[first.external_id]] * 2
    assert recorder.received[0].mail_from == "support@trkv.example"  # bounces of replies come back to us
    assert "Auto-Submitted" not in recorder.received[0].message


def test_a_refused_recipient_is_permanent_and_a_busy_server_is_not(monkeypatch, tmp_path, sqlite_url, smtp):
    recorder, port = smtp
    settings = settings_for(monkeypatch, tmp_path, sqlite_url, **smtp_env(port))
    sender = SmtpSender("127.0.0.1", port, from_address="support@trkv.example", starttls=False)
    outbound = Outbound(channel="email", kind="reply", idempotency_key="reply:x", text="hi", to=ADA)
    recorder.rcpt_reply = "451 4.3.0 Try again later"
    with pytest.raises(ConnectorError) as busy:
        sender.send(outbound)
    assert not busy.value.permanent
    recorder.rcpt_reply = "550 5.1.1 No such user"
    with pytest.raises(ConnectorError) as refused:
        sender.send(outbound)
    assert refused.value.permanent and "550" in str(refused.value)
    # Through dispatch: the row fails at once with the reason, no retries.
    ingest(parse_email(customer_mail("q@mail.example")), settings=settings)
    send_queued(settings)
    [row] = rows(settings, Outbox)
    assert row.status == "failed" and row.attempts == 1 and "5.1.1" in row.last_error


def test_a_sender_is_acknowledged_at_most_once_per_window(monkeypatch, tmp_path, sqlite_url, smtp):
    recorder, port = smtp
    settings = settings_for(monkeypatch, tmp_path, sqlite_url, **smtp_env(port, email_ack_window_minutes="60"))
    ingest(parse_email(customer_mail("a1@mail.example", "Export fails")), settings=settings)
    ingest(parse_email(customer_mail("a2@mail.example", "Another thing: billing")), settings=settings)
    ingest_batch([parse_email(customer_mail("a3@mail.example", "Third")),
                  parse_email(customer_mail("b1@mail.example", "Login broken", sender="bob@example.com",
                                            body="Login is not working on Safari, the button does nothing."))],
                 settings=settings)
    send_queued(settings)
    assert len(rows(settings, Ticket)) == 4
    assert sorted(r.rcpt_tos[0] for r in recorder.received) == [ADA, "bob@example.com"]


def test_without_a_window_every_new_ticket_is_acknowledged(monkeypatch, tmp_path, sqlite_url, smtp):
    recorder, port = smtp
    settings = settings_for(monkeypatch, tmp_path, sqlite_url, **smtp_env(port, email_ack_window_minutes="0"))
    ingest(parse_email(customer_mail("a1@mail.example", "Export fails")), settings=settings)
    ingest(parse_email(customer_mail("a2@mail.example", "Billing")), settings=settings)
    send_queued(settings)
    assert len(recorder.received) == 2


@pytest.mark.parametrize(
    "headers",
    [{"auto_submitted": "auto-replied"}, {"precedence": "bulk"}, {"list_id": "<users.lists.example>"},
     {"x_autoreply": "yes"}],
)
def test_automatic_mail_gets_no_acknowledgement(monkeypatch, tmp_path, sqlite_url, smtp, headers):
    recorder, port = smtp
    settings = settings_for(monkeypatch, tmp_path, sqlite_url, **smtp_env(port))
    result = ingest(parse_email(customer_mail("auto@mail.example", "Out of office", **headers)), settings=settings)
    assert result.created_ticket
    send_queued(settings)
    assert recorder.received == []


def test_a_bounce_of_our_reply_fails_its_outbox_row_and_opens_no_ticket(monkeypatch, tmp_path, sqlite_url, smtp):
    recorder, port = smtp
    settings = settings_for(monkeypatch, tmp_path, sqlite_url, **smtp_env(port, email_ack_window_minutes="0"))
    result = ingest(parse_email(customer_mail("c1@mail.example")), settings=settings)
    send_queued(settings)
    sent = reply(result.ref, "Please try the new export button.", settings=settings)
    send_queued(settings)
    ours = msgids(recorder.received[-1].message["Message-ID"])[0]
    bounce = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
        "To: support@trkv.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@mx.example.com>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        "Final-Recipient: rfc822; ada@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <ada@example.com>: Recipient address rejected\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: TRKV Support <support@trkv.example>\r\n"
        f"To: ada@example.com\r\nMessage-ID: <{ours}>\r\nSubject: Re: Export to CSV fails\r\n--B--\r\n"
    ).encode()
    inbound = parse_email(bounce, own_addresses=["support@trkv.example"])
    assert inbound.no_ack_reason
    intake.process(intake.submit([inbound], settings=settings), settings)
    [row] = rows(settings, Outbox, Outbox.id == sent.outbox_id)
    assert row.status == "failed" and "5.1.1" in row.last_error and row.last_error.startswith("bounced")
    assert len(rows(settings, Ticket)) == 1  # the bounce opened no ticket
    [event] = rows(settings, TicketEvent, TicketEvent.kind == "bounce")
    assert event.ticket_id == result.ticket_id and "Recipient address rejected" in event.detail["reason"]


def test_a_reply_to_an_api_ticket_goes_by_email_to_its_author(monkeypatch, tmp_path, sqlite_url, smtp):
    from support.intake.importer import inbound_from_json

    recorder, port = smtp
    settings = settings_for(monkeypatch, tmp_path, sqlite_url, **smtp_env(port, email_ack_window_minutes="0"))
    inbound = inbound_from_json({"channel": "api", "external_id": "form-17", "text": "The dashboard is blank.",
                                 "subject": "Blank dashboard", "author": {"handle": "cy", "email": "cy@example.org"}})
    result = ingest(inbound, settings=settings)
    send_queued(settings)
    sent = reply(result.ref, "Thanks, a fix is rolling out.", settings=settings)
    assert sent.channel == "email"
    send_queued(settings)
    answer = recorder.received[-1].message
    assert recorder.received[-1].rcpt_tos == ["cy@example.org"]
    assert answer["Subject"] == f"Re: Blank dashboard [{result.ref}]"
    assert "Thanks, a fix is rolling out." in body_text(answer)


# --- the must-show loop --------------------------------------------------------------------


def test_a_user_is_acknowledged_once_replies_into_the_ticket_and_gets_the_agents_answer_threaded(
    monkeypatch, tmp_path, db_url, smtp
):
    recorder, port = smtp
    users = {"support@trkv.example": "s3cret", ADA: "ada-pw"}
    with dovecot.running(users) as server:
        # The user's mail server: what the hub sends lands in Ada's mailbox in Dovecot.
        def to_ada(raw: bytes) -> None:
            with dovecot.Dovecot(server.host, server.port, ADA, "ada-pw", server.folder, server.process).client() as c:
                c.append("INBOX", raw)

        recorder.deliver = to_ada
        settings = settings_for(
            monkeypatch, tmp_path, db_url, imap_host=server.host, imap_port=str(server.port),
            imap_user="support@trkv.example", imap_password="s3cret", imap_ssl="0", **smtp_env(port),
        )
        from support.channels import email as email_channel

        running = Running(email_channel.receivers(settings), InlineSink(settings))
        try:
            server.deliver(customer_mail("ada-1@mail.example", body="Exporting to CSV fails with error 500."))
            wait_for(lambda: len(rows(settings, Ticket)) == 1, "the ticket")
            send_queued(settings)
            [ticket] = rows(settings, Ticket)
            ada_inbox = _ada_mailbox(server)
            assert len(ada_inbox) == 1
            ack = ada_inbox[0]
            assert ticket.ref in ack["Subject"] and ticket.ref in body_text(ack)
            # The promised response time is the ticket's own due time.
            assert promised_response(ticket.first_response_due_at, ticket.created_at) in body_text(ack)
            # Ada answers the acknowledgement from her mail client.
            ack_id = msgids(ack["Message-ID"])[0]
            server.deliver(customer_mail(
                "ada-2@mail.example", subject=f"Re: {ack['Subject'].removeprefix('Re: ')}",
                body="Here is the file that fails.\n\nOn Fri, TRKV Support wrote:\n> We have logged your request",
                in_reply_to=f"<{ack_id}>", references=f"<ada-1@mail.example> <{ack_id}>",
            ))
            wait_for(lambda: len(rows(settings, Message, Message.direction == "in")) == 2, "Ada's reply")
            send_queued(settings)
        finally:
            running.stop()
        assert len(rows(settings, Ticket)) == 1  # the reply joined the ticket
        joined = rows(settings, Message, Message.external_id == "ada-2@mail.example")[0]
        assert joined.ticket_id == ticket.id and joined.text == "Here is the file that fails."
        assert len(_ada_mailbox(server)) == 1  # exactly one acknowledgement, none for the reply

        sent = reply(ticket.ref, "Thanks! A fix for the CSV export is deployed.", settings=settings)
        assert dispatch(sent.outbox_id, settings).status == "sent"
        mailbox = _ada_mailbox(server)
        assert len(mailbox) == 2
        answer = mailbox[1]
        assert msgids(answer["In-Reply-To"]) == ["ada-2@mail.example"]
        # The whole conversation in References: her first mail, our acknowledgement, her reply.
        assert msgids(answer["References"]) == ["ada-1@mail.example", ack_id, "ada-2@mail.example"]
        assert answer["Subject"] == f"Re: Export to CSV fails [{ticket.ref}]"
        assert "Auto-Submitted" not in answer
        assert "A fix for the CSV export is deployed." in body_text(answer)


def _ada_mailbox(server) -> list:
    client = dovecot.Dovecot(server.host, server.port, ADA, "ada-pw", server.folder, server.process).client()
    with client:
        client.select_folder("INBOX", readonly=True)
        uids = sorted(client.search())
        fetched = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
    return [email.message_from_bytes(fetched[u][b"BODY[]"], policy=email.policy.default) for u in uids]


def test_sending_over_starttls_and_an_untrusted_certificate_is_permanent(tmp_path):
    import ssl

    cert, key = dovecot.self_signed_certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    handler = Recorder()
    port = dovecot.free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=server_context, require_starttls=True)
    controller.start()
    try:
        outbound = Outbound(channel="email", kind="reply", idempotency_key="reply:tls", text="Over TLS.", to=ADA)
        trusting = SmtpSender("127.0.0.1", port, from_address="support@trkv.example", starttls=True,
                              ssl_context=ssl.create_default_context(cafile=str(cert)))
        trusting.send(outbound)
        assert body_text(handler.received[0].message).strip() == "Over TLS."
        untrusting = SmtpSender("127.0.0.1", port, from_address="support@trkv.example", starttls=True)
        with pytest.raises(ConnectorError) as failure:
            untrusting.send(outbound)
        assert failure.value.permanent and "certificate" in str(failure.value)
        plain = SmtpSender("127.0.0.1", port, from_address="support@trkv.example", starttls=False)
        with pytest.raises(ConnectorError) as refused:  # the server insists on STARTTLS first: 530, permanent
            plain.send(outbound)
        assert refused.value.permanent
    finally:
        controller.stop()
