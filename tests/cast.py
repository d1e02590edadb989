"""A fixed small cast, so tests read like stories.

Ada writes email, Bo is on Discord, Cy tweets at @trkvbot.
"""

from __future__ import annotations

from connectors.base import Inbound


def ada_email(external_id: str = "ada-1@mail.example", text: str = "How do I export my projects to CSV?", **kw) -> Inbound:
    return Inbound(channel="email", external_id=external_id, text=text, author_id="ada@example.com",
                   author_handle="ada@example.com", author_name="Ada Lovelace", author_email="ada@example.com",
                   subject=kw.pop("subject", "Exporting projects"), **kw)


def bo_discord(external_id: str = "1180000000000000001", text: str = "the timeline view crashes when I zoom", **kw) -> Inbound:
    kw.setdefault("conversation_key", "thread-77")
    return Inbound(channel="discord", external_id=external_id, text=text, author_id="400000000000000042",
                   author_handle="bo", author_name="Bo", hints={"category": "bug_report"}, **kw)


def cy_tweet(external_id: str = "1860000000000000001", text: str = "@trkvbot is there a dark mode yet?", **kw) -> Inbound:
    kw.setdefault("conversation_key", external_id)
    kw.setdefault("author_id", "99001")
    kw.setdefault("author_handle", "@cy")
    return Inbound(channel="x", external_id=external_id, text=text, **kw)
