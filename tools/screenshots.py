"""`make screenshots`: every page at desktop and phone width, light and dark, into ./screenshots/.

Runs the hub on a free port over a fresh SQLite database filled with the showcase of
tests/browser.py (every channel, emoji names, Discord markup, quoted email, a paged
ticket, quarantine and a failed send), logs in as a lead in Debian's Chromium, and saves
one full-page PNG per page, width and colour scheme: `<page>-<desktop|phone>-<light|dark>.png`.
Nothing is asserted here (tests/test_a11y.py and tests/test_phone.py do that): this is for eyes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    home = Path(tempfile.mkdtemp(prefix="trkv-shots-"))
    from tests.browser import DESKTOP, PHONE, free_port  # noqa: E402 - after the path is set

    port = free_port()
    os.environ.update(TRKV_HOME=str(home), TRKV_DATABASE_URL=f"sqlite:///{home}/hub.db", TRKV_DEMO="0",
                      TRKV_PUBLIC_URL=f"http://127.0.0.1:{port}", TRKV_ONCALL_WEBHOOK_URL="http://127.0.0.1:9/hook")
    os.environ.pop("TRKV_BROKER_URL", None)
    from storage.migrate import upgrade
    from tests.browser import (
        LEAD,
        create_people,
        launch,
        log_in,
        page_ack_link,
        seed_showcase,
        seed_weak_article,
        serve,
    )
    from trkv.settings import reset_settings

    settings = reset_settings()
    upgrade(settings.db_url)
    create_people(settings)
    refs = seed_showcase(settings)
    from support.incidents import core as incidents
    from support.kb import seed as kb_seed

    kb_seed.load(settings)
    seed_weak_article(settings)  # a row in the weekly KB page's weak-articles table
    incident = incidents.declare(
        "Dashboard answers 502 Bad Gateway", "major", incidents.Actor("lena.lead@trkv.test"),
        components_=["Web app", "API"], settings=settings,
        message="Some dashboards answer 502. We are looking into the load balancer.")
    from datetime import timedelta

    from storage.models.base import utcnow
    from support.incidents import maintenance

    start = utcnow() + timedelta(days=1)  # "Scheduled maintenance" on /status and the agents' page
    maintenance.schedule("Database upgrade (PostgreSQL 17)", start, start + timedelta(hours=2),
                         incidents.Actor("lena.lead@trkv.test"), components_=["API"],
                         description="The API may answer 503 for a few minutes.", settings=settings)
    archive = home / "archive.jsonl"  # an import's tickets waiting for the search index: the search's note
    archive.write_text("".join(
        f'{{"channel": "email", "external_id": "<old-{n}@example.com>", "author_id": "old{n}@example.com", '
        f'"subject": "{subject}", "text": "{subject}. From last year\'s archive."}}\n'
        for n, subject in enumerate(("Refunds for the annual plan", "Refund still missing", "Invoice shows the wrong VAT"))))
    from support.intake.importer import import_path

    import_path(archive, settings=settings, workers=0)
    pages = {
        "login": "/login", "inbox": "/", "inbox-search": "/?q=refund&status=all", "ticket-email": f"/tickets/{refs['email']}",
        "ticket-discord": f"/tickets/{refs['discord']}", "ticket-paged": f"/tickets/{refs['paged']}",
        "dashboard": "/dashboard", "operations": "/operations", "incidents": "/incidents",
        "incident": f"/incidents/{incident['id']}", "kb-admin": "/kb-admin", "weekly-review": "/reports/weekly",
        "follow-up": "/feedback/follow-up", "feedback": "/feedback", "users": "/users",
        "maintenance": "/maintenance", "kb-weekly": "/kb-admin/weekly",
    }
    public = {"status": "/status", "kb": "/kb", "kb-search": "/kb/search?q=export+csv", "kb-releases": "/kb/releases"}
    with serve(settings, port) as base, launch() as browser:
        for width_name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            for scheme in ("light", "dark"):
                context = browser.new_context(viewport=viewport, color_scheme=scheme,
                                              is_mobile=width_name == "phone", has_touch=width_name == "phone",
                                              device_scale_factor=1)
                page = context.new_page()
                page.goto(page_ack_link(settings, refs["paged"]))  # public: the on-call page's signed link
                page.screenshot(path=str(out / f"oncall-ack-{width_name}-{scheme}.png"), full_page=True)
                for name, path in public.items():  # what customers see, without a login
                    page.goto(f"{base}{path}")
                    page.screenshot(path=str(out / f"{name}-{width_name}-{scheme}.png"), full_page=True)
                page.goto(f"{base}/login")
                page.screenshot(path=str(out / f"login-{width_name}-{scheme}.png"), full_page=True)
                log_in(page, base, LEAD)
                for name, path in pages.items():
                    if name == "login":
                        continue
                    page.goto(f"{base}{path}")
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=str(out / f"{name}-{width_name}-{scheme}.png"), full_page=True)
                context.close()
    print(f"{len(list(out.glob('*.png')))} screenshots in {out}")


if __name__ == "__main__":
    main()
