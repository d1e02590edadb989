"""The dashboard's daily rollup of tickets (storage/day_stats.py keeps it).

`ticket_day_stats` holds, per day of creation, channel, category and priority, the sums
the dashboard's KPIs are made of (and `ticket_day_done` the done tickets per day of
creation and of resolution), each one a fact of the tickets alone (never of the
clock), so a row stays true until one of its tickets changes. `ticket_day_dirty` is the
log of days whose tickets changed since their rows were computed: database triggers
append to it on every insert, relevant update and delete of a ticket, whatever code
wrote it, and the fold (a beat task) recomputes those days and removes their entries.
The dashboard reads a clean day's rows and counts a dirty day from the tickets.
"""


from datetime import date

from sqlalchemy import Date, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId


class TicketDayStats(Base):
    __tablename__ = "ticket_day_stats"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    priority: Mapped[str] = mapped_column(String(16), primary_key=True)
    tickets: Mapped[int] = mapped_column(Integer)
    first_response_seconds: Mapped[float] = mapped_column(Float)  # sum over the responded ones
    responded: Mapped[int] = mapped_column(Integer)
    resolution_seconds: Mapped[float] = mapped_column(Float)  # sum over the done ones
    done: Mapped[int] = mapped_column(Integer)  # resolved_at or closed_at set
    first_response_met: Mapped[int] = mapped_column(Integer)
    first_response_waiting: Mapped[int] = mapped_column(Integer)  # not responded, with a due time
    resolution_met: Mapped[int] = mapped_column(Integer)
    resolution_waiting: Mapped[int] = mapped_column(Integer)  # not done, with a due time
    resolution_due_set: Mapped[int] = mapped_column(Integer)  # with a resolution due time
    resolution_due_set_closed: Mapped[int] = mapped_column(Integer)  # ... and status resolved or closed


class TicketDayDone(Base):
    """Per day of creation and day of resolution, the tickets resolved or closed: "done
    at least a week ago" is then a sum over whole days plus one day's tickets counted."""

    __tablename__ = "ticket_day_done"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    done_day: Mapped[date] = mapped_column(Date, primary_key=True)
    closed: Mapped[int] = mapped_column(Integer)  # status resolved or closed, with a done time


class TicketDayDirty(Base):
    """Append-only (the triggers never update a row, so two writers never wait on each
    other); the fold deletes the entries it has read, by id."""

    __tablename__ = "ticket_day_dirty"
    __table_args__ = (Index("ix_ticket_day_dirty_day", "day"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
