"""Generated ticket history: weeks of resolved tickets with agent replies and survey
answers, for the demo (a few weeks, so the dashboard and the weekly review have data),
the weekly review's tests (a topic planted in the last week) and its benchmark (a million
tickets on PostgreSQL). Rows are inserted directly, in chunks: the point is the history,
not the intake path, which has its own tests and benchmarks.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from storage.models.feedback import Survey
from storage.models.tickets import Message, Ticket

# (category, priority, subjects): the steady topics of an ordinary week
TOPICS = [
    ("bug_report", "high", ["Export to CSV fails with a timeout", "CSV export times out on large projects",
                            "Export button spins forever then times out"]),
    ("support_question", "medium", ["How do I reset my password", "Password reset email never arrives",
                                    "Cannot reset password from the login page"]),
    ("bug_report", "critical", ["Login page returns error 500", "Error 500 after login on Safari",
                                "Login fails with server error 500"]),
    ("documentation", "low", ["Webhook signature docs have a typo", "Webhook docs example signature wrong",
                              "Typo in the webhook signature guide"]),
    ("support_question", "medium", ["Billing invoice shows the wrong currency", "Invoice currency is wrong",
                                    "Change billing currency on invoices"]),
]
FEATURES = [["Please add dark mode to the mobile app", "Dark mode for the mobile app please",
             "Mobile app needs a dark mode"],
            ["Add a filter by assignee to the ticket list", "Filter tickets by assignee",
             "Ticket list filter for assignee"]]
CHANNELS = ("email", "discord", "x")
REASONS = ("slow", "not_solved", "unclear", None)
REPLIES = ("Thanks for the report: this is fixed in the latest release.",
           "Here is how to do it: Settings → Account → Reset. Let us know if it works!",
           "We have shipped a fix; please update and tell us if it still happens.")


def _ticket(rng: random.Random, created: datetime, channel: str, category: str, priority: str, subject: str,
            contact_id: int | None) -> dict:
    resolved = created + timedelta(hours=rng.uniform(1, 30))
    return {"channel": channel, "subject": subject, "snippet": subject, "status": "resolved", "priority": priority,
            "category": category, "contact_id": contact_id, "created_at": created, "updated_at": resolved,
            "last_message_at": created, "first_response_due_at": created + timedelta(hours=2),
            "resolution_due_at": created + timedelta(hours=24),
            "first_responded_at": created + timedelta(hours=rng.uniform(0.1, 3)), "resolved_at": resolved,
            "needs_triage": False, "sla_paused_seconds": 0.0}


def generate(session: Session, *, end: datetime, weeks: int, per_week: int, seed: int = 17,
             planted: str | None = None, planted_count: int = 0, survey_share: float = 0.3,
             messages: bool = True, chunk: int = 5000) -> int:
    """`weeks` weeks of about `per_week` tickets each, ending at `end`; `planted`: a
    subject repeated `planted_count` times in the last week only. Returns tickets made."""
    rng = random.Random(seed)
    start = end - timedelta(weeks=weeks)
    span = (end - start).total_seconds()
    rows = []
    for _ in range(weeks * per_week):
        created = start + timedelta(seconds=rng.uniform(0, span - 3600))
        if rng.random() < 0.15:
            category, priority, subject = "feature_request", "low", rng.choice(rng.choice(FEATURES))
        else:
            category, priority, subjects = rng.choice(TOPICS)
            subject = rng.choice(subjects)
        rows.append(_ticket(rng, created, rng.choice(CHANNELS), category, priority, subject, None))
    for _ in range(planted_count):
        created = end - timedelta(seconds=rng.uniform(3600, 7 * 86400 - 3600))
        rows.append(_ticket(rng, created, rng.choice(CHANNELS), "bug_report", "high", planted, None))
    made = 0
    for i in range(0, len(rows), chunk):
        part = rows[i:i + chunk]
        ids = list(session.execute(insert(Ticket).returning(Ticket.id), part).scalars()) \
            if session.get_bind().dialect.name == "postgresql" else _insert_sqlite(session, part)
        _children(session, rng, list(zip(ids, part, strict=True)), survey_share, messages)
        made += len(part)
    return made


def _insert_sqlite(session: Session, rows: list[dict]) -> list[int]:
    ids = []
    for row in rows:
        ids.append(session.execute(insert(Ticket).values(**row)).inserted_primary_key[0])
    return ids


def _children(session: Session, rng: random.Random, tickets: list[tuple[int, dict]], survey_share: float,
              messages: bool) -> None:
    if messages:  # the customer's message and the agent's reply
        session.execute(insert(Message), [
            {"ticket_id": tid, "direction": "in", "channel": t["channel"], "external_id": f"hist-{tid}",
             "author": "customer", "text": t["subject"], "received_at": t["created_at"],
             "sentiment": round(rng.uniform(-0.6, 0.6), 3)} for tid, t in tickets])
        session.execute(insert(Message), [
            {"ticket_id": tid, "direction": "out", "channel": t["channel"], "external_id": f"hist-reply-{tid}",
             "author": "TRKV Support", "text": rng.choice(REPLIES), "received_at": t["first_responded_at"]}
            for tid, t in tickets])
    surveys = []
    for tid, t in tickets:
        if rng.random() >= survey_share:
            continue
        sent = t["resolved_at"] + timedelta(hours=1)
        score = rng.choices((1, 2, 3, 4, 5), weights=(4, 4, 8, 30, 54))[0] if rng.random() < 0.45 else None
        surveys.append({"ticket_id": tid, "channel": t["channel"], "sent_at": sent, "expires_at": sent + timedelta(days=14),
                        "score": score, "reason": rng.choice(REASONS) if score and score <= 3 else None,
                        "answered_at": sent + timedelta(hours=2) if score else None, "answered_via": "web" if score else None,
                        "follow_up": bool(score and score <= 2)})
    if surveys:
        session.execute(insert(Survey), surveys)


def has_history(session: Session) -> bool:
    return session.execute(select(Message.id).where(Message.external_id.like("hist-%")).limit(1)).first() is not None
