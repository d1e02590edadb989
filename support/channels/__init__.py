"""Per-channel wiring (the api channel answers by email): each module turns the settings into its connector's receivers
and sender. Connectors know nothing of settings or storage; these modules do.

Each module exposes:
  receivers(settings) -> list[Receiver]   the receivers to run when the channel is live
  sender(settings) -> Sender | None       None while the channel has no credentials
"""

from __future__ import annotations

import importlib
from types import ModuleType

from connectors.base import Receiver, Sender
from trkv.settings import Settings

MODULES = {"email": "support.channels.email", "api": "support.channels.email", "discord": "support.channels.discord", "x": "support.channels.x"}


def module(channel: str) -> ModuleType | None:
    name = MODULES.get(channel)
    return importlib.import_module(name) if name else None


def receivers(channel: str, settings: Settings) -> list[Receiver]:
    wiring = module(channel)
    return wiring.receivers(settings) if wiring else []


def sender(channel: str, settings: Settings) -> Sender | None:
    wiring = module(channel)
    return wiring.sender(settings) if wiring else None
