"""Incidents, their timelines and linked tickets, and the status page's subscribers.

An incident is proposed by detection (nothing published) or declared by a person;
every status update, linked ticket, page, note and change is one timeline event with
who made it and when. A ticket belongs to at most one incident.
"""


from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, utcnow

SEVERITIES = ("critical", "major", "minor")
INCIDENT_STATUSES = ("proposed", "investigating", "identified", "monitoring", "resolved", "dismissed")
OPEN_STATUSES = ("investigating", "identified", "monitoring")


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_status_updated", "status", "updated_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    severity: Mapped[str] = mapped_column(String(16))  # critical | major | minor
    status: Mapped[str] = mapped_column(String(16))  # see INCIDENT_STATUSES
    components: Mapped[list[Any]]  # names from the configured list
    commander: Mapped[str | None] = mapped_column(String(320))
    detected: Mapped[bool] = mapped_column(default=False)  # proposed by detection, not declared by a person
    alert_id: Mapped[int | None] = mapped_column(BigId)  # the on-call alert that asked to confirm or dismiss
    first_report_at: Mapped[datetime | None]  # the earliest linked customer message
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    declared_at: Mapped[datetime | None]  # confirmed or declared: when "we knew"
    resolved_at: Mapped[datetime | None]
    next_update_at: Mapped[datetime | None] = mapped_column(index=True)  # the promise of the last update
    reminded_at: Mapped[datetime | None]  # the sweep reminded the commander of an overdue update
    report: Mapped[dict[str, Any]]  # root_cause, resolution, prevention (Markdown), published
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class IncidentEvent(Base):
    """One timeline entry: kind update | link | page | note | change."""

    __tablename__ = "incident_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    who: Mapped[str] = mapped_column(String(320))
    status: Mapped[str | None] = mapped_column(String(16))  # updates: the status they announce
    message: Mapped[str | None] = mapped_column(Text)
    next_update_at: Mapped[datetime | None]
    published: Mapped[bool] = mapped_column(default=False)  # updates: fanned out to every channel
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IncidentTicket(Base):
    """A ticket linked to an incident (by detection or by hand); at most one incident per ticket."""

    __tablename__ = "incident_tickets"
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    contact_id: Mapped[int | None] = mapped_column(BigId)
    text: Mapped[str] = mapped_column(Text)  # the first message: the proposal's centroid is built from these
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)


class StatusSubscriber(Base):
    """An email (double opt-in) or webhook subscriber of the status page."""

    __tablename__ = "status_subscribers"
    __table_args__ = (Index("ix_status_subscribers_ip_created", "ip", "created_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # email | webhook
    address: Mapped[str] = mapped_column(String(500), unique=True)  # lowercased email, or the webhook URL
    components: Mapped[list[Any]]  # empty: every component
    ip: Mapped[str | None] = mapped_column(String(64))
    requests: Mapped[int] = mapped_column(Integer, default=1)  # subscribe requests for this address
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


MAINTENANCE_STATUSES = ("scheduled", "in_progress", "completed", "cancelled")


class MaintenanceWindow(Base):
    """Scheduled maintenance: announced when scheduled, reminded before, started and
    completed on time by the beat (support/incidents/maintenance.py). Each phase's time
    column is set by the conditional UPDATE that claims it, so a phase runs once."""

    __tablename__ = "maintenance_windows"
    __table_args__ = (Index("ix_maintenance_windows_status_starts", "status", "starts_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    components: Mapped[list[Any]]  # names from the configured list; empty: every component
    status: Mapped[str] = mapped_column(String(16))  # see MAINTENANCE_STATUSES
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(320))
    announced_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
