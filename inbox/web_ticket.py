"""A ticket's page and what an agent does there: confirm or change the triage, assign,
change the status, add notes, reply, merge tickets and contacts, block a contact."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Form, Request, Response
from sqlalchemy import select

from inbox import canned, conversation, html_mail, live
from inbox.pages import CHANNEL_LIMITS, CSRF, Agent, Engineer, render
from inbox.web import _agents, _back
from storage.db import session_factory
from storage.models.accounts import User
from storage.models.contacts import Identity
from support.delivery.acks import x_length
from support.kb import responses
from support.oncall import paging
from support.tickets import actions as ticket_actions
from support.tickets.queries import get_ticket
from support.tickets.replies import ReplyError, reply

router = APIRouter(include_in_schema=False)

# With remote images allowed, the page's policy must let <img> load them (nothing else).
IMAGES_CSP = ("default-src 'self'; script-src 'self'; img-src 'self' https: http:; object-src 'none'; "
              "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def _page(ref: str) -> str:
    return f"/tickets/{ref}"


@router.get("/tickets/{ref}")
def ticket_page(ref: str, request: Request, user: User = Agent) -> Response:
    settings = request.app.state.settings
    ticket = get_ticket(ref, settings, with_details=True)
    if ticket is None:
        return render(request, "not_found.html", {"user": user, "ref": ref[:40]}, status_code=404)
    remote_images = request.query_params.get("images") == "1"
    held_back = 0
    for message in ticket["messages"]:
        message["safe_html"] = None
        if message.get("html"):
            message["safe_html"], count = html_mail.clean(message["html"], remote_images=remote_images)
            held_back += count
    conversation.prepare(ticket["messages"], _mention_names(conversation.mention_ids(ticket["messages"]), settings))
    reply_channel = _reply_channel(ticket)
    context: dict[str, Any] = {
        "user": user, "ticket": ticket, "turns": conversation.turns(ticket["messages"]), "agents": _agents(settings), "held_back": held_back,
        "remote_images": remote_images, "reply_key": uuid.uuid4().hex, "reply_channel": reply_channel,
        "alert": paging.alert_of_ticket(ticket["ref"], settings),
        "limit": reply_limit(ticket, reply_channel), "poll_seconds": live.poll_seconds(settings),
        "canned": canned.choices(settings, ticket, reply_channel, user.name or user.email),
    }
    headers = {"Content-Security-Policy": IMAGES_CSP} if remote_images else None
    return render(request, "ticket.html", context, headers=headers)


def _mention_names(ids: set[str], settings) -> dict[str, str]:
    """Names for Discord mentions the connector could not name, from our contacts: one query."""
    if not ids:
        return {}
    with session_factory(settings.db_url, readonly=True)() as session:
        rows = session.execute(
            select(Identity.external_user_id, Identity.display_name, Identity.handle)
            .where(Identity.channel == "discord", Identity.external_user_id.in_(sorted(ids)[:100]))
        ).all()
    return {uid: display or handle for uid, display, handle in rows if display or handle}


def _reply_channel(ticket: dict[str, Any]) -> str:
    return next((m["channel"] for m in reversed(ticket["messages"]) if m["direction"] == "in"), ticket["channel"])


def reply_limit(ticket: dict[str, Any], channel: str) -> int | None:
    """Characters the agent may type: on X the sender puts "@handle " in front of a reply."""
    limit = CHANNEL_LIMITS.get(channel)
    if channel == "x" and limit is not None:
        handles = [i["handle"].lstrip("@") for i in ticket.get("identities", []) if i["channel"] == "x" and i["handle"]]
        if handles:
            limit -= len(handles[0]) + 2
    return limit


def _length(text: str, channel: str) -> int:
    """The length the platform counts (X: links 23, CJK and emoji 2)."""
    return x_length(text) if channel == "x" else len(text)


def _act(ref: str, action, *args, **kwargs) -> Response:
    try:
        message = action(*args, **kwargs)
    except (ticket_actions.ActionError, ReplyError) as exc:
        return _back(_page(ref), str(exc))
    return _back(_page(ref), message if isinstance(message, str) else "Saved.")


@router.post("/tickets/{ref}/triage")
def triage(ref: str, request: Request, user: User = Agent, _: None = CSRF, action: str = Form("set"),
           field: str = Form(""), value: str = Form("")) -> Response:
    settings = request.app.state.settings
    if action == "accept":
        fields = ("priority", "category") if field not in ("priority", "category") else (field,)
        return _act(ref, ticket_actions.accept_suggestion, ref, user_id=user.id, fields=fields, settings=settings)
    return _act(ref, ticket_actions.set_triage, ref, field, value, user_id=user.id, settings=settings)


@router.post("/tickets/{ref}/alert/ack")
def acknowledge_alert(ref: str, request: Request, user: User = Agent, _: None = CSRF) -> Response:
    """Acknowledge the on-call alert this ticket paged: paging stops, and it says who."""
    alert = paging.alert_of_ticket(ref, request.app.state.settings)
    if alert is None:
        return _back(_page(ref), "This ticket paged no one.")
    result = paging.acknowledge(alert["id"], user.email, "web", request.app.state.settings)
    if result.outcome == "acknowledged":
        return _back(_page(ref), f"Alert {alert['id']} acknowledged: paging stopped.")
    return _back(_page(ref), f"Alert {alert['id']} was already acknowledged by {alert['acknowledged_by'] or 'someone'}.")


@router.post("/tickets/{ref}/assign")
def assign(ref: str, request: Request, user: User = Agent, _: None = CSRF, assignee: str = Form("")) -> Response:
    if assignee == "me":
        assignee_id = user.id
    elif assignee.isdigit() and len(assignee) < 10:
        assignee_id = int(assignee)
    else:
        assignee_id = None
    return _act(ref, ticket_actions.assign, ref, assignee_id, user_id=user.id, settings=request.app.state.settings)


@router.post("/tickets/{ref}/status")
def status(ref: str, request: Request, user: User = Agent, _: None = CSRF, status: str = Form("")) -> Response:
    return _act(ref, ticket_actions.set_status, ref, status, user_id=user.id, settings=request.app.state.settings)


@router.post("/tickets/{ref}/notes")
def note(ref: str, request: Request, user: User = Agent, _: None = CSRF, text: str = Form("")) -> Response:
    return _act(ref, ticket_actions.add_note, ref, text, user_id=user.id, settings=request.app.state.settings)


@router.post("/tickets/{ref}/reply")
def send_reply(ref: str, request: Request, user: User = Agent, _: None = CSRF, text: str = Form(""),
               channel: str = Form(""), reply_key: str = Form(""), then: str = Form(""),
               template: str = Form("")) -> Response:
    settings = request.app.state.settings
    text = text.strip()
    ticket = get_ticket(ref, settings, with_details=True)
    if ticket is not None:
        channel = _reply_channel(ticket)  # the form's field is only a hint: the ticket decides
        limit = reply_limit(ticket, channel)
        if limit is not None and _length(text, channel) > limit:
            # Never cut an agent's words silently: they shorten it themselves.
            return _back(_page(ref), f"The reply has {_length(text, channel)} characters; "
                                     f"{channel} allows {limit} here.")

    def send() -> str:
        reply(ref, text, user_id=user.id, key=reply_key[:64] or None, settings=settings)
        responses.used(settings, template)  # the composer's template select, if one was picked
        if then in ("resolved", "pending"):
            ticket_actions.set_status(ref, then, user_id=user.id, settings=settings)
        return "Reply queued." + (f" Ticket {then}." if then in ("resolved", "pending") else "")

    return _act(ref, send)


@router.post("/tickets/{ref}/merge")
def merge(ref: str, request: Request, user: User = Engineer, _: None = CSRF, into: str = Form("")) -> Response:
    into = into.strip().upper()
    if into.isdigit():
        into = f"TRKV-{into}"
    try:
        target = ticket_actions.merge_tickets(ref, into, user_id=user.id, settings=request.app.state.settings)
    except ticket_actions.ActionError as exc:
        return _back(_page(ref), str(exc))
    return _back(_page(target), f"{ref} merged into {target}.")


@router.post("/contacts/merge")
def merge_contacts(request: Request, user: User = Engineer, _: None = CSRF, source: str = Form(""),
                   target: str = Form(""), back: str = Form("/")) -> Response:
    if not (source.isdigit() and target.isdigit() and len(source) < 19 and len(target) < 19):
        return _back(back, "Give two contact numbers.")
    try:
        ticket_actions.merge_contacts(int(source), int(target), user_id=user.id, settings=request.app.state.settings)
    except ticket_actions.ActionError as exc:
        return _back(back, str(exc))
    return _back(back, f"Contact {source} merged into {target}.")


@router.post("/contacts/{contact_id}/block")
def block(contact_id: int, request: Request, user: User = Engineer, _: None = CSRF, reason: str = Form(""),
          back: str = Form("/")) -> Response:
    try:
        closed = ticket_actions.block_contact(contact_id, reason, user_id=user.id, settings=request.app.state.settings)
    except ticket_actions.ActionError as exc:
        return _back(back, str(exc))
    return _back(back, f"Contact {contact_id} blocked; {closed} open ticket(s) closed.")


@router.post("/contacts/{contact_id}/unblock")
def unblock(contact_id: int, request: Request, user: User = Engineer, _: None = CSRF, back: str = Form("/")) -> Response:
    try:
        ticket_actions.unblock_contact(contact_id, user_id=user.id, settings=request.app.state.settings)
    except ticket_actions.ActionError as exc:
        return _back(back, str(exc))
    return _back(back, f"Contact {contact_id} unblocked.")

