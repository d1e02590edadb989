"""Text features for triage: word n-grams, hashed character n-grams and channel hints.

The character n-grams are hashed with numpy over the whole batch at once: sklearn's
char analyzer runs a Python loop per n-gram (about 5,000 short messages/s), which
would make it the slowest step of ingest. Hashing is deterministic (a fixed
polynomial over the UTF-8 bytes, not Python's salted `hash`), so a saved model
sees the same columns in every process.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import sparse

_CODE = re.compile(r"```.*?```", re.DOTALL)
_URL = re.compile(r"https?://\S+")
_MULT = np.uint64(1_000_003)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
# Hints that carry signal; their values become tokens such as `hint_category_bug_report`.
HINT_KEYS = ("category", "discord_channel", "x_kind", "mentions_bot")


def document(text: str, channel: str = "", subject: str | None = None, hints: Mapping[str, str] | None = None,
             max_chars: int = 3000) -> str:
    """One string per message: hint tokens, the subject (three times: it is the summary) and the
    text, with code blocks and links reduced to a marker (their content is noise; that they are
    there is not)."""
    tokens = [f"hint_channel_{channel}"] if channel else []
    for key in HINT_KEYS:
        value = (hints or {}).get(key)
        if value:
            tokens.append(f"hint_{key}_{re.sub(r'[^a-z0-9]+', '_', value.lower())}")
    head = f"{subject} {subject} {subject} " if subject else ""
    body = text[: max_chars * 4]
    if "```" in body:
        body = _CODE.sub(" codeblock ", body)
    if "://" in body:
        body = _URL.sub(" urltoken ", body)
    return f"{' '.join(tokens)} | {head}{body[:max_chars]}"


class CharHasher:
    """Hashed character n-grams of the message text (hint tokens excluded), weighted
    by sublinear tf x idf and L2-normalised, like TfidfVectorizer(analyzer="char")."""

    def __init__(self, ngram_range: tuple[int, int] = (2, 5), n_features: int = 2**20, max_chars: int = 1500):
        if n_features & (n_features - 1):
            raise ValueError("n_features must be a power of two")
        self.ngram_range = ngram_range
        self.n_features = n_features
        self.max_chars = max_chars
        self.idf_: np.ndarray | None = None

    def _counts(self, docs: Sequence[str]) -> sparse.csr_matrix:
        # " ".join(str.split()) is re.sub(r"\s+", " ") without the regex engine (and without the ends)
        # surrogatepass: a lone surrogate (broken UTF-16 from a platform) is hashed, not a crash
        encoded = [f" {' '.join(d.split(' | ', 1)[-1][: self.max_chars].lower().split())} ".encode(
            "utf-8", "surrogatepass") for d in docs]
        lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
        buf = np.frombuffer(b"".join(encoded), dtype=np.uint8).astype(np.uint64)
        doc_of = np.repeat(np.arange(len(encoded), dtype=np.uint64), lengths)
        bits = int(self.n_features).bit_length() - 1
        row_key = doc_of << np.uint64(bits)  # the row in the high bits, the column in the low ones
        low, high = self.ngram_range
        keys = []
        h = np.zeros(len(buf), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for n in range(1, high + 1):  # a rolling polynomial: the n-gram hash extends the (n-1)-gram's
                m = len(buf) - n + 1
                if m <= 0:
                    break
                h = h[:m] * _MULT ^ buf[n - 1 : n - 1 + m]
                if n < low:
                    continue
                inside = doc_of[:m] == doc_of[n - 1 : n - 1 + m]
                # multiply-shift: the top bits of (hash + n) * golden ratio are the column
                column = ((h[inside] + np.uint64(n)) * _GOLDEN) >> np.uint64(64 - bits)
                keys.append(row_key[:m][inside] | column)
        key = np.concatenate(keys) if keys else np.empty(0, np.uint64)
        return _count_pairs(key, len(docs), bits)

    def fit(self, docs: Sequence[str]) -> CharHasher:
        counts = self._counts(docs)
        df = np.bincount(counts.indices, minlength=self.n_features)
        self.idf_ = (np.log((1 + len(docs)) / (1 + df)) + 1).astype(np.float32)
        return self

    def transform(self, docs: Sequence[str]) -> sparse.csr_matrix:
        counts = self._counts(docs)
        counts.data = np.log1p(counts.data) * self.idf_[counts.indices]
        return _l2(counts)


def _count_pairs(key: np.ndarray, n_rows: int, bits: int) -> sparse.csr_matrix:
    """How often each (row << bits | column) key occurs, as a CSR matrix with sorted indices.
    One sort of the keys: numpy's SIMD sort is four times faster than letting scipy sum the
    duplicates of a COO matrix (which sorts every row's indices in a scalar loop)."""
    if n_rows << bits <= 1 << 32:  # half the bytes to sort: twice as fast
        key = key.astype(np.uint32)
    key.sort()
    if len(key):
        starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
        counts = np.diff(np.append(starts, len(key))).astype(np.float32)
        key = key[starts]
    else:
        counts = np.empty(0, np.float32)
    rows = (key >> key.dtype.type(bits)).astype(np.int64)
    indptr = np.zeros(n_rows + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    columns = (key & key.dtype.type((1 << bits) - 1)).astype(np.int32)
    return sparse.csr_matrix((counts, columns, indptr), shape=(n_rows, 1 << bits))


def _l2(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """Rows scaled to unit length, in place (no temporary sparse matrices: each costs ~50 us)."""
    lengths = np.diff(matrix.indptr)
    squares = np.add.reduceat(matrix.data**2, matrix.indptr[:-1]) if matrix.nnz else np.zeros(len(lengths))
    norms = np.sqrt(np.where(lengths > 0, squares, 1.0))
    norms[norms == 0] = 1
    matrix.data /= np.repeat(norms, lengths).astype(matrix.data.dtype)
    return matrix
