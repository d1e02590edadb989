"""Which connector sends a channel's outbox rows.

A channel without credentials sends to the `log` receiver in $TRKV_HOME/sent.jsonl,
so that nothing is silently discarded.
"""

from __future__ import annotations

import functools

from connectors.base import Sender
from connectors.logsink import LogSender
from trkv.settings import Settings


@functools.lru_cache(maxsize=32)
def _log_sender(path: str, channel: str) -> LogSender:
    return LogSender(path, channel)


def sender_for(channel: str, settings: Settings) -> Sender:
    if channel == "oncall" and settings.oncall_webhook_url:
        from connectors.webhook import WebhookSender

        secret = settings.oncall_webhook_secret
        return WebhookSender(settings.oncall_webhook_url, secret.get_secret_value() if secret else None)
    from support import channels

    live = channels.sender(channel, settings)
    if live is not None:
        return live
    return _log_sender(str(settings.home_path / "sent.jsonl"), channel)
