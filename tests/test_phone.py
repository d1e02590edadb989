"""The hub on a phone (390×844, touch) in Debian's Chromium: no page scrolls sideways,
and the on-call engineer's night: a critical Discord message pages them; they open the
page's ticket link (logged out), log in, land on the ticket, and with their thumb
acknowledge the page, reply and resolve."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import transaction
from storage.models.delivery import Outbox
from storage.models.oncall import Alert
from storage.models.tickets import Ticket
from tests.browser import (  # noqa: F401 - fixtures
    ENGINEER,
    LEAD,
    PASSWORD,
    PHONE,
    Watch,
    chromium,
    log_in,
    page_ack_link,
    page_link,
    seed_second_wave,
    seed_showcase,
    server,
    sideways,
)


def phone(chromium):
    return chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()


def test_no_page_scrolls_sideways_at_phone_width(chromium, server):
    base, settings = server
    refs = seed_showcase(settings)
    public, signed_in = seed_second_wave(settings)
    page = phone(chromium)
    widths = {}
    for name, url in (("oncall-ack", page_ack_link(settings, refs["paged"])), ("login", f"{base}/login"),
                      *((name, f"{base}{path}") for name, path in public.items())):
        page.goto(url)
        widths[name] = sideways(page)
    log_in(page, base, LEAD)
    for name, path in (("inbox", "/"), ("ticket-email", f"/tickets/{refs['email']}"),
                       ("ticket-discord", f"/tickets/{refs['discord']}"), ("ticket-paged", f"/tickets/{refs['paged']}"),
                       ("dashboard", "/dashboard"), ("operations", "/operations"),
                       ("operations-contacts", "/operations?contact=a"), *signed_in.items()):
        page.goto(f"{base}{path}")
        widths[name] = sideways(page)
    assert {name: px for name, px in widths.items() if px > 0} == {}


def in_thumb_reach(page, selector: str) -> bool:
    """On screen without scrolling, in the lower half, where a thumb holding the phone reaches."""
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] >= PHONE["height"] / 2 and box["y"] + box["height"] <= PHONE["height"]


def test_an_on_call_engineer_handles_a_paged_ticket_on_a_phone(chromium, server):
    base, settings = server
    refs = seed_showcase(settings)
    ref, link = refs["paged"], page_link(settings, refs["paged"])
    assert link == f"{base}/tickets/{ref}"
    page = phone(chromium)
    watch = Watch(page, base)

    page.goto(link)  # logged out: the login page, then back to the ticket
    page.fill("input[name=email]", ENGINEER)
    page.fill("input[name=password]", PASSWORD)
    page.tap("form.login button[type=submit]")
    page.wait_for_url(link)
    assert "not acknowledged" in page.inner_text("#actions")
    assert sideways(page) == 0
    for control in ("#alert-ack", "#jump-reply", "#status-resolved", "#status-pending"):
        assert in_thumb_reach(page, control), control

    page.tap("#alert-ack")
    page.wait_for_selector(".flash >> text=acknowledged: paging stopped")
    assert page.locator("#alert-ack").count() == 0
    assert f"acknowledged by {ENGINEER}" in page.inner_text("#ticket-alert")
    with transaction(settings.db_url) as session:
        alert = session.execute(select(Alert)).scalar_one()
        assert (alert.status, alert.acknowledged_by, alert.acknowledged_via) == ("acknowledged", ENGINEER, "web")

    page.tap("#jump-reply")  # the composer comes into view with the keyboard's focus
    assert page.evaluate("document.activeElement.id") == "reply-text"
    page.keyboard.type("We're on it: the login service is back in 5 minutes.")
    page.tap("#send-reply")
    page.wait_for_selector(".flash >> text=Reply queued")

    assert in_thumb_reach(page, "#status-resolved")
    page.tap("#status-resolved")
    page.wait_for_selector("#ticket-status >> text=resolved")
    assert sideways(page) == 0
    with transaction(settings.db_url) as session:
        ticket = session.get(Ticket, int(ref[5:]))
        replies = session.execute(select(Outbox).where(Outbox.kind == "reply", Outbox.ticket_id == ticket.id)).scalars().all()
        assert ticket.status == "resolved"
        assert [r.payload["text"] for r in replies] == ["We're on it: the login service is back in 5 minutes."]
    assert watch.dialogs == [] and watch.errors == [] and watch.foreign == []
