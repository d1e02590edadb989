"""Every route × every role × anonymous, with the status each must answer.

The table is checked against the app's own route list, so a new route without a row
here fails `test_the_table_covers_every_route`. Each case runs on a fresh database
seeded with two tickets, a quarantined message, a failed outbox row and a saved view.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import timedelta

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from inbox.app import create_app
from storage.db import transaction
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.intake import Quarantine
from storage.models.tickets import SavedView
from support import accounts
from support.intake.ingest import ingest
from tests.cast import ada_email, bo_discord

PASSWORD = "correct horse battery"
ROLES = ("anonymous", "community_manager", "engineer", "lead")
RANK = {"community_manager": 1, "engineer": 2, "lead": 3}


def needs(minimum: str, ok: int, *, anonymous: int) -> dict[str, int]:
    """Expected statuses: `ok` from `minimum` up, 403 below it, `anonymous` without a login."""
    return {"anonymous": anonymous,
            **{role: ok if RANK[role] >= RANK[minimum] else 403 for role in RANK}}


def page(minimum: str, ok: int = 200) -> dict[str, int]:
    return needs(minimum, ok, anonymous=303)  # web pages send strangers to /login


def api(minimum: str, ok: int = 200) -> dict[str, int]:
    return needs(minimum, ok, anonymous=401)


EVERYONE_200 = dict.fromkeys(ROLES, 200)
SOON = utcnow() + timedelta(days=30)  # a maintenance window may be scheduled at most a year ahead
CM, ENG, LEAD = "community_manager", "engineer", "lead"

# (method, path, body, expected status per role). Bodies of POST forms get the CSRF token added.
TABLE = [
    ("GET", "/healthz", None, EVERYONE_200),
    ("GET", "/openapi.json", None, EVERYONE_200),
    ("GET", "/login", None, {"anonymous": 200, CM: 303, ENG: 303, LEAD: 303}),
    ("POST", "/login", {"email": "nobody@trkv.test", "password": "wrong password"}, dict.fromkeys(ROLES, 400)),
    ("POST", "/logout", {}, dict.fromkeys(ROLES, 303)),
    ("GET", "/", None, page(CM)),
    ("GET", "/inbox/rows", None, needs(CM, 200, anonymous=401)),
    ("GET", "/web/changes", None, needs(CM, 200, anonymous=401)),  # live updates (inbox/live.py)
    ("POST", "/views", {"name": "Mine", "channel": "email"}, page(CM, 303)),
    ("POST", "/views/{view}/delete", {}, page(CM, 303)),
    ("POST", "/bulk", {"action": "accept", "ref": "{ref}"}, page(CM, 303)),
    ("GET", "/tickets/{ref}", None, page(CM)),
    ("POST", "/tickets/{ref}/triage", {"action": "accept"}, page(CM, 303)),
    ("POST", "/tickets/{ref}/assign", {"assignee": "me"}, page(CM, 303)),
    ("POST", "/tickets/{ref}/status", {"status": "pending"}, page(CM, 303)),
    ("POST", "/tickets/{ref}/notes", {"text": "checked the logs"}, page(CM, 303)),
    ("POST", "/tickets/{ref}/alert/ack", {}, page(CM, 303)),
    ("POST", "/tickets/{ref}/reply", {"text": "Hi!", "channel": "email", "reply_key": "k"}, page(CM, 303)),
    ("POST", "/tickets/{ref}/merge", {"into": "{other}"}, page(ENG, 303)),
    ("POST", "/contacts/merge", {"source": "{other_contact}", "target": "{contact}"}, page(ENG, 303)),
    ("POST", "/contacts/{contact}/block", {"reason": "spam"}, page(ENG, 303)),
    ("POST", "/contacts/{contact}/unblock", {}, page(ENG, 303)),
    ("GET", "/operations", None, page(ENG)),
    ("POST", "/operations/quarantine/{quarantine}/release", {}, page(ENG, 303)),
    ("POST", "/operations/quarantine/{quarantine}/discard", {}, page(ENG, 303)),
    ("POST", "/operations/outbox/{outbox}/retry", {}, page(ENG, 303)),
    ("GET", "/dashboard", None, page(LEAD)),
    ("GET", "/dashboard/kpis.csv", None, page(LEAD)),
    ("GET", "/dashboard/volume.csv", None, page(LEAD)),
    ("GET", "/users", None, page(LEAD)),
    ("POST", "/users/{victim}/deactivate", {}, page(LEAD, 303)),
    ("POST", "/users/{victim}/activate", {}, page(LEAD, 303)),
    ("POST", "/users/tokens/{victim_token}/revoke", {}, page(LEAD, 303)),
    # the JSON API: a bearer token of the role's user
    ("POST", "/api/inbound", {"channel": "api", "external_id": "e-1", "text": "hi", "author": {"handle": "ann"}},
     api(CM, 201)),
    ("GET", "/api/tickets", None, api(CM)),
    ("GET", "/api/tickets/{ref}", None, api(CM)),
    ("POST", "/api/tickets/{ref}/triage", {"accept": True}, api(CM)),
    ("POST", "/api/tickets/{ref}/assign", {"assignee": None}, api(CM)),
    ("POST", "/api/tickets/{ref}/status", {"status": "pending"}, api(CM)),
    ("POST", "/api/tickets/{ref}/notes", {"text": "n"}, api(CM, 201)),
    ("POST", "/api/tickets/{ref}/reply", {"text": "Hi!"}, api(CM, 202)),
    ("POST", "/api/tickets/{ref}/merge", {"into": "{other}"}, api(ENG)),
    ("POST", "/api/bulk", {"refs": ["{ref}"], "action": "accept"}, api(CM)),
    ("POST", "/api/contacts/merge", {"source": "{other_contact}", "target": "{contact}"}, api(ENG)),
    ("POST", "/api/contacts/{contact}/block", {"reason": "spam"}, api(ENG)),
    ("GET", "/api/metrics", None, api(LEAD)),
    ("GET", "/api/operations/quarantine", None, api(ENG)),
    ("POST", "/api/operations/quarantine/{quarantine}/discard", {}, api(ENG)),
    ("GET", "/api/operations/outbox/failed", None, api(ENG)),
    ("POST", "/api/operations/outbox/{outbox}/retry", {}, api(ENG)),
    ("GET", "/api/users", None, api(LEAD)),
    ("POST", "/api/users/{victim}/deactivate", {}, api(LEAD)),
    ("POST", "/api/tokens/{victim_token}/revoke", {}, api(LEAD)),
    # on-call and SLA routes (inbox/api_oncall.py): any signed-in role may read and acknowledge
    ("GET", "/api/oncall/alerts", None, api(CM)),
    ("GET", "/api/oncall/alerts/{alert}", None, api(CM, 404)),
    ("POST", "/api/oncall/alerts/{alert}/ack", {}, api(CM, 404)),
    ("GET", "/api/oncall/now", None, api(CM)),
    ("GET", "/api/sla/tickets/{ref}", None, api(CM)),
    ("GET", "/api/sla/at-risk", None, api(CM)),
    # the feedback loop (inbox/web_feedback.py, inbox/api_feedback.py); the public survey page
    ("GET", "/reports/weekly", None, page(LEAD)),
    ("POST", "/reports/weekly/themes", {"theme": "dark · mode", "status": "planned"}, page(LEAD, 303)),
    ("GET", "/feedback", None, page(LEAD)),
    ("GET", "/feedback/conversations", None, page(LEAD)),
    ("GET", "/feedback/follow-up", None, page(CM)),
    ("POST", "/feedback/follow-up/done", {"ref": "{ref}"}, page(CM, 303)),
    ("GET", "/contacts/{contact}", None, page(CM)),
    ("POST", "/contacts/{contact}/link", {"other": "{other_contact}"}, page(CM, 303)),
    ("POST", "/contacts/{contact}/unlink", {"other": "{other_contact}"}, page(CM, 303)),
    ("GET", "/api/feedback/satisfaction", None, api(LEAD)),
    ("GET", "/api/feedback/conversations", None, api(LEAD)),
    ("GET", "/api/feedback/follow-up", None, api(CM)),
    ("POST", "/api/feedback/follow-up/done", {"ref": "{ref}"}, api(CM, 404)),
    ("GET", "/api/contacts/{contact}", None, api(CM)),
    ("POST", "/api/contacts/{contact}/link", {"contact_id": 2}, api(CM)),
    ("POST", "/api/contacts/{contact}/unlink", {}, api(CM, 409)),
    ("GET", "/api/reports/weekly", None, api(LEAD)),
    ("POST", "/api/reports/weekly/themes", {"theme": "dark · mode", "status": "planned"}, api(LEAD)),
    ("GET", "/csat/1.2.forgedforgedforgedforged", None, dict.fromkeys(ROLES, 404)),
    ("POST", "/csat/1.2.forgedforgedforgedforged", {"score": "5"}, dict.fromkeys(ROLES, 404)),
    # a signed acknowledgement link from a page: no login, the signature is the check
    ("GET", "/oncall/ack/{alert}", None, dict.fromkeys(ROLES, 403)),
    ("POST", "/oncall/ack/{alert}", {}, dict.fromkeys(ROLES, 403)),
    # incidents (inbox/api_incidents.py, web_incidents.py): all read, engineers declare, managers update
    ("GET", "/api/incidents", None, api(CM)),
    ("POST", "/api/incidents", {"title": "API down", "severity": "critical"}, api(ENG, 201)),
    ("GET", "/api/incidents/{incident}", None, api(CM, 404)),
    ("POST", "/api/incidents/{incident}/updates", {"status": "identified", "message": "m"}, api(CM, 404)),
    ("GET", "/api/incidents/{incident}/report", None, api(CM, 404)),
    ("PUT", "/api/incidents/{incident}/report", {"root_cause": "x"}, api(ENG, 404)),
    ("POST", "/api/incidents/{incident}/resolve-tickets", {"message": "fixed"}, api(ENG, 404)),
    # scheduled maintenance (inbox/api_maintenance.py, web_maintenance.py): all read, engineers schedule
    ("GET", "/api/maintenance", None, api(CM)),
    ("POST", "/api/maintenance", {"title": "Database upgrade", "starts_at": f"{SOON:%Y-%m-%d}T00:00:00Z",
                                  "ends_at": f"{SOON:%Y-%m-%d}T02:00:00Z"}, api(ENG, 201)),
    ("GET", "/api/maintenance/999", None, api(CM, 404)),
    ("PATCH", "/api/maintenance/999", {"title": "x"}, api(ENG, 404)),
    ("POST", "/api/maintenance/999/cancel", {}, api(ENG, 404)),
    ("GET", "/maintenance", None, page(CM)),
    ("POST", "/maintenance", {"title": "T", "starts_at": "", "ends_at": ""}, page(ENG, 303)),
    ("POST", "/maintenance/999/cancel", {}, page(ENG, 303)),
    ("GET", "/incidents", None, page(CM)),
    ("POST", "/incidents", {"title": "API down", "severity": "critical"}, page(ENG, 303)),
    ("GET", "/incidents/{incident}", None, page(CM, 404)),
    ("POST", "/incidents/{incident}/updates", {"status": "identified", "message": "m"}, page(CM, 303)),
    ("POST", "/incidents/{incident}/notes", {"text": "n"}, page(CM, 303)),
    ("POST", "/incidents/{incident}/report", {"root_cause": "x"}, page(ENG, 303)),
    ("GET", "/incidents/{incident}/report.md", None, page(CM, 404)),
    ("POST", "/incidents/{incident}/resolve-tickets", {"message": "fixed"}, page(ENG, 303)),
    # the public status page (inbox/web_status.py): no login; bad tokens are refused
    ("GET", "/status", None, EVERYONE_200),
    ("GET", "/status.json", None, EVERYONE_200),
    ("GET", "/status/feed.atom", None, EVERYONE_200),
    ("POST", "/status/subscribe", {"email": "sub@example.com"}, dict.fromkeys(ROLES, 202)),
    ("GET", "/status/confirm/{token}", None, dict.fromkeys(ROLES, 400)),
    ("GET", "/status/unsubscribe/{token}", None, dict.fromkeys(ROLES, 400)),
    ("POST", "/status/unsubscribe/{token}", {}, dict.fromkeys(ROLES, 400)),
    # the knowledge base, templates and releases (inbox/api_kb.py, inbox/web_kb.py)
    ("POST", "/api/kb/articles", {"title": "T", "category": "faqs", "body": "b"}, api(CM, 201)),
    ("PUT", "/api/kb/articles/no-such", {"body": "b"}, api(CM, 404)),
    ("GET", "/api/kb/articles/no-such", None, api(CM, 404)),
    ("GET", "/api/kb/articles/no-such/versions", None, api(CM, 404)),
    ("POST", "/api/kb/articles/no-such/revert", {"version": 1}, api(CM, 404)),
    ("GET", "/api/kb/search", None, EVERYONE_200),
    ("GET", "/api/templates", None, api(CM)),
    ("POST", "/api/templates", {"name": "t1", "body": "Hi {name}"}, api(LEAD, 201)),
    ("POST", "/api/releases", {"version": "9.9", "title": "t"}, api(ENG, 201)),
    ("GET", "/kb", None, EVERYONE_200),
    ("GET", "/kb/search", None, EVERYONE_200),
    ("GET", "/kb/releases", None, EVERYONE_200),
    ("GET", "/kb/releases.atom", None, EVERYONE_200),
    ("GET", "/kb/faqs", None, EVERYONE_200),
    ("GET", "/kb/go/no-such", None, dict.fromkeys(ROLES, 404)),
    ("POST", "/kb/no-such/feedback", {"helpful": "true"}, dict.fromkeys(ROLES, 404)),
    ("GET", "/kb-admin", None, page(CM)),
    ("GET", "/kb-admin/new", None, page(CM)),
    ("POST", "/kb-admin/new", {"title": "T", "category": "faqs", "body": "b", "status": "draft"}, page(CM, 303)),
    ("GET", "/kb-admin/no-such/edit", None, needs(CM, 404, anonymous=303)),
    ("POST", "/kb-admin/no-such/edit", {"title": "T", "category": "faqs", "body": "b"}, needs(CM, 404, anonymous=303)),
    ("GET", "/kb-admin/no-such/history", None, needs(CM, 404, anonymous=303)),
    ("POST", "/kb-admin/no-such/revert/1", {}, needs(CM, 404, anonymous=303)),
    ("POST", "/api/kb/articles/from-ticket", {"ref": "{ref}"}, api(CM, 422)),  # the ticket is not resolved
    ("POST", "/kb-admin/from-ticket/{ref}", {}, needs(CM, 422, anonymous=303)),
    ("GET", "/kb-admin/weekly", None, page(ENG)),
    ("GET", "/templates", None, page(LEAD)),
    ("POST", "/templates", {"name": "t1", "kind": "response", "body": "Hi {name}"}, page(LEAD, 303)),
]


def _app_routes() -> set[tuple[str, str]]:
    app = create_app()
    found = set()

    def walk(routes) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                found.update((method, route.path) for method in route.methods if method != "HEAD")
            elif hasattr(route, "original_router"):
                walk(route.original_router.routes)
            elif hasattr(route, "methods") and route.path not in ("/docs", "/redoc"):
                found.update((method, route.path) for method in route.methods if method != "HEAD")

    walk(app.routes)
    return found


def test_the_table_covers_every_route(sqlite_settings):
    def pattern(path: str) -> re.Pattern:
        return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)))

    rows = [(method, re.sub(r"\{[^}]+\}", "x", path)) for method, path, _, _ in TABLE]
    routes = _app_routes()
    uncovered = {(m, p) for m, p in routes if not any(m == rm and pattern(p).fullmatch(rp) for rm, rp in rows)}
    assert uncovered == set(), "routes without a row in TABLE"
    stale = {(rm, rp) for rm, rp in rows if not any(m == rm and pattern(p).fullmatch(rp) for m, p in routes)}
    assert stale == set(), "rows for routes that do not exist"


@pytest.fixture(scope="module")
def seeded(sqlite_template, tmp_path_factory):
    """Seeded once per module (argon2 hashing is the slow part), copied for each case:
    users of each role with API tokens, two tickets of two contacts, a quarantined
    message, a failed outbox row."""
    from storage.db import dispose_engines
    from trkv.settings import Settings

    folder = tmp_path_factory.mktemp("roles")
    path = folder / "seeded.db"
    shutil.copy(sqlite_template, path)
    settings = Settings(home=folder / "home", database_url=f"sqlite:///{path}", demo=False)
    tokens = {}
    for role in RANK:
        email = f"{role}@trkv.test"
        accounts.create_user(email, role, PASSWORD, settings=settings)
        tokens[role] = accounts.create_token(email, settings=settings)
    victim = accounts.create_user("victim@trkv.test", "engineer", PASSWORD, settings=settings).id
    victim_token = accounts.create_token_row("victim@trkv.test", settings=settings)[0]
    ref = ingest(ada_email(), live=False, settings=settings).ref
    other = ingest(bo_discord(), live=False, settings=settings).ref
    now = utcnow()
    with transaction(settings.db_url) as session:
        from storage.models.tickets import Ticket

        contact = session.get(Ticket, int(ref[5:])).contact_id
        other_contact = session.get(Ticket, int(other[5:])).contact_id
        quarantine = Quarantine(channel="api", external_id="q", reason="bad", payload=json.dumps(
            {"channel": "api", "external_id": "q-1", "text": "t", "author_id": "a"}))
        outbox = Outbox(ticket_id=int(ref[5:]), kind="reply", channel="email", idempotency_key="reply:x",
                        payload={"text": "t"}, status="failed", attempts=8, last_error="550", created_at=now,
                        updated_at=now)
        session.add_all([quarantine, outbox])
        session.flush()
        ids = {"quarantine": quarantine.id, "outbox": outbox.id}
    dispose_engines()
    return path, {"tokens": tokens, "ref": ref, "other": other, "contact": contact,
                  "other_contact": other_contact, "alert": 999, "victim": victim, "victim_token": victim_token,
                  "incident": 999, "token": "1.confirm.9.forged", **ids}


@pytest.fixture
def world(seeded, monkeypatch, tmp_path):
    from storage.db import dispose_engines
    from tests.conftest import settings_for

    path, data = seeded
    copy = tmp_path / "trkv.db"
    shutil.copy(path, copy)
    settings = settings_for(monkeypatch, tmp_path, f"sqlite:///{copy}")
    yield {**data, "settings": settings}
    dispose_engines()


def _fill(value, world, view_id):
    if isinstance(value, str):
        for key in ("other_contact", "contact", "ref", "other", "quarantine", "outbox", "alert", "victim_token",
                    "victim", "incident", "token"):
            value = value.replace("{" + key + "}", str(world[key]))
        return value.replace("{view}", str(view_id))
    if isinstance(value, list):
        return [_fill(v, world, view_id) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, world, view_id) for k, v in value.items()}
    return value


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method,path,body,expected", TABLE, ids=[f"{m} {p}" for m, p, _, _ in TABLE])
def test_route_answers_each_role_as_expected(world, role, method, path, body, expected):
    settings = world["settings"]
    client = TestClient(create_app(settings), follow_redirects=False)
    view_id = 0
    if role != "anonymous" and not path.startswith("/api"):
        token = _csrf(client.get("/login").text)
        assert client.post("/login", data={"email": f"{role}@trkv.test", "password": PASSWORD,
                                           "csrf_token": token}).status_code == 303
        with transaction(settings.db_url) as session:
            from sqlalchemy import select

            from storage.models.accounts import User

            user_id = session.execute(select(User.id).where(User.email == f"{role}@trkv.test")).scalar_one()
            view = SavedView(user_id=user_id, name="existing", filters={"channel": ["x"]})
            session.add(view)
            session.flush()
            view_id = view.id
    url = _fill(path, world, view_id)
    headers = {}
    if path.startswith("/api") and role != "anonymous":
        headers["Authorization"] = f"Bearer {world['tokens'][role]}"
    if method == "GET":
        response = client.get(url, headers=headers)
    elif path.startswith("/api"):
        payload = _fill(body, world, view_id)
        for key in ("source", "target"):
            if key in payload:
                payload[key] = int(payload[key])
        response = client.request(method, url, json=payload, headers=headers)
    else:
        form = _fill(body or {}, world, view_id)
        form["csrf_token"] = _csrf(client.get("/login").text if role == "anonymous" else client.get("/").text)
        response = client.post(url, data=form, headers=headers)
    assert response.status_code == expected[role], response.text[:300]
    if expected[role] == 303 and role == "anonymous" and path not in ("/logout",):
        # a page asked for by GET comes back after the login (the paged ticket's link)
        back = f"?next={url}" if method == "GET" and url != "/" else ""
        assert response.headers["location"] == f"/login{back}"
    if expected[role] == 403 and role != "anonymous" and path.startswith("/api"):
        assert "role" in response.json()["detail"]


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
