"""Saved inbox views: a user's named set of filters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from storage.db import session_factory, transaction
from storage.models.tickets import SavedView
from trkv.settings import Settings, get_settings

MAX_NAME = 100


class ViewError(ValueError):
    pass


def save_view(user_id: int, name: str, filters: dict[str, list[str]], settings: Settings | None = None) -> int:
    """Create or replace the user's view of that name; returns its id. The filters are kept in
    their query-string form, so "assignee=me" means whoever opens the view."""
    settings = settings or get_settings()
    name = " ".join(name.split())[:MAX_NAME]
    if not name:
        raise ViewError("a view needs a name")
    with transaction(settings.db_url) as session:
        view = session.execute(
            select(SavedView).where(SavedView.user_id == user_id, SavedView.name == name)
        ).scalar_one_or_none()
        if view is None:
            view = SavedView(user_id=user_id, name=name, filters=filters)
            session.add(view)
        else:
            view.filters = filters
        session.flush()
        return view.id


def list_views(user_id: int, settings: Settings | None = None) -> list[dict[str, Any]]:
    settings = settings or get_settings()
    with session_factory(settings.db_url, readonly=True)() as session:
        views = session.execute(
            select(SavedView).where(SavedView.user_id == user_id).order_by(SavedView.name)
        ).scalars().all()
        return [{"id": v.id, "name": v.name, "filters": v.filters} for v in views]


def get_view(user_id: int, view_id: int, settings: Settings | None = None) -> dict[str, Any] | None:
    settings = settings or get_settings()
    with session_factory(settings.db_url, readonly=True)() as session:
        view = session.get(SavedView, view_id)
        if view is None or view.user_id != user_id:  # another user's view is not yours to open
            return None
        return {"id": view.id, "name": view.name, "filters": view.filters}


def delete_view(user_id: int, view_id: int, settings: Settings | None = None) -> bool:
    settings = settings or get_settings()
    with transaction(settings.db_url) as session:
        result = session.execute(delete(SavedView).where(SavedView.id == view_id, SavedView.user_id == user_id))
        return result.rowcount > 0
