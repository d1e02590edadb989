"""On-call alerts: a critical ticket pages at once; alike critical messages within a
window join one alert instead of paging again; an unacknowledged alert re-pages and
escalates; an acknowledgement stops it.

Likeness, not a rate limit: a message joins an alert when enough of its words are
the alert's (the overlap of their word sets), whatever the channel, so a burst of 50
"checkout is down" posts is one alert counting 50, while two unrelated critical
messages a minute apart still page twice.

A page is an outbox row on the critical queue, keyed `page:<alert>:<round>:<n>`; a
resend after a crash carries the same key (the webhook's Idempotency-Key, PagerDuty's
dedup_key is the alert's own). While a page is still queued, a message joining the
alert rewrites it (one page that counts them all); once sent, the alert is updated at
most once per `alert_update_minutes`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, text, update
from sqlalchemy.orm import Session

from storage.db import transaction
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.oncall import Alert
from storage.models.tickets import Ticket
from storage.queries import bulk_insert_returning_ids
from support.delivery import kicks as kick
from support.oncall import notifiers
from support.oncall import rotations as oncall
from trkv.settings import Settings, get_settings

log = logging.getLogger(__name__)

CRITICAL_QUEUE = "critical"
ACTIVE = ("triggered", "acknowledged")
_LOCK_ID = 7_006_001  # pg_advisory_xact_lock: two workers never open twin alerts
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_STOP = frozenset("""the and for are but not you your our has have had was were this that with from they them
their there what when where which who why how can could would should will just into out about been being than
then its it's too very all any some please help trkv trkvbot hey thanks thank""".split())


def fingerprint(text_: str) -> list[str]:
    words = {w for w in _WORD.findall(text_.lower()) if w not in _STOP}
    return sorted(words)[:80]


def likeness(a: list[str] | set[str], b: list[str] | set[str]) -> float:
    """Shared words over the smaller set: a short 'checkout down?' matches a long report about it."""
    a, b = set(a), set(b)
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


# opening and joining ------------------------------------------------------------


def page_new_tickets(session: Session, tickets: list, settings: Settings, now: datetime) -> dict[int, list[tuple[int, str]]]:
    """Ingest's hook: critical new tickets page (or join an alert). {ticket id: [(outbox id, queue)]}."""
    queued: dict[int, list[tuple[int, str]]] = {}
    for ticket in tickets:
        first = ticket.first
        title = first.subject or first.text.strip().split("\n", 1)[0][:120]
        queued[ticket.id] = page_ticket(session, ticket.id, title, first.text, first.channel, settings, now)
    return queued


def page_ticket(session: Session, ticket_id: int, title: str, body: str, channel: str, settings: Settings,
                now: datetime, severity: str = "critical") -> list[tuple[int, str]]:
    """Open an alert for a ticket, or join the alike one; returns the outbox rows to kick."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
    words = fingerprint(f"{title} {body[:4000]}")
    since = now - timedelta(minutes=settings.alert_group_window_minutes)
    candidates = session.execute(
        select(Alert).where(Alert.last_message_at >= since, Alert.status.in_(ACTIVE), Alert.severity == severity)
        .order_by(Alert.id.desc()).limit(200)
    ).scalars().all()
    scored = [(likeness(words, a.fingerprint), a) for a in candidates]
    best = max(scored, key=lambda pair: pair[0], default=(0.0, None))
    if best[1] is not None and best[0] >= settings.alert_group_similarity:
        return _join(session, best[1], ticket_id, channel, settings, now)
    alert = Alert(severity=severity, status="triggered", title=title[:500] or f"TRKV-{ticket_id}", fingerprint=words,
                  channels=[channel], count=1, first_ticket_id=ticket_id, step=0, rounds=0, notified_count=0,
                  created_at=now, updated_at=now, last_message_at=now)
    session.add(alert)
    session.flush()
    session.execute(update(Ticket).where(Ticket.id == ticket_id).values(alert_id=alert.id))
    log.info("alert %s opened for TRKV-%s", alert.id, ticket_id)
    return notify(session, alert, 0, "trigger", settings, now)


def join_tickets(session: Session, alert_id: int, ticket_ids: list[int], settings: Settings,
                 now: datetime) -> list[tuple[int, str]]:
    """Tickets an incident linked (support/incidents/detect.py) join its alert whatever
    their words: counted on the one page, not paged one by one."""
    alert = session.get(Alert, alert_id)
    if alert is None or not ticket_ids:
        return []
    rows = session.execute(select(Ticket.id, Ticket.channel).where(
        Ticket.id.in_(ticket_ids), or_(Ticket.alert_id.is_(None), Ticket.alert_id != alert_id))).all()
    queued: list[tuple[int, str]] = []
    for ticket_id, channel in rows:
        queued += _join(session, alert, ticket_id, channel, settings, now)
    return queued


def retitle(session: Session, alert: Alert, title: str, settings: Settings, now: datetime) -> list[tuple[int, str]]:
    """An alert becomes an incident proposal: a page not sent yet says so; a sent one is
    followed by an update, no sooner than `alert_update_minutes` after the last."""
    alert.title = title[:500]
    waiting = session.execute(
        select(Outbox).where(Outbox.alert_id == alert.id, Outbox.status == "queued", Outbox.kind == "page")
    ).scalars().all()
    refs = _refs(session, alert)
    for row in waiting:
        row.payload = _rerender({**row.payload, "meta": {**row.payload["meta"], "title": alert.title}}, alert, refs,
                                settings)
    if waiting or alert.status != "triggered":
        return []
    update_at = (alert.last_sent_at or now) + timedelta(minutes=settings.alert_update_minutes)
    if update_at <= now:
        return notify(session, alert, alert.step, "update", settings, now)
    alert.notified_count = min(alert.notified_count, alert.count - 1)  # the sweep's update is due
    alert.next_action_at = min(filter(None, [alert.next_action_at, update_at]))
    return []


def _join(session: Session, alert: Alert, ticket_id: int, channel: str, settings: Settings,
          now: datetime) -> list[tuple[int, str]]:
    session.execute(update(Ticket).where(Ticket.id == ticket_id).values(alert_id=alert.id))
    alert.count += 1
    alert.channels = sorted({*alert.channels, channel})
    alert.last_message_at = alert.updated_at = now
    if alert.status != "triggered":
        return []  # someone is on it already: counted, not paged
    queued = session.execute(
        select(Outbox).where(Outbox.alert_id == alert.id, Outbox.status == "queued", Outbox.kind == "page")
    ).scalars().all()
    if queued:  # not sent yet: the page about to go out counts this message too
        refs = _refs(session, alert)
        for row in queued:
            row.payload = _rerender(row.payload, alert, refs, settings)
        alert.notified_count = alert.count
        return []
    update_at = (alert.last_sent_at or now) + timedelta(minutes=settings.alert_update_minutes)
    if update_at <= now:
        return notify(session, alert, alert.step, "update", settings, now)
    alert.next_action_at = min(filter(None, [alert.next_action_at, update_at]))
    return []


# notifying ------------------------------------------------------------------


def notify(session: Session, alert: Alert, step_index: int, event: str, settings: Settings,
           now: datetime) -> list[tuple[int, str]]:
    """Page the targets of escalation step `step_index` (the last step repeats)."""
    steps = oncall.steps_for(session, alert.severity, settings)
    step_index = min(step_index, len(steps) - 1)
    step = steps[step_index]
    refs = _refs(session, alert)
    alert.rounds += 1
    rows = []
    for target in oncall.targets(session, step, now):
        for method, address in notifiers.routes(target, settings):
            key = f"page:{alert.id}:{alert.rounds}:{len(rows)}"
            meta = _meta(alert, refs, target, step_index, event, settings, now)
            page = notifiers.outbound(method, address, key, render(alert, refs, event, target.name), meta)
            rows.append({"ticket_id": alert.first_ticket_id, "alert_id": alert.id, "kind": "page",
                         "channel": page.channel, "queue": CRITICAL_QUEUE, "idempotency_key": key,
                         "payload": page.__dict__.copy(), "status": "queued", "attempts": 0,
                         "created_at": now, "updated_at": now})
    ids = bulk_insert_returning_ids(session, Outbox, rows)
    alert.step, alert.notified_count, alert.last_sent_at = step_index, alert.count, now
    if event != "update":
        alert.notified_at = now
    alert.next_action_at = (alert.notified_at or now) + timedelta(minutes=step.wait_minutes)
    alert.updated_at = now
    log.info("alert %s: %s to step %d (%d pages)", alert.id, event, step_index, len(ids))
    return [(outbox_id, CRITICAL_QUEUE) for outbox_id in ids]


def render(alert: Alert, refs: list[str], event: str, target_name: str) -> str:
    label = {"trigger": "", "update": " (update)", "repage": " (re-page)", "escalate": " (escalated)"}.get(event, "")
    more = f"{alert.count} alike messages on {', '.join(alert.channels)}" if alert.count > 1 else alert.channels[0]
    shown = ", ".join(refs[:10]) + (" …" if alert.count > len(refs[:10]) else "")
    return f"[{alert.severity.upper()}]{label} {alert.title} — {more}\nTickets: {shown}\nFor: {target_name}"


def _meta(alert: Alert, refs: list[str], target, step_index: int, event: str, settings: Settings,
          now: datetime) -> dict[str, Any]:
    base = settings.public_url.rstrip("/")
    return {
        "event": event, "alert_id": alert.id, "ref": refs[0] if refs else None, "dedup_key": f"trkv-alert-{alert.id}", "severity": alert.severity,
        "title": alert.title, "count": alert.count, "channels": list(alert.channels), "tickets": refs,
        "link": f"{base}/tickets/{refs[0]}" if refs else base, "step": step_index,
        "target": {"label": target.label, "name": target.name, "email": target.email},
        "ack_url": ack_url(alert.id, target.label, settings, now),
    }


def _rerender(payload: dict, alert: Alert, refs: list[str], settings: Settings) -> dict:
    meta = {**payload["meta"], "count": alert.count, "channels": list(alert.channels), "tickets": refs}
    target_name = (meta.get("target") or {}).get("name", "on-call")
    return {**payload, "meta": meta, "text": render(alert, refs, meta.get("event", "trigger"), target_name)}


def _refs(session: Session, alert: Alert) -> list[str]:
    ids = session.execute(
        select(Ticket.id).where(Ticket.alert_id == alert.id).order_by(Ticket.id).limit(50)
    ).scalars().all()
    return [f"TRKV-{i}" for i in ids]


# the sweep's part ---------------------------------------------------------------


def sweep_alerts(session: Session, settings: Settings, now: datetime, limit: int = 1000) -> list[tuple[int, str]]:
    """Re-page, escalate, or send a held-back update for alerts whose time has come."""
    queued: list[tuple[int, str]] = []
    alerts = session.execute(
        select(Alert).where(Alert.next_action_at <= now).order_by(Alert.next_action_at).limit(limit)
    ).scalars().all()
    for alert in alerts:
        if alert.status != "triggered":
            alert.next_action_at = None
            continue
        if _all_resolved(session, alert.id):  # an agent solved it without acknowledging: stop paging
            alert.status, alert.resolved_at, alert.next_action_at, alert.updated_at = "resolved", now, None, now
            log.info("alert %s resolved: all its tickets are resolved", alert.id)
            continue
        steps = oncall.steps_for(session, alert.severity, settings)
        wait = timedelta(minutes=steps[min(alert.step, len(steps) - 1)].wait_minutes)
        if now >= (alert.notified_at or now) + wait:
            nxt = alert.step + 1
            event = "escalate" if nxt < len(steps) and steps[nxt].notify != steps[alert.step].notify else "repage"
            queued += notify(session, alert, nxt, event, settings, now)
        elif alert.count > alert.notified_count:
            queued += notify(session, alert, alert.step, "update", settings, now)
        else:
            alert.next_action_at = (alert.notified_at or now) + wait
    return queued


def _all_resolved(session: Session, alert_id: int) -> bool:
    still_open = session.execute(
        select(Ticket.id).where(Ticket.alert_id == alert_id, Ticket.status.not_in(("resolved", "closed"))).limit(1)
    ).first()
    return still_open is None


# acknowledging ------------------------------------------------------------------


@dataclass
class AckResult:
    outcome: str  # acknowledged | already | unknown
    alert: dict[str, Any] | None = None


def acknowledge(alert_id: int, by: str, via: str, settings: Settings | None = None,
                now: datetime | None = None) -> AckResult:
    """Stop the alert's paging. Claimed by a conditional UPDATE: two people acknowledging
    at once get one 'acknowledged' and one 'already'."""
    settings = settings or get_settings()
    now = now or utcnow()
    with transaction(settings.db_url) as session:
        changed = session.execute(
            update(Alert).where(Alert.id == alert_id, Alert.status == "triggered")
            .values(status="acknowledged", acknowledged_at=now, acknowledged_by=by[:320], acknowledged_via=via[:16],
                    next_action_at=None, updated_at=now)
        ).rowcount
        if changed:
            session.execute(update(Outbox).where(Outbox.alert_id == alert_id, Outbox.status == "queued")
                            .values(status="cancelled", last_error=f"acknowledged by {by}"[:2000], updated_at=now))
            _acknowledge_pagerduty(session, alert_id, settings, now)
        alert = session.get(Alert, alert_id)
        if alert is None:
            return AckResult("unknown")
        data = serialize(alert, now)
    if changed:
        log.info("alert %s acknowledged by %s (%s)", alert_id, by, via)
    return AckResult("acknowledged" if changed else "already", data)


def _acknowledge_pagerduty(session: Session, alert_id: int, settings: Settings, now: datetime) -> None:
    """PagerDuty's incident for the alert is acknowledged too, when PagerDuty was paged."""
    rows = session.execute(select(Outbox.payload).where(Outbox.alert_id == alert_id, Outbox.kind == "page",
                                                        Outbox.status.in_(("sent", "sending"))).limit(50)).scalars()
    if not any(r.get("meta", {}).get("notifier") == "pagerduty" for r in rows):
        return
    key = f"page-ack:{alert_id}"
    page = notifiers.outbound("pagerduty", None, key, f"alert {alert_id} acknowledged",
                              {"event_action": "acknowledge", "dedup_key": f"trkv-alert-{alert_id}"})
    ids = bulk_insert_returning_ids(session, Outbox, [{
        "ticket_id": None, "alert_id": alert_id, "kind": "page_ack", "channel": "oncall", "queue": CRITICAL_QUEUE,
        "idempotency_key": key, "payload": page.__dict__.copy(), "status": "queued", "attempts": 0,
        "created_at": now, "updated_at": now}])
    kick.dispatch_after_commit(session, [(i, CRITICAL_QUEUE) for i in ids])


def _secret(settings: Settings) -> bytes:
    return hashlib.sha256(b"trkv-page-ack:" + settings.session_secret().encode()).digest()


def sign(alert_id: int, who: str, expires: int, settings: Settings) -> str:
    message = f"{alert_id}:{who}:{expires}".encode()
    digest = hmac.new(_secret(settings), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:20]).decode().rstrip("=")


def ack_url(alert_id: int, who: str, settings: Settings, now: datetime) -> str:
    expires = int((now + timedelta(hours=settings.page_ack_link_hours)).timestamp())
    sig = sign(alert_id, who, expires, settings)
    return f"{settings.public_url.rstrip('/')}/oncall/ack/{alert_id}?who={who}&exp={expires}&sig={sig}"


def verify(alert_id: int, who: str, expires: int, sig: str, settings: Settings, now: datetime) -> str | None:
    """None when the link is good; otherwise why it is not."""
    # bytes: compare_digest raises TypeError on a str with non-ASCII characters, which a link may carry
    if not hmac.compare_digest(sign(alert_id, who, expires, settings).encode(), (sig or "").encode()):
        return "this link is not one the hub signed"
    if now.timestamp() > expires:
        return "this link has expired: acknowledge in the inbox or with `trkv page ack`"
    return None


def who_label(session: Session, who: str) -> str:
    """'user:3' → their email, for 'acknowledged by whom'."""
    if who.startswith("user:") and who[5:].isdigit():
        from storage.models.accounts import User

        user = session.get(User, int(who[5:]))
        if user is not None:
            return user.email
    return who


# what the API shows -----------------------------------------------------------


def serialize(alert: Alert, now: datetime) -> dict[str, Any]:
    def iso(value):
        return None if value is None else value.isoformat().replace("+00:00", "Z")

    return {
        "id": alert.id, "severity": alert.severity, "status": alert.status, "title": alert.title,
        "count": alert.count, "channels": alert.channels, "step": alert.step, "pages_sent_rounds": alert.rounds,
        "first_ticket": f"TRKV-{alert.first_ticket_id}" if alert.first_ticket_id else None,
        "created_at": iso(alert.created_at), "last_paged_at": iso(alert.notified_at),
        "next_action_at": iso(alert.next_action_at),
        "acknowledged": alert.acknowledged_at is not None, "acknowledged_at": iso(alert.acknowledged_at),
        "acknowledged_by": alert.acknowledged_by, "acknowledged_via": alert.acknowledged_via,
    }


def alert_of_ticket(ref: str, settings: Settings, now: datetime | None = None) -> dict[str, Any] | None:
    """The alert a ticket paged (or joined), serialized; None when it paged no one."""
    from storage.db import session_factory
    from storage.queries import ticket_id_from_ref

    ticket_id = ticket_id_from_ref(ref)
    if ticket_id is None:
        return None
    with session_factory(settings.db_url, readonly=True)() as session:
        alert = session.execute(select(Alert).join(Ticket, Ticket.alert_id == Alert.id)
                                .where(Ticket.id == ticket_id)).scalar_one_or_none()
        return serialize(alert, now or utcnow()) if alert is not None else None


def list_alerts(settings: Settings, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    from storage.db import session_factory

    query = select(Alert).order_by(Alert.id.desc()).limit(max(1, min(limit, 200)))
    if status:
        query = query.where(Alert.status == status)
    with session_factory(settings.db_url, readonly=True)() as session:
        alerts = session.execute(query).scalars().all()
        now = utcnow()
        return [serialize(a, now) for a in alerts]
