"""Knowledge base: articles with every saved version, readers' feedback, searches that
found nothing, and the templates agents and acknowledgements are built from."""


from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, utcnow

KB_CATEGORIES = ("getting_started", "configuration", "troubleshooting", "faqs", "api_reference", "best_practices")
KB_STATUSES = ("draft", "published", "archived")


class KbArticle(Base):
    """The latest version of an article (the row the public pages and search read);
    every save also writes a KbArticleVersion."""

    __tablename__ = "kb_articles"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(32), index=True)
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)  # the body rendered and sanitized at save
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # the search index's signature
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow)  # last save: someone read it then
    review_reason: Mapped[str | None] = mapped_column(String(200))  # e.g. a release touched it; a save clears it
    views: Mapped[int] = mapped_column(Integer, default=0)
    clicks: Mapped[int] = mapped_column(Integer, default=0)  # through acknowledgement links
    helpful: Mapped[int] = mapped_column(Integer, default=0)
    unhelpful: Mapped[int] = mapped_column(Integer, default=0)


class KbArticleVersion(Base):
    """One save of an article: what it said, who saved it and when."""

    __tablename__ = "kb_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version", name="uq_kb_article_versions_version"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(320))
    note: Mapped[str | None] = mapped_column(String(300))  # e.g. "revert to version 2"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class KbFeedback(Base):
    """"Did this answer your question?" from a reader (no account; the client is hashed)."""

    __tablename__ = "kb_feedback"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text)
    client: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class KbSearch(Base):
    """A search that found nothing: the raw material of the "missing articles" list."""

    __tablename__ = "kb_searches"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    query: Mapped[str] = mapped_column(String(200))
    results: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ResponseTemplate(Base):
    """A response template (agents' composer) or an issue template (what a first message
    of a category should tell us, one question per line)."""

    __tablename__ = "response_templates"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="response")  # response | issue
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    x_body: Mapped[str | None] = mapped_column(Text)  # the short X variant
    category: Mapped[str | None] = mapped_column(String(32))  # issue templates: the ticket category
    usage_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_by: Mapped[str] = mapped_column(String(320), default="seed")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Release(Base):
    """A release: version (exactly as given), notes in Markdown, the tickets it ships.
    `fanned_out_at` is set once every announcement and ticket reply is in the outbox."""

    __tablename__ = "releases"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version: Mapped[str] = mapped_column(String(50), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    fanned_out_at: Mapped[datetime | None]


class ReleaseTicket(Base):
    __tablename__ = "release_tickets"
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)


class KbCoverage(Base):
    """Whether a resolved ticket's question has a published article that answers it
    (support/kb/coverage.py): one KB search per ticket, kept, so that documentation coverage
    over a window reads rows instead of searching again. Rows older than the newest
    published article are stale and checked again."""

    __tablename__ = "kb_coverage"
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    slug: Mapped[str | None] = mapped_column(String(120))  # the confident match, or None
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)


class KbCoverageFigure(Base):
    """Documentation coverage of one of the dashboard's windows (7, 30, 90 days), as the
    beat task `trkv.kb_coverage` or the last view that computed it found it: the KPI is a
    sampled estimate, and a view reads this row while it is recent (support/kb/coverage.py)."""

    __tablename__ = "kb_coverage_figures"
    days: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    since: Mapped[datetime] = mapped_column()
    until: Mapped[datetime] = mapped_column()
    resolved: Mapped[int] = mapped_column(Integer)
    checked: Mapped[int] = mapped_column(Integer)
    covered: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column()


class KbRead(Base):
    """An article read: a public page view (`client` is the reader's address, hashed) or a
    click through a link the hub sent (`via` ack or discord), which names its reader by a
    signed ref: the ticket whose acknowledgement carried it, or the Discord user who asked
    `/kb`. Reads by a known reader followed by a ticket feed the weak-articles list."""

    __tablename__ = "kb_reads"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True)
    via: Mapped[str] = mapped_column(String(16))  # page | ack | discord | link (a ref that did not verify)
    client: Mapped[str | None] = mapped_column(String(64))
    ticket_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="SET NULL"))
    reader: Mapped[str | None] = mapped_column(String(340))  # "<channel>:<user id>" (an Identity)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
