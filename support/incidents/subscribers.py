"""Status page subscribers: email with double opt-in, and signed webhooks.

A subscription is confirmed by a signed link; every update mail carries a one-click
unsubscribe (RFC 8058: `List-Unsubscribe` with an https link and `List-Unsubscribe-Post:
List-Unsubscribe=One-Click`). The form refuses abuse with a clear message and sends no
mail: an invalid address, an address asked for too often, too many addresses from one
IP, a forged or expired token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from datetime import timedelta

from sqlalchemy import func, select, update

from connectors.base import Outbound
from storage.db import transaction
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.incidents import Incident, StatusSubscriber
from storage.queries import insert_ignoring_conflicts
from support.delivery import kicks as kick
from trkv.settings import Settings

_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
MAX_CONFIRMATIONS = 3  # confirmation mails per address, ever: the 100th request sends nothing
PER_IP_PER_HOUR = 10  # new addresses from one IP per hour
CONFIRM_DAYS = 2
UNSUBSCRIBE_DAYS = 3650


class SubscribeError(ValueError):
    """A refused request; the message is shown to the person as is."""


def _sign(settings: Settings, payload: str) -> str:
    key = hashlib.sha256(("status-subscribers:" + settings.session_secret()).encode()).digest()
    return base64.urlsafe_b64encode(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:18]).decode()


def token(sub_id: int, action: str, settings: Settings, days: float) -> str:
    payload = f"{sub_id}.{action}.{int(time.time() + days * 86400)}"
    return f"{payload}.{_sign(settings, payload)}"


def check_token(value: str, action: str, settings: Settings) -> int:
    """The subscriber id a token is for; SubscribeError when forged, for another action, or expired."""
    parts = (value or "").split(".")
    if len(parts) != 4 or parts[1] != action or not parts[0].isdigit() or not parts[2].isdigit():
        raise SubscribeError("This link is not valid.")
    if not hmac.compare_digest(_sign(settings, ".".join(parts[:3])), parts[3]):
        raise SubscribeError("This link is not valid.")
    if int(parts[2]) < time.time():
        raise SubscribeError("This link has expired; subscribe again from the status page.")
    return int(parts[0])


def subscribe(address: str, ip: str | None, settings: Settings, components: list[str] | None = None) -> str:
    """Record a request and queue one confirmation mail; returns what to tell the person."""
    address = (address or "").strip().lower()
    if len(address) > 254 or not _ADDRESS.match(address):
        raise SubscribeError("Please enter a valid email address.")
    now = utcnow()
    with transaction(settings.db_url) as session:
        recent = session.execute(select(func.count()).select_from(StatusSubscriber).where(
            StatusSubscriber.ip == ip, StatusSubscriber.created_at >= now - timedelta(hours=1))).scalar_one()
        existing = session.execute(select(StatusSubscriber).where(StatusSubscriber.address == address)).scalar()
        if existing is None:
            if ip and recent >= PER_IP_PER_HOUR:
                raise SubscribeError("Too many subscriptions from your network; please try again later.")
            session.execute(insert_ignoring_conflicts(session, StatusSubscriber).values(
                kind="email", address=address, components=components or [], ip=(ip or "")[:64] or None, requests=0,
                created_at=now))
            existing = session.execute(select(StatusSubscriber).where(StatusSubscriber.address == address)).scalar_one()
        if existing.confirmed_at is not None and existing.unsubscribed_at is None:
            return "This address is already subscribed."
        if existing.requests >= MAX_CONFIRMATIONS:
            raise SubscribeError("We have already sent confirmation links to this address; please check your inbox.")
        existing.requests += 1
        existing.unsubscribed_at = None
        outbound = _confirm_mail(existing, settings)
        session.execute(insert_ignoring_conflicts(session, Outbox).values(
            kind="status", channel="email", queue="default", idempotency_key=outbound.idempotency_key,
            payload=outbound.__dict__.copy(), status="queued", created_at=now, updated_at=now, recipient=address))
        outbox_id = session.execute(select(Outbox.id).where(Outbox.idempotency_key == outbound.idempotency_key)).scalar()
    kick.dispatch([(outbox_id, "default")])
    return "Almost done: we sent you a link to confirm your subscription."


def _confirm_mail(sub: StatusSubscriber, settings: Settings) -> Outbound:
    link = f"{settings.public_url.rstrip('/')}/status/confirm/{token(sub.id, 'confirm', settings, CONFIRM_DAYS)}"
    text = (f"Please confirm that you want TRKV status updates at {sub.address}:\n\n{link}\n\n"
            "If you did not ask for this, ignore this mail; you will not hear from us again.")
    return Outbound(channel="email", kind="status", idempotency_key=f"sub:{sub.id}:confirm:{sub.requests}", text=text,
                    to=sub.address, subject="Confirm your TRKV status subscription",
                    meta={"auto_submitted": "auto-generated"})


def confirm(value: str, settings: Settings) -> str:
    sub_id = check_token(value, "confirm", settings)
    with transaction(settings.db_url) as session:
        sub = session.get(StatusSubscriber, sub_id)
        if sub is None:
            raise SubscribeError("This link is not valid.")
        sub.confirmed_at = sub.confirmed_at or utcnow()
        sub.unsubscribed_at = None
        return sub.address


def unsubscribe(value: str, settings: Settings) -> str:
    sub_id = check_token(value, "unsubscribe", settings)
    with transaction(settings.db_url) as session:
        session.execute(update(StatusSubscriber).where(StatusSubscriber.id == sub_id)
                        .values(unsubscribed_at=utcnow()))
        sub = session.get(StatusSubscriber, sub_id)
        return sub.address if sub else ""


def add_webhook(url: str, settings: Settings, components: list[str] | None = None) -> int:
    """A webhook subscriber (by an operator; confirmed at once): updates are POSTed signed."""
    if not re.match(r"^https?://[^\s/]+", url or ""):
        raise SubscribeError("a webhook needs an http(s) URL")
    with transaction(settings.db_url) as session:
        session.execute(insert_ignoring_conflicts(session, StatusSubscriber).values(
            kind="webhook", address=url, components=components or [], requests=0, confirmed_at=utcnow(),
            created_at=utcnow()))
        return session.execute(select(StatusSubscriber.id).where(StatusSubscriber.address == url)).scalar_one()


def update_mail(sub: StatusSubscriber, incident: Incident, text: str, key: str, settings: Settings) -> Outbound:
    link = f"{settings.public_url.rstrip('/')}/status/unsubscribe/{token(sub.id, 'unsubscribe', settings, UNSUBSCRIBE_DAYS)}"
    body = f"{text}\n\nStatus page: {settings.public_url.rstrip('/')}/status\nUnsubscribe: {link}"
    return Outbound(
        channel="email", kind="status", idempotency_key=key, text=body, to=sub.address,
        subject=f"[TRKV status] {incident.title}"[:300],
        meta={"auto_submitted": "auto-generated",
              "headers": {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}},
    )
