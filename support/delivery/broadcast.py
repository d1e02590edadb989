"""Broadcast: one message to many conversations and channels, through the outbox, within
each channel's budget.

Every destination is one outbox row with an idempotency key per (thing, destination),
written in the caller's transaction: writing it twice is impossible, and a resend after
a crash carries the same key. Rows beyond a channel's budget are written `held`, in
priority order, and released as the budget's window allows (`release`, called by the
broadcast itself and by the sweep), so 500 linked X conversations go out at X's 200
posts per 15 minutes instead of failing against its limit. A held row may also wait
for another row (`meta["after_key"]`: the tweet a thread reply answers).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from connectors.base import Outbound
from storage.models.delivery import Outbox
from storage.queries import insert_ignoring_conflicts
from trkv.settings import Settings

log = logging.getLogger(__name__)

HELD = "held"
PRIORITY = {"critical": 0, "high": 1, "medium": 2, "low": 3}


@dataclass
class Destination:
    outbound: Outbound
    ticket_id: int | None = None
    priority: int = 2  # 0 first (a critical ticket's conversation) .. 3
    extra: dict[str, Any] = field(default_factory=dict)  # more outbox columns (recipient)


def budgets(settings: Settings) -> dict[str, tuple[int, float]]:
    """Sends allowed per window (seconds), per channel: X's posting limit, Discord's
    per-bot request pace (discord.py also waits out each 429), and a polite SMTP pace."""
    return {"x": (settings.x_post_limit, 900.0), "discord": (40, 10.0), "email": (300, 60.0), "oncall": (300, 60.0)}


def queue(session: Session, destinations: list[Destination], settings: Settings, now: datetime) -> list[tuple[int, str]]:
    """Write the rows (held, all of them; `release` lets out what each budget allows) and
    return [(outbox id, queue)] of the rows released now, to be kicked after the commit."""
    ordered = sorted(destinations, key=lambda d: d.priority)
    for dest in ordered:
        session.execute(insert_ignoring_conflicts(session, Outbox).values(**_row(dest, now)))
    session.flush()
    return release(session, settings, now)


def _row(dest: Destination, now: datetime) -> dict[str, Any]:
    outbound = dest.outbound
    return {"ticket_id": dest.ticket_id, "kind": outbound.kind, "channel": outbound.channel,
            "queue": "critical" if dest.priority == 0 else "default", "idempotency_key": outbound.idempotency_key,
            "payload": outbound.__dict__.copy(), "status": HELD, "attempts": 0, "created_at": now,
            "updated_at": now, **dest.extra}


def release(session: Session, settings: Settings, now: datetime, limit: int = 2000) -> list[tuple[int, str]]:
    """Held rows that their channel's budget allows now, oldest (and highest priority) first."""
    held = session.execute(select(Outbox).where(Outbox.status == HELD).order_by(Outbox.id).limit(limit)).scalars().all()
    if not held:
        return []
    room = {channel: allowed - _used(session, channel, window, now)
            for channel, (allowed, window) in budgets(settings).items()}
    released: list[tuple[int, str]] = []
    for row in held:
        if room.get(row.channel, 1) <= 0:
            continue
        payload = _after(session, row)
        if payload is None:
            continue  # waits for the row it answers
        session.execute(update(Outbox).where(Outbox.id == row.id, Outbox.status == HELD)
                        .values(status="queued", payload=payload, updated_at=now))
        if row.channel in room:
            room[row.channel] -= 1
        released.append((row.id, row.queue))
    if released:
        log.info("broadcast: %d held rows released", len(released))
    return released


def _used(session: Session, channel: str, window: float, now: datetime) -> int:
    """Sends of this channel in the window, and those in flight (every kind counts: acks
    and replies share the account's limit)."""
    since = now - timedelta(seconds=window)
    return session.execute(select(func.count()).select_from(Outbox).where(
        Outbox.channel == channel,
        or_(Outbox.status.in_(("queued", "sending")), Outbox.sent_at >= since),
    )).scalar_one()


def _after(session: Session, row: Outbox) -> dict[str, Any] | None:
    """The payload to send: a thread reply gets the id of the tweet it answers once that
    is sent; if that one failed, it goes out on its own."""
    meta = (row.payload or {}).get("meta") or {}
    after = meta.get("after_key")
    if not after:
        return row.payload
    first = session.execute(select(Outbox.status, Outbox.external_id).where(Outbox.idempotency_key == after)).first()
    if first is not None and first.status == "sent" and first.external_id:
        return {**row.payload, "kind": "reply", "in_reply_to": first.external_id}
    if first is None or first.status == "failed" or (first.status == "sent" and not first.external_id):
        return row.payload
    return None


def progress(session: Session, key_prefix: str) -> dict[str, int]:
    """Rows of a broadcast by status: {held, queued, sending, sent, failed}."""
    rows = session.execute(select(Outbox.status, func.count()).where(Outbox.idempotency_key.like(f"{key_prefix}%"))
                           .group_by(Outbox.status)).all()
    counts = {"held": 0, "queued": 0, "sending": 0, "sent": 0, "failed": 0}
    counts.update({status: n for status, n in rows})
    return counts


def failures(session: Session, key_prefix: str, limit: int = 5) -> list[tuple[str, str]]:
    """(channel, last error) of failed rows: a missing Discord channel, X without write access."""
    return [(c, e or "") for c, e in session.execute(
        select(Outbox.channel, Outbox.last_error).where(Outbox.idempotency_key.like(f"{key_prefix}%"),
                                                        Outbox.status == "failed")
        .group_by(Outbox.channel, Outbox.last_error).limit(limit)).all()]
