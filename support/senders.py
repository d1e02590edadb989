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
    if channel == "oncall":  # pages: the webhook or PagerDuty each row names (support/notifiers.py)
        from support.notifiers import sender

        return sender(settings)
    from support import channels

    live = channels.sender(channel, settings)
    if live is not None:
        return live
    return _log_sender(str(settings.home_path / "sent.jsonl"), channel)
