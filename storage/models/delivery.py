"""What the hub must send (the outbox), and the redelivery count of Celery messages."""


from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, utcnow


class Outbox(Base):
    """Something to send. Claimed by a conditional UPDATE before sending, with a fresh
    `claim_token` that every later write of that worker must match (a send that outlived
    its lease cannot overwrite the resend); the idempotency key travels with the send
    so that a receiver can deduplicate."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_updated", "status", "updated_at"),
        Index("ix_outbox_recipient_created", "recipient", "created_at"),  # acks per sender per window
        Index("ix_outbox_channel_external_id", "channel", "external_id"),  # bounces find their row
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # ack | reply | page | status
    channel: Mapped[str] = mapped_column(String(16))
    queue: Mapped[str] = mapped_column(String(32), default="default")
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|sending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    alert_id: Mapped[int | None] = mapped_column(BigId, index=True)  # pages: the alert they are for
    recipient: Mapped[str | None] = mapped_column(String(320))  # email: the address, lowercased
    claim_token: Mapped[str | None] = mapped_column(String(32))  # the claim a worker's later writes must match
    sent_as: Mapped[str | None] = mapped_column(String(16))  # when the connector chose how: X "dm" | "reply"


class TaskDelivery(Base):
    """How often a redelivered Celery task was started: caps poison messages."""

    __tablename__ = "task_deliveries"
    task_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("CURRENT_TIMESTAMP"))
