"""Wiring of the email channel: receivers and sender from the settings."""

from __future__ import annotations

import logging

from connectors.base import Receiver, Sender
from trkv.settings import Settings

log = logging.getLogger(__name__)


def receivers(settings: Settings) -> list[Receiver]:
    log.warning("the email connector cannot receive yet; it is not started")
    return []


def sender(settings: Settings) -> Sender | None:
    return None
