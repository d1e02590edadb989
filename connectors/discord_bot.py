"""Discord: gateway MESSAGE_CREATE payloads in, `Inbound` out; messages out.

`parse_message` is a pure function over the raw message payload (as the gateway and
the history API deliver it) plus a small dict describing the channel it arrived in.
`route` decides whether a message is a customer's at all (the seed's categories).
The live parts, built on the unmodified discord.py, are in `connectors.discord_live`:
the gateway receiver with resume and backfill, and the sender.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from connectors.base import Attachment, Inbound, clean_text, text_field

THREAD_TYPES = {10, 11, 12}  # announcement, public and private threads (forum posts are 11)
FORUM_TYPES = {15, 16}  # forum and media channels: their posts are threads
DM_TYPES = {1, 3}  # direct message, group DM
# Default, reply, slash command, thread starter, context-menu command: a person wrote them.
USER_MESSAGE_TYPES = {0, 19, 20, 21, 23}

# The seed's Discord categories, as triage category hints.
CATEGORY_HINTS = {
    "bug reports": "bug_report",
    "feature requests": "feature_request",
    "support tickets": "support_question",
    "documentation": "documentation",
    "general discussion": "general",
}

HINT_VALUES = set(CATEGORY_HINTS.values())
MENTION_ONLY = "mention"  # a route: a ticket only when the message mentions the bot
IGNORE = "ignore"  # a route: never ingested
# With no mapping configured: the seed's categories (a channel's own name may match too).
DEFAULT_ROUTES = {
    "bug reports": "bug_report",
    "feature requests": "feature_request",
    "support tickets": "support_question",
    "documentation": "documentation",
    "general discussion": MENTION_ONLY,
    "announcements": IGNORE,
}

_USER_MENTION_RE = re.compile(r"<@!?(\d+)>")
_CHANNEL_MENTION_RE = re.compile(r"<#(\d+)>")


def parse_message(payload: dict, channel: dict | None = None, *, bot_user_id: str | None = None) -> Inbound:
    """Turn one MESSAGE_CREATE data dict (or a whole gateway dispatch) into an Inbound.

    `channel` is the channel object the message arrived in; without it a message
    without a guild is taken for a DM and anything else opens its own conversation.
    Raises ValueError only for payloads that are not messages at all."""
    payload = _message_data(payload)
    channel = channel if isinstance(channel, dict) else None
    problems: list[str] = []
    message_id = str(payload["id"])
    channel_id = str(payload["channel_id"])
    author = payload.get("author")
    if not isinstance(author, dict) or not author.get("id"):
        problems.append("message has no author")
        author = author if isinstance(author, dict) else {}
    username = text_field(author.get("username"), problems, "author.username")
    guild_id = payload.get("guild_id") or (channel or {}).get("guild_id")

    return Inbound(
        channel="discord",
        external_id=message_id,
        text=_content(payload, problems),
        author_id=str(author.get("id") or ""),
        author_handle=username,
        author_name=text_field(author.get("global_name"), problems, "author.global_name") or username,
        conversation_key=_conversation_key(payload, channel, message_id, channel_id),
        references=_references(payload, channel, message_id, channel_id),
        subject=_thread_name(channel, problems),
        sent_at=_timestamp(payload.get("timestamp"), problems),
        permalink=f"https://discord.com/channels/{guild_id or '@me'}/{channel_id}/{message_id}",
        attachments=_attachments(payload.get("attachments")),
        hints=_hints(payload, channel, bot_user_id, problems),
        no_ack_reason=_no_ack_reason(payload, author, bot_user_id),
        problems=problems,
        raw=payload,
    )


def _message_data(payload: Any) -> dict:
    if not isinstance(payload, dict):
        raise ValueError(f"not a Discord message: expected an object, got {type(payload).__name__}")
    # Accept a whole gateway dispatch too, so a recorded frame can be replayed as is.
    if "op" in payload and isinstance(payload.get("d"), dict):
        if payload.get("t") != "MESSAGE_CREATE":
            raise ValueError(f"not a Discord message: gateway event {payload.get('t')!r}")
        payload = payload["d"]
    missing = [key for key in ("id", "channel_id") if not payload.get(key)]
    if missing:
        raise ValueError(f"not a Discord message: missing {', '.join(missing)}")
    return payload


def _content(payload: dict, problems: list[str]) -> str:
    content = payload.get("content")
    if content is None:
        content = ""
    elif not isinstance(content, str):
        problems.append(f"content is {type(content).__name__}, not text")
        content = ""
    text = _resolve_mentions(clean_text(content, problems, "content"), payload)
    # Bots and webhooks often post only embeds; their text is the message.
    return text or _embed_text(payload.get("embeds"), problems)


def _resolve_mentions(text: str, payload: dict) -> str:
    """`<@123>` is unreadable in an inbox; show `@name` when the payload says who it is."""
    names = {
        str(user.get("id")): str(user.get("global_name") or user.get("username") or "")
        for user in payload.get("mentions") or []
        if isinstance(user, dict)
    }
    channels = {
        str(ch.get("id")): str(ch.get("name") or "")
        for ch in payload.get("mention_channels") or []
        if isinstance(ch, dict)
    }
    text = _USER_MENTION_RE.sub(lambda m: f"@{names[m[1]]}" if names.get(m[1]) else m[0], text)
    return _CHANNEL_MENTION_RE.sub(lambda m: f"#{channels[m[1]]}" if channels.get(m[1]) else m[0], text)


def _embed_text(embeds: Any, problems: list[str]) -> str:
    parts = []
    for embed in embeds if isinstance(embeds, list) else []:
        if isinstance(embed, dict):
            for key in ("title", "description"):
                parts.append(text_field(embed.get(key), problems, f"embed.{key}"))
    return "\n".join(p for p in parts if p)


def _conversation_key(payload: dict, channel: dict | None, message_id: str, channel_id: str) -> str:
    kind = _channel_type(payload, channel)
    if kind in THREAD_TYPES | FORUM_TYPES | DM_TYPES:
        return channel_id
    # In a plain channel every message opens its own conversation. Its key is the
    # message id because a thread started from a message takes that same id, so the
    # thread the bot opens on it (and every follow-up there) keys to the same ticket.
    return message_id


def _channel_type(payload: dict, channel: dict | None) -> int | None:
    if channel is not None:
        kind = channel.get("type")
        return kind if isinstance(kind, int) else None
    # Without the channel object: no guild means a DM (gateway DMs carry no guild_id).
    return 1 if not payload.get("guild_id") else None


def _references(payload: dict, channel: dict | None, message_id: str, channel_id: str) -> list[str]:
    refs = []
    reference = payload.get("message_reference")
    if isinstance(reference, dict) and reference.get("message_id"):
        refs.append(str(reference["message_id"]))
    # A thread started from a message has that message's id, so messages in the thread
    # point back at the message (and its conversation) the thread grew from.
    if _channel_type(payload, channel) in THREAD_TYPES and channel_id != message_id and channel_id not in refs:
        refs.append(channel_id)
    return refs


def _thread_name(channel: dict | None, problems: list[str]) -> str | None:
    if channel is None or channel.get("type") not in THREAD_TYPES:
        return None
    return text_field(channel.get("name"), problems, "channel.name") or None


def _hints(payload: dict, channel: dict | None, bot_user_id: str | None, problems: list[str]) -> dict[str, str]:
    hints: dict[str, str] = {}
    if channel is not None:
        category = text_field(channel.get("category"), problems, "channel.category").strip().lower()
        if isinstance(channel.get("hint"), str) and channel["hint"] in HINT_VALUES:
            hints["category"] = channel["hint"]  # the configured mapping wins
        elif category in CATEGORY_HINTS:
            hints["category"] = CATEGORY_HINTS[category]
        name = text_field(channel.get("parent_name") or channel.get("name"), problems, "channel.name")
        if name:
            hints["discord_channel"] = name
    if bot_user_id:
        mentioned = {str(u.get("id")) for u in payload.get("mentions") or [] if isinstance(u, dict)}
        hints["mentions_bot"] = "true" if str(bot_user_id) in mentioned else "false"
    return hints


def _no_ack_reason(payload: dict, author: dict, bot_user_id: str | None) -> str | None:
    kind = payload.get("type", 0)
    if kind not in USER_MESSAGE_TYPES:
        return f"Discord system message (type {kind})"
    if bot_user_id and str(author.get("id")) == str(bot_user_id):
        return "our own bot's message"
    if author.get("bot") or payload.get("webhook_id"):
        return "sent by a bot or webhook"
    return None


def _timestamp(value: Any, problems: list[str]) -> datetime | None:
    if not isinstance(value, str):
        problems.append("no timestamp")
        return None
    try:
        sent = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        problems.append(f"unparseable timestamp {value[:40]!r}")
        return None
    return sent if sent.tzinfo else sent.replace(tzinfo=UTC)


def _attachments(items: Any) -> list[Attachment]:
    found = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        size = item.get("size")
        found.append(
            Attachment(
                filename=clean_text(str(item.get("filename") or "attachment"), [], "attachment"),
                content_type=str(item.get("content_type") or "application/octet-stream"),
                size=size if isinstance(size, int) else None,
                url=item.get("url") if isinstance(item.get("url"), str) else None,
            )
        )
    return found


# --- routing -------------------------------------------------------------------------


def normalize_routes(mapping: dict[str, str] | None) -> dict[str, str]:
    """Channel/category names or ids -> a hint, "mention" or "ignore". Names match
    case-insensitively and ignore '#', dashes and underscores ("#bug-reports" is
    "Bug Reports"). An empty mapping means the seed's defaults."""
    routes = {}
    for key, value in (mapping or DEFAULT_ROUTES).items():
        value = str(value).strip().lower()
        if value not in HINT_VALUES | {MENTION_ONLY, IGNORE}:
            raise ValueError(f"Discord channel mapping {key!r}: {value!r} is not a category, 'mention' or 'ignore'")
        routes[_name_key(str(key))] = value
    return routes


def _name_key(name: str) -> str:
    return re.sub(r"[\s_\-]+", " ", name.strip().lstrip("#").lower()).strip()


def channel_route(channel: dict, routes: dict[str, str]) -> str:
    """The route of a channel: looked up by the channel, then (for a thread) its parent,
    then the category, each by id and then by name. Unmapped guild channels are ignored."""
    if channel.get("type") in DM_TYPES:
        return "support_question"
    for id_key, name_key in (("id", "name"), ("parent_id", "parent_name"), ("category_id", "category")):
        for key in (channel.get(id_key), channel.get(name_key)):
            if key and _name_key(str(key)) in routes:
                return routes[_name_key(str(key))]
    return IGNORE


def route(payload: dict, channel: dict, routes: dict[str, str], bot_user_id: str | None) -> tuple[str | None, str]:
    """(hint, "") when the message is a customer's to ingest; (None, why not) otherwise."""
    author = payload.get("author") if isinstance(payload.get("author"), dict) else {}
    if payload.get("type", 0) not in USER_MESSAGE_TYPES:
        return None, f"system message (type {payload.get('type')})"
    if bot_user_id and str(author.get("id")) == str(bot_user_id):
        return None, "our own message"
    if author.get("bot") or payload.get("webhook_id"):
        return None, "sent by a bot or webhook"
    decided = channel_route(channel, routes)
    if decided == IGNORE:
        return None, "not a support channel"
    if decided == MENTION_ONLY:
        mentioned = {str(u.get("id")) for u in payload.get("mentions") or [] if isinstance(u, dict)}
        in_our_thread = bool(bot_user_id) and str(channel.get("owner_id")) == str(bot_user_id)
        if not in_our_thread and str(bot_user_id) not in mentioned:
            return None, "does not mention the bot"
        return "general", ""
    return decided, ""


def parse_change(event: str, data: dict) -> list[dict]:
    """MESSAGE_UPDATE / MESSAGE_DELETE / MESSAGE_DELETE_BULK -> plain change records:
    {"kind": "edit"|"delete", "external_id", "channel_id", "text"?, "at"?, "raw"}."""
    channel_id = str(data.get("channel_id") or "")
    if event == "MESSAGE_UPDATE":
        if "content" not in data or not data.get("id"):
            return []  # an embed unfurl or a pin: the text did not change
        problems: list[str] = []
        text = _resolve_mentions(clean_text(text_field(data.get("content"), problems, "content"), problems), data)
        edited = data.get("edited_timestamp")
        return [{"kind": "edit", "external_id": str(data["id"]), "channel_id": channel_id, "text": text,
                 "at": edited if isinstance(edited, str) else None, "raw": data}]
    ids = data.get("ids") if event == "MESSAGE_DELETE_BULK" else [data.get("id")]
    return [{"kind": "delete", "external_id": str(i), "channel_id": channel_id, "raw": data}
            for i in ids or [] if i]
