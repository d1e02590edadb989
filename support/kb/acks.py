"""The KB part of the acknowledgement: when a `documentation` or `support_question`
ticket's first message is a confident match for a published article, the
acknowledgement names it, through the counting redirect /kb/go/{slug}, signed with the
ticket, so a click is a read by this customer (support/kb/reads.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from support.kb import reads, responses, search
from trkv.settings import Settings

ACK_CATEGORIES = ("documentation", "support_question")


def ack_article(ticket: Any, settings: Settings) -> dict[str, str] | None:
    """{title, url} of the article the acknowledgement should link, or None."""
    if ticket.category not in ACK_CATEGORIES:
        return None
    first = ticket.first
    best = search.confident_match(settings, f"{first.subject or ''}\n{first.text or ''}")
    if best is None:
        return None
    return {"title": best["title"], "url": reads.go_url(settings, best["slug"], reads.ticket_ref(settings, ticket.id))}


def open_questions(ticket: Any, settings: Settings, session: Session | None = None) -> list[str]:
    """The questions of the category's issue template that the first message leaves open
    (`session`: the caller's, where it has one)."""
    first = ticket.first
    return responses.missing_questions(settings, ticket.category, f"{first.subject or ''}\n{first.text or ''}",
                                       session=session)
