"""Learning from the team: every change an agent makes to a suggestion is a labelled
example. Retraining reads them from the audit trail (TicketEvent kind="triage"),
joins each with its ticket's first inbound message, trains on seed + corrections,
scores the new version on the seed's held-out split and promotes it only when it is
not worse than the model in use. `trkv train` and the weekly beat task call this.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from storage.db import session_factory
from storage.models.tickets import Message, TicketEvent
from triage import store, training
from triage.labels import CATEGORIES, PRIORITIES
from trkv.settings import Settings

log = logging.getLogger(__name__)

_VALID = {"priority": set(PRIORITIES), "category": set(CATEGORIES)}


@dataclass
class RetrainOutcome:
    version: str
    promoted: bool
    reason: str
    corrections: int
    report: dict[str, Any]

    def summary(self) -> str:
        held = self.report["held_out"]
        crit = held["critical"]
        verdict = "promoted" if self.promoted else "not promoted"
        return (f"model {self.version}: {self.corrections} corrections, {self.report['examples']} examples, "
                f"trained in {self.report['train_seconds']} s\n"
                f"held-out: priority macro-F1 {held['priority']['macro_f1']:.3f}, category macro-F1 "
                f"{held['category']['macro_f1']:.3f}, Critical recall {crit['recall']}, precision {crit['precision']}\n"
                f"{verdict}: {self.reason}")


def corrections(settings: Settings) -> list[dict[str, Any]]:
    """One training record per corrected ticket: the latest value an agent gave each label
    (None for a label no agent changed),
    with the text, subject, channel and hints of the ticket's first inbound message."""
    with session_factory(settings.db_url)() as session:
        latest = (
            select(TicketEvent.ticket_id, TicketEvent.field, func.max(TicketEvent.id).label("id"))
            .where(TicketEvent.kind == "triage", TicketEvent.field.in_(("priority", "category")),
                   TicketEvent.user_id.is_not(None))
            .group_by(TicketEvent.ticket_id, TicketEvent.field)
            .subquery()
        )
        events = session.execute(
            select(TicketEvent.ticket_id, TicketEvent.field, TicketEvent.new_value).join(latest, TicketEvent.id == latest.c.id)
        ).all()
        labels: dict[int, dict[str, str]] = {}
        for event in events:
            if event.new_value in _VALID[event.field]:
                labels.setdefault(event.ticket_id, {})[event.field] = event.new_value
        if not labels:
            return []
        first = (
            select(Message.ticket_id, func.min(Message.id).label("id"))
            .where(Message.ticket_id.in_(labels), Message.direction == "in")
            .group_by(Message.ticket_id)
            .subquery()
        )
        rows = session.execute(
            select(Message.ticket_id, Message.text, Message.subject, Message.channel, Message.raw)
            .join(first, Message.id == first.c.id)
        ).all()
    records = []
    for row in rows:
        corrected = labels[row.ticket_id]
        records.append({
            "text": row.text or "",
            "subject": row.subject,
            "channel": row.channel,
            "hints": _hints(row.raw),
            # Only what the agent changed is a label; the other was the model's own guess.
            "priority": corrected.get("priority"),
            "category": corrected.get("category"),
            "source": f"ticket:{row.ticket_id}",
        })
    return records


def _hints(raw: Any) -> dict[str, str]:
    hints = raw.get("hints") if isinstance(raw, dict) else None
    return {str(k): str(v) for k, v in hints.items()} if isinstance(hints, dict) else {}


def retrain(settings: Settings, *, promote: bool = True, use_corrections: bool = True) -> RetrainOutcome:
    folder = settings.triage_models_path
    folder.mkdir(parents=True, exist_ok=True)
    examples = corrections(settings) if use_corrections else []
    version = f"v{datetime.now(UTC):%Y%m%d-%H%M%S}"
    model, report = training.train_with_corrections(examples, version)
    store.save(folder, model, report)
    incumbent_version = store.current_version(folder) or store.seed_version()
    incumbent = store.report_of(folder, incumbent_version)
    if incumbent is None and incumbent_version == store.seed_version():
        incumbent = store.seed_report()
    ok, reason = training.not_worse(report["held_out"], incumbent["held_out"] if incumbent else None)
    promoted = ok and promote
    if promoted:
        store.promote(folder, version)
    log.info("triage retrain: %s with %d corrections; %s (%s)", version, len(examples),
             "promoted" if promoted else "kept " + incumbent_version, reason)
    return RetrainOutcome(version, promoted, reason, len(examples), report)
