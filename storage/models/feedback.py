"""The feedback loop: satisfaction surveys and their answers, the audit of contacts
linked as one person, and the lead's decisions on the weekly review's themes."""


from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, utcnow


class Survey(Base):
    """One satisfaction survey per resolved ticket (the unique ticket id makes a second
    one impossible). The answer lives on the row: a second answer within a day replaces it."""

    __tablename__ = "csat_surveys"
    __table_args__ = (
        Index("ix_csat_surveys_person_sent", "person_id", "sent_at"),  # one survey per person per period
        Index("ix_csat_surveys_answered", "answered_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    person_id: Mapped[int | None] = mapped_column(BigId)  # the contact, or the one it is linked to
    channel: Mapped[str] = mapped_column(String(16))  # where it was asked: email | discord | x
    outbox_id: Mapped[int | None] = mapped_column(BigId)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)  # queued, in fact: the period counts from here
    expires_at: Mapped[datetime]
    score: Mapped[int | None] = mapped_column(Integer)  # 1..5
    reason: Mapped[str | None] = mapped_column(String(64))  # for 1..3: one of feedback.answers.REASONS
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]  # the first answer: a later one replaces it within a day
    answered_via: Mapped[str | None] = mapped_column(String(16))  # web | discord
    follow_up: Mapped[bool] = mapped_column(Boolean, default=False)  # 1..2: the lead's "needs follow-up"
    followed_up_at: Mapped[datetime | None]
    followed_up_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ContactLink(Base):
    """The audit of linking two contacts as one person (contacts.merged_into_id is the
    current state) and of undoing it."""

    __tablename__ = "contact_links"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    linked_to_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    action: Mapped[str] = mapped_column(String(8))  # link | unlink
    reason: Mapped[str] = mapped_column(String(300), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ThemeAction(Base):
    """The lead's decision on a feature-request theme of the weekly review."""

    __tablename__ = "review_theme_actions"
    theme: Mapped[str] = mapped_column(String(200), primary_key=True)  # the theme's top terms
    status: Mapped[str] = mapped_column(String(16))  # planned | declined | shipped
    release: Mapped[str | None] = mapped_column(String(200))  # shipped: the release that closes it
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
