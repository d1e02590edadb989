"""Articles: create, save (every save is a version, with who and when), read, history,
diff between any two versions, and revert (a new version with an old one's text).

A save that names the version it edited gets a Conflict when someone saved since: the
row is locked (PostgreSQL) or the write lock is held (SQLite's BEGIN IMMEDIATE) while the
version is compared, so two editors saving at once cannot both win.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.db import session_factory, transaction
from storage.models.base import utcnow
from storage.models.kb import KB_CATEGORIES, KB_STATUSES, KbArticle, KbArticleVersion
from support.accounts import has_role
from support.intake.sanitize import clean_text
from support.kb import index, render
from trkv.settings import Settings

# Paths under /kb that are pages of their own, not articles.
RESERVED = {"search", "releases", "releases.atom", "go", "new", "edit", "manage", *KB_CATEGORIES,
            *(c.replace("_", "-") for c in KB_CATEGORIES)}


class KbError(ValueError):
    status = 422


class NotFound(KbError):
    status = 404


class Conflict(KbError):
    status = 409


class Forbidden(KbError):
    status = 403


class TooLarge(KbError):
    status = 413


def url(settings: Settings, slug: str) -> str:
    return f"{settings.public_url.rstrip('/')}/kb/{slug}"


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:80].strip("-")
    return slug or "article"


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    """NUL bytes out (PostgreSQL cannot store them) and lone surrogates replaced."""
    return {k: clean_text(v)[0] if isinstance(v, str) else v for k, v in fields.items()}


def _check(fields: dict[str, Any], role_user) -> None:
    if "title" in fields and not str(fields["title"]).strip():
        raise KbError("the title is empty")
    if fields.get("category") is not None and fields["category"] not in KB_CATEGORIES:
        raise KbError(f"category must be one of {', '.join(KB_CATEGORIES)}")
    if fields.get("status") is not None and fields["status"] not in KB_STATUSES:
        raise KbError(f"status must be one of {', '.join(KB_STATUSES)}")
    try:
        render.check_size(str(fields.get("title", "")), str(fields.get("body", "")))
    except render.TooLarge as exc:
        raise TooLarge(str(exc)) from exc
    if role_user is not None and not has_role(role_user, "engineer") and fields.get("status", "draft") != "draft":
        raise Forbidden("community managers write drafts; an engineer or a lead publishes")


def _unique_slug(session: Session, title: str) -> str:
    base = slugify(title)
    if base in RESERVED:
        base = f"{base}-article"
    taken = set(session.execute(select(KbArticle.slug).where(KbArticle.slug.like(f"{base}%"))).scalars())
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _snapshot(article: KbArticle, author: str, note: str | None = None) -> KbArticleVersion:
    return KbArticleVersion(article_id=article.id, version=article.version, title=article.title,
                            category=article.category, body=article.body, status=article.status,
                            author=author, note=note, created_at=article.updated_at)


def serialize(article: KbArticle, settings: Settings) -> dict[str, Any]:
    return {"slug": article.slug, "title": article.title, "category": article.category, "body": article.body,
            "status": article.status, "version": article.version, "url": url(settings, article.slug),
            "updated_at": article.updated_at.isoformat(), "updated_by": article.updated_by}


def create(settings: Settings, *, title: str, category: str, body: str, status: str = "draft",
           author: str, user=None, slug: str | None = None) -> dict[str, Any]:
    """A new article, version 1 (`slug` from the title unless given, e.g. by the seed)."""
    fields = _clean({"title": title, "category": category, "body": body, "status": status})
    _check(fields, user)
    title, body = fields["title"], fields["body"]
    now = utcnow()
    with transaction(settings.db_url) as session:
        article = KbArticle(slug=_unique_slug(session, slug or title), title=title.strip(), category=category, body=body,
                            html=render.to_html(body), status=status, version=1, updated_by=author,
                            created_at=now, updated_at=now, reviewed_at=now)
        session.add(article)
        session.flush()
        session.add(_snapshot(article, author))
        saved = serialize(article, settings)
    index.invalidate(settings.db_url)
    return saved


def update(settings: Settings, slug: str, changes: dict[str, Any], *, author: str, user=None,
           expected_version: int | None = None, note: str | None = None) -> dict[str, Any]:
    """The next version with `changes` (any of title, category, body, status)."""
    changes = _clean({k: v for k, v in changes.items() if k in ("title", "category", "body", "status") and v is not None})
    with transaction(settings.db_url) as session:
        article = session.execute(select(KbArticle).where(KbArticle.slug == slug).with_for_update()).scalar_one_or_none()
        if article is None:
            raise NotFound(f"no article {slug[:120]}")
        if expected_version is not None and expected_version != article.version:
            raise Conflict(f"version {expected_version} is not the latest: {article.updated_by} saved version "
                           f"{article.version} at {article.updated_at:%Y-%m-%d %H:%M} UTC; reload and merge")
        _check({"status": article.status, **changes, "body": changes.get("body", "")}, user)
        if user is not None and not has_role(user, "engineer") and article.status != "draft":
            raise Forbidden("community managers edit drafts only")
        for key, value in changes.items():
            setattr(article, key, value.strip() if key == "title" else value)
        if "body" in changes:
            article.html = render.to_html(article.body)
        now = utcnow()
        article.version += 1
        article.updated_by, article.updated_at, article.reviewed_at = author, now, now
        article.review_reason = None
        session.flush()
        session.add(_snapshot(article, author, note))
        saved = serialize(article, settings)
    index.invalidate(settings.db_url)
    return saved


def get(settings: Settings, slug: str, *, published_only: bool = False) -> KbArticle | None:
    with session_factory(settings.db_url, readonly=True)() as session:
        article = session.execute(select(KbArticle).where(KbArticle.slug == slug[:120])).scalar_one_or_none()
        if article is not None:
            session.expunge(article)
    if article is None or (published_only and article.status != "published"):
        return None
    return article


def listing(settings: Settings, *, category: str | None = None, status: str | None = "published",
            limit: int = 500) -> list[dict[str, Any]]:
    query = select(KbArticle.slug, KbArticle.title, KbArticle.category, KbArticle.status, KbArticle.version,
                   KbArticle.updated_at, KbArticle.updated_by).order_by(KbArticle.title).limit(limit)
    if category:
        query = query.where(KbArticle.category == category)
    if status:
        query = query.where(KbArticle.status == status)
    with session_factory(settings.db_url, readonly=True)() as session:
        return [dict(row._mapping) | {"url": url(settings, row.slug)} for row in session.execute(query)]


def counts_by_category(settings: Settings) -> dict[str, int]:
    with session_factory(settings.db_url, readonly=True)() as session:
        rows = session.execute(select(KbArticle.category, func.count()).where(KbArticle.status == "published")
                               .group_by(KbArticle.category)).all()
    return {category: 0 for category in KB_CATEGORIES} | dict(rows)


def versions(settings: Settings, slug: str) -> list[dict[str, Any]]:
    with session_factory(settings.db_url, readonly=True)() as session:
        article_id = session.execute(select(KbArticle.id).where(KbArticle.slug == slug[:120])).scalar_one_or_none()
        if article_id is None:
            raise NotFound(f"no article {slug[:120]}")
        rows = session.execute(select(KbArticleVersion).where(KbArticleVersion.article_id == article_id)
                               .order_by(KbArticleVersion.version.desc())).scalars()
        return [{"version": v.version, "title": v.title, "author": v.author, "created_at": v.created_at.isoformat(),
                 "status": v.status, "note": v.note} for v in rows]


def version(settings: Settings, slug: str, number: int) -> KbArticleVersion:
    with session_factory(settings.db_url, readonly=True)() as session:
        found = session.execute(
            select(KbArticleVersion).join(KbArticle, KbArticle.id == KbArticleVersion.article_id)
            .where(KbArticle.slug == slug[:120], KbArticleVersion.version == number)).scalar_one_or_none()
        if found is None:
            raise NotFound(f"{slug[:120]} has no version {number}")
        session.expunge(found)
        return found


def diff(settings: Settings, slug: str, old: int, new: int) -> list[tuple[str, str]]:
    """(kind, line) pairs, kind one of ' ', '+', '-', '@': the title and body from `old` to `new`."""
    a, b = version(settings, slug, old), version(settings, slug, new)
    left = [f"# {a.title}", f"category: {a.category}", ""] + a.body.splitlines()
    right = [f"# {b.title}", f"category: {b.category}", ""] + b.body.splitlines()
    lines = difflib.unified_diff(left, right, f"version {old}", f"version {new}", lineterm="", n=3)
    out = []
    for line in list(lines)[2:]:
        out.append(("@" if line.startswith("@@") else line[:1] or " ", line[1:] if line[:1] in "+- " else line))
    return out


def revert(settings: Settings, slug: str, to_version: int, *, author: str, user=None) -> dict[str, Any]:
    """A new version whose title, category and body are those of `to_version`."""
    old = version(settings, slug, to_version)
    return update(settings, slug, {"title": old.title, "category": old.category, "body": old.body},
                  author=author, user=user, note=f"revert to version {to_version}")
