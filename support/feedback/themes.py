"""Feature requests grouped into themes and ranked by distinct requesters × growth (the
seed's "priority assessment"), and the lead's decision on each theme: planned, declined
or shipped, with the release that closes it (the seed's "action planning").

A theme is named by its top three terms; the name is also the key the decision is kept
under, so a theme that keeps its words keeps its decision from week to week.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.db import transaction
from storage.models.base import utcnow
from storage.models.contacts import Contact
from storage.models.feedback import ThemeAction
from storage.models.tickets import Ticket
from trkv.settings import Settings

STATUSES = ("planned", "declined", "shipped")
SAMPLE = 6000
MAX_THEMES = 10
SEED = 17


class ThemeError(ValueError):
    """Not a theme status, or a theme name that cannot be one."""


def feature_requests(session: Session, first: datetime, start: datetime, end: datetime) -> list[dict]:
    rows = session.execute(
        select(Ticket.id, Ticket.subject, Ticket.snippet, Ticket.created_at,
               func.coalesce(Contact.merged_into_id, Ticket.contact_id))
        .outerjoin(Contact, Contact.id == Ticket.contact_id)
        .where(Ticket.category == "feature_request", Ticket.created_at >= first, Ticket.created_at < end)
        .order_by(Ticket.created_at.desc()).limit(SAMPLE)
    ).all()
    if len(rows) < 2:
        return []
    labels, names = _cluster([f"{r.subject or ''} {r.snippet or ''}" for r in rows])
    decided = {a.theme: a for a in session.execute(select(ThemeAction)).scalars()}
    prior_weeks = max(1, round((start - first).days / 7))
    themes = []
    for name in sorted(set(names.values())):  # clusters named alike are one theme
        members = [r for r, lab in zip(rows, labels, strict=True) if names[lab] == name]
        this_week = [r for r in members if r.created_at >= start]
        prior_avg = (len(members) - len(this_week)) / prior_weeks
        growth = (len(this_week) + 1) / (prior_avg + 1)
        requesters = len({r[4] for r in members if r[4] is not None}) or len(members)
        action = decided.get(name)
        themes.append({
            "theme": name, "requests": len(members), "this_week": len(this_week), "prior_avg": round(prior_avg, 2),
            "requesters": requesters, "growth": round(growth, 2), "score": round(requesters * growth, 2),
            "status": action.status if action else None, "release": action.release if action else None,
            "refs": [f"TRKV-{r.id}" for r in members[:20]],
        })
    return sorted(themes, key=lambda t: (-t["score"], t["theme"]))


def _cluster(texts: list[str]) -> tuple[list[int], dict[int, str]]:
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(stop_words="english", max_features=5000, sublinear_tf=True,
                                 token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9]{2,}\b")
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:
        return [0] * len(texts), {0: "feature requests"}
    k = max(1, min(MAX_THEMES, int(math.sqrt(len(texts) / 2)) + 1, matrix.shape[0]))
    model = KMeans(n_clusters=k, n_init=4, random_state=SEED).fit(matrix)
    terms = np.array(vectorizer.get_feature_names_out())
    names = {c: " · ".join(str(t) for t in terms[np.argsort(model.cluster_centers_[c])[::-1][:3]]) for c in range(k)}
    return [int(x) for x in model.labels_], names


def actions(session: Session) -> list[dict]:
    rows = session.execute(select(ThemeAction).order_by(ThemeAction.updated_at.desc()).limit(200)).scalars()
    return [{"theme": a.theme, "status": a.status, "release": a.release, "updated_at": a.updated_at.isoformat()}
            for a in rows]


def mark(theme: str, status: str, *, release: str | None = None, user_id: int | None, settings: Settings) -> None:
    """The lead's decision on a theme (a second decision replaces the first)."""
    theme = (theme or "").strip()
    if not theme or len(theme) > 200:
        raise ThemeError("a theme name of 1 to 200 characters is needed")
    if status not in STATUSES:
        raise ThemeError(f"the status must be one of: {', '.join(STATUSES)}")
    release = (release or "").strip()[:200] or None
    with transaction(settings.db_url) as session:
        action = session.get(ThemeAction, theme)
        if action is None:
            action = ThemeAction(theme=theme, status=status)
            session.add(action)
        action.status, action.release, action.user_id, action.updated_at = status, release, user_id, utcnow()
