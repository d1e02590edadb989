"""Canned replies for the composer. They are response templates in the database now
(support/kb/responses.py; the five old canned replies are its seed rows), edited by
leads at /templates. `{name}`, `{ref}`, `{agent}` and `{kb:slug}` are filled in on the
page; the agent edits the text before sending."""

from __future__ import annotations

from typing import Any

from support.kb import responses
from trkv.settings import Settings


def choices(settings: Settings, ticket: dict[str, Any], channel: str, agent: str) -> list[tuple[str, str, str]]:
    name = ((ticket.get("contact") or {}).get("name") or "").split(" ")[0]
    return responses.choices(settings, name=name, ref=ticket["ref"], agent=agent, channel=channel)
