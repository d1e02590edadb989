"""The inbox in a real browser: headless Chromium (Debian's) driven by Playwright,
against uvicorn serving the app on a free port over a migrated SQLite database.

A community manager watches a Discord ticket arrive without a reload, accepts the
suggested priority, replies with a template and resolves it; a lead opens the
dashboard; hostile message bodies run nothing. Screenshots land in the test's tmp dir.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from inbox.app import create_app
from storage.db import transaction
from storage.models.delivery import Outbox
from storage.models.tickets import Ticket, TicketEvent
from support import accounts
from support.intake.ingest import ingest
from tests.cast import ada_email, bo_discord
from tests.conftest import settings_for
from tests.services import missing, quick_skip

CHROMIUM = os.environ.get("TRKV_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "correct horse battery"
CM, LEAD = "cam.cm@trkv.test", "lena.lead@trkv.test"


@pytest.fixture
def chromium():
    quick_skip("chromium")
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        missing("chromium", f"no browser at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("chromium", "the playwright package is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(monkeypatch, tmp_path, sqlite_url):
    """The app under uvicorn in a thread; yields (base url, settings)."""
    import uvicorn

    settings = settings_for(monkeypatch, tmp_path, sqlite_url, web_poll_seconds="1")
    accounts.create_user(CM, "community_manager", PASSWORD, settings=settings)
    accounts.create_user(LEAD, "lead", PASSWORD, settings=settings)
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    while not uv.started:  # startup, not a timing assertion: nothing is measured
        if not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", settings
    uv.should_exit = True
    thread.join(10)


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


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_a_community_manager_handles_a_new_discord_ticket(chromium, server, tmp_path):
    base, settings = server
    page = chromium.new_page()
    watch = Watch(page, base)
    log_in(page, base, CM)
    page.evaluate("window.__sameDocument = 'yes'")  # gone if the page reloads
    page.screenshot(path=str(tmp_path / "1-inbox-empty.png"), full_page=True)

    # A Discord message arrives (as the connector's intake would store it).
    ref = ingest(bo_discord(text="the timeline view crashes when I zoom past 400%"), live=True,
                 settings=settings).ref
    row = page.wait_for_selector(f'tr[data-ref="{ref}"]')
    assert page.evaluate("window.__sameDocument") == "yes"
    assert "discord" in row.inner_text() and "timeline view crashes" in row.inner_text()
    page.screenshot(path=str(tmp_path / "2-inbox-new-ticket.png"), full_page=True)

    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("Enter")  # opens the current (only) row
    page.wait_for_url(f"{base}/tickets/{ref}")
    suggested = page.inner_text(".triage-table tr:nth-child(2) td:nth-child(3)")
    page.click("#accept-suggestion")
    page.wait_for_selector(".flash")
    assert page.inner_text("#current-priority") == suggested
    assert "confirmed" in page.get_attribute("#current-priority .chip", "class")
    with transaction(settings.db_url) as session:
        event = session.execute(select(TicketEvent).where(TicketEvent.kind == "triage",
                                                          TicketEvent.field == "priority")).scalar_one()
    assert event.suggested == suggested and event.new_value == suggested
    page.screenshot(path=str(tmp_path / "3-ticket-accepted.png"), full_page=True)

    page.select_option("#template", "thanks_investigating")
    text = page.input_value("#reply-text")
    assert text.startswith("Hi Bo, thanks for the report!") and ref in text
    assert page.inner_text("#reply-preview") == text
    assert f"{len(text)} / 2000 characters" in page.inner_text("#reply-counter")
    page.screenshot(path=str(tmp_path / "4-composer.png"), full_page=True)
    page.click("#send-reply")
    page.wait_for_selector(".flash >> text=Reply queued")

    page.keyboard.press("e")  # resolve
    page.wait_for_selector("#ticket-status >> text=resolved")
    page.screenshot(path=str(tmp_path / "5-resolved.png"), full_page=True)
    with transaction(settings.db_url) as session:
        ticket = session.get(Ticket, int(ref[5:]))
        replies = session.execute(select(Outbox).where(Outbox.kind == "reply")).scalars().all()
    assert ticket.status == "resolved"
    assert [r.payload["text"] for r in replies] == [text] and replies[0].channel == "discord"
    assert watch.dialogs == [] and watch.errors == [] and watch.foreign == []
    assert len(list(tmp_path.glob("*.png"))) == 5


def test_a_lead_opens_the_dashboard(chromium, server, tmp_path):
    base, settings = server
    ingest(ada_email(), live=False, settings=settings)
    ingest(bo_discord(), live=False, settings=settings)
    page = chromium.new_page()
    watch = Watch(page, base)
    log_in(page, base, LEAD)
    page.click("nav >> text=Dashboard")
    page.wait_for_url(f"{base}/dashboard")
    assert page.inner_text('[data-kpi="satisfaction"] .value') == "no data"
    assert page.locator("svg.chart").count() == 3
    assert "email (1)" in page.locator("svg.chart").first.text_content()
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert (tmp_path / "dashboard.png").stat().st_size > 0
    assert watch.dialogs == [] and watch.errors == [] and watch.foreign == []


HOSTILE_HTML = """
<script>alert('script')</script>
<img src=x onerror="alert('onerror')">
<svg onload="alert('svg')"><circle r=5></circle></svg>
<a id="js-link" href="javascript:alert('link')">open me</a>
<a href="https://evil.example/ok">a plain link</a>
<p style="background:url(https://evil.example/style-attr.png);position:fixed;top:0;left:0;width:100%;height:100%">cover</p>
<style>@import url(https://evil.example/import.css); body { background: url(https://evil.example/bg.png) }</style>
<link rel="stylesheet" href="https://evil.example/link.css">
<meta http-equiv="refresh" content="0;url=https://evil.example/meta">
<base href="https://evil.example/">
<iframe src="javascript:alert('iframe')"></iframe>
<object data="https://evil.example/x.swf"></object>
<form action="https://evil.example/steal"><input name=q><button id="evil-submit">go</button></form>
<img src="https://evil.example/pixel.gif">
<details open ontoggle="alert('toggle')">x</details>
"""
HOSTILE_TEXT = ("<script>alert('text')</script><img src=x onerror=alert('text-img')> {{7*7}} "
                "javascript:alert('plain') <a href=javascript:alert(1)>x</a>")


def test_hostile_message_bodies_execute_nothing(chromium, server, tmp_path):
    base, settings = server
    email = ingest(ada_email(subject="<img src=x onerror=alert('subject')>", text=HOSTILE_TEXT, html=HOSTILE_HTML),
                   live=False, settings=settings).ref
    discord = ingest(bo_discord(text=HOSTILE_TEXT), live=False, settings=settings).ref
    page = chromium.new_page()
    watch = Watch(page, base)
    log_in(page, base, CM)
    page.wait_for_selector(f'tr[data-ref="{email}"]')
    page.wait_for_timeout(1500)  # let the live refresh swap the rows in at least once
    page.screenshot(path=str(tmp_path / "hostile-inbox.png"), full_page=True)
    for ref in (email, discord):
        page.goto(f"{base}/tickets/{ref}")
        page.screenshot(path=str(tmp_path / f"hostile-{ref}.png"), full_page=True)
        for link in page.locator(".conversation a").all():
            href = link.get_attribute("href") or ""
            assert not href.lower().startswith("javascript"), href
    page.goto(f"{base}/tickets/{email}")
    page.click(".mail-html a >> text=open me")  # sanitized to a link without a target: nothing happens
    assert page.url == f"{base}/tickets/{email}"
    assert page.locator("#evil-submit").count() == 0
    assert page.locator(".mail-html p").first.evaluate("e => getComputedStyle(e).position") != "fixed"
    assert "{{7*7}}" in page.locator(".conversation").text_content()  # shown as typed, not evaluated
    assert watch.dialogs == [], watch.dialogs
    assert watch.foreign == [], watch.foreign
    assert watch.errors == [], watch.errors
