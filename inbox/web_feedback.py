"""The feedback loop's pages: the weekly review (/reports/weekly) with the lead's
theme decisions, satisfaction figures and the conversations behind them, the
"needs follow-up" list, and the contact page (one person, one timeline, link/unlink).
The public survey page is inbox/web_csat.py."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Form, HTTPException, Request, Response

from inbox.charts import stacked_bars
from inbox.pages import CSRF, Agent, Lead, render
from inbox.web import _back
from storage.db import session_factory
from storage.models.accounts import User
from storage.models.base import utcnow
from support.feedback import contacts, follow_ups, kpis, review, themes

router = APIRouter(include_in_schema=False)


@router.get("/reports/weekly")
def weekly(request: Request, user: User = Lead) -> Response:
    settings = request.app.state.settings
    week = request.query_params.get("week", "")[:10] or None
    try:
        report = review.weekly(week, settings)
    except review.WeekError as exc:
        raise HTTPException(422, str(exc)) from exc
    return render(request, "feedback/weekly.html", {"user": user, "r": report, "statuses": themes.STATUSES,
                                                    "charts": _charts(report)})


def _charts(report: dict) -> list:
    """Volume per channel and satisfaction per week, oldest week first."""
    weeks = [f"{n} weeks ago" if n else "this week" for n in range(review.PRIOR_WEEKS, -1, -1)]
    by_channel = {row["value"]: {weeks[-1]: row["this_week"], weeks[-2]: row["last_week"]}
                  for row in report["volume"]["by"]["channel"]}
    answers = {"4-5": {}, "1-3": {}}
    for w in report["csat"]["weeks"]:
        label = weeks[review.PRIOR_WEEKS - w["weeks_ago"]]
        good = round((w["satisfaction"] or 0) * w["answers"] / 100)
        answers["4-5"][label], answers["1-3"][label] = good, w["answers"] - good
    return [("Tickets by channel, this week and last", stacked_bars("Tickets by channel", by_channel, weeks[-2:])),
            ("Survey answers per week", stacked_bars("Survey answers per week", answers, weeks))]


@router.post("/reports/weekly/themes")
def mark_theme(request: Request, user: User = Lead, _: None = CSRF, theme: str = Form(""), status: str = Form(""),
               release: str = Form(""), week: str = Form("")) -> Response:
    back = f"/reports/weekly?week={week}" if review._WEEK.match(week or "") else "/reports/weekly"
    try:
        themes.mark(theme, status, release=release, user_id=user.id, settings=request.app.state.settings)
    except themes.ThemeError as exc:
        return _back(back, str(exc))
    return _back(back, f"“{theme[:80]}” marked {status}.")


@router.get("/feedback")
def satisfaction(request: Request, user: User = Lead) -> Response:
    settings = request.app.state.settings
    days = request.query_params.get("days", "")
    days = int(days) if days.isdigit() and 0 < int(days) <= 366 else 30
    since, until = _window(days)
    with session_factory(settings.db_url, readonly=True)() as session:
        result = kpis.satisfaction(session, since, until, settings)
    return render(request, "feedback/satisfaction.html", {"user": user, "s": result, "days": days})


def _window(days: int):
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days - 1), today + timedelta(days=2)


@router.get("/feedback/conversations")
def conversations(request: Request, user: User = Lead) -> Response:
    """The conversations behind a figure: `dimension`/`value`, or a review `week`; `low=1`: scores 1-3."""
    settings, q = request.app.state.settings, request.query_params
    dimension = q.get("dimension") if q.get("dimension") in kpis.DIMENSIONS else None
    value = q.get("value", "")[:320] or None
    low = q.get("low") == "1"
    if q.get("week"):
        try:
            label, since, until = review.parse_week(q.get("week"), settings)
        except review.WeekError as exc:
            raise HTTPException(422, str(exc)) from exc
        title = f"week {label}"
    else:
        days = int(q.get("days")) if (q.get("days") or "").isdigit() and 0 < int(q.get("days")) <= 366 else 30
        since, until = _window(days)
        title = f"{dimension} {value}" if dimension and value else f"the last {days} days"
    with session_factory(settings.db_url, readonly=True)() as session:
        items = kpis.conversations(session, since, until, dimension=dimension, value=value,
                                   scores=(1, 2, 3) if low else (1, 2, 3, 4, 5))
    return render(request, "feedback/conversations.html",
                  {"user": user, "items": items, "title": title, "low": low})


@router.get("/feedback/follow-up")
def follow_up(request: Request, user: User = Agent) -> Response:
    return render(request, "feedback/follow_up.html",
                  {"user": user, "items": follow_ups.open_items(request.app.state.settings)})


@router.post("/feedback/follow-up/done")
def follow_up_done(request: Request, user: User = Agent, _: None = CSRF, ref: str = Form("")) -> Response:
    try:
        follow_ups.mark_done(ref, user.id, request.app.state.settings)
    except ValueError as exc:
        return _back("/feedback/follow-up", str(exc))
    return _back("/feedback/follow-up", f"{ref[:40]} followed up.")


@router.get("/contacts/{contact_id}")
def contact_page(contact_id: int, request: Request, user: User = Agent) -> Response:
    found = contacts.view(contact_id, request.app.state.settings)
    if found is None:
        raise HTTPException(404, f"There is no contact {contact_id}.")
    return render(request, "feedback/contact.html", {"user": user, "c": found})


@router.post("/contacts/{contact_id}/link")
def link(contact_id: int, request: Request, user: User = Agent, _: None = CSRF, other: int = Form(0),
         reason: str = Form("")) -> Response:
    try:
        contacts.link(contact_id, other, user_id=user.id, reason=reason, settings=request.app.state.settings)
    except contacts.LinkError as exc:
        return _back(f"/contacts/{contact_id}", str(exc))
    return _back(f"/contacts/{contact_id}", f"Linked contact {other}: one person now.")


@router.post("/contacts/{contact_id}/unlink")
def unlink(contact_id: int, request: Request, user: User = Agent, _: None = CSRF, other: int = Form(0)) -> Response:
    try:
        contacts.unlink(other or contact_id, user_id=user.id, settings=request.app.state.settings)
    except contacts.LinkError as exc:
        return _back(f"/contacts/{contact_id}", str(exc))
    return _back(f"/contacts/{contact_id}", f"Contact {other or contact_id} unlinked.")
