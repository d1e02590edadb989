"""The 60 TRKV articles a new hub starts with (support/kb/seed/*.md, front matter with
title and category; the file name is the slug). Loading is idempotent: an article whose
slug exists is left as it is, so local edits survive a second load."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.db import session_factory
from storage.models.kb import KbArticle
from support.kb import articles
from trkv.settings import Settings

SEED = Path(__file__).parent / "seed"


def read(path: Path) -> dict[str, str]:
    """{slug, title, category, body} from one seed file."""
    text = path.read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    fields = dict(line.split(": ", 1) for line in front.strip().splitlines())
    return {"slug": path.stem, "title": fields["title"], "category": fields["category"], "body": body.strip() + "\n"}


def seed_articles() -> list[dict[str, str]]:
    return [read(path) for path in sorted(SEED.glob("*.md"))]


def load(settings: Settings, author: str = "seed") -> int:
    """Publish the seed articles that are missing; the number added."""
    with session_factory(settings.db_url, readonly=True)() as session:
        existing = set(session.execute(select(KbArticle.slug)).scalars())
    added = 0
    for article in seed_articles():
        if article["slug"] not in existing:
            articles.create(settings, **article, status="published", author=author)
            added += 1
    return added
