"""Words for the KB index: lower-cased, stop words dropped, and a light English suffix
stemmer ("exporting", "exports", "exported" -> "export"), so a customer's inflection still
finds the article. Deliberately simpler than Porter: it never maps two common words of
different meaning together, and it is cached per word."""

from __future__ import annotations

import re
from functools import lru_cache

WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")

STOP = frozenset("""a about above after again all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having he her
here hers him his how i if in into is it its itself just me more most my no nor not now of off on once only or other
our ours out over own same she should so some such than that the their theirs them then there these they this those
through to too under until up very was we were what when where which while who whom why will with would you your
yours hi hello hey thanks thank please pls guys team trkv im i'm it's don't can't""".split())

# Longest first; each (suffix, minimum stem length left, replacement).
_SUFFIXES = (
    ("ational", 3, "ate"), ("ization", 3, "ize"), ("fulness", 3, "ful"), ("iveness", 3, "ive"),
    ("ations", 3, ""), ("ation", 3, ""), ("ating", 4, ""), ("ates", 4, ""), ("ated", 4, ""),
    ("ate", 4, ""), ("ments", 3, ""), ("ment", 4, ""), ("ings", 3, ""),
    ("ing", 3, ""), ("edly", 3, ""), ("ied", 2, "y"), ("ies", 2, "y"), ("ers", 3, ""), ("er", 4, ""),
    ("ed", 3, ""), ("ly", 4, ""), ("es", 3, ""), ("s", 3, ""),
)
_SIBILANT_ES = ("ches", "shes", "sses", "xes", "zes")


@lru_cache(maxsize=20_000)  # ~150 B a word: 3 MB; a bigger cache held every one-off word of a long run
def stem(word: str) -> str:
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith(_SIBILANT_ES):
        return word[:-2]
    if word.endswith("ss") or word.endswith("us") or word.endswith("is"):
        return word
    for suffix, keep, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            base = word[: len(word) - len(suffix)] + replacement
            if suffix in ("ing", "ed", "ings") and len(base) > 3 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]  # "logged" -> "log", "running" -> "run"
            return base.rstrip("e") if len(base) > 4 else base
    return word.rstrip("e") if len(word) > 4 else word


def words(text: str) -> list[str]:
    """The surface words of `text`, lower-cased, stop words out."""
    return [w for w in WORD.findall(text.lower()) if w not in STOP and len(w) < 40]


def terms(text: str) -> list[str]:
    return [stem(w) for w in words(text)]
