"""Re-triage on follow-ups: when a later message in a ticket changes the picture
("now nobody can log in"), the ticket is escalated to Critical, with the reason in
its evidence, new due times and a page (`support.sla.priority_changed`).

Only escalation to Critical is automatic: a follow-up never lowers a priority, and
anything short of Critical stays the agent's call.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import Inbound
from storage.models.tickets import Ticket, TicketEvent
from support.intake.suggest import suggest_for
from support.oncall import sla
from triage.types import Suggestion
from trkv.settings import Settings

log = logging.getLogger(__name__)


def escalate_on_follow_ups(session: Session, follow_ups: Sequence[tuple[int, Inbound]], settings: Settings,
                           now: datetime, suggestions: Mapping[tuple[str, str], Suggestion] | None = None) -> list[int]:
    """`follow_ups`: (ticket id, message) for messages that joined an existing ticket;
    `suggestions`: what ingest computed for them before its transaction (by channel and
    external id), so that the model runs here only for what is missing.
    Returns the ids of the tickets escalated to Critical."""
    if not follow_ups:
        return []
    known = dict(suggestions or {})
    missing = [m for _, m in follow_ups if (m.channel, m.external_id) not in known]
    if missing:
        known.update(suggest_for(missing))
    critical = [(t, m) for t, m in follow_ups if known[(m.channel, m.external_id)].priority == "critical"]
    if not critical:  # the usual case: no read of the tickets at all (a live follow-up's round trip fewer)
        return []
    ids = sorted({ticket_id for ticket_id, _ in critical})
    open_ids = set(session.execute(
        select(Ticket.id).where(Ticket.id.in_(ids), Ticket.priority != "critical", Ticket.status != "closed")
    ).scalars())
    escalated: list[int] = []
    for ticket_id, message in critical:
        suggestion = known[(message.channel, message.external_id)]
        if ticket_id not in open_ids or ticket_id in escalated:
            continue
        ticket = session.get(Ticket, ticket_id)
        old = ticket.priority
        evidence = dict(ticket.suggestion_evidence or {})
        evidence["follow_up"] = suggestion.evidence.get("critical", [])
        ticket.priority = ticket.suggested_priority = "critical"
        ticket.suggestion_evidence = evidence
        ticket.model_version = suggestion.model_version
        ticket.updated_at = now
        # Not kind="triage": those events are the team's corrections, the training data.
        session.add(TicketEvent(ticket_id=ticket_id, kind="triage_followup", field="priority", suggested="critical",
                                old_value=old, new_value="critical", model_version=suggestion.model_version,
                                detail={"reasons": evidence["follow_up"]}, created_at=now))
        sla.priority_changed(session, ticket, old, settings=settings, now=now)
        log.info("TRKV-%s escalated to critical by a follow-up: %s", ticket_id, "; ".join(evidence["follow_up"]))
        escalated.append(ticket_id)
    return escalated
