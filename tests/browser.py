"""The real browser and the real server for the web tests and `make screenshots`:
Debian's Chromium driven by Playwright, uvicorn serving the app on a free port, and a
showcase of tickets (every channel, emoji names, Discord markup and mentions, quoted
email history, a paged critical ticket, quarantine and a failed send).

Test modules import the fixtures by name: `from tests.browser import chromium, server`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from connectors.base import Inbound
from inbox.app import create_app
from storage.db import transaction
from storage.models.base import utcnow
from storage.models.contacts import Identity
from storage.models.delivery import Outbox
from storage.models.intake import Quarantine
from support import accounts
from support.intake.ingest import ingest
from support.tickets import actions as ticket_actions
from tests.conftest import settings_for
from tests.services import missing, quick_skip

CHROMIUM = os.environ.get("TRKV_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "correct horse battery"
CM, LEAD, ENGINEER = "cam.cm@trkv.test", "lena.lead@trkv.test", "eli.eng@trkv.test"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
# axe-core lives outside the project (npm install --prefix ~/.cache/trkv-axe axe-core@4; .ci/run does it)
AXE = Path(os.environ.get("TRKV_AXE", Path.home() / ".cache/trkv-axe/node_modules/axe-core/axe.min.js"))


@contextmanager
def launch():
    """Chromium under Playwright, or a skip (a failure under TRKV_REQUIRE_SERVICES=1)."""
    quick_skip("chromium")
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        missing("chromium", f"no browser at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("chromium", "the playwright package is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def chromium():
    with launch() as browser:
        yield browser


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(settings, port: int):
    """The app under uvicorn in a thread; yields its base URL."""
    import uvicorn

    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    while not uv.started:  # startup, not a timing assertion: nothing is measured
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(10)


def create_people(settings) -> None:
    accounts.create_user(CM, "community_manager", PASSWORD, settings=settings)
    accounts.create_user(LEAD, "lead", PASSWORD, settings=settings)
    accounts.create_user(ENGINEER, "engineer", PASSWORD, settings=settings)


@pytest.fixture
def server(monkeypatch, tmp_path, sqlite_url):
    """(base url, settings): the app on a free port whose public URL is that port, so the
    links in pages (on-call pages' ticket links) open here."""
    port = free_port()
    # Pages go nowhere (no worker sends them here), but they are queued with their links.
    settings = settings_for(monkeypatch, tmp_path, sqlite_url, web_poll_seconds="1",
                            public_url=f"http://127.0.0.1:{port}", oncall_webhook_url="http://127.0.0.1:9/hook")
    create_people(settings)
    with serve(settings, port) as base:
        yield base, settings


class Watch:
    """What a page did that it must not: dialogs, console errors, requests elsewhere."""

    def __init__(self, page, base: str) -> None:
        self.dialogs, self.errors, self.foreign, self.navigations = [], [], [], 0
        origin = urlsplit(base).netloc
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.foreign.append(r.url) if urlsplit(r.url).netloc != origin
                and not r.url.startswith(("data:", "about:")) else None)


def log_in(page, base: str, email: str, then: str = "/") -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{base}{then}")


def sideways(page) -> int:
    """How many pixels the page scrolls sideways (0: none). Against the layout width, not
    `innerWidth`: in a mobile context Chromium widens `innerWidth` to a page that overflows
    (zoomed out to fit), which would hide the very overflow this measures."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical findings on the page as shown (the context must be
    made with bypass_csp=True: the hub's CSP rightly refuses an injected script)."""
    if not AXE.exists():
        missing("axe-core", f"no {AXE} (npm install --prefix ~/.cache/trkv-axe axe-core@4, or set TRKV_AXE)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text())
    found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in found if v["impact"] in ("serious", "critical")]


# the showcase ---------------------------------------------------------------------------------

QUOTED_EMAIL = ("Thanks, the export works now! One more thing: the CSV has no header row.\n\n"
                "On Mon, 2 Dec 2024 at 10:04, TRKV Support <support@trkv.test> wrote:\n"
                "> Hi Ada, could you try Settings > Export again?\n> We fixed the timeout.\n")


def seed_showcase(settings) -> dict[str, str]:
    """Tickets a page shows at its fullest; returns their refs by role in the story."""
    refs = {}
    marta = Inbound(channel="discord", external_id="1180000000000000101", author_id="402100000000000001",
                    author_handle="marta", author_name="Marta K. 🌻", conversation_key="thread-marta",
                    text="the **timeline** view crashes when I zoom past 400% 😭\n> it worked _yesterday_\n"
                         "stack: `TypeError: zoom is undefined`")
    refs["discord"] = ingest(marta, live=False, settings=settings).ref
    ingest(Inbound(channel="discord", external_id="1180000000000000102", author_id="402100000000000001",
                   author_handle="marta", author_name="Marta K. 🌻", conversation_key="thread-marta",
                   text="also <@402100000000000077> sees it, ||on Firefox too||"), live=False, settings=settings)
    with transaction(settings.db_url) as session:  # a colleague of Marta's we know from another ticket
        from storage.models.contacts import Contact

        contact = Contact(name="Jonas Ø.")
        session.add(contact)
        session.flush()
        session.add(Identity(contact_id=contact.id, channel="discord", external_user_id="402100000000000077",
                             handle="jonas", display_name="Jonas Ø."))
    refs["email"] = ingest(Inbound(channel="email", external_id="ada-2@mail.example", author_id="ada@example.com",
                                   author_handle="ada@example.com", author_name="Ada Lovelace",
                                   author_email="ada@example.com", subject="Export to CSV: header row missing",
                                   text=QUOTED_EMAIL), live=False, settings=settings).ref
    refs["x"] = ingest(Inbound(channel="x", external_id="1860000000000000101", author_id="99001",
                               author_handle="@cy", conversation_key="1860000000000000101",
                               text="@trkvbot is there a dark mode yet? 🌙"), live=False, settings=settings).ref
    refs["paged"] = ingest(Inbound(channel="discord", external_id="1180000000000000900", author_id="402100000000000042",
                                   author_handle="bo", author_name="Bo", conversation_key="thread-outage",
                                   text="the whole site is down, outage for everyone, nobody can log in"),
                           settings=settings).ref
    ticket_actions.add_note(refs["email"], "Asked the export team about the header row.", user_id=None,
                            settings=settings)
    now = utcnow()
    with transaction(settings.db_url) as session:
        session.add(Quarantine(channel="email", external_id=None, reason="not RFC 822: no From header",
                               payload=json.dumps({"raw": "garbage"})))
        session.add(Outbox(ticket_id=int(refs["x"][5:]), kind="reply", channel="x", idempotency_key="reply:show-1",
                           payload={"text": "hi"}, status="failed", attempts=8, last_error="429 too many requests",
                           created_at=now, updated_at=now))
    return refs


def _page_meta(settings, ref: str) -> dict:
    from sqlalchemy import select

    with transaction(settings.db_url) as session:
        payloads = session.execute(select(Outbox.payload).where(Outbox.kind == "page")).scalars().all()
    metas = [p["meta"] for p in payloads if (p.get("meta") or {}).get("ref") == ref]
    assert metas, f"{ref} paged no one"
    return metas[0]


def page_link(settings, ref: str) -> str:
    """The ticket link the on-call page for `ref` carries (what the engineer taps on a phone)."""
    return _page_meta(settings, ref)["link"]


def page_ack_link(settings, ref: str) -> str:
    """The signed acknowledge link of that page (a public page: no login)."""
    return _page_meta(settings, ref)["ack_url"]


def seed_second_wave(settings) -> tuple[dict[str, str], dict[str, str]]:
    """An open incident and the shipped KB articles; returns (public pages, signed-in pages)."""
    from support.incidents import core as incidents
    from support.kb import seed as kb_seed

    kb_seed.load(settings)
    seed_weak_article(settings)
    incident = incidents.declare(
        "Dashboard answers 502 Bad Gateway 😬", "major", incidents.Actor(LEAD), components_=["Web app", "API"],
        settings=settings, message="Some dashboards answer 502. <script>alert(1)</script> We are on it.")
    public = {"status": "/status", "kb": "/kb", "kb-search": "/kb/search?q=exprot+csv", "kb-releases": "/kb/releases",
              "kb-category": "/kb/troubleshooting", "kb-article": f"/kb/{kb_seed.seed_articles()[0]['slug']}"}
    signed_in = {"incidents": "/incidents", "incident": f"/incidents/{incident['id']}", "kb-admin": "/kb-admin",
                 "weekly-review": "/reports/weekly", "feedback": "/feedback", "follow-up": "/feedback/follow-up",
                 "users": "/users", "templates": "/templates", "kb-weekly": "/kb-admin/weekly"}
    from datetime import timedelta

    from storage.models.base import utcnow
    from support.incidents import maintenance

    start = utcnow() + timedelta(days=1)  # the status page's "Scheduled maintenance", the agents' page
    maintenance.schedule("Database upgrade (PostgreSQL 17) 🛠", start, start + timedelta(hours=2), incidents.Actor(LEAD),
                         components_=["API"], description="The API may answer 503 for a few minutes.", settings=settings)
    signed_in["maintenance"] = "/maintenance"
    return public, signed_in


def seed_weak_article(settings) -> None:
    """A read by the newest ticket's customer an hour before it, so the weekly KB page's
    weak-articles table has a row (support/kb/reads.py)."""
    from datetime import timedelta

    from sqlalchemy import select

    from storage.db import transaction
    from storage.models.contacts import Identity
    from storage.models.kb import KbArticle, KbRead
    from storage.models.tickets import Ticket

    with transaction(settings.db_url) as session:
        row = session.execute(select(Ticket.created_at, Identity.channel, Identity.external_user_id)
                              .join(Identity, Identity.contact_id == Ticket.contact_id)
                              .order_by(Ticket.id.desc()).limit(1)).first()
        article = session.execute(select(KbArticle.id).order_by(KbArticle.id).limit(1)).scalar()
        if row is not None and article is not None:
            session.add(KbRead(article_id=article, via="discord", reader=f"{row.channel}:{row.external_user_id}",
                               created_at=row.created_at - timedelta(hours=1)))
