""""Turn into article": a resolved ticket becomes a KB draft prefilled with the customer's
question and the agent's answer, with the customer's personal data removed (their names
and handles, email addresses, phone numbers, links with tokens, long numbers such as
order or card numbers, the ticket reference). A person reviews the draft before it is
published: this removes what a pattern can find, not every identifying sentence."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from storage.db import session_factory
from storage.models.delivery import Outbox
from storage.queries import ticket_id_from_ref
from support.kb import articles
from support.tickets.queries import get_ticket
from trkv.settings import Settings

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://\S+")
_PHONE = re.compile(r"(?<!\w)\+?\d[\d ()./-]{6,}\d(?!\w)")
_NUMBER = re.compile(r"\b\d{5,}\b")
_HANDLE = re.compile(r"(?<![\w@])@\w{2,}")
_REF = re.compile(r"\bTRKV-\d+\b", re.IGNORECASE)
# A leading "Hi Ada," and a closing "Thanks, Ada Lovelace" (clauses, not whole lines).
_GREETING = re.compile(r"^\s*(?:hi|hello|hey|dear)\b[^,.!\n]{0,30}[,.!]\s*", re.IGNORECASE | re.MULTILINE)
_SIGN_OFF = re.compile(r"(?:^|(?<=[.!?]))\s*(?:thanks|thank you|cheers|regards|best)\b[^.!?\n]{0,40}$",
                       re.IGNORECASE | re.MULTILINE)


class DraftError(ValueError):
    status = 422


def scrub(text: str, names: list[str]) -> str:
    """`text` without the personal data patterns and the given names."""
    text = _EMAIL.sub("[email]", text)
    text = _URL.sub(lambda m: m.group() if "?" not in m.group() and "trkv" in m.group() else "[link]", text)
    text = _PHONE.sub("[number]", text)
    text = _NUMBER.sub("[number]", text)
    text = _HANDLE.sub("[handle]", text)
    text = _REF.sub("[ticket]", text)
    for name in sorted({n for n in names if n and len(n) > 1}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "[name]", text, flags=re.IGNORECASE)
    text = _SIGN_OFF.sub("", _GREETING.sub("", text))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _names(ticket: dict[str, Any]) -> list[str]:
    contact = ticket.get("contact") or {}
    names = [contact.get("name") or "", *(contact.get("name") or "").split()]
    for identity in ticket.get("identities", []):
        names += [identity.get("handle") or "", (identity.get("handle") or "").lstrip("@"),
                  identity.get("display_name") or ""]
    for message in ticket.get("messages", []):
        if message["direction"] == "in":
            names += [message.get("author") or "", *(message.get("author") or "").split()]
    return [n for n in names if n and n.lower() not in ("there", "the", "team")]


def _last_answer(settings: Settings, ref: str) -> str | None:
    """The text of the agents' last reply (queued or sent; acknowledgements are not replies)."""
    with session_factory(settings.db_url, readonly=True)() as session:
        payload = session.execute(select(Outbox.payload).where(
            Outbox.ticket_id == ticket_id_from_ref(ref), Outbox.kind == "reply",
            Outbox.idempotency_key.not_like("reply:%:0:release:%")).order_by(Outbox.id.desc()).limit(1)).scalar()
    return (payload or {}).get("text")


def from_ticket(settings: Settings, ref: str, *, author: str, user=None) -> dict[str, Any]:
    """A draft article from a resolved (or closed) ticket's question and its agent's answer."""
    ticket = get_ticket(ref, settings, with_details=True)
    if ticket is None:
        raise articles.NotFound(f"no ticket {ref[:40]}")
    if ticket["status"] not in ("resolved", "closed"):
        raise DraftError(f"{ticket['ref']} is {ticket['status']}: only a resolved ticket has a known answer")
    inbound = [m for m in ticket["messages"] if m["direction"] == "in"]
    names = _names(ticket)
    question = scrub("\n\n".join(m["text"] for m in inbound[:3]), names)
    answer = _last_answer(settings, ticket["ref"])
    answer = scrub(answer, names) if answer else "_Write the answer here._"
    title = scrub(ticket.get("subject") or question.split("\n")[0][:80], names) or "Untitled"
    body = f"## Question\n\n{question}\n\n## Answer\n\n{answer}\n"
    category = "troubleshooting" if ticket.get("category") == "bug_report" else "faqs"
    return articles.create(settings, title=title[:200], category=category, body=body, status="draft",
                           author=author, user=user)
