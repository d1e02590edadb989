"""KB search (the public page and GET /api/kb/search), "did you mean", article
suggestions for a ticket's conversation, and the log of searches that found nothing."""

from __future__ import annotations

from typing import Any

import numpy as np

from storage.db import transaction
from storage.models.kb import KbSearch
from support.intake.sanitize import clean_text
from support.kb import articles, render
from support.kb.index import Index, get_index
from support.kb.stem import WORD, stem, words
from trkv.settings import Settings

MAX_QUERY = 200
# A suggestion below this cosine is noise. CONFIDENT is what the acknowledgement needs to
# name an article; both tuned on the dev half of tests/fixtures/kb/questions.jsonl.
SUGGEST_MIN = 0.08
CONFIDENT = 0.30
TICKET_TEXT = 3000  # the first characters of a conversation that suggestions read


def search(settings: Settings, q: str, limit: int = 20) -> dict[str, Any]:
    """{"items": [{slug, title, category, snippet, url, score}], "did_you_mean": str | None}"""
    q = (q or "")[:MAX_QUERY]
    index = get_index(settings.db_url)
    items = _ranked(index, q, limit, minimum=1e-9)
    for item in items:
        item["snippet"] = snippet(index.docs[item.pop("position")].body, q)
    return {"items": items, "did_you_mean": did_you_mean(index, q)}


def _ranked(index: Index, text: str, limit: int, minimum: float) -> list[dict[str, Any]]:
    scores = index.scores(text)
    if not len(scores):
        return []
    count = min(limit, len(scores))
    top = np.argpartition(-scores, count - 1)[:count] if count < len(scores) else np.arange(len(scores))
    docs = index.docs
    order = sorted((i for i in top if scores[i] >= minimum), key=lambda i: (-scores[i], docs[i].slug))
    return [{"slug": docs[i].slug, "title": docs[i].title, "category": docs[i].category,
             "url": f"/kb/{docs[i].slug}", "score": round(float(scores[i]), 3), "position": int(i)} for i in order]


def suggest(settings: Settings, text: str, limit: int = 3) -> list[dict[str, Any]]:
    """The published articles closest to a customer's words: [{slug, title, url, score}]."""
    index = get_index(settings.db_url)
    return [{"slug": item["slug"], "title": item["title"], "url": articles.url(settings, item["slug"]),
             "score": item["score"]} for item in _ranked(index, text[:TICKET_TEXT], limit, SUGGEST_MIN)]


def ticket_text(ticket: dict[str, Any]) -> str:
    """What a ticket asks: its subject and the customers' messages (the snippet without them)."""
    inbound = [m.get("text") or "" for m in ticket.get("messages", []) if m.get("direction") == "in"]
    return "\n".join([ticket.get("subject") or "", *(inbound or [ticket.get("snippet") or ""])])


def for_ticket(ticket: dict[str, Any], settings: Settings) -> list[dict[str, Any]]:
    return suggest(settings, ticket_text(ticket))


def confident_match(settings: Settings, text: str) -> dict[str, Any] | None:
    """The best article when it clearly answers `text` (for the acknowledgement), else None."""
    found = suggest(settings, text, limit=1)
    return found[0] if found and found[0]["score"] >= CONFIDENT else None


def did_you_mean(index: Index, q: str) -> str | None:
    """`q` with each word the articles never use replaced by the likeliest known word."""
    changed, out, last = False, [], 0
    for match in WORD.finditer(q):
        word = match.group().lower()
        out.append(q[last:match.start()])
        last = match.end()
        fix = None if index.knows(word) else _correct(index, word)
        out.append(fix or match.group())
        changed = changed or fix is not None
    out.append(q[last:])
    return "".join(out) if changed else None


def _correct(index: Index, word: str) -> str | None:
    if len(word) < 4 or not word.isalpha():
        return None
    vocabulary, df = index.vocabulary, index.surface_df
    ids: set[int] = set()
    for variant in {word[:i] + word[i + 1:] for i in range(len(word))} | {word}:
        ids.update(i for i in vocabulary.deletes.get(variant, ()) if i < len(df) and df[i] > 0)
    candidates = [(int(df[i]), vocabulary.surface_words[i]) for i in ids]
    candidates = [c for c in candidates if _distance(word, c[1]) <= 2]
    return max(candidates)[1] if candidates else None


def snippet(body: str, text: str, limit: int = 200) -> str:
    """The body from the sentence holding the first word of the query (stems are
    prefixes of the words they come from, so a substring search finds them), else its start."""
    lower = body.lower()
    found = [p for p in (lower.find(stem(w)) for w in words(text)[:10] if len(w) > 2) if p >= 0]
    start = 0
    if found:
        first = min(found)
        start = max(lower.rfind(". ", 0, first) + 2, lower.rfind("\n", 0, first) + 1, 0)
        start = start if first - start < limit // 2 else first - limit // 4
    return render.plain_snippet(body[start:start + limit * 2], limit)


def _distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance."""
    previous2, previous = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if previous2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def record_empty(settings: Settings, q: str) -> None:
    """Remember a search that found nothing (the missing-articles list reads these)."""
    q = clean_text(q)[0].strip()[:MAX_QUERY]
    if q:
        with transaction(settings.db_url) as session:
            session.add(KbSearch(query=q, results=0))
