"""What the `/kb query` slash command answers: the top published articles for the asker's
words (title and link), or "nothing found" with a did-you-mean and the way to a ticket.

The Discord connector (connectors/discord_commands.py) registers the command, receives the
interaction and answers it, visible only to the asker; it reaches this module through
`DatabaseSink.answer_command`, so the connector stays free of storage and search. A
search that finds nothing is logged like the web's (the weekly "missing topics")."""

from __future__ import annotations

from support.kb import reads, search
from trkv.settings import Settings

LIMIT = 3


def text(settings: Settings, query: str, asker: str | None = None, limit: int = LIMIT) -> str:
    """The answer to `/kb query` from the Discord user `asker`, at most 2,000 characters."""
    query = " ".join(query.split())[: search.MAX_QUERY]
    found = search.search(settings, query, limit=limit) if query else {"items": [], "did_you_mean": None}
    base = settings.public_url.rstrip("/")
    if found["items"]:
        ref = reads.discord_ref(settings, asker) if asker else None  # a click is a read by the asker
        lines = [f"Articles for “{query}”:"] + [f"• **{i['title']}** <{reads.go_url(settings, i['slug'], ref)}>"
                                                for i in found["items"]]
    else:
        if query:
            search.record_empty(settings, query)
        hint = f" Did you mean “{found['did_you_mean']}”? Try `/kb {found['did_you_mean']}`." \
            if found["did_you_mean"] else ""
        lines = [f"Nothing found for “{query}”.{hint}",
                 f"Browse {base}/kb, or open a ticket: describe your problem in #support and the team will answer."]
    return "\n".join(lines)[:2000]
