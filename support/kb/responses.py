"""Templates as data: response templates for the composer (leads edit them; variables
{name}, {ref}, {agent}, {kb:slug}; an optional short X variant; a usage count) and issue
templates (per ticket category, the details a first message should carry).

A template with an unknown variable, or naming an article that does not exist, is
refused when it is saved, not when an agent sends it.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.db import session_factory, transaction
from storage.models.base import CATEGORIES, utcnow
from storage.models.kb import KbArticle, ResponseTemplate
from storage.queries import known
from support.intake.sanitize import clean_text
from support.kb import articles
from trkv.settings import Settings

VARIABLES = ("name", "ref", "agent")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"^[a-z0-9_]{1,80}$")
MAX_BODY = 10_000


# The templates a new hub starts with: the five canned replies agents had before templates
# became data, and issue templates. They are defaults, not rows: a template shows from
# here until a lead saves one of the same name (or it is first used), which makes its row.
SEED = [
    {"name": "thanks_investigating", "kind": "response", "title": "Thanks, investigating", "category": None,
     "body": "Hi {name}, thanks for the report! We're looking into it now and will update you here as soon as we "
             "know more. ({ref})",
     "x_body": "Thanks {name}! We're looking into it and will update you here. ({ref})"},
    {"name": "need_details", "kind": "response", "title": "Need more details", "category": None,
     "body": "Hi {name}, could you tell us which browser and app version you're using, and the steps that lead to "
             "the problem? That helps us reproduce it. ({ref})",
     "x_body": "Hi {name}, which browser and app version, and what steps lead to it? ({ref})"},
    {"name": "fixed", "kind": "response", "title": "Fixed, please confirm", "category": None,
     "body": "Hi {name}, good news: this is fixed now. Could you check on your side and let us know if anything "
             "still looks wrong? ({ref})",
     "x_body": "Hi {name}, this is fixed now. Let us know if anything still looks wrong! ({ref})"},
    {"name": "feature_logged", "kind": "response", "title": "Feature request logged", "category": None,
     "body": "Hi {name}, thanks for the idea! We've logged it for the product team. ({ref})", "x_body": None},
    {"name": "docs_pointer", "kind": "response", "title": "Point to the docs", "category": None,
     "body": "Hi {name}, the steps are in our documentation: https://docs.trkv-web.app. Let us know if anything "
             "there is unclear. ({ref})", "x_body": None},
    {"name": "issue_bug_report", "kind": "issue", "title": "Bug report", "category": "bug_report",
     "body": "steps | What steps lead to the problem? | step, steps, click, clicked, then, open, opened, reproduce\n"
             "version | Which TRKV app version are you on? | version, v1, v2, v3, release, build\n"
             "browser | Which browser (and operating system) do you use? | chrome, firefox, safari, edge, browser, "
             "android, ios, windows, macos, linux",
     "x_body": None},
    {"name": "issue_feature_request", "kind": "issue", "title": "Feature request", "category": "feature_request",
     "body": "goal | What would you like to achieve with it? | so that, because, want to, need to, would like",
     "x_body": None},
]
SEED_BY_NAME = {row["name"]: row for row in SEED}


class TemplateError(ValueError):
    status = 422


def _check_body(session, body: str) -> None:
    if not body.strip():
        raise TemplateError("the template is empty")
    if len(body) > MAX_BODY:
        raise TemplateError(f"the template has {len(body):,} characters; the limit is {MAX_BODY:,}")
    for variable in _PLACEHOLDER.findall(body):
        if variable.startswith("kb:"):
            slug = variable[3:]
            if session.execute(select(KbArticle.id).where(KbArticle.slug == slug)).first() is None:
                raise TemplateError(f"{{{variable}}} names no article (no slug {slug!r})")
        elif variable not in VARIABLES:
            raise TemplateError(f"unknown variable {{{variable}}}; use {', '.join('{' + v + '}' for v in VARIABLES)}"
                                " or {kb:slug}")


def _check_issue(body: str) -> None:
    for line in body.strip().splitlines():
        if line.count("|") != 2 or not all(part.strip() for part in line.split("|")):
            raise TemplateError(f"each line of an issue template is `key | question | answering words`: {line[:80]!r}")


def serialize(row: ResponseTemplate) -> dict[str, Any]:
    return {"name": row.name, "kind": row.kind, "title": row.title, "body": row.body, "x_body": row.x_body,
            "category": row.category, "usage_count": row.usage_count, "updated_by": row.updated_by,
            "updated_at": row.updated_at.isoformat()}


def _default(seed: dict[str, Any]) -> dict[str, Any]:
    return {**seed, "usage_count": 0, "updated_by": "seed", "updated_at": None}


def listing(settings: Settings, kind: str | None = None, *, session: Session | None = None) -> list[dict[str, Any]]:
    """Every template (seed defaults first, in their order, then the others by age).
    `session`: the caller's, where it has one (an acknowledgement written inside ingest's
    transaction), which saves a session of its own, two round trips on PostgreSQL."""
    if session is None:
        with session_factory(settings.db_url, readonly=True)() as own:
            return listing(settings, kind, session=own)
    global _read
    version = known(session, "templates_version")  # (count, last change), where this transaction read it
    read = _read
    if version is not None and read is not None and read[0] == (settings.db_url, version):
        merged = read[1]
    else:
        rows = {row.name: serialize(row) for row in
                session.execute(select(ResponseTemplate).order_by(ResponseTemplate.id)).scalars()}
        merged = [rows.pop(seed["name"], None) or _default(seed) for seed in SEED] + list(rows.values())
        if version is not None:
            _read = ((settings.db_url, version), merged)
    return [dict(t) for t in merged if kind is None or t["kind"] == kind]  # copies: the kept ones stay as read


# The templates as last read, by database and version: a live acknowledgement read and
# serialized every template for each new ticket, while they change a few times a year.
_read: tuple[tuple, list[dict[str, Any]]] | None = None


def _row(session, name: str) -> ResponseTemplate | None:
    """The template's row, made from its seed default on first change."""
    row = session.execute(select(ResponseTemplate).where(ResponseTemplate.name == name)).scalar_one_or_none()
    if row is None and name in SEED_BY_NAME:
        row = ResponseTemplate(**SEED_BY_NAME[name], usage_count=0, updated_by="seed", updated_at=utcnow())
        session.add(row)
    return row


def save(settings: Settings, *, name: str, body: str, kind: str = "response", channel: str | None = None,
         title: str | None = None, category: str | None = None, author: str) -> dict[str, Any]:
    """Create or change a template; `channel="x"` saves the short X variant of `name`."""
    body = clean_text(body)[0]
    title = clean_text(title)[0] if title else title
    if not _NAME.match(name or ""):
        raise TemplateError("name: lower-case letters, digits and _ (up to 80)")
    if kind not in ("response", "issue"):
        raise TemplateError("kind must be response or issue")
    if channel not in (None, "", "x"):
        raise TemplateError("channel: only x has a variant of its own (leave it out for the main text)")
    if category is not None and category not in CATEGORIES:
        raise TemplateError(f"category must be one of {', '.join(CATEGORIES)}")
    with transaction(settings.db_url) as session:
        if kind == "issue":
            _check_issue(body)
        else:
            _check_body(session, body)
        row = _row(session, name)
        if row is None:
            if channel == "x":
                raise TemplateError(f"no template {name!r} to add an X variant to; save its main text first")
            row = ResponseTemplate(name=name, kind=kind, title=title or name.replace("_", " ").capitalize(),
                                   body=body, category=category, usage_count=0)
            session.add(row)
        elif channel == "x":
            row.x_body = body
        else:
            row.body, row.kind = body, kind
            row.title = title or row.title
            row.category = category if category is not None else row.category
        row.updated_by, row.updated_at = author, utcnow()
        session.flush()
        return serialize(row)


def fill(body: str, settings: Settings, *, name: str, ref: str, agent: str) -> str:
    values = {"name": name or "there", "ref": ref, "agent": agent}

    def one(match: re.Match) -> str:
        variable = match.group(1)
        if variable.startswith("kb:"):
            return articles.url(settings, variable[3:])
        return values.get(variable, match.group(0))

    return _PLACEHOLDER.sub(one, body)


def choices(settings: Settings, *, name: str, ref: str, agent: str, channel: str) -> list[tuple[str, str, str]]:
    """(name, title, filled text) of each response template for the composer; on X the
    short variant when there is one."""
    return [(t["name"], t["title"], fill(t["x_body"] if channel == "x" and t["x_body"] else t["body"], settings,
                                         name=name, ref=ref, agent=agent))
            for t in listing(settings, "response")]


def used(settings: Settings, name: str) -> None:
    """A reply that started from this template was sent."""
    if name:
        with transaction(settings.db_url) as session:
            if _row(session, name[:80]) is None:
                return
            session.flush()
            session.execute(update(ResponseTemplate).where(ResponseTemplate.name == name[:80])
                            .values(usage_count=ResponseTemplate.usage_count + 1))


def checklist(settings: Settings, category: str | None, text: str, *,
              session: Session | None = None) -> list[dict[str, Any]]:
    """The issue template's questions for this category: [{key, question, present}], where
    `present` says the customer's words already answer it."""
    if not category:
        return []
    body = next((t["body"] for t in listing(settings, "issue", session=session) if t["category"] == category), None)
    if not body:
        return []
    lower, out = f" {text.lower()} ", []
    for line in body.strip().splitlines():
        key, question, answers = (part.strip() for part in line.split("|"))
        present = any(re.search(rf"(?<![a-z0-9]){re.escape(w.strip())}", lower) for w in answers.split(",") if w.strip())
        out.append({"key": key, "question": question, "present": present})
    return out


def missing_questions(settings: Settings, category: str | None, text: str, *,
                      session: Session | None = None) -> list[str]:
    return [item["question"] for item in checklist(settings, category, text, session=session) if not item["present"]]
