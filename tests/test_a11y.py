"""Accessibility, checked by axe-core in Debian's Chromium: no serious or critical
violation on the login, inbox, ticket (email, Discord, paged), dashboard and operations
pages, nor on the public on-call link page, in light and dark, at desktop and phone width.
The pages hold the showcase (emoji names, Discord markup, quoted email, a page, quarantine)."""

from __future__ import annotations

import json

import pytest

from tests.browser import DESKTOP, LEAD, PHONE, axe_violations, chromium, log_in, seed_showcase, server  # noqa: F401
from tests.browser import page_ack_link, seed_second_wave


def signed_in_pages(refs: dict[str, str]) -> dict[str, str]:
    return {"inbox": "/", "ticket-email": f"/tickets/{refs['email']}", "ticket-discord": f"/tickets/{refs['discord']}",
            "ticket-paged": f"/tickets/{refs['paged']}", "dashboard": "/dashboard", "operations": "/operations",
            "operations-contacts": "/operations?contact=a"}


@pytest.mark.parametrize("width", ["desktop", "phone"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_page_has_serious_or_critical_accessibility_violations(chromium, server, scheme, width):
    base, settings = server
    refs = seed_showcase(settings)
    public, signed_in = seed_second_wave(settings)
    context = chromium.new_context(bypass_csp=True, color_scheme=scheme,
                                   viewport=PHONE if width == "phone" else DESKTOP)
    page = context.new_page()
    found = {}
    page.goto(page_ack_link(settings, refs["paged"]))  # public: the on-call page's signed link
    found["oncall-ack"] = axe_violations(page)
    page.goto(f"{base}/login")
    found["login"] = axe_violations(page)
    for name, path in public.items():  # what customers see: the status page, the knowledge base
        page.goto(f"{base}{path}")
        found[name] = axe_violations(page)
    log_in(page, base, LEAD)
    for name, path in {**signed_in_pages(refs), **signed_in}.items():
        page.goto(f"{base}{path}")
        found[name] = axe_violations(page)
    context.close()
    failing = {name: problems for name, problems in found.items() if problems}
    assert failing == {}, json.dumps(failing, indent=1)


def test_keyboard_focus_is_always_visible(chromium, server):
    """Tabbing through the inbox and a ticket: every focused control shows a ring of 2 px or more."""
    base, settings = server
    refs = seed_showcase(settings)
    page = chromium.new_page(viewport=DESKTOP)
    log_in(page, base, LEAD)
    invisible = []
    for path in ("/", f"/tickets/{refs['paged']}"):
        page.goto(f"{base}{path}")
        for _ in range(25):
            page.keyboard.press("Tab")
            ring = page.evaluate("""() => { const e = document.activeElement, s = getComputedStyle(e);
                return [e.tagName + (e.id ? '#' + e.id : ''), s.outlineStyle, parseFloat(s.outlineWidth)]; }""")
            if ring[1] == "none" or ring[2] < 2:
                invisible.append((path, ring))
    assert invisible == []
