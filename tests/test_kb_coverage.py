"""Documentation coverage kept per ticket: it follows new articles, and over a big window it
is estimated on a sample instead of searching every ticket (SQLite, then PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.db import session_factory
from storage.models.kb import KbCoverage
from support.intake.ingest import ingest
from support.kb import articles, coverage, seed
from support.tickets.actions import set_status
from support.tickets.metrics import dashboard
from tests.cast import ada_email

CRYPTO = "Can I pay for my subscription with bitcoin or another cryptocurrency wallet?"


def _resolved(settings, n: int, text: str, tag: str) -> None:
    for i in range(n):
        ref = ingest(ada_email(f"{tag}-{i}@mail.example", subject="Question", text=text), live=False,
                     settings=settings).ref
        set_status(ref, "resolved", user_id=None, settings=settings)


def _kept(settings) -> int:
    with session_factory(settings.db_url, readonly=True)() as session:
        return session.scalar(select(func.count()).select_from(KbCoverage))


def test_a_new_article_counts_for_tickets_resolved_before_it(settings):
    seed.load(settings)
    _resolved(settings, 2, CRYPTO, "crypto")
    board = {k.key: k for k in dashboard(settings=settings).kpis}
    assert (board["documentation_coverage"].value, board["documentation_coverage"].sample) == (0.0, 2)
    assert _kept(settings) == 2  # the answer is kept: the next view searches nothing
    articles.create(settings, title="Paying with cryptocurrency", category="faqs", status="published",
                    body="We accept bitcoin and other cryptocurrency wallets for every subscription: pay "
                         "with your crypto wallet at checkout.", author="lead@example.com")
    board = {k.key: k for k in dashboard(settings=settings).kpis}
    assert board["documentation_coverage"].value == 100.0  # both checked again against the new article


def test_a_big_window_is_estimated_on_a_kept_sample(settings, monkeypatch):
    seed.load(settings)
    monkeypatch.setattr(coverage, "SAMPLE", 8)
    _resolved(settings, 16, "My export fails: the download never starts when I click Export", "export")
    _resolved(settings, 16, CRYPTO, "crypto")
    board = {k.key: k for k in dashboard(settings=settings).kpis}
    kpi = board["documentation_coverage"]
    assert kpi.sample == 32 and "estimated on" in kpi.note and "of 32" in kpi.note
    assert 20.0 <= kpi.value <= 80.0  # half the tickets have an article; the sample sees both kinds
    searched = _kept(settings)
    assert 0 < searched <= 16  # every 4th ticket (32 / 8), not all 32
    assert coverage.refresh(settings) == 0  # the beat task finds the dashboard's sample checked
    dashboard(settings=settings)
    assert _kept(settings) == searched
