"""The in-process search index over published articles: TF-IDF with the title weighted
3 to the body's 1 (as Zendesk does), on stemmed words, and a typo dictionary for "did
you mean".

One index per database, rebuilt when the articles change: each search first reads a
cheap signature (latest save and count, both from indexes), so every web process sees a
publish on its next search. An article is tokenized once per version and its term ids
kept (ids are stable for the process), so a rebuild after one save reads the others'
ids from memory and assembles the matrix with numpy. Chosen over SQLite FTS5 /
PostgreSQL tsvector because it ranks the same on both databases and measures inside the
30 ms budget at 10,000 articles (bench/kb.py).
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sqlalchemy import func, select

from storage.db import session_factory
from storage.models.kb import KbArticle
from support.kb.stem import stem, words

TITLE_WEIGHT = 3.0  # title : body = 3 : 1
QUERY_IDF_POWER = 1.5  # rare words of a question count more (tuned on the dev split)


class _Vocabulary:
    """Words to stable ids (process-wide, only grows), and one-letter deletions of each
    surface word for the typo lookup (SymSpell-style: no scan of the vocabulary)."""

    def __init__(self) -> None:
        self.terms: dict[str, int] = {}
        self.surface: dict[str, int] = {}
        self.surface_words: list[str] = []
        self.deletes: dict[str, list[int]] = {}

    def term_ids(self, terms) -> np.ndarray:
        get, ids = self.terms.setdefault, []
        for term in terms:
            ids.append(get(term, len(self.terms)))
        return np.array(ids, dtype=np.int64)

    def surface_ids(self, found: set[str]) -> np.ndarray:
        ids = []
        for word in found:
            number = self.surface.get(word)
            if number is None:
                number = self.surface[word] = len(self.surface_words)
                self.surface_words.append(word)
                if len(word) >= 4 and word.isalpha():
                    for variant in {word[:i] + word[i + 1:] for i in range(len(word))} | {word}:
                        self.deletes.setdefault(variant, []).append(number)
            ids.append(number)
        return np.array(ids, dtype=np.int64)


@dataclass
class _Doc:
    key: tuple  # (version, saved at): ids come back after a database is emptied
    slug: str
    title: str
    category: str
    body: str
    term_ids: np.ndarray  # distinct terms
    counts: np.ndarray  # their title-weighted counts
    surface_ids: np.ndarray


@dataclass
class Index:
    signature: tuple
    vocabulary: _Vocabulary
    docs: list[_Doc] = field(default_factory=list)
    df: np.ndarray = field(default_factory=lambda: np.zeros(0))  # articles per term id
    idf: np.ndarray = field(default_factory=lambda: np.zeros(0))
    surface_df: np.ndarray = field(default_factory=lambda: np.zeros(0))  # articles per surface word id
    matrix: sparse.csc_matrix | None = None

    @property
    def slugs(self) -> list[str]:
        return [d.slug for d in self.docs]

    def knows(self, word: str) -> bool:
        """Whether some published article uses this word (or a word of the same stem)."""
        term = self.vocabulary.terms.get(stem(word))
        if term is not None and term < len(self.df) and self.df[term] > 0:
            return True
        surface = self.vocabulary.surface.get(word)
        return surface is not None and surface < len(self.surface_df) and self.surface_df[surface] > 0

    def scores(self, text: str) -> np.ndarray:
        """Cosine similarity of `text` with every article (zeros when no word is known)."""
        counts = Counter(stem(w) for w in words(text))
        known = [(self.vocabulary.terms[t], c) for t, c in counts.items()
                 if self.vocabulary.terms.get(t, len(self.df)) < len(self.df) and self.df[self.vocabulary.terms[t]]]
        if not known or self.matrix is None:
            return np.zeros(len(self.docs))
        cols = [i for i, _ in known]
        weights = np.array([(1 + math.log(c)) * self.idf[i] ** QUERY_IDF_POWER for i, c in known])
        return np.asarray(self.matrix[:, cols] @ (weights / np.linalg.norm(weights))).ravel()


_docs: dict[str, dict[int, _Doc]] = {}
_indexes: dict[str, Index] = {}
_vocabulary = _Vocabulary()
_checked: dict[str, float] = {}  # db url -> when its signature was last read
_lock = threading.Lock()
# Another web process's publish shows in this one's search within this many seconds (a
# signature read each search cost 1 to 20 ms on SQLite at 10,000 articles).
SIGNATURE_SECONDS = 1.0


def _signature(session) -> tuple:
    latest = session.execute(select(func.max(KbArticle.updated_at))).scalar()
    return session.execute(select(func.count(KbArticle.id))).scalar(), latest


def invalidate(db_url: str) -> None:
    """This process saved an article: the next search looks at the database again."""
    _checked.pop(db_url, None)


def get_index(db_url: str) -> Index:
    """The current index for this database (rebuilt first if an article changed). The
    database is asked at most every SIGNATURE_SECONDS; a save in this process asks at once."""
    current = _indexes.get(db_url)
    if current is not None and time.monotonic() - _checked.get(db_url, -SIGNATURE_SECONDS) < SIGNATURE_SECONDS:
        return current
    with session_factory(db_url, readonly=True)() as session:
        signature = _signature(session)
        _checked[db_url] = time.monotonic()
        if current is not None and current.signature == signature:
            return current
        with _lock:
            current = _indexes.get(db_url)
            if current is not None and current.signature == signature:
                return current
            cache = _docs.setdefault(db_url, {})
            live = session.execute(select(KbArticle.id, KbArticle.version, KbArticle.updated_at)
                                   .where(KbArticle.status == "published").order_by(KbArticle.id)).all()
            stale = [row.id for row in live if (cached := cache.get(row.id)) is None
                     or cached.key != (row.version, row.updated_at)]
            for start in range(0, len(stale), 500):
                for row in session.execute(select(KbArticle).where(KbArticle.id.in_(stale[start:start + 500]))):
                    article = row[0]
                    cache[article.id] = _tokenize(article)
            keep = {row.id for row in live}
            for gone in [k for k in cache if k not in keep]:
                del cache[gone]
            index = _indexes[db_url] = build(signature, [cache[row.id] for row in live])
            return index


def _tokenize(article: KbArticle) -> _Doc:
    title_words, body_words = words(article.title), words(article.body)
    counts: Counter = Counter()
    for word, count in Counter(title_words).items():
        counts[stem(word)] += count * TITLE_WEIGHT
    for word, count in Counter(body_words).items():
        counts[stem(word)] += count
    return _Doc((article.version, article.updated_at), article.slug, article.title, article.category, article.body,
                _vocabulary.term_ids(counts), np.fromiter(counts.values(), dtype=float, count=len(counts)),
                _vocabulary.surface_ids(set(title_words) | set(body_words)))


def build(signature: tuple, docs: list[_Doc]) -> Index:
    """One row per article: a title word counts TITLE_WEIGHT times a body word (one
    field-weighted count, as BM25F does), then log tf x idf, L2-normalized. Weighting the
    counts, not two separately normalized vectors, keeps a rare body word findable."""
    index = Index(signature, _vocabulary, docs)
    width = max(1, len(_vocabulary.terms))
    if not docs:
        index.df = np.zeros(width)
        return index
    cols = np.concatenate([d.term_ids for d in docs])
    rows = np.repeat(np.arange(len(docs)), [len(d.term_ids) for d in docs])
    index.df = np.bincount(cols, minlength=width)
    index.idf = np.log((len(docs) + 1) / (index.df + 1)) + 1
    values = (1 + np.log(np.concatenate([d.counts for d in docs]))) * index.idf[cols]
    norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=len(docs)))
    values = values / norms[rows]
    index.matrix = sparse.csr_matrix((values, (rows, cols)), shape=(len(docs), width)).tocsc()
    surface = np.concatenate([d.surface_ids for d in docs])
    index.surface_df = np.bincount(surface, minlength=len(_vocabulary.surface_words))
    return index
