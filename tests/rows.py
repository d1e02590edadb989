"""Reading rows back in tests: how many, and one ticket."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.db import session_factory
from storage.models.tickets import Ticket


def count(settings, model, *where) -> int:
    with session_factory(settings.db_url)() as session:
        return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def ticket(settings, ticket_id: int) -> Ticket:
    """The ticket as stored now (detached: its attributes stay readable)."""
    with session_factory(settings.db_url)() as session:
        row = session.get(Ticket, ticket_id)
        session.expunge(row)
        return row
