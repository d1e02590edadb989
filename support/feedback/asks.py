"""How a survey is asked in each channel: the Outbound for the ticket's conversation.

- email (and an api ticket whose author gave an address): five links to
  `/csat/{token}?score=N`. The page only shows the choice; a POST records it, so a mail
  scanner that follows every link records nothing.
- Discord: a message with five buttons in the ticket's thread or DM; each button's
  custom id is `csat:<token>:<score>` (persistent: the token carries all it needs).
- X: a DM with the link. After a public tweet the DM carries the reply tweet that the
  sender posts instead when X refuses the DM with a 403 (the customer's DMs are closed);
  the outbox row's `sent_as` says which went out ("dm" or "reply").
"""

from __future__ import annotations

from html import escape

from sqlalchemy.orm import object_session

from connectors.base import Outbound
from storage.models.contacts import Identity
from storage.models.feedback import Survey
from storage.models.tickets import Message, Ticket
from support.delivery import acks as templates
from support.feedback import tokens
from trkv.settings import Settings

SCORES = (1, 2, 3, 4, 5)
LABELS = {1: "Very poor", 2: "Poor", 3: "OK", 4: "Good", 5: "Great"}
QUESTION = "How satisfied are you with the help you got on {ref}?"


def key_for(ticket_id: int) -> str:
    return f"survey:{ticket_id}"


def outbound(ticket: Ticket, last_in: Message | None, survey: Survey, settings: Settings) -> Outbound | None:
    token = tokens.make(survey.id, survey.expires_at, settings)
    key = key_for(ticket.id)
    channel = last_in.channel if last_in is not None else ticket.channel
    if channel in ("email", "api"):
        return _email(ticket, last_in, token, key, settings)
    if channel == "discord":
        return _discord(ticket, last_in, token, key, settings)
    if channel == "x":
        return _x(ticket, last_in, token, key, settings)
    return Outbound(channel="log", kind="survey", idempotency_key=key, text=tokens.url(token, settings))


def _email(ticket, last_in, token: str, key: str, settings: Settings) -> Outbound | None:
    from support.channels import email

    base = email.reply_outbound(ticket, last_in, "survey", key, settings)
    if not base.to:
        return None
    question = QUESTION.format(ref=ticket.ref)
    lines = [f"{n} ({LABELS[n]}): {tokens.url(token, settings, n)}" for n in SCORES]
    text = f"Hi,\n\n{question}\nOne click tells us:\n\n" + "\n".join(lines) + "\n\nThank you!\nTRKV Support\n"
    links = "".join(f'<li><a href="{escape(tokens.url(token, settings, n))}">{n} &middot; {LABELS[n]}</a></li>'
                    for n in SCORES)
    html = (f"<!doctype html><html><body><p>Hi,</p><p>{escape(question)} One click tells us:</p>"
            f"<ul>{links}</ul><p>Thank you!<br>TRKV Support</p></body></html>")
    base.kind, base.text, base.html = "survey", text, html
    base.subject = f"How did we do? [{ticket.ref}]"
    base.meta = {**base.meta, "auto_submitted": "auto-generated"}
    return base


def discord_components(token: str) -> list[dict]:
    """One action row of five buttons (Discord's component JSON; style 2 = secondary)."""
    return [{"type": 1, "components": [
        {"type": 2, "style": 2, "label": f"{n} · {LABELS[n]}", "custom_id": f"csat:{token}:{n}"} for n in SCORES
    ]}]


def _discord(ticket, last_in, token: str, key: str, settings: Settings) -> Outbound:
    from support.channels import discord

    base = discord.reply_outbound(ticket, last_in, "survey", key, settings)
    base.kind = "survey"
    base.text = QUESTION.format(ref=f"**{ticket.ref}**") + " Pick a score from 1 (very poor) to 5 (great)."
    base.meta = {**base.meta, "components": discord_components(token)}
    return base


def _x(ticket, last_in, token: str, key: str, settings: Settings) -> Outbound:
    """A DM to the customer; after a public tweet, the DM carries the reply tweet to post
    instead when X refuses the DM (their DMs are closed): the sender decides, once."""
    from support.channels import x

    link = tokens.url(token, settings)
    text = f"How did we do on {ticket.ref}? Tell us in one click: {link}"
    base = x.reply_outbound(ticket, last_in, text, key, settings)
    base.kind = "survey"
    if base.to:  # they wrote by DM: the conversation allows one
        return base
    base.text = templates.fit_x(base.text)
    user_id = _x_user_id(last_in)
    if not user_id or not base.in_reply_to:
        return base
    return Outbound(channel="x", kind="survey", idempotency_key=key, text=text, to=user_id,
                    conversation_key=base.conversation_key,
                    meta={"ref": ticket.ref, "dm": True,
                          "public_reply": {"text": base.text, "in_reply_to": base.in_reply_to}})


def _x_user_id(message: Message | None) -> str | None:
    """The X user id of the customer who wrote `message` (a tweet's author_id, else their identity)."""
    if message is None:
        return None
    raw = message.raw if isinstance(message.raw, dict) else {}
    data = raw.get("data", raw)
    author = str(data.get("author_id") or "") if isinstance(data, dict) else ""
    if author.isdigit():
        return author
    session = object_session(message)
    if session is None or message.identity_id is None:
        return None
    identity = session.get(Identity, message.identity_id)
    user_id = identity.external_user_id if identity is not None and identity.channel == "x" else ""
    return user_id if user_id.isdigit() else None
