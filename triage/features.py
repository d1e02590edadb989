"""Text features for triage: word n-grams, hashed character n-grams and channel hints.

The character n-grams are taken inside words and hashed with numpy, each distinct word
once per process: sklearn's char analyzer runs a Python loop per n-gram (about 5,000
short messages/s), which would make it the slowest step of ingest. Hashing is
deterministic (a fixed polynomial over the UTF-8 bytes, not Python's salted `hash`), so
a saved model sees the same columns in every process.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Mapping, Sequence
from itertools import chain, repeat

import numpy as np
from scipy import sparse

_CODE = re.compile(r"```.*?```", re.DOTALL)
_URL = re.compile(r"https?://\S+")
_MULT = np.uint64(1_000_003)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
# Hints that carry signal; their values become tokens such as `hint_category_bug_report`.
HINT_KEYS = ("category", "discord_channel", "x_kind", "mentions_bot")

# Fewer grams than the feature space / this: one message or a few (CharHasher._counts_by_id).
_FEW_GRAMS = 64


def document(text: str, channel: str = "", subject: str | None = None, hints: Mapping[str, str] | None = None,
             max_chars: int = 3000) -> str:
    """One string per message: hint tokens, the subject (three times: it is the summary) and the
    text, with code blocks and links reduced to a marker (their content is noise; that they are
    there is not)."""
    tokens = [f"hint_channel_{channel}"] if channel else []
    if hints:
        for key in HINT_KEYS:
            value = hints.get(key)
            if value:
                tokens.append(_hint_token(key, value))
    head = f"{subject} {subject} {subject} " if subject else ""
    body = text[: max_chars * 4]
    if "```" in body:
        body = _CODE.sub(" codeblock ", body)
    if "://" in body:
        body = _URL.sub(" urltoken ", body)
    return f"{' '.join(tokens)} | {head}{body[:max_chars]}"


class Tokens:
    """Each document's tokens (`doc.split()`, for the word features) and its text's (after " | ",
    for the character features and sentiment), split once. Whatever the text, `doc.split()` is the
    hint part's tokens, "|", then the text's."""

    def __init__(self, docs: Sequence[str]):
        self.whole: list[list[str]] = []
        self.text: list[list[str]] = []
        self.hints: list[int] = []  # hint tokens before " | "
        for doc in docs:
            head, bar, text = doc.partition(" | ")
            tokens = text.split() if bar else head.split()
            self.whole.append(head.split() + ["|"] + tokens if bar else tokens)
            self.text.append(tokens)
            self.hints.append(head.count("hint_") if bar else 0)


@functools.lru_cache(maxsize=1024)  # a handful of channels and kinds: one re.sub per message saved
def _hint_token(key: str, value: str) -> str:
    return f"hint_{key}_{re.sub(r'[^a-z0-9]+', '_', value.lower())}"


class Sightings:
    """Which tokens came back: the per-process caches below keep a token only from its second
    sighting on. Every message brings a few tokens never seen again (order numbers, names,
    typos, addresses); cached, they grew a long-running worker by ~1.5 KB a message until the
    cap, which at 50 messages/s is +270 MB an hour. A first sighting is computed for its batch
    and dropped; what recurs is cached as before.

    The record of first sightings is three bits per token in a bit array of fixed size (a
    Bloom filter, 2 MB), not a set of the tokens: a set grew each process by ~5 MB before it
    reached its bound, which a soak read as a leak. Memory is the same from the first
    message on. After `limit` first sightings the record starts over; before that a token
    never seen passes for seen with a chance below 1 in a million (it is then cached, as a
    recurring word would be, within the caches' own bounds)."""

    BITS = 1 << 24

    def __init__(self, limit: int = 50_000):
        self.limit = limit
        self._bits = bytearray(self.BITS >> 3)
        self._count = 0

    def again(self, token: str) -> bool:
        """True when `token` was seen before (and is now worth keeping)."""
        h = hash(token) & 0xFFFFFFFFFFFFFFFF  # per-process hashing is enough: the record is per process
        mask, step = self.BITS - 1, (h >> 24) | 1  # three positions by double hashing
        spots = (h & mask, (h + step) & mask, (h + 2 * step) & mask)
        bits = self._bits
        if all(bits[i >> 3] >> (i & 7) & 1 for i in spots):
            return True
        if self._count >= self.limit:
            bits[:] = bytes(len(bits))  # in place: the same pages, no new allocation
            self._count = 0
        for i in spots:
            bits[i >> 3] |= 1 << (i & 7)
        self._count += 1
        return False

    def split(self, tokens: list[str]) -> tuple[list[str], list[str]]:
        """(tokens to keep, first sightings) of distinct tokens not cached yet."""
        keep, once = [], []
        for token in tokens:
            (keep if self.again(token) else once).append(token)
        return keep, once


class CharHasher:
    """Hashed character n-grams taken inside words (each word padded with a space on both
    sides, like sklearn's `analyzer="char_wb"`), weighted by sublinear tf x idf and
    L2-normalised. The message text only (hint tokens excluded).

    A word's n-grams depend on the word alone, so each distinct word is hashed once per
    process and its columns kept (`_ids`, `_columns`, `_starts`); a batch is then a sparse
    product of (message x word occurrences) and (word x n-gram columns), with no per-n-gram
    Python work and no sort. Over the whole text (across word boundaries) the n-grams cost four
    times as much for emails and carried no signal the words did not (NLBSE'24 and the seed's
    held-out split scored the same). A word is kept from its second sighting on (`Sightings`),
    under the token as written ("Down" and "down" are two entries with the same columns: the
    tokens of a short text are then the ones the word features split off already)."""

    MAX_CACHED_WORDS = 200_000  # about 35 MB; past it the cache starts over

    def __init__(self, ngram_range: tuple[int, int] = (2, 5), n_features: int = 2**20, max_chars: int = 1500):
        if n_features & (n_features - 1):
            raise ValueError("n_features must be a power of two")
        self.ngram_range = ngram_range
        self.n_features = n_features
        self.max_chars = max_chars
        self.idf_: np.ndarray | None = None
        self._lock = threading.Lock()
        self._sightings = Sightings()
        self._forget()

    def _forget(self) -> None:
        self._ids: dict[str, int] = {}
        self._starts = np.zeros(1, np.int64)  # word i's columns are _columns[_starts[i]:_starts[i + 1]]
        self._columns = np.empty(0, np.int32)

    def _words(self, docs: Sequence[str], tokens: Tokens | None = None) -> tuple[list[str], np.ndarray]:
        """The words of each text, as cache keys. Given the documents' `tokens`, a text within
        `max_chars` is its tokens as they are: a word is hashed lower-cased, and lower-casing a text
        then splitting it gives the tokens lower-cased (no character changes case into or out of
        white space)."""
        if tokens is None:
            words_of = [d.split(" | ", 1)[-1][: self.max_chars].lower().split() for d in docs]
        else:
            words_of = [text if self._within(d) else d.split(" | ", 1)[-1][: self.max_chars].lower().split()
                        for d, text in zip(docs, tokens.text, strict=True)]
        lengths = np.fromiter(map(len, words_of), dtype=np.int64, count=len(words_of))
        return list(chain.from_iterable(words_of)), lengths

    def _within(self, doc: str) -> bool:
        cut = doc.find(" | ")
        return len(doc) - (cut + 3 if cut >= 0 else 0) <= self.max_chars

    def _learn(self, words: list[str]) -> None:
        """Hash the n-grams of words not seen before (all of them at once, in numpy)."""
        # surrogatepass: a lone surrogate (broken UTF-16 from a platform) is hashed, not a crash
        encoded = [f" {w.lower()} ".encode("utf-8", "surrogatepass") for w in words]
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        buf = np.frombuffer(b"".join(encoded), dtype=np.uint8).astype(np.uint64)
        word_of = np.repeat(np.arange(len(encoded), dtype=np.uint64), lengths)
        bits = int(self.n_features).bit_length() - 1
        row_key = word_of << np.uint64(bits)
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
                inside = word_of[:m] == word_of[n - 1 : n - 1 + m]
                # multiply-shift: the top bits of (hash + n) * golden ratio are the column
                column = ((h[inside] + np.uint64(n)) * _GOLDEN) >> np.uint64(64 - bits)
                keys.append(row_key[:m][inside] | column)
        key = np.sort(np.concatenate(keys)) if keys else np.empty(0, np.uint64)
        per_word = np.bincount((key >> np.uint64(bits)).astype(np.int64), minlength=len(words))
        first = len(self._ids)
        self._ids.update(zip(words, range(first, first + len(words))))
        self._starts = np.concatenate((self._starts, self._starts[-1] + np.cumsum(per_word)))
        self._columns = np.concatenate((self._columns, (key & np.uint64((1 << bits) - 1)).astype(np.int32)))

    def _counts(self, docs: Sequence[str], tokens: Tokens | None = None) -> sparse.csr_matrix:
        words, lengths = self._words(docs, tokens)
        with self._lock:  # the cache is shared by the threads of a process
            return self._counts_of(words, lengths)

    def _counts_of(self, words: list[str], lengths: np.ndarray) -> sparse.csr_matrix:
        ids = np.fromiter(map(self._ids.get, words, repeat(-1)), dtype=np.int64, count=len(words))
        where, missing = _missing(words, ids)
        if not missing:
            return self._counts_by_id(ids, lengths)
        unseen = list(dict.fromkeys(missing))
        if len(self._ids) + len(unseen) > self.MAX_CACHED_WORDS:
            self._forget()
            unseen = list(dict.fromkeys(words))
            where, missing = np.arange(len(words)), words
        keep, once = self._sightings.split(unseen)
        self._learn(keep)
        kept = len(self._ids)
        if once:
            self._learn(once)
        ids[where] = np.fromiter(map(self._ids.__getitem__, missing), dtype=np.int64, count=len(missing))
        try:
            return self._counts_by_id(ids, lengths)
        finally:
            if once:  # first sightings: used for this batch, not kept
                for word in once:
                    del self._ids[word]
                self._starts = self._starts[: kept + 1]
                self._columns = self._columns[: self._starts[-1]]

    def _counts_by_id(self, ids: np.ndarray, lengths: np.ndarray) -> sparse.csr_matrix:
        # Index arrays are int32, as scipy keeps them: given int64, it scans and copies every one.
        distinct, local = self._distinct(ids)
        starts, ends = self._starts[distinct], self._starts[distinct + 1]
        sizes = ends - starts
        word_indptr = np.zeros(len(distinct) + 1, np.int32)
        np.cumsum(sizes, out=word_indptr[1:])
        gather = np.arange(word_indptr[-1], dtype=np.int64) + np.repeat(starts - word_indptr[:-1], sizes)
        columns = self._columns[gather]
        doc_indptr = np.zeros(len(lengths) + 1, np.int32)
        np.cumsum(lengths, out=doc_indptr[1:])
        occurrences = sparse.csr_matrix((np.ones(len(ids), np.float32), local, doc_indptr),
                                        shape=(len(lengths), len(distinct)))
        if len(columns) * _FEW_GRAMS >= self.n_features:
            grams = sparse.csr_matrix((np.ones(len(gather), np.float32), columns, word_indptr),
                                      shape=(len(distinct), self.n_features))
            return occurrences @ grams  # summed per message; columns of a row unsorted
        # A few messages: scipy's product clears two arrays as long as the feature space (2 MB at
        # 2^18 columns) per call, which a Celery worker (trkv.memory maps large blocks afresh) paid
        # for in page faults: ~1.7 ms of a live message's triage, nearly half of it. The product over just the columns used, renamed and
        # named back, is the same matrix to the bit: same sums in the same order.
        used, renamed = np.unique(columns, return_inverse=True)
        grams = sparse.csr_matrix((np.ones(len(gather), np.float32), renamed.astype(np.int32), word_indptr),
                                  shape=(len(distinct), len(used)))
        product = occurrences @ grams
        return sparse.csr_matrix((product.data, used[product.indices], product.indptr),
                                 shape=(len(lengths), self.n_features))

    def _distinct(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The distinct words of the batch in order, and each occurrence's number among them. A batch
        marks its words in an array as long as the cache (no sort); a few words (one message) are
        sorted instead, which costs nothing next to clearing that array."""
        if len(ids) * 64 < len(self._ids):
            distinct, local = np.unique(ids, return_inverse=True)
            return distinct, local.astype(np.int32)
        mark = np.zeros(len(self._ids) + 1, np.int32)
        mark[ids] = 1
        distinct = np.flatnonzero(mark)
        local = np.cumsum(mark, dtype=np.int32) - 1
        return distinct, local[ids]

    def fit(self, docs: Sequence[str]) -> CharHasher:
        counts = self._counts(docs)
        df = np.bincount(counts.indices, minlength=self.n_features)
        self.idf_ = (np.log((1 + len(docs)) / (1 + df)) + 1).astype(np.float32)
        return self

    def transform(self, docs: Sequence[str], tokens: Tokens | None = None) -> sparse.csr_matrix:
        """`tokens`: the documents' `Tokens`, where the caller has them."""
        counts = self._counts(docs, tokens)
        counts.data = np.log1p(counts.data) * self.idf_[counts.indices]
        return _l2(counts)


def _missing(tokens: list[str], ids: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Where `ids` is -1 (a token not cached), and those tokens in order. The positions go through
    a list: `compress` over a numpy mask makes a numpy scalar per token, a third of the lookup's cost."""
    where = np.flatnonzero(ids < 0)
    return where, list(map(tokens.__getitem__, where.tolist()))


def _count_pairs(key: np.ndarray, n_rows: int, bits: int, n_columns: int | None = None) -> sparse.csr_matrix:
    """How often each (row << bits | column) key occurs, as a CSR matrix with sorted indices.
    One sort of the keys: four times faster than letting scipy sum the duplicates of a COO matrix
    (which sorts every row's indices in a scalar loop). A stable sort: the keys come by row (the
    words, then the pairs), runs that it merges, a fourth faster than numpy's default quicksort."""
    if n_rows << bits <= 1 << 32:  # half the bytes to sort: twice as fast
        key = key.astype(np.uint32)
    key.sort(kind="stable")
    if len(key):
        starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
        counts = np.diff(np.append(starts, len(key))).astype(np.float32)
        key = key[starts]
    else:
        counts = np.empty(0, np.float32)
    rows = (key >> key.dtype.type(bits)).astype(np.int64)
    indptr = np.zeros(n_rows + 1, np.int32)  # int32 as scipy keeps it (an int64 one is scanned and copied)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    columns = (key & key.dtype.type((1 << bits) - 1)).astype(np.int32)
    return sparse.csr_matrix((counts, columns, indptr), shape=(n_rows, n_columns or 1 << bits))


def _l2(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """Rows scaled to unit length, in place (no temporary sparse matrices: each costs ~50 us)."""
    lengths = np.diff(matrix.indptr)
    rows = np.repeat(np.arange(len(lengths)), lengths)
    norms = np.sqrt(np.bincount(rows, weights=np.square(matrix.data, dtype=np.float64), minlength=len(lengths)))
    norms[norms == 0] = 1
    matrix.data /= np.repeat(norms.astype(matrix.data.dtype), lengths)
    return matrix


class WordCounts:
    """The fitted TfidfVectorizer's transform (word 1-2-grams, sublinear tf x idf, L2), computed
    the same way without a Python step per n-gram. Each distinct whitespace-separated token is
    split into the vectorizer's tokens once per process (`_ids`, `_sequence`); a batch is then
    numpy: every token's vocabulary column, bigrams looked up as (first, second) column pairs in
    a sorted table, and one sort of (message, column) keys to count them. Also returned: per
    message, the share of its words the model has a weight for (hint tokens do not count)."""

    MAX_CACHED_TOKENS = 200_000

    def __init__(self, vocabulary: Mapping[str, int], idf: np.ndarray, token_pattern: str):
        self.vocabulary = vocabulary
        self.idf = np.asarray(idf, dtype=np.float32)
        self.tokens_of = re.compile(token_pattern).findall
        self.bits = max(1, int(len(self.idf) - 1).bit_length())
        pairs = [(key, column) for key, column in vocabulary.items() if " " in key]
        firsts, seconds = zip(*(key.split(" ", 1) for key, _ in pairs), strict=True) if pairs else ((), ())
        get = vocabulary.get
        a = np.fromiter(map(get, firsts, repeat(-1)), np.int64, count=len(pairs))
        b = np.fromiter(map(get, seconds, repeat(-1)), np.int64, count=len(pairs))
        columns = np.fromiter((column for _, column in pairs), np.int64, count=len(pairs))
        usable = (a >= 0) & (b >= 0)
        keys = a[usable] * len(self.idf) + b[usable]
        order = np.argsort(keys)
        self.bigram_keys, self.bigram_columns = keys[order], columns[usable][order]
        self._lock = threading.Lock()
        self._sightings = Sightings()
        self._forget()

    def _forget(self) -> None:
        self._ids: dict[str, int] = {}
        self._starts = np.zeros(1, np.int64)  # token i's columns are _sequence[_starts[i]:_starts[i + 1]], -1 unknown
        self._sequence = np.empty(0, np.int64)

    def _learn(self, tokens: list[str]) -> None:
        get, tokens_of = self.vocabulary.get, self.tokens_of
        parts = [tokens_of(t.lower()) for t in tokens]
        sizes = np.fromiter(map(len, parts), np.int64, count=len(parts))
        flat = list(chain.from_iterable(parts))
        first = len(self._ids)
        self._ids.update(zip(tokens, range(first, first + len(tokens))))
        self._starts = np.concatenate((self._starts, self._starts[-1] + np.cumsum(sizes)))
        self._sequence = np.concatenate((self._sequence, np.fromiter(map(get, flat, repeat(-1)), np.int64,
                                                                     count=len(flat))))

    def _columns(self, tokens: list[str]) -> np.ndarray:
        """Per token occurrence, its vectorizer tokens' columns (-1: not in the vocabulary), in order,
        and how many there are per occurrence."""
        with self._lock:
            ids = np.fromiter(map(self._ids.get, tokens, repeat(-1)), np.int64, count=len(tokens))
            once: list[str] = []
            where, missing = _missing(tokens, ids)
            if missing:
                unseen = list(dict.fromkeys(missing))
                if len(self._ids) + len(unseen) > self.MAX_CACHED_TOKENS:
                    self._forget()
                    unseen = list(dict.fromkeys(tokens))
                    where, missing = np.arange(len(tokens)), tokens
                keep, once = self._sightings.split(unseen)
                self._learn(keep)
                kept = len(self._ids)
                if once:
                    self._learn(once)
                ids[where] = np.fromiter(map(self._ids.__getitem__, missing), np.int64, count=len(missing))
            starts = self._starts[ids]
            sizes = self._starts[ids + 1] - starts
            offsets = np.zeros(len(ids) + 1, np.int64)
            np.cumsum(sizes, out=offsets[1:])
            gather = np.arange(offsets[-1], dtype=np.int64) + np.repeat(starts - offsets[:-1], sizes)
            sequence = self._sequence[gather]
            if once:  # first sightings: used for this batch, not kept
                for token in once:
                    del self._ids[token]
                self._starts = self._starts[: kept + 1]
                self._sequence = self._sequence[: self._starts[-1]]
            return sequence, sizes

    def transform(self, docs: Sequence[str], tokens: Tokens | None = None) -> tuple[sparse.csr_matrix, np.ndarray]:
        """`tokens`: the documents' `Tokens`, where the caller has them."""
        tokens = Tokens(docs) if tokens is None else tokens
        split = tokens.whole
        lengths = np.fromiter(map(len, split), np.int64, count=len(split))
        sequence, sizes = self._columns(list(chain.from_iterable(split)))
        n = len(docs)
        per_doc = np.bincount(np.repeat(np.arange(n), lengths), weights=sizes, minlength=n).astype(np.int64)
        doc_of = np.repeat(np.arange(n, dtype=np.int64), per_doc)
        found = sequence >= 0
        hints = np.array(tokens.hints, np.int64)
        unknown = np.bincount(doc_of[~found], minlength=n)
        real = per_doc - hints  # the hint tokens are always known
        known = np.where(real > 0, (real - unknown) / np.maximum(real, 1), 0.0).astype(np.float32)
        # bigrams: adjacent tokens of one message, both in the vocabulary, looked up as a pair
        a, b = sequence[:-1], sequence[1:]
        pair = (doc_of[:-1] == doc_of[1:]) & (a >= 0) & (b >= 0)
        keys = a[pair] * len(self.idf) + b[pair]
        at = np.minimum(np.searchsorted(self.bigram_keys, keys), max(0, len(self.bigram_keys) - 1))
        hit = self.bigram_keys[at] == keys if len(self.bigram_keys) else np.zeros(len(keys), bool)
        rows = np.concatenate((doc_of[found], doc_of[:-1][pair][hit]))
        columns = np.concatenate((sequence[found], self.bigram_columns[at[hit]]))
        counts = _count_pairs(rows.astype(np.uint64) << np.uint64(self.bits) | columns.astype(np.uint64), n,
                              self.bits, len(self.idf))
        counts.data = (np.log(counts.data) + 1) * self.idf[counts.indices]  # sublinear tf x idf
        return _l2(counts), known
