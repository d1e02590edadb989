"""A generic JSON webhook (on-call pages): POST with an Idempotency-Key header, and an
HMAC-SHA256 signature of the body when a secret is set."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx

from connectors.base import ConnectorError, Outbound, SendResult


class WebhookSender:
    channel = "oncall"

    def __init__(self, url: str, secret: str | None = None, timeout: float = 10.0):
        self.url = url
        self.secret = secret
        self.timeout = timeout

    def send(self, outbound: Outbound) -> SendResult:
        body = json.dumps(
            {"kind": outbound.kind, "text": outbound.text, "key": outbound.idempotency_key, **outbound.meta},
            ensure_ascii=False,
        ).encode("utf-8")
        headers = {"Content-Type": "application/json", "Idempotency-Key": outbound.idempotency_key}
        if self.secret:
            stamp = str(int(time.time()))
            digest = hmac.new(self.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            headers["X-TRKV-Timestamp"] = stamp
            headers["X-TRKV-Signature"] = f"sha256={digest}"
        try:
            response = httpx.post(self.url, content=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise ConnectorError(f"webhook unreachable: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise ConnectorError(f"webhook answered {response.status_code}")
        if response.status_code >= 400:
            raise ConnectorError(f"webhook refused the page: {response.status_code}", permanent=True)
        return SendResult(external_id=response.headers.get("X-Request-Id"))
