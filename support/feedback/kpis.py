"""Satisfaction figures: the share of 4s and 5s among all answers, the response rate
(answers / surveys sent), per channel, category, agent, incident and week, each against its
channel's target; accurate solutions (resolved and not reopened within 7 days); and
the conversations behind any figure (the drill-down).

One grouped query per figure set (by channel, category, assignee, incident and day), added
up here: a few thousand groups at most, whatever the number of answers. An incident's
figure counts the surveys of the tickets linked to it (`for_incidents`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Date, case, cast, func, select
from sqlalchemy.orm import Session, aliased

from storage.models.accounts import User
from storage.models.feedback import Survey
from storage.models.incidents import Incident, IncidentTicket
from storage.models.tickets import Ticket, TicketEvent
from trkv.settings import Settings

DIMENSIONS = ("channel", "category", "agent", "incident", "week")
DONE = ("resolved", "closed")
ACTIVE = ("new", "open", "pending")
REOPEN_WINDOW = timedelta(days=7)
TARGET = 90.0  # the seed's "satisfaction > 90 %"


@dataclass
class Figure:
    surveys: int = 0
    answers: int = 0
    satisfied: int = 0  # 4s and 5s
    low: int = 0  # 1s to 3s
    target: float | None = None

    @property
    def value(self) -> float | None:
        return None if not self.answers else round(100.0 * self.satisfied / self.answers, 1)

    @property
    def response_rate(self) -> float | None:
        return None if not self.surveys else round(100.0 * self.answers / self.surveys, 1)

    def add(self, surveys: int, answers: int, satisfied: int, low: int) -> None:
        self.surveys += surveys
        self.answers += answers
        self.satisfied += satisfied
        self.low += low

    def as_dict(self) -> dict:
        return {"value": self.value, "answers": self.answers, "surveys": self.surveys, "satisfied": self.satisfied,
                "low": self.low, "response_rate": self.response_rate, "target": self.target}


@dataclass
class Satisfaction:
    total: Figure
    by: dict[str, dict[str, Figure]] = field(default_factory=dict)  # dimension -> value -> figure
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # dimension -> value -> shown name


def targets(settings: Settings) -> dict[str, float]:
    """`csat_targets` ("discord:90,email:85"): X and email run lower than chat everywhere."""
    found: dict[str, float] = {}
    for part in settings.csat_targets.split(","):
        name, _, value = part.partition(":")
        try:
            found[name.strip()] = float(value)
        except ValueError:
            continue
    return found


def iso_week(day: date | datetime | str) -> str:
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _day(column, dialect: str):
    return cast(column, Date) if dialect == "postgresql" else func.date(column)


def satisfaction(session: Session, since: datetime, until: datetime, settings: Settings) -> Satisfaction:
    """Surveys sent in [since, until) and their answers, in total and per dimension."""
    dialect = session.get_bind().dialect.name
    answered = Survey.score.is_not(None)
    day = _day(Survey.sent_at, dialect).label("day")
    rows = session.execute(
        select(day, Survey.channel, Ticket.category, Ticket.assignee_id, IncidentTicket.incident_id, func.count(),
               func.count(case((answered, 1))), func.count(case((Survey.score >= 4, 1))),
               func.count(case((Survey.score <= 3, 1))))
        .join(Ticket, Ticket.id == Survey.ticket_id)
        .outerjoin(IncidentTicket, IncidentTicket.ticket_id == Survey.ticket_id)
        .where(Survey.sent_at >= since, Survey.sent_at < until)
        .group_by(day, Survey.channel, Ticket.category, Ticket.assignee_id, IncidentTicket.incident_id)
    ).all()
    agents = _agent_names(session, {r[3] for r in rows if r[3] is not None})
    goal = targets(settings)
    result = Satisfaction(Figure(target=TARGET), {d: {} for d in DIMENSIONS})
    result.labels["incident"] = _incident_names(session, {r[4] for r in rows if r[4] is not None})
    for day_, channel, category, assignee, incident, *counts in rows:
        result.total.add(*counts)
        keys = {"channel": channel, "category": category, "agent": agents.get(assignee, "unassigned"),
                "incident": str(incident) if incident is not None else None,
                "week": iso_week(day_ if not isinstance(day_, str) else day_)}
        for dimension, key in keys.items():
            if key is None:  # a ticket linked to no incident is in no incident's figure
                continue
            figure = result.by[dimension].setdefault(key, Figure(target=goal.get(key) if dimension == "channel"
                                                                 else None))
            figure.add(*counts)
    return result


def _agent_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.email).where(User.id.in_(ids))).all())


def _incident_names(session: Session, ids: set[int]) -> dict[str, str]:
    if not ids:
        return {}
    return {str(i): f"#{i} {title}" for i, title in
            session.execute(select(Incident.id, Incident.title).where(Incident.id.in_(ids))).all()}


def for_incidents(session: Session, incident_ids: list[int] | set[int]) -> dict[int, Figure]:
    """Each incident's satisfaction: the surveys (whenever sent) of the tickets linked to it,
    in one grouped query. An incident whose tickets got no survey is not in the result."""
    ids = sorted({int(i) for i in incident_ids})
    if not ids:
        return {}
    rows = session.execute(
        select(IncidentTicket.incident_id, func.count(), func.count(Survey.score),
               func.count(case((Survey.score >= 4, 1))), func.count(case((Survey.score <= 3, 1))))
        .join(Survey, Survey.ticket_id == IncidentTicket.ticket_id)
        .where(IncidentTicket.incident_id.in_(ids)).group_by(IncidentTicket.incident_id)
    ).all()
    found: dict[int, Figure] = {}
    for incident_id, *counts in rows:
        found.setdefault(int(incident_id), Figure(target=TARGET)).add(*counts)
    return found


def kpi(session: Session, since: datetime) -> tuple[float, int] | None:
    """The dashboard's satisfaction KPI: (% of 4-5 among answers given since `since`, answers)."""
    answers, satisfied = session.execute(
        select(func.count(), func.count(case((Survey.score >= 4, 1))))
        .where(Survey.answered_at >= since, Survey.score.is_not(None))
    ).one()
    return None if not answers else (round(100.0 * satisfied / answers, 1), int(answers))


def accurate_solutions(session: Session, since: datetime, now: datetime,
                       done: int | None = None) -> tuple[float | None, int]:
    """Of the tickets created since `since` and resolved at least 7 days ago, the share not
    reopened (a status change from resolved/closed back to active, or a follow-up ticket
    within 7 days of the resolution). `done`: the window's tickets done a week ago, when
    the caller counted them already (the dashboard, in its one pass); the merged ones and
    the reopened ones are found from the few merge and reopen events and follow-ups."""
    done_at = func.coalesce(Ticket.resolved_at, Ticket.closed_at)
    merged_ids = select(TicketEvent.ticket_id).where(TicketEvent.kind == "merge", TicketEvent.created_at >= since)
    in_base = (Ticket.created_at >= since, Ticket.status.in_(DONE), done_at <= now - REOPEN_WINDOW,
               ~(Ticket.parent_id.is_not(None) & Ticket.id.in_(merged_ids)))
    if done is None:
        base = session.execute(select(func.count()).where(*in_base)).scalar_one()
    else:
        merged = session.execute(select(func.count()).where(
            Ticket.id.in_(merged_ids), Ticket.parent_id.is_not(None), Ticket.created_at >= since,
            Ticket.status.in_(DONE), done_at <= now - REOPEN_WINDOW)).scalar_one()
        base = done - merged
    if not base:
        return None, 0
    reopened = set(session.execute(
        select(TicketEvent.ticket_id).join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.kind == "status", TicketEvent.created_at >= since, TicketEvent.old_value.in_(DONE),
               TicketEvent.new_value.in_(ACTIVE), *in_base)
    ).scalars())
    child = aliased(Ticket)
    follow_ups = session.execute(
        select(Ticket.id, done_at, child.created_at).join(child, child.parent_id == Ticket.id)
        # `parent_id IS NOT NULL` said outright: the planner then reads the few children
        # from ix_tickets_parent instead of hashing the whole window (250 ms at 1 M tickets)
        .where(child.parent_id.is_not(None), child.created_at >= since, child.id.not_in(merged_ids),
               *in_base)  # a merged one is no follow-up
    ).all()
    reopened |= {tid for tid, done, created in follow_ups if done <= created <= done + REOPEN_WINDOW}
    return round(100.0 * (base - len(reopened)) / base, 1), int(base)


def conversations(session: Session, since: datetime, until: datetime, *, dimension: str | None = None,
                  value: str | None = None, scores: tuple[int, ...] = (1, 2, 3, 4, 5), limit: int = 200) -> list[dict]:
    """The answered surveys behind a figure: newest first, with the ticket's ref and subject."""
    query = (select(Survey, Ticket.subject, Ticket.category, Ticket.assignee_id)
             .join(Ticket, Ticket.id == Survey.ticket_id)
             .where(Survey.sent_at >= since, Survey.sent_at < until, Survey.score.in_(scores)))
    if dimension == "channel" and value:
        query = query.where(Survey.channel == value)
    elif dimension == "category" and value:
        query = query.where(Ticket.category == value)
    elif dimension == "incident" and value:
        linked = select(IncidentTicket.ticket_id).where(
            IncidentTicket.incident_id == (int(value) if value.isdigit() and len(value) < 18 else -1))
        query = query.where(Survey.ticket_id.in_(linked))
    elif dimension == "agent" and value:
        ids = select(User.id).where(User.email == value)
        query = query.where(Ticket.assignee_id.is_(None) if value == "unassigned" else Ticket.assignee_id.in_(ids))
    rows = session.execute(query.order_by(Survey.answered_at.desc(), Survey.id.desc()).limit(limit * 2)).all()
    out = []
    for survey, subject, category, _assignee in rows:
        if dimension == "week" and value and iso_week(survey.sent_at) != value:
            continue
        out.append({"ref": f"TRKV-{survey.ticket_id}", "subject": subject, "channel": survey.channel,
                    "category": category, "score": survey.score, "reason": survey.reason,
                    "comment": survey.comment, "answered_at": survey.answered_at, "follow_up": survey.follow_up})
    return out[:limit]

