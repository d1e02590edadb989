"""The knowledge base's pages: the public ones (no login, cacheable, no cookies) and the
agents' editor with each article's history, diffs and one-click revert."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse

from inbox import pages
from inbox.pages import CSRF, Agent, Engineer, Lead, render, templates
from inbox.ratelimit import TokenBuckets
from storage.models.accounts import User
from storage.models.kb import KB_CATEGORIES
from support.kb import articles, drafts, feedback, reads, releases, responses, search, weekly

router = APIRouter(include_in_schema=False)

PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}
CATEGORY_TITLES = {"getting_started": "Getting Started", "configuration": "Configuration",
                   "troubleshooting": "Troubleshooting", "faqs": "FAQs", "api_reference": "API Reference",
                   "best_practices": "Best Practices"}
FEEDBACK_RATE, FEEDBACK_BURST = 1 / 60, 5  # per client: five answers, then one a minute
READ_RATE, READ_BURST = 1 / 30, 60  # page views recorded per client: a crawler's are not all stored


def _public(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """A page anyone may see: no session, no cookie, so a proxy may cache it."""
    context = {"user": None, "flash": "", "csrf_token": "", "category_titles": CATEGORY_TITLES, **context}
    headers = PUBLIC_CACHE if status_code == 200 else None
    return templates.TemplateResponse(request, name, context, status_code=status_code, headers=headers)


@router.get("/kb")
def kb_home(request: Request) -> Response:
    settings = request.app.state.settings
    return _public(request, "kb_index.html", {"counts": articles.counts_by_category(settings),
                                              "recent": articles.listing(settings, limit=500)})


@router.get("/kb/search")
def kb_search(request: Request, q: str = "") -> Response:
    settings = request.app.state.settings
    found = search.search(settings, q[:search.MAX_QUERY]) if q.strip() else {"items": [], "did_you_mean": None}
    if q.strip() and not found["items"]:
        search.record_empty(settings, q)
    return _public(request, "kb_search.html", {"q": q[:search.MAX_QUERY], **found})


@router.get("/kb/go/{slug}")
def kb_go(slug: str, request: Request) -> Response:
    """The counting redirect the hub's links go through; `r` names the reader (support/kb/reads.py)."""
    if not reads.record_click(request.app.state.settings, slug, request.query_params.get("r")):
        raise HTTPException(404, "There is no such article.")
    return RedirectResponse(f"/kb/{slug}", status_code=303)


@router.get("/kb/releases")
def kb_releases(request: Request) -> Response:
    return _public(request, "kb_releases.html", {"items": releases.published(request.app.state.settings)})


@router.get("/kb/releases.atom")
def kb_releases_feed(request: Request) -> Response:
    """The changelog as an Atom feed (ids are stable per version)."""
    settings = request.app.state.settings
    items = releases.published(settings)
    body = templates.get_template("kb_releases.atom").render(items=items, base=settings.public_url.rstrip("/"),
                                                             updated=items[0]["published_at"] if items else None)
    return Response(body, media_type="application/atom+xml", headers=PUBLIC_CACHE)


@router.get("/kb/{slug}")
def kb_page(slug: str, request: Request) -> Response:
    """A category's list (for a category slug) or one published article."""
    settings = request.app.state.settings
    if slug in KB_CATEGORIES:
        return _public(request, "kb_category.html", {"category": slug,
                                                     "items": articles.listing(settings, category=slug)})
    article = articles.get(settings, slug, published_only=True)
    if article is None:
        return _public(request, "kb_missing.html", {"slug": slug[:120]}, status_code=404)
    _count_view(request, slug)
    return _public(request, "kb_article.html", {"article": article,
                                                "thanks": request.query_params.get("thanks") == "1"})


def _count_view(request: Request, slug: str) -> None:
    """A read for "read, then a ticket"; beyond READ_BURST views a client's are sampled."""
    host = request.client.host if request.client else "unknown"
    buckets = getattr(request.app.state, "kb_read_buckets", None)
    if buckets is None:
        buckets = request.app.state.kb_read_buckets = TokenBuckets(READ_RATE, READ_BURST)
    if not buckets.take(f"kb-read:{host}"):
        reads.record_view(request.app.state.settings, slug, host)


@router.post("/kb/{slug}/feedback")
async def kb_feedback(slug: str, request: Request) -> Response:
    """{helpful, comment?} as JSON or a form; rate-limited per client."""
    host = request.client.host if request.client else "unknown"
    buckets = getattr(request.app.state, "kb_feedback_buckets", None)
    if buckets is None:
        buckets = request.app.state.kb_feedback_buckets = TokenBuckets(FEEDBACK_RATE, FEEDBACK_BURST)
    wants_json = request.headers.get("content-type", "").startswith("application/json")
    data = await _feedback_body(request, wants_json)
    helpful = data.get("helpful")
    if isinstance(helpful, str):
        helpful = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}.get(helpful.lower())
    if not isinstance(helpful, bool):
        raise HTTPException(422, "helpful must be true or false")
    comment = data.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise HTTPException(422, "comment must be text")
    buckets.check(f"kb-feedback:{host}")
    try:
        feedback.record(request.app.state.settings, slug, helpful, comment, feedback.client_key(host))
    except articles.NotFound:
        raise HTTPException(404, "There is no such article.") from None
    if wants_json:
        return Response(json.dumps({"ok": True}), media_type="application/json")
    return RedirectResponse(f"/kb/{slug}?thanks=1", status_code=303)


async def _feedback_body(request: Request, wants_json: bool) -> dict[str, Any]:
    try:
        data = await request.json() if wants_json else dict(await request.form())
    except ValueError:
        raise HTTPException(422, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(422, "send an object: {helpful, comment?}")
    return data


# The agents' editor ---------------------------------------------------------------------


@router.get("/kb-admin")
def manage(request: Request, user: User = Agent) -> Response:
    return render(request, "kb_manage.html", {"user": user, "items": articles.listing(request.app.state.settings,
                                                                                     status=None, limit=2000)})


@router.get("/kb-admin/new")
def new_form(request: Request, user: User = Agent) -> Response:
    form = {"title": "", "category": "getting_started", "body": "", "status": "draft"}
    return render(request, "kb_edit.html", {"user": user, "article": None, "error": "", "form": form})


@router.post("/kb-admin/new")
def create(request: Request, user: User = Agent, _: None = CSRF, title: str = Form(""), category: str = Form(""),
           body: str = Form(""), status: str = Form("draft")) -> Response:
    form = {"title": title, "category": category, "body": body, "status": status}
    try:
        made = articles.create(request.app.state.settings, **form, author=user.email, user=user)
    except articles.KbError as exc:
        return render(request, "kb_edit.html", {"user": user, "article": None, "error": str(exc), "form": form},
                      status_code=exc.status)
    return RedirectResponse(f"/kb-admin/{made['slug']}/edit?flash=Saved+version+1", status_code=303)


@router.get("/kb-admin/{slug}/edit")
def edit_form(slug: str, request: Request, user: User = Agent) -> Response:
    article = articles.get(request.app.state.settings, slug)
    if article is None:
        raise HTTPException(404, "There is no such article.")
    form = {"title": article.title, "category": article.category, "body": article.body, "status": article.status}
    return render(request, "kb_edit.html", {"user": user, "article": article, "error": "", "form": form})


@router.post("/kb-admin/{slug}/edit")
def save(slug: str, request: Request, user: User = Agent, _: None = CSRF, title: str = Form(""),
         category: str = Form(""), body: str = Form(""), status: str = Form("draft"), version: int = Form(0)) -> Response:
    settings = request.app.state.settings
    form = {"title": title, "category": category, "body": body, "status": status}
    try:
        saved = articles.update(settings, slug, form, author=user.email, user=user, expected_version=version or None)
    except articles.KbError as exc:
        article = articles.get(settings, slug)
        if article is None:
            raise HTTPException(404, "There is no such article.") from None
        return render(request, "kb_edit.html", {"user": user, "article": article, "error": str(exc), "form": form},
                      status_code=exc.status)
    return RedirectResponse(f"/kb-admin/{slug}/edit?flash=Saved+version+{saved['version']}", status_code=303)


@router.get("/kb-admin/{slug}/history")
def history(slug: str, request: Request, user: User = Agent, a: int = 0, b: int = 0) -> Response:
    settings = request.app.state.settings
    try:
        items = articles.versions(settings, slug)
        latest = items[0]["version"]
        a, b = a or max(1, latest - 1), b or latest
        lines = articles.diff(settings, slug, a, b)
    except articles.KbError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    return render(request, "kb_history.html", {"user": user, "slug": slug, "items": items, "a": a, "b": b,
                                               "lines": lines})


@router.post("/kb-admin/{slug}/revert/{number}")
def revert(slug: str, number: int, request: Request, user: User = Agent, _: None = CSRF) -> Response:
    try:
        saved = articles.revert(request.app.state.settings, slug, number, author=user.email, user=user)
    except articles.KbError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    return RedirectResponse(f"/kb-admin/{slug}/history?flash=Reverted+to+version+{number}+as+version+"
                            f"{saved['version']}", status_code=303)


# Templates (leads edit; the ticket page shows the issue checklist) -----------------------


def _issue_checklist(request: Request, ticket: dict[str, Any]) -> list[dict[str, Any]]:
    text = "\n".join([ticket.get("subject") or "", *(m.get("text") or "" for m in ticket.get("messages", [])
                                                     if m.get("direction") == "in")])
    return responses.checklist(request.app.state.settings, ticket.get("category"), text)


pages._env.globals["issue_checklist"] = _issue_checklist  # read by _kb_suggestions.html


@router.get("/templates")
def templates_page(request: Request, user: User = Lead) -> Response:
    return render(request, "kb_templates.html", {"user": user, "items": responses.listing(request.app.state.settings),
                                                 "error": ""})


@router.post("/templates")
def save_template(request: Request, user: User = Lead, _: None = CSRF, name: str = Form(""), kind: str = Form("response"),
                  title: str = Form(""), body: str = Form(""), x_body: str = Form("")) -> Response:
    settings = request.app.state.settings
    try:
        responses.save(settings, name=name.strip(), kind=kind, body=body, title=title.strip() or None,
                       author=user.email)
        if x_body.strip():
            responses.save(settings, name=name.strip(), kind=kind, body=x_body, channel="x", author=user.email)
    except responses.TemplateError as exc:
        return render(request, "kb_templates.html", {"user": user, "items": responses.listing(settings),
                                                     "error": f"{name}: {exc}"}, status_code=422)
    return RedirectResponse(f"/templates?flash=Saved+{name.strip()}", status_code=303)


@router.post("/kb-admin/from-ticket/{ref}")
def draft_from_ticket(ref: str, request: Request, user: User = Agent, _: None = CSRF) -> Response:
    """"Turn into article" on a resolved ticket's page: opens the new draft in the editor."""
    try:
        made = drafts.from_ticket(request.app.state.settings, ref, author=user.email, user=user)
    except (articles.KbError, drafts.DraftError) as exc:
        raise HTTPException(exc.status, str(exc)) from None
    return RedirectResponse(f"/kb-admin/{made['slug']}/edit?flash=Draft+from+{ref[:40]}:+check+it+before+publishing",
                            status_code=303)


@router.get("/kb-admin/weekly")
def weekly_page(request: Request, user: User = Engineer) -> Response:
    """The weekly KB update for the support engineers (also `trkv kb weekly`)."""
    return render(request, "kb_weekly.html", {"user": user, "report": weekly.report(request.app.state.settings)})
