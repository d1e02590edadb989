"""In a real browser (Debian's Chromium via Playwright, the app under uvicorn): an
engineer schedules maintenance on the agents' page, and a logged-out phone sees the
upcoming window on /status, with no serious or critical axe violation and no sideways
scroll at 390 px, in light and dark."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from storage.models.base import utcnow
from support.incidents import status
from tests.browser import ENGINEER, PHONE, Watch, axe_violations, chromium, log_in, server, sideways  # noqa: F401


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_an_engineer_schedules_maintenance_and_the_public_sees_it_coming(chromium, server, scheme, tmp_path):  # noqa: F811
    base, settings = server
    status.forget()
    start = (utcnow() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    agent = chromium.new_context(bypass_csp=True, color_scheme=scheme).new_page()
    watch = Watch(agent, base)
    log_in(agent, base, ENGINEER)
    agent.goto(f"{base}/maintenance")
    agent.fill("#mw-title", "Database upgrade to PostgreSQL 17")
    agent.fill("#mw-start", start.strftime("%Y-%m-%dT%H:%M"))
    agent.fill("#mw-end", (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    agent.check("input[name=components][value=API]")
    agent.fill("#mw-desc", "The API may answer 503 for up to five minutes.")
    agent.click("text=Schedule and announce")
    agent.wait_for_selector(".flash")
    assert "scheduled and announced" in agent.inner_text(".flash")
    assert "Database upgrade to PostgreSQL 17" in agent.inner_text("main")
    assert axe_violations(agent) == []

    phone = chromium.new_context(bypass_csp=True, color_scheme=scheme, viewport=PHONE).new_page()  # logged out
    public_watch = Watch(phone, base)
    phone.goto(f"{base}/status")
    section = phone.inner_text("section[aria-labelledby=maintenance-h]")
    assert "Scheduled maintenance" in section and "Database upgrade to PostgreSQL 17" in section
    assert start.strftime("%Y-%m-%d %H:%M") in section and "API" in section and "503" in section
    phone.screenshot(path=str(tmp_path / f"status-maintenance-{scheme}.png"), full_page=True)
    assert PHONE["width"] == 390 and sideways(phone) == 0
    found = axe_violations(phone)
    assert found == [], json.dumps(found, indent=1)
    assert watch.dialogs == public_watch.dialogs == [] and public_watch.foreign == []
