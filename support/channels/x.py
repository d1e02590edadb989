"""Wiring of the x channel: receivers and sender from the settings, and how a reply,
a status update or a private follow-up is addressed on X.

Reads use the app's bearer token when it is set (higher limits: 450 requests per 15
minutes for mentions and search), else the OAuth 1.0a user keys (180). Posting needs
the user keys; with only a bearer token, outgoing X messages go to the log sender.
"""

from __future__ import annotations

import logging
import re
import threading

from sqlalchemy import select

from connectors.base import Outbound, Receiver, Sender
from connectors.x.budget import RateBudget
from connectors.x.http import make_client
from connectors.x.receiver import XReceiver
from connectors.x.sender import XSender
from trkv.settings import Settings

log = logging.getLogger(__name__)

SENDER_HEALTH = "x-sender"
_senders: dict[tuple, XSender] = {}
_warned: list[bool] = []
_lock = threading.Lock()


def _secret(value) -> str | None:
    return value.get_secret_value() if value is not None else None


def _has_user_keys(settings: Settings) -> bool:
    keys = (settings.x_consumer_key, settings.x_consumer_secret,
            settings.x_access_token, settings.x_access_token_secret)
    return all(k is not None for k in keys)


def client(settings: Settings, *, app: bool):
    """tweepy.Client for reads with the bearer token (`app`) or for the user's keys."""
    return make_client(
        bearer_token=_secret(settings.x_bearer_token) if app else None,
        consumer_key=_secret(settings.x_consumer_key),
        consumer_secret=_secret(settings.x_consumer_secret),
        access_token=_secret(settings.x_access_token),
        access_token_secret=_secret(settings.x_access_token_secret),
        api_base=settings.x_api_base,
        timeout=settings.x_timeout_seconds,
    )


def read_budget(settings: Settings, *, app: bool) -> RateBudget:
    limits = {
        "mentions": settings.x_mentions_limit_app if app else settings.x_mentions_limit_user,
        "search": settings.x_search_limit_app if app else settings.x_search_limit_user,
        "users": 300, "users/me": 75, "dms": settings.x_dm_limit,
    }
    return RateBudget(limits)


def receivers(settings: Settings, sink=None) -> list[Receiver]:
    app = settings.x_bearer_token is not None
    if not app and not _has_user_keys(settings):
        log.warning("x: set TRKV_X_BEARER_TOKEN or all four OAuth 1.0a user keys; the x connector is not started")
        return []
    return [
        XReceiver(
            client(settings, app=app), read_budget(settings, app=app),
            bot_username=settings.x_bot_username, search_query=settings.x_search_query, user_auth=not app,
            max_search_pages=settings.x_max_search_pages, backfill_hours=settings.x_backfill_hours,
            min_interval=settings.x_poll_min_seconds, max_interval=settings.x_poll_max_seconds,
            read_dms=settings.x_read_dms and _has_user_keys(settings),
        )
    ]


def sender(settings: Settings) -> Sender | None:
    if not _has_user_keys(settings):
        if settings.x_bearer_token is not None and not _warned:
            _warned.append(True)
            log.warning("x: posting needs the OAuth 1.0a user keys; replies go to the log sender")
        return None
    # One sender per process and account, so that its posting budget lasts between sends.
    key = (settings.x_api_base, settings.db_url, _secret(settings.x_access_token))
    with _lock:
        if key not in _senders:
            budget = RateBudget({"post": settings.x_post_limit, "dm": 200, "users/me": 75, "timeline": 900,
                                 "dms": settings.x_dm_limit})
            _senders[key] = XSender(
                client(settings, app=False), budget,
                is_retry=lambda idempotency_key: was_attempted(idempotency_key, settings),
                report=lambda state, detail: _report(settings, state, detail),
            )
        return _senders[key]


def was_attempted(idempotency_key: str, settings: Settings) -> bool:
    """True when an earlier claim of this outbox row may have reached X (the claim that
    is sending now counted one attempt)."""
    from storage.db import session_factory
    from storage.models.delivery import Outbox

    with session_factory(settings.db_url)() as session:
        attempts = session.execute(select(Outbox.attempts).where(Outbox.idempotency_key == idempotency_key)).scalar()
    return (attempts or 0) > 1


_last_report: dict[str, tuple[str, str]] = {}


def _report(settings: Settings, state: str, detail: str) -> None:
    if _last_report.get(settings.db_url) == (state, detail):
        return
    _last_report[settings.db_url] = (state, detail)
    from storage.queries import set_connector_state

    set_connector_state(settings.db_url, SENDER_HEALTH, state, detail)


def ack_outbound(first, key: str, text: str, ref: str) -> Outbound:
    """The acknowledgement of a new ticket whose first message (`Inbound`) came from X:
    a reply tweet, or a DM when the customer wrote privately."""
    if first.hints.get("x_kind") == "dm":
        return Outbound(channel="x", kind="ack", idempotency_key=key, text=text, to=first.author_id,
                        conversation_key=first.conversation_key, meta={"ref": ref, "dm": True})
    return Outbound(channel="x", kind="ack", idempotency_key=key, text=text, in_reply_to=first.external_id,
                    conversation_key=first.conversation_key, meta={"ref": ref})


def reply_outbound(ticket, last_in, text: str, key: str, settings: Settings) -> Outbound:
    """An agent's reply: a reply tweet to the customer's last tweet, or a DM when they wrote by DM."""
    if last_in is not None and _is_dm(last_in):
        return Outbound(channel="x", kind="reply", idempotency_key=key, text=text,
                        to=_dm_partner(last_in), conversation_key=last_in.conversation_key, meta={"dm": True})
    handle = _handle(last_in)
    if handle and not text.lower().startswith(f"@{handle.lower()}"):
        text = f"@{handle} {text}"
    return Outbound(
        channel="x", kind="reply", idempotency_key=key, text=text,  # never cut: replies.py refuses a long one
        conversation_key=ticket.conversation_key, in_reply_to=last_in.external_id if last_in is not None else None,
        meta={"ref": ticket.ref},
    )


def dm_outbound(user_id: str, text: str, key: str) -> Outbound:
    """A private follow-up (order numbers, e-mail addresses) as a direct message."""
    return Outbound(channel="x", kind="reply", idempotency_key=key, text=text, to=user_id, meta={"dm": True})


def status_outbound(status: str, impact: str, next_update: str, key: str) -> Outbound:
    """A status update as a tweet of its own, for the incidents work to put in the outbox."""
    from support.delivery import acks as templates

    text = templates.fit_x(templates.STATUS_X.format(status=status, impact=impact, next_update=next_update))
    return Outbound(channel="x", kind="status", idempotency_key=key, text=text)


def post_status(status: str, impact: str, next_update: str, *, key: str, settings: Settings) -> int:
    """Queue a status update tweet (the incidents work calls this); returns the outbox id.
    The same `key` (e.g. "status:<incident>:<update number>") queues it once."""
    from storage.db import transaction
    from storage.models.base import utcnow
    from storage.models.delivery import Outbox
    from storage.queries import insert_ignoring_conflicts
    from support.delivery import kicks as kick

    outbound = status_outbound(status, impact, next_update, key)
    now = utcnow()
    with transaction(settings.db_url) as session:
        session.execute(insert_ignoring_conflicts(session, Outbox).values(
            ticket_id=None, kind="status", channel="x", queue="default", idempotency_key=key,
            payload=outbound.__dict__.copy(), status="queued", created_at=now, updated_at=now,
        ))
        outbox_id = session.execute(select(Outbox.id).where(Outbox.idempotency_key == key)).scalar_one()
    kick.dispatch([(outbox_id, "default")])
    return outbox_id


def _is_dm(message) -> bool:
    raw = message.raw or {}
    data = raw.get("data", raw) if isinstance(raw, dict) else {}
    return isinstance(data, dict) and "event_type" in data


def _dm_partner(message) -> str | None:
    raw = message.raw or {}
    data = raw.get("data", raw)
    return str(data.get("sender_id") or "") or None


def _handle(message) -> str:
    """The customer's @name, from the permalink X gave their tweet (the stored author is their display name)."""
    match = re.match(r"https://x\.com/(\w+)/status/", (message.permalink or "") if message is not None else "")
    return match.group(1) if match and match.group(1) != "i" else ""
