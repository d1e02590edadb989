"""The real parts incident stories run on: the local Discord and X servers, aiosmtpd,
and settings that point the hub at them; customers' messages as those servers carry
them (parsed by the connectors' own parsers), and a drain that sends what the outbox
holds through the real senders."""

from __future__ import annotations

import email
import email.policy
import socket
import time
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from sqlalchemy import select

from connectors.discord_bot import parse_message
from connectors.x.parse import parse_page
from storage.db import session_factory, transaction
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from support.delivery import broadcast
from support.delivery.dispatch import dispatch
from tests.conftest import settings_for
from tests.discord_server import GUILD_ID, TOKEN, channel_id, user


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps every message."""

    received: list = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for rcpt, m in self.received if address in rcpt]


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Smtp:
    def __enter__(self) -> Smtp:
        self.mailbox, self.port = Mailbox(), free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


def hub_settings(monkeypatch, tmp_path, db_url, discord, x, smtp, model_dir, **extra):
    return settings_for(
        monkeypatch, tmp_path, db_url, discord_token=TOKEN, discord_guild_id=GUILD_ID,
        discord_api_base=discord.api_base, discord_gateway_url=discord.gateway_url,
        x_api_base=x.base_url, x_consumer_key="ck", x_consumer_secret="cs", x_access_token="at",
        x_access_token_secret="ats", smtp_host="127.0.0.1", smtp_port=str(smtp.port), smtp_starttls="0",
        smtp_timeout="10", triage_model_dir=str(model_dir), public_url="https://status.trkv.test", **extra)


def discord_message(server, n: int, text: str, tag: str = "o"):
    author = user(f"13{ord(tag[0]):03d}{n:014d}", f"{tag}user{n}", f"{tag.upper()} User {n}")
    payload = server.post("support", author, text)
    info = {"id": channel_id("support"), "type": 0, "name": "support", "guild_id": GUILD_ID, "hint": "support_question"}
    return parse_message(dict(payload, guild_id=GUILD_ID), info)


def x_mention(server, n: int, text: str, tag: str = "o"):
    author = server.user(f"{tag}tweeter{n}")
    tweet = server.tweet(author, f"@trkvbot {text}")
    [inbound] = parse_page({"data": [tweet], "includes": {"users": [author]}})
    return inbound


def drain(settings, timeout: float = 120, now_shift: float = 0.0) -> None:
    """Send every queued row through the real senders, releasing held ones as budgets allow."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with transaction(settings.db_url) as session:
            broadcast.release(session, settings, utcnow())
        with session_factory(settings.db_url, readonly=True)() as session:
            queued = session.execute(select(Outbox.id).where(Outbox.status == "queued").order_by(Outbox.id)).scalars().all()
            held = session.execute(select(Outbox.id).where(Outbox.status == "held")).first()
        for outbox_id in queued:
            dispatch(outbox_id, settings)
        if not queued and held is None:
            return
        if not queued:
            time.sleep(0.2)
    raise AssertionError("the outbox did not drain")
