"""The weekly KB update for the support engineers: articles not reviewed in
TRKV_KB_REVIEW_DAYS, articles whose helpfulness is falling, the top searches that found
nothing (missing topics), weak articles (read, then a ticket: support/kb/reads.py), and
documentation coverage, the seed's KPI: the share of
tickets resolved in the window that link an article in a reply or whose question a
published article confidently answers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select

from storage.db import session_factory
from storage.models.base import utcnow
from storage.models.kb import KbArticle, KbFeedback, KbSearch
from support.kb import coverage as kb_coverage
from support.kb import reads
from trkv.settings import Settings

HELPFUL_WINDOW_DAYS = 30
MIN_ANSWERS = 5  # fewer answers than this in either window say nothing about a trend
FALL = 0.2  # a drop of 20 points in the helpful share


def report(settings: Settings, now: datetime | None = None, days: int = 7) -> dict[str, Any]:
    now = now or utcnow()
    return {"generated_at": now.isoformat(), "review_days": settings.kb_review_days,
            "stale": stale(settings, now), "flagged": flagged(settings), "falling_helpfulness": falling(settings, now),
            "missing_topics": missing_topics(settings, now - timedelta(days=days)),
            "weak_articles": reads.weak_articles(settings, now - timedelta(days=days), now),
            "coverage": coverage(settings, now - timedelta(days=days), now)}


def stale(settings: Settings, now: datetime) -> list[dict[str, Any]]:
    cutoff = now - timedelta(days=settings.kb_review_days)
    with session_factory(settings.db_url, readonly=True)() as session:
        rows = session.execute(select(KbArticle.slug, KbArticle.title, KbArticle.reviewed_at).where(
            KbArticle.status == "published", KbArticle.reviewed_at < cutoff).order_by(KbArticle.reviewed_at)).all()
    return [{"slug": r.slug, "title": r.title, "reviewed_at": r.reviewed_at.isoformat(),
             "days": (now - r.reviewed_at).days} for r in rows]


def flagged(settings: Settings) -> list[dict[str, Any]]:
    """Published articles a release marked for review (support/kb/releases.py)."""
    with session_factory(settings.db_url, readonly=True)() as session:
        rows = session.execute(select(KbArticle.slug, KbArticle.title, KbArticle.review_reason).where(
            KbArticle.status == "published", KbArticle.review_reason.is_not(None)).order_by(KbArticle.slug)).all()
    return [{"slug": r.slug, "title": r.title, "reason": r.review_reason} for r in rows]


def falling(settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """Articles whose helpful share in the last window is FALL below the window before."""
    recent, before = now - timedelta(days=HELPFUL_WINDOW_DAYS), now - timedelta(days=2 * HELPFUL_WINDOW_DAYS)

    def window(start: datetime, end: datetime):
        helpful = func.sum(case((KbFeedback.helpful.is_(True), 1), else_=0))
        return (select(KbFeedback.article_id, func.count().label("n"), helpful.label("yes"))
                .where(KbFeedback.created_at >= start, KbFeedback.created_at < end).group_by(KbFeedback.article_id))

    with session_factory(settings.db_url, readonly=True)() as session:
        now_rows = {r.article_id: r for r in session.execute(window(recent, now))}
        old_rows = {r.article_id: r for r in session.execute(window(before, recent))}
        titles = dict(session.execute(select(KbArticle.id, KbArticle.slug).where(
            KbArticle.id.in_(list(now_rows) or [0]))).all())
    out = []
    for article_id, row in now_rows.items():
        old = old_rows.get(article_id)
        if old is None or row.n < MIN_ANSWERS or old.n < MIN_ANSWERS:
            continue
        share, previous = row.yes / row.n, old.yes / old.n
        if previous - share >= FALL:
            out.append({"slug": titles[article_id], "helpful_now": round(share, 2),
                        "helpful_before": round(previous, 2), "answers": row.n})
    return sorted(out, key=lambda r: r["helpful_now"] - r["helpful_before"])


def missing_topics(settings: Settings, since: datetime, limit: int = 10) -> list[dict[str, Any]]:
    query = func.lower(KbSearch.query)
    with session_factory(settings.db_url, readonly=True)() as session:
        rows = session.execute(select(query.label("q"), func.count().label("n")).where(KbSearch.created_at >= since)
                               .group_by(query).order_by(func.count().desc(), query).limit(limit)).all()
    return [{"query": r.q, "searches": r.n} for r in rows]


def coverage_kpi(settings: Settings, since: datetime, until: datetime) -> tuple:
    """The dashboard's KPI fields after its label: (value %, unit, target, better, sample, note)."""
    figures = kb_coverage.for_dashboard(settings, since, until)
    value = None if figures["value"] is None else round(100 * figures["value"], 1)
    note = "resolved tickets that link an article or whose topic has one"
    if figures["checked"] < figures["resolved"]:
        note += f" (estimated on {figures['checked']:,} of {figures['resolved']:,}"
        if figures.get("as_of") is not None:
            note += f", as of {figures['as_of']:%H:%M} UTC"
        note += ")"
    return value, "%", 100, "above", figures["resolved"], note


def coverage(settings: Settings, since: datetime, until: datetime) -> dict[str, Any]:
    """{resolved, checked, covered, value}: see support/kb/coverage.py."""
    return kb_coverage.coverage(settings, since, until)
