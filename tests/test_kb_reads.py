"""Read, then a ticket (SQLite, then PostgreSQL): an acknowledgement's article link names
its ticket, so a click is a read by that customer; when they write again in a new ticket
within a day, the article joins the weekly update's weak articles (the JSON, the page and
`trkv kb weekly`). Page views count as reads; a forged ref counts the click and nobody."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from connectors.base import Inbound
from inbox.app import create_app
from storage.db import session_factory, transaction
from storage.models.base import utcnow
from storage.models.kb import KbArticle, KbRead
from support import accounts
from support.intake.ingest import ingest
from support.kb import seed, weekly
from tests.test_web_inbox import PASSWORD, Browser
from tests.test_kb_answers import ack_of
from trkv.cli import main

LEAD = "lena.lead@trkv.test"
QUESTION = "When I click Export nothing downloads. Where is this documented?"


@pytest.fixture
def public(settings) -> TestClient:
    seed.load(settings)
    return TestClient(create_app(settings))


def write(settings, n: int, sender: str = "ada@example.com") -> str:
    """A documentation email, a new ticket; its ref."""
    mail = Inbound(channel="email", external_id=f"kb-read-{n}@mail.example", text=QUESTION, author_id=sender,
                   author_handle=sender, author_email=sender, subject="Exports", hints={"category": "documentation"})
    return ingest(mail, settings=settings).ref


def ask(settings, n: int) -> tuple[str, str]:
    """Ada's first question; returns its ref and the acknowledgement's article link (a path)."""
    ref = write(settings, n)
    link = re.search(r"https?://[^/\s]+(/kb/go/export-not-working\?r=t\d+\.[\w-]+)", ack_of(settings, ref)["text"])
    return ref, link.group(1)


def reads(settings) -> list[tuple]:
    with session_factory(settings.db_url)() as session:
        return list(session.execute(select(KbRead.via, KbRead.ticket_id.is_not(None), KbRead.client.is_not(None))
                                    .order_by(KbRead.id)).all())


def test_a_read_from_the_acknowledgement_then_a_new_ticket_makes_a_weak_article(settings, public):
    ref, link = ask(settings, 1)
    landed = public.get(link)  # the click, then the article page
    assert landed.status_code == 200 and "Exports fail or the download never starts" in landed.text
    assert reads(settings) == [("ack", True, False), ("page", False, True)]
    assert weekly.report(settings)["weak_articles"] == []  # read, and no new ticket (yet)

    assert write(settings, 2) != ref  # Ada writes again, a new ticket: the article did not answer her
    [weak] = weekly.report(settings)["weak_articles"]
    assert weak == {"slug": "export-not-working", "title": "Exports fail or the download never starts",
                    "reads": 1, "tracked_reads": 1, "followed_by_ticket": 1, "rate": 1.0}

    accounts.create_user(LEAD, "lead", PASSWORD, settings=settings)
    page = Browser(TestClient(create_app(settings), follow_redirects=False), LEAD).get("/kb-admin/weekly")
    assert page.status_code == 200 and "Weak articles" in page.text
    cells = re.sub(r"<td [^>]*>", "<td>", page.text)  # the cells' data-label attributes aside
    assert "Exports fail or the download never starts</a></td><td>1</td><td>1</td><td>1</td><td>100 %" in cells
    out = CliRunner().invoke(main, ["kb", "weekly"])
    assert "export-not-working: 1 of 1 tracked reads (100%), 1 page views" in out.output


def test_a_ticket_days_later_or_by_someone_else_does_not_count(settings, public):
    _, link = ask(settings, 1)
    public.get(link)
    with transaction(settings.db_url) as session:  # the read was three days ago
        session.execute(update(KbRead).values(created_at=utcnow() - timedelta(days=3)))
    write(settings, 2)  # Ada again, but two days past the window
    write(settings, 3, sender="cy@example.com")  # and someone else
    assert weekly.report(settings)["weak_articles"] == []


def test_a_forged_ref_counts_the_click_but_names_no_reader(settings, public):
    _, link = ask(settings, 1)
    forged = re.sub(r"\?r=t(\d+)\.", lambda m: f"?r=t{int(m.group(1)) + 1}.", link)
    assert public.get(forged, follow_redirects=False).status_code == 303
    assert public.get("/kb/go/export-not-working?r=nonsense", follow_redirects=False).status_code == 303
    assert [r[:2] for r in reads(settings)] == [("link", False), ("link", False)]
    with session_factory(settings.db_url)() as session:
        assert session.execute(select(KbArticle.clicks).where(KbArticle.slug == "export-not-working")).scalar() == 2
    assert public.get("/kb/go/no-such-article?r=nonsense").status_code == 404
