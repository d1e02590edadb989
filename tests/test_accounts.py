"""Accounts a senior on-call engineer can trust: guessing passwords stops at ten, sessions
end when they should (logout, a new password, deactivation), tokens can be revoked by the
CLI, the users page and the API, and nobody locks themself out through the web (SQLite)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from inbox.app import create_app
from support import accounts
from tests.test_cli import trkv

LEAD = "lena.lead@trkv.test"
ENGINEER = "eli.engineer@trkv.test"
PASSWORD = "correct horse battery"


@pytest.fixture
def people(sqlite_settings) -> dict[str, int]:
    return {email: accounts.create_user(email, role, PASSWORD, settings=sqlite_settings).id
            for email, role in ((LEAD, "lead"), (ENGINEER, "engineer"))}


def browser(settings, client_ip: str = "203.0.113.7") -> TestClient:
    return TestClient(create_app(settings), follow_redirects=False, client=(client_ip, 50000))


def csrf_from(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def log_in(client: TestClient, email: str = LEAD, password: str = PASSWORD):
    token = csrf_from(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def logged_in(client: TestClient) -> bool:
    return client.get("/").status_code == 200


# throttled logins -------------------------------------------------------------------------


def test_ten_wrong_passwords_block_the_account_with_429_and_retry_after(sqlite_settings, people):
    client = browser(sqlite_settings)
    statuses = [log_in(client, password=f"wrong guess {n}").status_code for n in range(10)]
    assert statuses[:9] == [400] * 9 and statuses[9] == 429
    refused = log_in(client)  # even the right password: a guesser must not learn it is right
    assert refused.status_code == 429 and 60 <= int(refused.headers["Retry-After"]) <= 15 * 60
    assert "Too many failed logins" in refused.text and "trkv_session" not in refused.cookies
    other_client = browser(sqlite_settings, "198.51.100.9")
    assert log_in(other_client).status_code == 429  # per account: another address does not help


def test_one_client_guessing_many_accounts_is_blocked_too(sqlite_settings, people):
    client = browser(sqlite_settings)
    statuses = [log_in(client, email=f"user{n}@trkv.test", password="wrong guess").status_code for n in range(10)]
    assert statuses[-1] == 429
    assert log_in(client, email=ENGINEER).status_code == 429
    assert log_in(browser(sqlite_settings, "198.51.100.9"), email=ENGINEER).status_code == 303


def test_a_good_login_resets_the_account_count(sqlite_settings, people):
    client = browser(sqlite_settings)
    for n in range(5):
        log_in(client, password=f"wrong guess {n}")
    assert log_in(client).status_code == 303
    elsewhere = browser(sqlite_settings, "198.51.100.9")
    assert [log_in(elsewhere, password="wrong").status_code for _ in range(9)] == [400] * 9


# revocable sessions ----------------------------------------------------------------------


def test_a_cookie_kept_from_before_logout_no_longer_works(sqlite_settings, people):
    client = browser(sqlite_settings)
    assert log_in(client).status_code == 303
    stolen = client.cookies.get("trkv_session")
    assert client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)}).status_code == 303
    replay = browser(sqlite_settings)
    replay.cookies.set("trkv_session", stolen)
    assert replay.get("/").headers["location"] == "/login"


def test_a_new_password_ends_every_session_of_the_user(sqlite_settings, people):
    laptop, phone = browser(sqlite_settings), browser(sqlite_settings)
    log_in(laptop), log_in(phone)
    accounts.set_password(LEAD, "a brand new password", settings=sqlite_settings)
    assert not logged_in(laptop) and not logged_in(phone)
    assert log_in(laptop, password=PASSWORD).status_code == 400
    assert log_in(laptop, password="a brand new password").status_code == 303


def test_deactivation_ends_sessions_and_tokens_at_once(sqlite_settings, people):
    client = browser(sqlite_settings)
    log_in(client, email=ENGINEER)
    token = accounts.create_token(ENGINEER, settings=sqlite_settings)
    api = TestClient(create_app(sqlite_settings), headers={"Authorization": f"Bearer {token}"})
    assert logged_in(client) and api.get("/api/tickets").status_code == 200
    accounts.set_active(ENGINEER, False, settings=sqlite_settings)
    assert not logged_in(client) and api.get("/api/tickets").status_code == 401
    assert log_in(client, email=ENGINEER).status_code == 400


# the users page and the API, for leads ------------------------------------------------------------


def test_a_lead_deactivates_an_engineer_and_revokes_a_token_on_the_users_page(sqlite_settings, people):
    token_id, token = accounts.create_token_row(ENGINEER, name="ci", settings=sqlite_settings)
    lead = browser(sqlite_settings)
    log_in(lead)
    page = lead.get("/users")
    assert page.status_code == 200 and ENGINEER in page.text and token[:12] in page.text and token not in page.text
    form = {"csrf_token": csrf_from(page.text)}
    assert lead.post(f"/users/tokens/{token_id}/revoke", data=form).status_code == 303
    api = TestClient(create_app(sqlite_settings), headers={"Authorization": f"Bearer {token}"})
    assert api.get("/api/tickets").status_code == 401
    engineer = browser(sqlite_settings)
    log_in(engineer, email=ENGINEER)
    assert lead.post(f"/users/{people[ENGINEER]}/deactivate", data=form).status_code == 303
    assert "deactivated" in lead.get("/users").text and not logged_in(engineer)


def test_the_users_page_refuses_to_act_on_its_caller(sqlite_settings, people):
    own_token_id, own_token = accounts.create_token_row(LEAD, settings=sqlite_settings)
    lead = browser(sqlite_settings)
    log_in(lead)
    form = {"csrf_token": csrf_from(lead.get("/users").text)}
    answer = lead.post(f"/users/{people[LEAD]}/deactivate", data=form)
    assert "cannot+deactivate+yourself" in answer.headers["location"]
    lead.post(f"/users/tokens/{own_token_id}/revoke", data=form)
    assert logged_in(lead)
    api = TestClient(create_app(sqlite_settings), headers={"Authorization": f"Bearer {own_token}"})
    assert api.get("/api/tickets").status_code == 200


def test_the_api_refuses_to_revoke_the_callers_token_or_deactivate_the_caller(sqlite_settings, people):
    token_id, token = accounts.create_token_row(LEAD, settings=sqlite_settings)
    api = TestClient(create_app(sqlite_settings), headers={"Authorization": f"Bearer {token}"})
    assert api.post(f"/api/tokens/{token_id}/revoke").status_code == 409
    assert api.post(f"/api/users/{people[LEAD]}/deactivate").status_code == 409
    assert api.get("/api/tickets").status_code == 200
    listed = {u["email"]: u for u in api.get("/api/users").json()["items"]}
    assert listed[LEAD]["tokens"][0]["prefix"] == token[:12] and token not in str(listed)
    assert api.post(f"/api/users/{people[ENGINEER]}/deactivate").json()["active"] is False
    assert api.post("/api/users/424242/deactivate").status_code == 404


def test_engineers_cannot_manage_users(sqlite_settings, people):
    token = accounts.create_token(ENGINEER, settings=sqlite_settings)
    api = TestClient(create_app(sqlite_settings), headers={"Authorization": f"Bearer {token}"})
    assert api.post(f"/api/users/{people[LEAD]}/deactivate").status_code == 403


# the CLI -------------------------------------------------------------------------------------------


def test_trkv_token_revoke_by_id_or_prefix_and_user_deactivate(tmp_path):
    home = tmp_path / "home"
    assert trkv(["user", "add", LEAD, "--role", "lead"], home, stdin=PASSWORD + "\n").returncode == 0
    first = trkv(["token", "create", LEAD, "--name", "ci"], home)
    second = trkv(["token", "create", LEAD], home)
    token, other = first.stdout.strip().splitlines()[-1], second.stdout.strip().splitlines()[-1]
    assert token.startswith("trkv_") and " " not in token  # the token alone on the last line
    listed = trkv(["token", "list"], home).stdout
    assert token[:12] in listed and token not in listed
    assert trkv(["token", "revoke", token[:12]], home).returncode == 0
    token_id = re.search(r"API token (\d+)", second.stdout).group(1)
    assert trkv(["token", "revoke", token_id], home).returncode == 0
    assert listed.count("live") == 2 and trkv(["token", "list"], home).stdout.count("revoked") == 2
    from trkv.settings import Settings

    settings = Settings(home=home, database_url=None)
    assert accounts.user_for_token(token, settings) is None and accounts.user_for_token(other, settings) is None
    ambiguous = trkv(["token", "revoke", "trkv"], home)
    assert ambiguous.returncode != 0 and "at least" in ambiguous.stderr
    assert trkv(["user", "password", LEAD], home, stdin="short\n").returncode != 0
    assert trkv(["user", "password", LEAD], home, stdin="a brand new password\n").returncode == 0
    assert accounts.authenticate(LEAD, "a brand new password", settings) is not None
    assert trkv(["user", "deactivate", LEAD], home).returncode == 0
    assert "deactivated" in trkv(["user", "list"], home).stdout
    assert trkv(["user", "deactivate", "nobody@trkv.test"], home).returncode != 0


def test_the_failure_count_and_sessions_live_in_the_database_on_both_backends(settings):
    """Shared by every web process and host: what one counted or ended, all see."""
    keys = ["account:x@trkv.test", "client:192.0.2.1"]
    assert [accounts.record_login_failure(keys, settings) > 0 for _ in range(10)] == [False] * 9 + [True]
    assert accounts.login_blocked_for(keys[1:], settings) > 14 * 60
    accounts.clear_login_failures(keys[:1], settings)
    assert accounts.login_blocked_for(keys[:1], settings) == 0 and accounts.login_blocked_for(keys, settings) > 0
    user = accounts.create_user(LEAD, "lead", PASSWORD, settings=settings)
    from datetime import timedelta

    session_id = accounts.start_session(user.id, timedelta(days=7), settings)
    assert accounts.session_user(user.id, session_id, settings).email == LEAD
    assert accounts.session_user(user.id + 1, session_id, settings) is None  # a session is its user's only
    accounts.end_session(session_id, settings)
    assert accounts.session_user(user.id, session_id, settings) is None
