"""In a real browser (headless Chromium, Playwright, uvicorn): a lead opens the weekly
review, drills from the low satisfaction figure to its conversations, and marks a
feature theme planned. The customer's survey page works without a login or script."""

from __future__ import annotations

from storage.db import transaction
from support.feedback import history, review
from tests.browser import LEAD, Watch, chromium, log_in, server  # noqa: F401

WEEK = "2026-W45"


def test_a_lead_drills_from_low_satisfaction_to_conversations_and_plans_a_theme(chromium, server, tmp_path):  # noqa: F811
    base, settings = server
    _, _, end = review.parse_week(WEEK, settings)
    with transaction(settings.db_url) as session:
        history.generate(session, end=end, weeks=5, per_week=150)
    page = chromium.new_page()
    watch = Watch(page, base)
    log_in(page, base, LEAD)
    page.goto(f"{base}/reports/weekly?week={WEEK}")
    assert "Weekly review 2026-W45" in page.inner_text("h1")
    page.click("#low-scores")
    page.wait_for_url(f"{base}/feedback/conversations?week={WEEK}&low=1")
    scores = page.locator("#conversations tbody tr td:nth-child(4)").all_inner_texts()
    assert scores and set(scores) <= {"1", "2", "3"}
    page.screenshot(path=str(tmp_path / "low-scores.png"), full_page=True)
    page.go_back()
    first = page.locator("#features tbody tr").first
    theme = first.get_attribute("data-theme")
    first.locator("button[value=planned]").click()
    page.wait_for_selector(".flash >> text=marked planned")
    row = page.locator(f'#features tbody tr[data-theme="{theme}"]')
    assert row.locator(".theme-status").inner_text() == "planned"
    assert theme in page.inner_text("#actions")
    page.screenshot(path=str(tmp_path / "weekly.png"), full_page=True)
    assert watch.dialogs == [] and watch.errors == [] and watch.foreign == []
