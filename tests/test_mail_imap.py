"""The IMAP receiver against a real Dovecot on loopback, through the unmodified
imapclient library, into a real database."""

from __future__ import annotations

import logging
import os
import signal
import ssl
import time
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import format_datetime, localtime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from connectors.base import ConnectorError
from connectors.imap import ImapReceiver
from connectors.runner import run_receivers
from storage.db import session_factory
from storage.models.intake import ConnectorCursor, InboundQueue
from storage.models.tickets import Message, Ticket
from support import health
from support.channels import email as email_channel
from tests import dovecot
from tests.conftest import settings_for
from tests.dovecot import WAIT, InlineSink, Running, wait_for
from tests.rows import count


def mail(n: int, subject: str | None = None, sender: str = "ada@example.com", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Ada Lovelace <{sender}>"
    msg["To"] = dovecot.USER
    msg["Subject"] = subject or f"Export problem number {n}"
    msg["Date"] = format_datetime(localtime())
    msg["Message-ID"] = f"<msg-{n}@mail.example>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(f"Hello, exporting project {n} to CSV fails with an error. Can you help?\n")
    return msg.as_bytes()




def cursor(settings, name: str) -> str | None:
    with session_factory(settings.db_url)() as session:
        return session.execute(select(ConnectorCursor.value).where(ConnectorCursor.name == name)).scalar()


@pytest.fixture
def server() -> Iterator[dovecot.Dovecot]:
    with dovecot.running() as running:
        yield running


@pytest.fixture
def mail_settings(monkeypatch, tmp_path, sqlite_url, server):
    return settings_for(
        monkeypatch, tmp_path, sqlite_url, imap_host=server.host, imap_port=str(server.port), imap_user=server.user,
        imap_password=server.password, imap_ssl="0", imap_starttls="0", imap_folders="INBOX", imap_timeout="10",
    )


def receiver(server, **kw) -> ImapReceiver:
    kw.setdefault("ssl", False)
    kw.setdefault("timeout", 10)
    return ImapReceiver(server.host, server.port, server.user, server.password, **kw)


def test_mail_delivered_while_the_connector_idles_becomes_tickets(server, mail_settings):
    sink = InlineSink(mail_settings)
    [imap] = email_channel.receivers(mail_settings)
    assert imap.name == "email:INBOX"
    running = Running([imap], sink)
    try:
        server.deliver(mail(1))
        server.deliver(mail(2, "Ünïcode in the subject"))
        wait_for(lambda: count(mail_settings, Ticket) == 2, "two tickets")
    finally:
        running.stop()
    with session_factory(mail_settings.db_url)() as session:
        subjects = set(session.execute(select(Ticket.subject)).scalars())
        authors = set(session.execute(select(Message.author)).scalars())
    assert subjects == {"Export problem number 1", "Ünïcode in the subject"}
    assert authors == {"Ada Lovelace"}
    validity = server.client().select_folder("INBOX")[b"UIDVALIDITY"]
    assert cursor(mail_settings, "email:INBOX") == f"{validity}:2"
    assert health.check(mail_settings)[1]["connectors"]["email:INBOX"]["state"] == "ok"


def test_a_restarted_connector_fetches_nothing_twice_and_skips_nothing(server, mail_settings):
    sink = InlineSink(mail_settings)
    for n in (1, 2, 3):
        server.deliver(mail(n))
    running = Running([receiver(server)], sink)
    try:
        wait_for(lambda: count(mail_settings, Message) == 3, "the first three messages")
    finally:
        running.stop()
    for n in (4, 5):  # arrive while the connector is down
        server.deliver(mail(n))
    running = Running([receiver(server)], sink)
    try:
        server.deliver(mail(6))  # arrives while it runs again
        wait_for(lambda: count(mail_settings, Message) == 6, "all six messages")
    finally:
        running.stop()
    assert sink.submitted == [f"msg-{n}@mail.example" for n in range(1, 7)]  # each fetched once, in order
    assert count(mail_settings, InboundQueue) == 6


def test_the_cursor_only_moves_after_the_sink_has_committed(server, mail_settings):
    class FailingSink(InlineSink):
        def submit(self, inbound) -> None:
            if inbound.external_id == "msg-2@mail.example":
                raise ConnectorError("database unavailable")
            super().submit(inbound)

    for n in (1, 2, 3):
        server.deliver(mail(n))
    imap = receiver(server)
    stop = threading.Event()
    with pytest.raises(ConnectorError):
        imap.run(FailingSink(mail_settings), stop)
    # Message 1 was stored, but the chunk's cursor was never saved: a retry redelivers, ingest deduplicates.
    assert cursor(mail_settings, "email:INBOX") is None
    sink = InlineSink(mail_settings)
    running = Running([receiver(server)], sink)
    try:
        wait_for(lambda: count(mail_settings, Message) == 3, "all three messages")
    finally:
        running.stop()
    assert count(mail_settings, Message) == 3 and count(mail_settings, Ticket) == 3


def test_a_uidvalidity_change_resyncs_and_stores_nothing_twice(server, mail_settings):
    server.deliver(mail(1), folder="Support")
    server.deliver(mail(2), folder="Support")
    sink = InlineSink(mail_settings)
    running = Running([receiver(server, folder="Support")], sink)
    try:
        wait_for(lambda: count(mail_settings, Message) == 2, "the first two messages")
    finally:
        running.stop()
    old = cursor(mail_settings, "email:Support")
    # The folder is re-created (a server migration, a restore): same mail, new UIDs, new UIDVALIDITY.
    with server.client() as client:
        client.delete_folder("Support")
        client.create_folder("Support")
        for n in (1, 2, 3):
            client.append("Support", mail(n))
        validity = client.select_folder("Support")[b"UIDVALIDITY"]
    assert old.split(":")[0] != str(validity)
    running = Running([receiver(server, folder="Support")], sink)
    try:
        wait_for(lambda: count(mail_settings, Message) == 3, "the new message")
        wait_for(lambda: cursor(mail_settings, "email:Support") == f"{validity}:3", "the new cursor")
    finally:
        running.stop()
    assert count(mail_settings, Message) == 3 and count(mail_settings, Ticket) == 3


def _logged(caplog, words: str) -> int:
    return sum(words in record.getMessage() for record in caplog.records if record.name == "connectors.imap")


def test_without_idle_the_receiver_polls_and_each_poll_finds_new_mail(server, mail_settings, caplog):
    caplog.set_level(logging.DEBUG, logger="connectors.imap")
    sink = InlineSink(mail_settings)
    running = Running([receiver(server, use_idle=False, poll_interval=0.2)], sink)
    try:
        wait_for(lambda: _logged(caplog, "polled") >= 2, "two polls")
        server.deliver(mail(1))
        wait_for(lambda: count(mail_settings, Ticket) == 1, "a ticket from a poll")
        server.deliver(mail(2))
        wait_for(lambda: count(mail_settings, Ticket) == 2, "a ticket from the next poll")
    finally:
        running.stop()
    assert _logged(caplog, "(polling)") == 1 and _logged(caplog, "IDLE renewed") == 0


def test_idle_is_reissued_when_its_time_is_up_and_mail_keeps_arriving(server, mail_settings, caplog):
    caplog.set_level(logging.DEBUG, logger="connectors.imap")
    sink = InlineSink(mail_settings)
    imap = receiver(server, idle_renew=0.2)
    running = Running([imap], sink)
    try:
        server.deliver(mail(1))
        wait_for(lambda: count(mail_settings, Ticket) == 1, "the first ticket")
        wait_for(lambda: _logged(caplog, "IDLE renewed") >= 2, "two IDLE renewals without news")
        assert _logged(caplog, "polled") == 0
        server.deliver(mail(2))
        wait_for(lambda: count(mail_settings, Ticket) == 2, "a ticket after the renewals")
    finally:
        running.stop()


def test_several_folders_each_get_a_receiver_and_a_cursor(server, monkeypatch, tmp_path, sqlite_url):
    settings = settings_for(
        monkeypatch, tmp_path, sqlite_url, imap_host=server.host, imap_port=str(server.port), imap_user=server.user,
        imap_password=server.password, imap_ssl="0", imap_folders="INBOX, Billing",
    )
    server.deliver(mail(1))
    server.deliver(mail(2), folder="Billing")
    receivers = email_channel.receivers(settings)
    assert [r.name for r in receivers] == ["email:INBOX", "email:Billing"]
    running = Running(receivers, InlineSink(settings))
    try:
        wait_for(lambda: count(settings, Ticket) == 2, "a ticket from each folder")
        wait_for(lambda: bool(cursor(settings, "email:INBOX") and cursor(settings, "email:Billing")), "two cursors")
    finally:
        running.stop()


def test_a_wrong_password_is_permanent_and_shows_in_healthz_and_the_log(server, monkeypatch, tmp_path, sqlite_url, caplog):
    settings = settings_for(
        monkeypatch, tmp_path, sqlite_url, imap_host=server.host, imap_port=str(server.port), imap_user=server.user,
        imap_password="wrong", imap_ssl="0",
    )
    caplog.set_level(logging.ERROR, logger="connectors.runner")
    stop = threading.Event()
    thread = threading.Thread(target=run_receivers, args=(email_channel.receivers(settings), InlineSink(settings), stop))
    thread.start()
    thread.join(WAIT)  # a permanent error ends the receiver: no retry loop against the server
    assert not thread.is_alive()
    state = health.check(settings)[1]["connectors"]["email:INBOX"]
    assert state["state"] == "down" and "login failed" in state["detail"]
    assert "wrong" not in state["detail"]  # the password is never shown
    assert any("login failed" in r.getMessage() for r in caplog.records)


def test_an_unreachable_server_is_a_transient_error(mail_settings):
    imap = ImapReceiver("127.0.0.1", dovecot.free_port(), "u", "p", ssl=False, timeout=5)
    with pytest.raises(ConnectorError) as failure:
        imap.run(InlineSink(mail_settings), threading.Event())
    assert not failure.value.permanent


def test_a_missing_folder_is_a_permanent_error(server, mail_settings):
    with pytest.raises(ConnectorError) as failure:
        receiver(server, folder="Nope").run(InlineSink(mail_settings), threading.Event())
    assert failure.value.permanent and "Nope" in str(failure.value)


def test_bytes_that_are_not_mail_are_stored_with_the_reason_not_dropped(server, mail_settings):
    server.deliver(b"\r\n\r\njust some bytes, no header at all\r\n")
    server.deliver(mail(1))
    sink = InlineSink(mail_settings)
    running = Running([receiver(server)], sink)
    try:
        wait_for(lambda: count(mail_settings, Message) == 2, "both messages")
    finally:
        running.stop()
    with session_factory(mail_settings.db_url)() as session:
        odd = session.execute(select(Message).where(Message.external_id.like("imap:%"))).scalar_one()
    assert "not an email" in odd.text and odd.problems


# --- TLS ---------------------------------------------------------------------------------


@pytest.fixture
def tls_server() -> Iterator[dovecot.Dovecot]:
    with dovecot.running(tls=True) as running:
        yield running


def _trusting(cafile) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cafile))


@pytest.mark.parametrize("mode", ["imaps", "starttls"])
def test_mail_is_received_over_tls_and_starttls(tls_server, monkeypatch, tmp_path, sqlite_url, mode):
    settings = settings_for(monkeypatch, tmp_path, sqlite_url)
    port = tls_server.imaps_port if mode == "imaps" else tls_server.port
    imap = ImapReceiver(tls_server.host, port, tls_server.user, tls_server.password, ssl=mode == "imaps",
                        starttls=mode == "starttls", ssl_context=_trusting(tls_server.cafile), timeout=10)
    tls_server.deliver(mail(1))
    running = Running([imap], InlineSink(settings))
    try:
        wait_for(lambda: count(settings, Ticket) == 1, f"a ticket over {mode}")
    finally:
        running.stop()


def test_an_untrusted_certificate_is_a_permanent_error(tls_server, mail_settings):
    imap = ImapReceiver(tls_server.host, tls_server.imaps_port, tls_server.user, tls_server.password, ssl=True,
                        timeout=10)  # the system's trust store does not know the test certificate
    with pytest.raises(ConnectorError) as failure:
        imap.run(InlineSink(mail_settings), threading.Event())
    assert failure.value.permanent and "certificate" in str(failure.value)


def test_a_server_restart_is_a_transient_error_and_the_connector_comes_back(server, mail_settings):
    sink = InlineSink(mail_settings)
    running = Running([receiver(server)], sink)
    try:
        server.deliver(mail(1))
        wait_for(lambda: count(mail_settings, Ticket) == 1, "the first ticket")
        server.restart()  # drops the connection under the idling receiver
        server.deliver(mail(2))
        wait_for(lambda: count(mail_settings, Ticket) == 2, "a ticket after the reconnect")
    finally:
        running.stop()
    assert sink.submitted == ["msg-1@mail.example", "msg-2@mail.example"]
    assert health.check(mail_settings)[1]["connectors"]["email:INBOX"]["state"] == "ok"


class DatabaseRestartingSink(InlineSink):
    """The hub's sink while PostgreSQL restarts: its first writes of connector health fail
    as SQLAlchemy reports a lost server (the database is real; only its outage is staged)."""

    def __init__(self, settings, failures: int):
        super().__init__(settings)
        self.failures = failures

    def report(self, name: str, state: str, detail: str = "") -> None:
        if self.failures > 0:
            self.failures -= 1
            lost = Exception("server closed the connection unexpectedly")
            raise OperationalError("UPDATE connector_states", {}, lost)
        super().report(name, state, detail)


def test_a_database_outage_while_reporting_health_does_not_end_the_connector(server, mail_settings):
    # The receiver reports "ok" after connecting; the runner reports "down" after a failure.
    # Both fail while the database is away, and the connector must still come back for mail.
    sink = DatabaseRestartingSink(mail_settings, failures=3)
    running = Running([receiver(server)], sink)
    try:
        server.deliver(mail(1))
        wait_for(lambda: count(mail_settings, Ticket) == 1, "a ticket once the database is back")
        assert running.thread.is_alive()
    finally:
        running.stop()
    assert health.check(mail_settings)[1]["connectors"]["email:INBOX"]["state"] == "ok"


def test_a_silently_dead_connection_is_noticed_when_idle_is_renewed(server, mail_settings):
    # A server (or a NAT box between) that stops answering without closing the connection:
    # the IDLE renewal's DONE gets no answer within the timeout and the receiver reconnects.
    sink = InlineSink(mail_settings)
    running = Running([receiver(server, idle_renew=1, timeout=3)], sink)
    frozen: list[int] = []
    try:
        server.deliver(mail(1))
        wait_for(lambda: count(mail_settings, Ticket) == 1, "the first ticket")
        frozen = dovecot.imap_processes(server)
        assert frozen, "no imap process serves the receiver"
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        server.deliver(mail(2))  # a new connection: a new imap process
        wait_for(lambda: count(mail_settings, Ticket) == 2, "a ticket over a new connection")
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
        running.stop()


def test_idle_is_renewed_by_default_before_a_nat_box_forgets_the_connection(mail_settings):
    # Common NAT gateways drop a TCP flow idle for 350 s; a dead connection is noticed at the
    # next renewal, so the default must come before that (RFC 2177's 29 minutes is the outer bound).
    [imap] = email_channel.receivers(mail_settings)
    assert imap.idle_renew < 350


def test_a_server_that_closes_the_connection_during_idle_is_noticed_at_once(server, mail_settings):
    # imapclient's idle_check() swallows EOF and returns no responses: a receiver that only
    # waited for news would sit on a closed connection until its next IDLE renewal (minutes).
    sink = InlineSink(mail_settings)
    running = Running([receiver(server)], sink)  # the default renewal: 5 minutes
    try:
        server.deliver(mail(1))
        wait_for(lambda: count(mail_settings, Ticket) == 1, "the first ticket")
        time.sleep(2)  # the receiver is idling now (setup, not a measurement)
        for pid in dovecot.imap_processes(server):  # the server side of the connection ends
            os.kill(pid, signal.SIGKILL)
        server.deliver(mail(2))
        wait_for(lambda: count(mail_settings, Ticket) == 2, "a ticket within the wait, long before a renewal")
    finally:
        running.stop()
