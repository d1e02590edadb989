"""PagerDuty Events API v2: trigger and acknowledge events keyed by `dedup_key`.

PagerDuty merges events with the same dedup_key into one incident, so a resend after
a crash, a re-page and an update all land on the alert's one incident. The URL is a
setting, so a proxy or a local test server can stand in for events.pagerduty.com.
"""

from __future__ import annotations

import json

import httpx

from connectors.base import ConnectorError, Outbound, SendResult

SEVERITIES = ("critical", "error", "warning", "info")


def event_body(outbound: Outbound, routing_key: str) -> dict:
    """The Events API v2 body for a page (or, with meta event_action, an acknowledge)."""
    meta = outbound.meta
    action = meta.get("event_action", "trigger")
    body: dict = {"routing_key": routing_key, "event_action": action, "dedup_key": meta["dedup_key"]}
    if action == "trigger":
        severity = meta.get("severity", "critical")
        body["payload"] = {
            "summary": (meta.get("title") or outbound.text)[:1024],
            "source": meta.get("source", "trkv"),
            "severity": severity if severity in SEVERITIES else "critical",
            "component": meta.get("channels", [None])[0] if meta.get("channels") else None,
            "custom_details": {k: meta[k] for k in ("count", "tickets", "channels", "step", "target") if k in meta},
        }
        body["client"] = "TRKV support hub"
        links = [{"href": meta[k], "text": text} for k, text in (("ack_url", "Acknowledge"), ("link", "Open in TRKV"))
                 if meta.get(k)]
        if links:
            body["links"] = links
    return body


class PagerDutySender:
    channel = "oncall"

    def __init__(self, url: str, routing_key: str, timeout: float = 10.0):
        self.url = url
        self.routing_key = routing_key
        self.timeout = timeout

    def send(self, outbound: Outbound) -> SendResult:
        body = json.dumps(event_body(outbound, self.routing_key), ensure_ascii=False).encode("utf-8")
        try:
            response = httpx.post(self.url, content=body, timeout=self.timeout,
                                  headers={"Content-Type": "application/json"})
        except httpx.HTTPError as exc:
            raise ConnectorError(f"PagerDuty unreachable: {exc}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise ConnectorError(f"PagerDuty answered {response.status_code}")
        if response.status_code >= 400:
            raise ConnectorError(f"PagerDuty refused the event: {response.status_code} {response.text[:200]}",
                                 permanent=True)
        try:
            return SendResult(external_id=response.json().get("dedup_key"))
        except ValueError:
            return SendResult(external_id=None)
