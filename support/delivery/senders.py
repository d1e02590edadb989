"""Which connector sends a channel's outbox rows.

A channel without credentials sends to the `log` receiver in $TRKV_HOME/sent.jsonl,
so that nothing is silently discarded.
"""

from __future__ import annotations

from connectors import logsink
from connectors.base import Sender
from trkv.settings import Settings


def sender_for(channel: str, settings: Settings) -> Sender:
    if channel == "oncall":  # pages: the webhook or PagerDuty each row names (support/oncall/notifiers.py)
        from support.oncall.notifiers import sender

        return sender(settings)
    from support.channels import registry as channels

    live = channels.sender(channel, settings)
    if live is not None:
        return live
    return logsink.shared(str(settings.home_path / "sent.jsonl"), channel)
