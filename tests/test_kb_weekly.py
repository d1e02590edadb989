"""The weekly KB update and documentation coverage (SQLite, then PostgreSQL)."""

from __future__ import annotations

import json
from datetime import timedelta

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import update

from inbox.app import create_app
from storage.db import transaction
from storage.models.base import utcnow
from storage.models.kb import KbArticle, KbFeedback
from support.intake.ingest import ingest
from support.kb import seed, weekly
from support.tickets.actions import set_status
from support.tickets.metrics import dashboard
from support.tickets.replies import reply
from tests.cast import ada_email
from trkv.cli import main


def test_the_weekly_update_lists_stale_falling_and_missing_and_measures_coverage(settings):
    seed.load(settings)
    now = utcnow()
    with transaction(settings.db_url) as session:
        session.execute(update(KbArticle).where(KbArticle.slug == "pricing-plans")
                        .values(reviewed_at=now - timedelta(days=120)))
        article_id = session.query(KbArticle.id).filter(KbArticle.slug == "app-slow").scalar()
        for days, helpful in [(40, True)] * 6 + [(5, False)] * 5 + [(5, True)]:
            session.add(KbFeedback(article_id=article_id, helpful=helpful, client="c",
                                   created_at=now - timedelta(days=days)))
    public = TestClient(create_app(settings))
    for _ in range(3):
        public.get("/api/kb/search", params={"q": "dark mode"})
    public.get("/api/kb/search", params={"q": "export"})
    # Two resolved tickets: one answered with an article link, one the KB has nothing on.
    linked = ingest(ada_email("w-1@mail.example", subject="Hi", text="Can someone call me back?"), live=False,
                    settings=settings).ref
    reply(linked, f"See {settings.public_url}/kb/app-slow", settings=settings)
    lonely = ingest(ada_email("w-2@mail.example", subject="Hello", text="Can I pay with cryptocurrency?"),
                    live=False, settings=settings).ref
    for ref in (linked, lonely):
        set_status(ref, "resolved", user_id=None, settings=settings)
    report = weekly.report(settings)
    assert [a["slug"] for a in report["stale"]] == ["pricing-plans"]
    assert report["falling_helpfulness"] == [{"slug": "app-slow", "helpful_now": 0.17, "helpful_before": 1.0,
                                              "answers": 6}]
    assert report["missing_topics"] == [{"query": "dark mode", "searches": 3}]
    assert report["coverage"] == {"resolved": 2, "checked": 2, "covered": 1, "value": 0.5}
    kpis = {k.key: k for k in dashboard(settings=settings).kpis}
    assert (kpis["documentation_coverage"].value, kpis["documentation_coverage"].sample) == (50.0, 2)
    out = CliRunner().invoke(main, ["kb", "weekly", "--json"])
    assert out.exit_code == 0 and json.loads(out.output)["coverage"]["value"] == 0.5
