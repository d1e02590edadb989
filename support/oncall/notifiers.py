"""How a page reaches a person: email, a Discord DM, a signed JSON webhook, or a
PagerDuty Events API v2 event.

A target with contacts of its own gets a page on each. Without any (nobody on the
schedule, or a person who gave no contact), the hub-wide route applies: the
`TRKV_ONCALL_WEBHOOK_URL` and/or PagerDuty when configured, else the person's email,
else the log receiver, so a page is never dropped. Webhook and PagerDuty pages are
outbox rows on the `oncall` channel, sent by `OncallSender`; email and Discord pages
go through those channels' own senders.
"""

from __future__ import annotations

from typing import Any

from connectors.base import Outbound, SendResult
from support.oncall.rotations import Target
from trkv.settings import Settings

_ROUTING = ("notifier", "address")  # meta keys that steer the send, not part of the page


def routes(target: Target, settings: Settings) -> list[tuple[str, str | None]]:
    """(method, address) pairs to page `target` on."""
    if target.contacts:
        return list(target.contacts)
    hub_wide: list[tuple[str, str | None]] = []
    if settings.oncall_webhook_url:
        hub_wide.append(("webhook", None))
    if settings.pagerduty_routing_key is not None:
        hub_wide.append(("pagerduty", None))
    if hub_wide:
        return hub_wide
    if target.email:
        return [("email", target.email)]
    return [("log", None)]


def outbound(method: str, address: str | None, key: str, text: str, meta: dict[str, Any]) -> Outbound:
    """One page for one route; `meta` carries the alert's facts (count, tickets, ack link)."""
    if method == "email":
        return Outbound(channel="email", kind="page", idempotency_key=key, text=text, to=address,
                        subject=f"[TRKV page] {meta['title']}"[:300], meta={"auto_submitted": "auto-generated", **meta})
    if method == "discord":
        return Outbound(channel="discord", kind="page", idempotency_key=key, text=text[:1900], to=address, meta=meta)
    notifier = method if method in ("webhook", "pagerduty") else "log"
    return Outbound(channel="oncall", kind="page", idempotency_key=key, text=text,
                    meta={"notifier": notifier, **({"address": address} if address else {}), **meta})


class OncallSender:
    """The `oncall` channel: a page goes to the webhook or PagerDuty its row names."""

    channel = "oncall"

    def __init__(self, settings: Settings):
        self.settings = settings

    def send(self, page: Outbound) -> SendResult:
        notifier = page.meta.get("notifier", "webhook")
        clean = Outbound(**{**page.__dict__, "meta": {k: v for k, v in page.meta.items() if k not in _ROUTING}})
        hub_key = self.settings.pagerduty_routing_key
        if notifier == "pagerduty" and (page.meta.get("address") or hub_key is not None):
            from connectors.pagerduty import PagerDutySender

            key = page.meta.get("address") or hub_key.get_secret_value()  # a person's own routing key, else the hub's
            return PagerDutySender(self.settings.pagerduty_url, key).send(clean)
        url = page.meta.get("address") or self.settings.oncall_webhook_url
        if notifier in ("webhook", "pagerduty") and url:
            from connectors.webhook import WebhookSender

            secret = self.settings.oncall_webhook_secret
            return WebhookSender(url, secret.get_secret_value() if secret else None).send(clean)
        from connectors import logsink

        return logsink.shared(str(self.settings.home_path / "sent.jsonl"), "oncall").send(clean)


def sender(settings: Settings) -> OncallSender:
    return OncallSender(settings)
