"""Secrets and the step to two hosts: customers' addresses stay out of INFO logs, and a
session, a CSRF token or an acknowledgement link signed on one host verifies on another
exactly when both share TRKV_SECRET_KEY (each with its own TRKV_HOME, one database)."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient

from connectors.mail.parse import parse_email
from inbox.app import create_app
from storage.models.base import utcnow
from support import accounts
from support.intake.ingest import ingest
from support.oncall import paging
from tests.conftest import settings_for
from tests.test_mail_smtp import customer_mail, send_queued, smtp, smtp_env  # noqa: F401  (smtp: a fixture)
from trkv.settings import Settings

LEAD = "lena.lead@trkv.test"
PASSWORD = "correct horse battery"
ADDRESS = "ada.private@mail.example"


def test_sending_and_suppressing_acknowledgements_logs_no_customer_address_at_info(
        monkeypatch, tmp_path, sqlite_url, smtp, caplog):  # noqa: F811
    recorder, port = smtp
    settings = settings_for(monkeypatch, tmp_path, sqlite_url, **smtp_env(port, email_ack_window_minutes="60"))
    with caplog.at_level(logging.INFO):
        ingest(parse_email(customer_mail("a1@mail.example", "Export fails", sender=ADDRESS)), settings=settings)
        ingest(parse_email(customer_mail("a2@mail.example", "Billing", sender=ADDRESS)), settings=settings)
        send_queued(settings)
    assert [r.rcpt_tos[0] for r in recorder.received] == [ADDRESS]  # sent once, suppressed once: both logged
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))  # not the test server's
    assert "acknowledged recently" in ours and "sent as" in ours
    assert ADDRESS not in ours


# two hosts ---------------------------------------------------------------------------------------


def host(tmp_path, name: str, db_url: str, secret_key: str | None) -> Settings:
    """One host of the hub: its own TRKV_HOME, the shared database."""
    return Settings(home=tmp_path / name, database_url=db_url, demo=False,
                    **({"secret_key": secret_key} if secret_key else {}))


def log_in(client: TestClient) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    assert client.post("/login", data={"email": LEAD, "password": PASSWORD, "csrf_token": token}).status_code == 303


@pytest.mark.parametrize("shared_key", [True, False], ids=["one TRKV_SECRET_KEY", "a generated key per home"])
def test_a_session_and_its_csrf_token_from_host_a_work_on_host_b_only_with_a_shared_key(
        tmp_path, sqlite_settings, shared_key):
    key = "the hub's one secret key" if shared_key else None
    a, b = (host(tmp_path, name, sqlite_settings.db_url, key) for name in ("a", "b"))
    accounts.create_user(LEAD, "lead", PASSWORD, settings=a)
    on_a = TestClient(create_app(a), follow_redirects=False)
    log_in(on_a)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', on_a.get("/").text).group(1)
    on_b = TestClient(create_app(b), follow_redirects=False, cookies=dict(on_a.cookies))
    assert (on_b.get("/").status_code == 200) is shared_key
    if shared_key:  # a form rendered by A posts to B
        assert on_b.post("/views", data={"name": "Mine", "channel": "email", "csrf_token": csrf}).status_code == 303


@pytest.mark.parametrize("shared_key", [True, False], ids=["one TRKV_SECRET_KEY", "a generated key per home"])
def test_an_acknowledgement_link_signed_on_host_a_verifies_on_host_b_only_with_a_shared_key(
        tmp_path, sqlite_settings, shared_key):
    key = "the hub's one secret key" if shared_key else None
    a, b = (host(tmp_path, name, sqlite_settings.db_url, key) for name in ("a", "b"))
    now = utcnow()
    link = paging.ack_url(7, "user:1", a, now)
    query = dict(part.split("=", 1) for part in link.split("?", 1)[1].split("&"))
    problem = paging.verify(7, query["who"], int(query["exp"]), query["sig"], b, now)
    assert (problem is None) is shared_key
