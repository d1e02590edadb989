"""The knowledge base over HTTP: articles (with versions, conflicts on stale saves and
reverts) for agents with a token, and search for anyone (published articles only)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from inbox.auth import DOMAIN_ERRORS, PUBLIC_ERRORS, api_role, api_user
from storage.models.accounts import User
from support.kb import articles, drafts, releases, responses, search

Category = Literal["getting_started", "configuration", "troubleshooting", "faqs", "api_reference", "best_practices"]

public = APIRouter(prefix="/api/kb", tags=["knowledge base"], responses=PUBLIC_ERRORS)
api = APIRouter(prefix="/api/kb", tags=["knowledge base"], dependencies=[Depends(api_user)],
                responses=DOMAIN_ERRORS)


class NewArticle(BaseModel):
    title: str = Field(min_length=1, description="Shown as the page heading; the slug is made from it")
    category: Category
    body: str = Field("", description="Markdown (rendered safely; raw HTML is shown as text)")
    status: Literal["draft", "published"] = "draft"


class ArticleChange(BaseModel):
    title: str | None = Field(None, min_length=1)
    category: Category | None = None
    body: str | None = None
    status: Literal["draft", "published", "archived"] | None = None
    version: int | None = Field(None, description="The version this edit started from: 409 if someone saved since")


class Revert(BaseModel):
    version: int = Field(ge=1)


def _fail(exc: articles.KbError) -> HTTPException:
    return HTTPException(exc.status, str(exc))


@api.post("/articles", status_code=201)
def create_article(body: NewArticle, request: Request, user: User = Depends(api_user)) -> dict[str, Any]:
    """A new article (version 1); community managers may only write drafts."""
    try:
        made = articles.create(request.app.state.settings, **body.model_dump(), author=user.email, user=user)
    except articles.KbError as exc:
        raise _fail(exc) from None
    return {"slug": made["slug"], "version": made["version"], "url": made["url"]}


@api.put("/articles/{slug}")
def change_article(slug: str, body: ArticleChange, request: Request, user: User = Depends(api_user)) -> dict[str, Any]:
    """The next version with the keys given; 409 when `version` is no longer the latest."""
    changes = body.model_dump(exclude={"version"}, exclude_none=True)
    try:
        return articles.update(request.app.state.settings, slug, changes, author=user.email, user=user,
                               expected_version=body.version)
    except articles.KbError as exc:
        raise _fail(exc) from None


@api.get("/articles/{slug}")
def article(slug: str, request: Request) -> dict[str, Any]:
    settings = request.app.state.settings
    found = articles.get(settings, slug)
    if found is None:
        raise HTTPException(404, f"no article {slug[:120]}")
    return articles.serialize(found, settings)


@api.get("/articles/{slug}/versions")
def article_versions(slug: str, request: Request) -> dict[str, Any]:
    """Every saved version, newest first: who saved it and when."""
    try:
        return {"items": articles.versions(request.app.state.settings, slug)}
    except articles.KbError as exc:
        raise _fail(exc) from None


@api.post("/articles/{slug}/revert")
def revert_article(slug: str, body: Revert, request: Request, user: User = Depends(api_user)) -> dict[str, Any]:
    """A new version with the text of an earlier one."""
    try:
        return articles.revert(request.app.state.settings, slug, body.version, author=user.email, user=user)
    except articles.KbError as exc:
        raise _fail(exc) from None


@public.get("/search")
def search_articles(request: Request, q: str = Query("", max_length=search.MAX_QUERY)) -> dict[str, Any]:
    """Published articles matching `q`, best first (no token needed)."""
    settings = request.app.state.settings
    found = search.search(settings, q)
    if not found["items"]:
        search.record_empty(settings, q)
    for item in found["items"]:
        item.pop("score", None)
    return found


# Templates -------------------------------------------------------------------------------

templates_api = APIRouter(prefix="/api", tags=["templates"], dependencies=[Depends(api_user)],
                          responses=DOMAIN_ERRORS)


class TemplateBody(BaseModel):
    name: str = Field(description="lower_case_key; an existing name changes that template")
    kind: Literal["response", "issue"] = "response"
    channel: Literal["x"] | None = Field(None, description="x: the short variant for X of template `name`")
    body: str = Field(description="Variables: {name}, {ref}, {agent}, {kb:slug}. Issue templates: one "
                                   "`key | question | answering words` per line")
    title: str | None = None
    category: str | None = Field(None, description="issue templates: the ticket category they apply to")


@templates_api.get("/templates")
def list_templates(request: Request, kind: Literal["response", "issue"] | None = None) -> dict[str, Any]:
    return {"items": responses.listing(request.app.state.settings, kind)}


@templates_api.post("/templates", status_code=201)
def save_template(body: TemplateBody, request: Request, user: User = Depends(api_role("lead"))) -> dict[str, Any]:
    """Create or change a template (leads only); an unknown variable is refused here."""
    try:
        return responses.save(request.app.state.settings, **body.model_dump(), author=user.email)
    except responses.TemplateError as exc:
        raise HTTPException(exc.status, str(exc)) from None


# Releases --------------------------------------------------------------------------------

releases_api = APIRouter(prefix="/api", tags=["releases"], dependencies=[Depends(api_user)],
                         responses=DOMAIN_ERRORS)


class ReleaseBody(BaseModel):
    version: str = Field(min_length=1, max_length=50, description="Shown exactly as given, e.g. 2.4.0")
    title: str = Field(min_length=1, max_length=200)
    notes: str = Field("", description="Markdown")
    ticket_refs: list[str] = Field(default_factory=list, description="Tickets this release ships (TRKV-n)")
    publish: bool = True


@releases_api.post("/releases", status_code=201, responses={
    200: {"description": "This version was published before: its fan-out is finished, nothing is sent twice"}})
def publish_release(body: ReleaseBody, request: Request, response: Response,
                    user: User = Depends(api_role("engineer"))) -> dict[str, Any]:
    """Publish a release; the same version again finishes an interrupted fan-out (200)."""
    try:
        release, created = releases.publish(request.app.state.settings, **body.model_dump(), author=user.email)
    except releases.ReleaseError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    if not created:
        response.status_code = 200
    return release


class FromTicket(BaseModel):
    ref: str = Field(max_length=40, description="A resolved ticket, e.g. TRKV-12")


@api.post("/articles/from-ticket", status_code=201)
def article_from_ticket(body: FromTicket, request: Request, user: User = Depends(api_user)) -> dict[str, Any]:
    """"Turn into article": a draft from a resolved ticket, the customer's personal data removed."""
    try:
        made = drafts.from_ticket(request.app.state.settings, body.ref, author=user.email, user=user)
    except (articles.KbError, drafts.DraftError) as exc:
        raise HTTPException(exc.status, str(exc)) from None
    return {"slug": made["slug"], "version": made["version"], "url": made["url"], "body": made["body"],
            "title": made["title"]}
