"""The KB stories in a real browser (headless Chromium via Playwright, uvicorn, SQLite):
a lead edits a response template; an agent inserts it and a suggested article into a
reply; a logged-out browser finds the article through /kb/search."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import transaction
from storage.models.delivery import Outbox
from support.intake.ingest import ingest
from support.kb import seed
from tests.cast import ada_email
from tests.browser import CM, LEAD, Watch, chromium, log_in, server  # noqa: F401 (fixtures)


def test_a_lead_edits_a_template_and_an_agent_replies_with_it_and_an_article(chromium, server, tmp_path):  # noqa: F811
    base, settings = server
    seed.load(settings)
    lead = chromium.new_page()
    watch = Watch(lead, base)
    log_in(lead, base, LEAD)
    lead.goto(f"{base}/templates")
    form = lead.locator("section[aria-label='Template docs_pointer'] form")
    form.locator("textarea[name=body]").fill("Hi {name}, {agent} here: the steps are in our help centre. ({ref})")
    form.locator("button[type=submit]").click()
    lead.wait_for_selector(".flash >> text=Saved docs_pointer")
    lead.screenshot(path=str(tmp_path / "1-template-saved.png"), full_page=True)

    ref = ingest(ada_email("b-1@mail.example", subject="Export",
                           text="When I click Export nothing downloads, the download never starts."),
                 live=False, settings=settings).ref
    agent = chromium.new_page()
    watch_agent = Watch(agent, base)
    log_in(agent, base, CM)
    agent.goto(f"{base}/tickets/{ref}")
    agent.select_option("#template", "docs_pointer")
    assert agent.input_value("#reply-text").startswith("Hi Ada, cam.cm here: the steps are in our")
    agent.click(".kb-suggestions li:first-child button.kb-insert")
    text = agent.input_value("#reply-text")
    assert text.endswith(f"Exports fail or the download never starts: {settings.public_url.rstrip('/')}"
                         "/kb/export-not-working")
    assert agent.inner_text("#reply-preview") == text
    agent.screenshot(path=str(tmp_path / "2-composer.png"), full_page=True)
    agent.click("#send-reply")
    agent.wait_for_selector(".flash >> text=Reply queued")
    with transaction(settings.db_url) as session:
        sent = session.execute(select(Outbox).where(Outbox.kind == "reply")).scalar_one()
    assert sent.payload["text"].replace("\r\n", "\n") == text  # a form posts line breaks as CRLF
    for w in (watch, watch_agent):
        assert w.dialogs == [] and w.errors == [] and w.foreign == []


def test_a_logged_out_browser_finds_an_article_through_search(chromium, server, tmp_path):  # noqa: F811
    base, settings = server
    seed.load(settings)
    page = chromium.new_page()
    watch = Watch(page, base)
    page.goto(f"{base}/kb")
    page.fill("input[name=q]", "timer wont sync between my phone and laptop")
    page.click("form.kb-search button[type=submit]")
    page.wait_for_url(f"{base}/kb/search?q=*")
    page.click("text=The timer does not sync between devices")
    page.wait_for_url(f"{base}/kb/timer-not-syncing")
    assert "Pull down on the timer screen" in page.inner_text("main")
    page.click("button[name=helpful][value=true]")
    page.wait_for_selector("text=Thanks for your answer!")
    page.screenshot(path=str(tmp_path / "kb-article.png"), full_page=True)
    assert watch.dialogs == [] and watch.errors == [] and watch.foreign == []
