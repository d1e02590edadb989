"""The `/kb query` slash command's answer: the top published articles for the asker's
words, as an interaction callback visible only to them (flags 64, EPHEMERAL).

The Discord connector receives the INTERACTION_CREATE (type 2, APPLICATION_COMMAND) and
answers with `POST /interactions/{id}/{token}/callback`; this module only decides what the
answer says, so the connector stays free of storage and search. `COMMAND` is the
registration body for `PUT /applications/{app_id}/guilds/{guild_id}/commands`.
"""

from __future__ import annotations

from typing import Any

from support.kb import search
from trkv.settings import Settings

EPHEMERAL = 1 << 6
CHANNEL_MESSAGE_WITH_SOURCE = 4
COMMAND = {"name": "kb", "type": 1, "description": "Search the TRKV knowledge base",
           "options": [{"type": 3, "name": "query", "description": "What are you looking for?", "required": True,
                        "max_length": 200}]}


def query_of(interaction: dict[str, Any]) -> str | None:
    """The `query` option of a `/kb` command interaction, or None for another interaction."""
    data = interaction.get("data") or {}
    if interaction.get("type") != 2 or data.get("name") != "kb":
        return None
    return next((str(o.get("value", "")) for o in data.get("options") or [] if o.get("name") == "query"), "")


def answer(settings: Settings, query: str, limit: int = 3) -> dict[str, Any]:
    """The interaction callback body answering `query`."""
    query = query.strip()[: search.MAX_QUERY]
    found = search.search(settings, query, limit=limit) if query else {"items": [], "did_you_mean": None}
    base = settings.public_url.rstrip("/")
    if found["items"]:
        lines = [f"Articles for “{query}”:"] + [f"• **{i['title']}** <{base}{i['url']}>" for i in found["items"]]
    else:
        lines = [f"No article matches “{query}”." + (f" Did you mean “{found['did_you_mean']}”?"
                                                     if found["did_you_mean"] else ""),
                 f"Browse {base}/kb or describe your problem in #support-tickets."]
    return {"type": CHANNEL_MESSAGE_WITH_SOURCE,
            "data": {"content": "\n".join(lines)[:2000], "flags": EPHEMERAL, "allowed_mentions": {"parse": []}}}
