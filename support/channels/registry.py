"""Which module wires which channel, and the calls that look a channel's wiring up by name."""


from __future__ import annotations

import importlib
from types import ModuleType

from connectors.base import Receiver, Sender
from trkv.settings import Settings

MODULES = {"email": "support.channels.email", "api": "support.channels.email", "discord": "support.channels.discord", "x": "support.channels.x"}


def module(channel: str) -> ModuleType | None:
    name = MODULES.get(channel)
    return importlib.import_module(name) if name else None


def receivers(channel: str, settings: Settings, sink) -> list[Receiver]:
    """`sink` is where received messages go (`support.intake.receive.DatabaseSink`)."""
    wiring = module(channel)
    return wiring.receivers(settings, sink) if wiring else []


def sender(channel: str, settings: Settings) -> Sender | None:
    wiring = module(channel)
    return wiring.sender(settings) if wiring else None
