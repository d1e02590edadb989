"""The web inbox: login sessions, CSRF, escaping and security headers (SQLite)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from inbox.app import create_app
from support import accounts
from support.intake.ingest import ingest
from tests.cast import ada_email

LEAD = "lena.lead@trkv.test"
PASSWORD = "correct horse battery"
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def lead(sqlite_settings) -> str:
    accounts.create_user(LEAD, "lead", PASSWORD, settings=sqlite_settings)
    return LEAD


@pytest.fixture
def browser(sqlite_settings, lead) -> TestClient:
    with TestClient(create_app(sqlite_settings), follow_redirects=False) as browser:
        yield browser


def csrf_from(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def log_in(browser: TestClient, password: str = PASSWORD):
    token = csrf_from(browser.get("/login").text)
    return browser.post("/login", data={"email": LEAD, "password": password, "csrf_token": token})


def seed(settings, subject: str = "Export broken", text: str = "The export button does nothing.") -> str:
    """A ticket from Ada's email."""
    return ingest(ada_email(text=text, subject=subject), live=False, settings=settings).ref


def test_root_redirects_to_login_when_logged_out(browser):
    response = browser.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_ticket_page_redirects_to_login_when_logged_out(browser, sqlite_settings):
    ref = seed(sqlite_settings)
    assert browser.get(f"/tickets/{ref}").headers["location"] == "/login"


def test_login_with_the_wrong_password_fails(browser):
    response = log_in(browser, password="wrong password")
    assert response.status_code == 400
    assert "Wrong email or password" in response.text
    assert "trkv_session" not in response.cookies


def test_login_then_the_inbox_lists_the_ticket(browser, sqlite_settings):
    ref = seed(sqlite_settings)
    assert log_in(browser).status_code == 303
    page = browser.get("/")
    assert page.status_code == 200
    assert f'href="/tickets/{ref}"' in page.text and "Export broken" in page.text


def test_inbox_rows_fragment_lists_tickets_for_the_refresh(browser, sqlite_settings):
    ref = seed(sqlite_settings)
    log_in(browser)
    fragment = browser.get("/inbox/rows")
    assert fragment.status_code == 200 and ref in fragment.text and "<html" not in fragment.text


def test_inbox_rows_fragment_needs_a_session(browser):
    assert browser.get("/inbox/rows").status_code == 401


def test_ticket_page_shows_its_messages(browser, sqlite_settings):
    ref = seed(sqlite_settings)
    log_in(browser)
    page = browser.get(f"/tickets/{ref}")
    assert page.status_code == 200 and "The export button does nothing." in page.text


def test_unknown_ticket_page_is_404(browser):
    log_in(browser)
    assert browser.get("/tickets/TRKV-424242").status_code == 404


def test_login_without_the_csrf_token_is_rejected(browser):
    browser.get("/login")
    response = browser.post("/login", data={"email": LEAD, "password": PASSWORD})
    assert response.status_code == 403
    assert "trkv_session" not in response.cookies


def test_csrf_token_from_another_browser_is_rejected(browser, sqlite_settings):
    with TestClient(create_app(sqlite_settings)) as other:
        foreign_token = csrf_from(other.get("/login").text)
    browser.get("/login")
    response = browser.post("/login", data={"email": LEAD, "password": PASSWORD, "csrf_token": foreign_token})
    assert response.status_code == 403


def test_logout_without_the_csrf_token_is_rejected(browser):
    log_in(browser)
    assert browser.post("/logout", data={}).status_code == 403
    assert browser.get("/").status_code == 200


def test_logout_ends_the_session(browser):
    log_in(browser)
    token = csrf_from(browser.get("/").text)
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 303
    assert browser.get("/").headers["location"] == "/login"


def test_a_forged_session_cookie_is_ignored(browser):
    browser.cookies.set("trkv_session", "eyJ1aWQiOjF9.forged.signature")
    assert browser.get("/").status_code == 303


def test_hostile_subject_is_escaped_in_the_pages(browser, sqlite_settings):
    ref = seed(sqlite_settings, subject=HOSTILE, text=HOSTILE)
    log_in(browser)
    for path in ("/", "/inbox/rows", f"/tickets/{ref}"):
        page = browser.get(path).text
        assert HOSTILE not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_session_cookie_is_http_only_and_same_site_lax(browser):
    cookie = _session_set_cookie(log_in(browser))
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie


def test_session_cookie_is_secure_when_the_public_url_is_https(sqlite_settings, lead):
    settings = sqlite_settings.model_copy(update={"public_url": "https://support.trkv.test"})
    with TestClient(create_app(settings), base_url="https://testserver", follow_redirects=False) as browser:
        assert "secure" in _session_set_cookie(log_in(browser))


def _session_set_cookie(response) -> str:
    cookies = [c.lower() for c in response.headers.get_list("set-cookie") if c.startswith("trkv_session=")]
    assert len(cookies) == 1
    return cookies[0]


def test_pages_forbid_inline_scripts_and_sniffing(browser):
    response = browser.get("/login")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_inbox_refreshes_with_a_static_script_not_a_reload(browser):
    log_in(browser)
    page = browser.get("/").text
    assert 'http-equiv="refresh"' not in page.lower()
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/inbox.js" defer>']
    script = browser.get("/static/inbox.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
