"""Readers' answers to "Did this answer your question?" (reads and the counting redirect
are in support/kb/reads.py)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select, update

from storage.db import transaction
from storage.models.kb import KbArticle, KbFeedback
from support.intake.sanitize import clean_text
from support.kb.articles import NotFound
from trkv.settings import Settings

MAX_COMMENT = 2000


def client_key(host: str) -> str:
    """Who gave feedback, without storing the address itself."""
    return hashlib.sha256(f"kb-feedback:{host}".encode()).hexdigest()[:32]


def record(settings: Settings, slug: str, helpful: bool, comment: str | None, client: str) -> None:
    with transaction(settings.db_url) as session:
        article_id = session.execute(select(KbArticle.id).where(KbArticle.slug == slug[:120],
                                                                KbArticle.status == "published")).scalar_one_or_none()
        if article_id is None:
            raise NotFound(f"no article {slug[:120]}")
        comment = clean_text((comment or "").strip()[:MAX_COMMENT])[0] or None
        session.add(KbFeedback(article_id=article_id, helpful=helpful, comment=comment, client=client))
        column = KbArticle.helpful if helpful else KbArticle.unhelpful
        session.execute(update(KbArticle).where(KbArticle.id == article_id).values({column: column + 1}))

