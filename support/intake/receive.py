"""The workflow side of receiving: the sink connectors write into, and the list of
receivers that the settings make live."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import select

from connectors.base import Inbound, Receiver
from storage.db import session_factory
from storage.models.intake import ConnectorCursor
from storage.queries import set_connector_state, upsert_named
from support.channels import registry
from support.intake import discord_events
from support.intake import staging as intake
from trkv.settings import Settings, get_settings

log = logging.getLogger(__name__)


class DatabaseSink:
    """Durable intake plus cursors and health rows in the hub's database."""

    def __init__(self, settings: Settings | None = None, *, live: bool = True):
        self.settings = settings or get_settings()
        self.live = live
        self._session = session_factory(self.settings.db_url)

    def submit(self, inbound: Inbound) -> None:
        intake.submit([inbound], live=self.live, settings=self.settings)

    def submit_many(self, inbounds) -> None:
        """A page of messages in one commit (and one ingest kick)."""
        inbounds = list(inbounds)
        if inbounds:
            intake.submit(inbounds, live=self.live, settings=self.settings)

    def load_cursor(self, name: str) -> str | None:
        with self._session() as session:
            return session.execute(select(ConnectorCursor.value).where(ConnectorCursor.name == name)).scalar()

    def save_cursor(self, name: str, value: str) -> None:
        upsert_named(self.settings.db_url, ConnectorCursor, name, value=value)

    def report(self, name: str, state: str, detail: str = "") -> None:
        set_connector_state(self.settings.db_url, name, state, detail)

    def answer_button(self, token: str, score: int, presser: str) -> str:
        """A survey button pressed on Discord: recorded, and the text the presser sees."""
        from support.feedback import answers

        return answers.discord_press(token, score, presser, settings=self.settings)

    def answer_command(self, command: str, options: dict[str, str], user_id: str) -> str:
        """A Discord slash command (`/kb query`): the text only the asker sees."""
        from support.kb import discord_command

        if command != "kb":
            return "This command is not known here."
        return discord_command.text(self.settings, str(options.get("query") or ""), asker=user_id)

    def apply_changes(self, changes: list[dict]) -> int:
        """Edits and deletions of received messages (Discord's)."""
        return discord_events.apply_changes(changes, settings=self.settings)


def receivers_for(settings: Settings, channels: list[str] | None = None) -> list[Receiver]:
    """The receivers to run: the requested channels, or every live one (and the demo)."""
    wanted = channels or [*settings.live_channels(), *(["demo"] if settings.demo_enabled else [])]
    receivers: list[Receiver] = []
    for channel in wanted:
        if channel == "demo":
            from connectors.replay import DemoReplay

            receivers.append(DemoReplay(speed=settings.demo_speed))
        else:
            receivers.extend(registry.receivers(channel, settings, DatabaseSink(settings)))
    return receivers


def run(settings: Settings | None = None, channels: list[str] | None = None, stop: threading.Event | None = None) -> None:
    from connectors.runner import run_receivers

    settings = settings or get_settings()
    stop = stop or threading.Event()
    receivers = receivers_for(settings, channels)
    if not receivers:
        log.warning("no connector to run: set a channel's credentials, or TRKV_DEMO=1 for the demo feed")
        return
    log.info("connectors: %s", ", ".join(r.name for r in receivers))
    run_receivers(receivers, DatabaseSink(settings), stop)
