"""Wiring of the discord channel: receivers and sender from the settings, and how an
acknowledgement or an agent reply is addressed (see `connectors.discord_live.DiscordSender`
for the Outbound contract)."""

from __future__ import annotations

import logging
from typing import Any

from connectors.base import Outbound, Receiver, Sender
from trkv.settings import Settings

log = logging.getLogger(__name__)


def receivers(settings: Settings, sink) -> list[Receiver]:
    if settings.discord_token is None:
        return []
    from connectors.discord_live import DiscordReceiver

    return [DiscordReceiver(
        settings.discord_token.get_secret_value(), settings.discord_guild_id,
        api_base=settings.discord_api_base, gateway_url=settings.discord_gateway_url,
        routes=settings.discord_channels or None, backfill_hours=settings.discord_backfill_hours,
        submit_batch=sink.submit_many, apply_changes=sink.apply_changes,
        guild_ready_timeout=settings.discord_guild_ready_timeout,
        answer_button=sink.answer_button, answer_command=sink.answer_command,
    )]


def sender(settings: Settings) -> Sender | None:
    if settings.discord_token is None:
        return None
    from connectors.discord_live import DiscordSender

    return DiscordSender(
        settings.discord_token.get_secret_value(), api_base=settings.discord_api_base,
        gateway_url=settings.discord_gateway_url, guild_id=settings.discord_guild_id,
        announcements_channel=settings.discord_announcements_channel, threads=settings.discord_threads,
    )


def where(conversation_key: str | None, raw: Any, subject: str | None, text: str) -> dict[str, Any]:
    """Outbound fields that put a message in the customer's conversation: a DM goes to
    the author (`to`); a message in a plain channel gets a thread opened on it (the
    thread has the message's id, which is the conversation key); a thread, forum post
    or a channel without threads gets the message in place."""
    raw = raw if isinstance(raw, dict) else {}
    channel_id = str(raw.get("channel_id") or "")
    author = raw.get("author") if isinstance(raw.get("author"), dict) else {}
    if channel_id and not raw.get("guild_id") and author.get("id"):
        return {"to": str(author["id"]), "conversation_key": conversation_key}
    if channel_id and conversation_key and channel_id != conversation_key:
        name = (subject or text.strip().split("\n", 1)[0] or "Support request")[:100]
        return {"conversation_key": conversation_key,
                "meta": {"channel_id": channel_id, "thread_from": conversation_key, "thread_name": name}}
    return {"conversation_key": conversation_key or channel_id or None}


def ack_outbound(first, key: str, text: str) -> Outbound:
    """The acknowledgement of a new ticket whose first message (`Inbound`) came from Discord."""
    fields = where(first.conversation_key, first.raw, first.subject, first.text)
    fields.pop("to", None)  # an ack answers in the DM channel itself
    fields.setdefault("meta", {})["mention_user"] = first.author_id
    return Outbound(channel="discord", kind="ack", idempotency_key=key, text=text,
                    in_reply_to=first.external_id, **fields)


def reply_outbound(ticket, last_in, text: str, key: str, settings: Settings) -> Outbound:
    """An agent's reply: into the conversation of the customer's last message."""
    if last_in is None:
        return Outbound(channel="discord", kind="reply", idempotency_key=key, text=text,
                        conversation_key=ticket.conversation_key)
    fields = where(last_in.conversation_key or ticket.conversation_key, last_in.raw, ticket.subject, last_in.text)
    return Outbound(channel="discord", kind="reply", idempotency_key=key, text=text,
                    in_reply_to=last_in.external_id, **fields)
