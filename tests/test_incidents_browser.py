"""In a real browser (Debian's Chromium via Playwright, the app under uvicorn): the
on-call engineer confirms a proposed incident in the web app, writes an update from
the template, and a logged-out browser sees both on /status."""

from __future__ import annotations

from support.incidents import status
from support.intake.ingest import ingest
from tests.incident_burst import inbound
from tests.incident_corpus import TEST_OUTAGE
from tests.browser import PASSWORD, Watch, chromium, log_in, server  # noqa: F401 (fixtures)

ENGINEER = "eli.eng@trkv.test"


def test_the_on_call_engineer_confirms_a_proposal_and_the_public_sees_the_update(chromium, server, tmp_path):  # noqa: F811
    base, settings = server
    status.forget()
    for n, text in enumerate(TEST_OUTAGE[:8]):
        ingest(inbound(n, text, channel="email"), settings=settings)

    page = chromium.new_page()
    watch = Watch(page, base)
    log_in(page, base, ENGINEER)
    page.goto(f"{base}/incidents")
    page.click("text=502 errors reported by customers")
    assert "Proposed from" in page.inner_text("main")
    page.fill("#confirm-msg", "We see 502 errors on the web app and are investigating.")
    page.click("text=Confirm and publish")
    page.wait_for_selector(".flash")
    page.select_option("#upd-status", "identified")
    page.fill("#upd-msg", "A faulty load balancer config <script>alert(1)</script>; rolling back.")
    page.click("text=Publish update")
    page.wait_for_selector(".flash")
    page.screenshot(path=str(tmp_path / "incident.png"), full_page=True)

    public = chromium.new_context().new_page()  # logged out
    public_watch = Watch(public, base)
    public.goto(f"{base}/status")
    text = public.inner_text("main")
    assert "We see 502 errors on the web app" in text and "rolling back" in text
    assert "Major outage" in text or "Partial outage" in text
    public.screenshot(path=str(tmp_path / "status.png"), full_page=True)
    assert watch.dialogs == public_watch.dialogs == [] and public_watch.foreign == []
