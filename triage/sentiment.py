"""Sentiment of a message: VADER's compound score (-1..1) on its first ~300 characters.

VADER is built for social text and ships its lexicon, so nothing is downloaded. Its
reference code is slow (a few thousand short texts a second: it lower-cases the whole
message again for every word it scores), which would make it the slowest step of
triage. `compound` computes the same number (tests compare it with VADER's own
`polarity_scores`) doing the work once: the text is split and lower-cased once, and
only the words in VADER's lexicon (a few per message) go through its rules for
negation, boosters, capitals, idioms, "least" and "but". The compound score depends
on those words alone (neutral words only count towards pos/neu/neg, which we do not use).
"""

from __future__ import annotations

import string
import threading
from collections.abc import Sequence
from itertools import compress

from triage.features import Sightings

HEAD_CHARS = 300  # the opening carries the tone; VADER's cost grows with the length


class _Vader:
    """VADER's tables and rules, loaded once per process on first use."""

    def __init__(self) -> None:
        from vaderSentiment import vaderSentiment as v

        self.v = v
        self.reference = v.SentimentIntensityAnalyzer()
        self.lexicon: dict[str, float] = self.reference.lexicon
        self.emojis: dict[str, str] = self.reference.emojis
        self.boosters: dict[str, float] = v.BOOSTER_DICT
        self.negations = frozenset(v.NEGATE)
        # per distinct token, once per process: the word VADER scores, lower-cased too, and whether
        # it is in the lexicon
        self._word: dict[str, str] = {}
        self._lower: dict[str, str] = {}
        self._in_lexicon: dict[str, bool] = {}
        # VADER's idiom check changes a valence only where a multi-word idiom or booster ("kind of",
        # "yeah right") lies in the six words it reads, and then so does that phrase's longest word:
        # where none of those words is there, the check is skipped
        self.idiom_words = frozenset(max(key.split(), key=len) for key in (*v.SPECIAL_CASES, *v.BOOSTER_DICT)
                                     if " " in key)
        self._sightings = Sightings()  # lexicon words and tokens that come back are kept, not one-offs

    def _learn(self, tokens: list[str]) -> dict[str, bool]:
        """Cache what is worth keeping; returns whether each first-sighted token not kept is in
        the lexicon, for this text only."""
        if len(self._word) > MAX_CACHED_TOKENS:
            self._word, self._lower, self._in_lexicon = {}, {}, {}  # other threads keep reading the old ones
        words, lowers, in_lexicon = self._word, self._lower, self._in_lexicon
        transient: dict[str, bool] = {}
        for token in tokens:
            if token not in in_lexicon and token not in transient:
                word = _word(token)
                hit = word.lower() in self.lexicon
                if hit or self._sightings.again(token):
                    words[token] = word
                    lowers[token] = word.lower()
                    in_lexicon[token] = hit
                else:
                    transient[token] = hit
        return transient

    def compound(self, text: str, tokens: list[str] | None = None) -> float:
        """`tokens`: `text.split()`, where the caller has it."""
        if not text.isascii():
            text, tokens = self._describe_emojis(text), None
        text = text.strip()
        tokens = text.split() if tokens is None else tokens
        try:
            found = list(map(self._in_lexicon.__getitem__, tokens))
        except KeyError:
            transient = self._learn(tokens)
            found = [self._in_lexicon.get(t, transient.get(t)) for t in tokens]
        if not any(found):
            return 0.0
        hits = list(compress(range(len(tokens)), found))
        try:  # every token cached (the usual case): two lookups a token
            words = list(map(self._word.__getitem__, tokens))
            lower = list(map(self._lower.__getitem__, tokens))
        except KeyError:
            words = [self._word.get(t) or _word(t) for t in tokens]
            lower = [w.lower() for w in words]
        lexicon = self.lexicon
        capitals = sum(map(str.isupper, words))
        cap_diff = 0 < len(words) - capitals < len(words)
        sentiments = [0.0] * len(words)
        for i in hits:
            if lower[i] in self.boosters or (lower[i] == "kind" and i < len(lower) - 1 and lower[i + 1] == "of"):
                continue
            sentiments[i] = self._valence(words, lower, i, cap_diff)
        if "but" in lower:
            sentiments = self.v.SentimentIntensityAnalyzer._but_check(words, sentiments)
        total = float(sum(sentiments))
        emphasis = self.reference._punctuation_emphasis(text)
        total = total + emphasis if total > 0 else total - emphasis if total < 0 else total
        return self.v.normalize(total)

    def _valence(self, words: list[str], lower: list[str], i: int, cap_diff: bool) -> float:
        """VADER's `sentiment_valence` for the lexicon word at `i`, with the lower-cased words given."""
        v, lexicon = self.v, self.lexicon
        valence = lexicon[lower[i]]
        if lower[i] == "no" and i != len(words) - 1 and lower[i + 1] in lexicon:
            valence = 0.0
        if (i > 0 and lower[i - 1] == "no") or (i > 1 and lower[i - 2] == "no") or (
                i > 2 and lower[i - 3] == "no" and lower[i - 1] in ("or", "nor")):
            valence = lexicon[lower[i]] * v.N_SCALAR
        if cap_diff and words[i].isupper():
            valence = valence + v.C_INCR if valence > 0 else valence - v.C_INCR
        analyzer = v.SentimentIntensityAnalyzer
        for start in range(3):
            before = i - (start + 1)
            if i > start and lower[before] not in lexicon:
                if lower[before] in self.boosters:
                    s = v.scalar_inc_dec(words[before], valence, cap_diff)
                    if s != 0 and start:
                        s *= 0.95 if start == 1 else 0.9
                    valence += s
                valence = self._negation(valence, lower, start, i)
                # here i >= 3: the idiom check reads three words back, two ahead
                if start == 2 and not self.idiom_words.isdisjoint(lower[i - 3 : i + 3]):
                    valence = analyzer._special_idioms_check(valence, words[i - 3 : i + 3], 3)
        return self.reference._least_check(valence, words, i)

    def _negation(self, valence: float, lower: list[str], start: int, i: int) -> float:
        """VADER's `_negation_check` on the lower-cased words."""
        before = lower[i - (start + 1)]
        scalar = self.v.N_SCALAR
        if start == 0:
            return valence * scalar if self._negated(before) else valence
        if start == 1:
            if lower[i - 2] == "never" and lower[i - 1] in ("so", "this"):
                return valence * 1.25
            if lower[i - 2] == "without" and lower[i - 1] == "doubt":
                return valence
            return valence * scalar if self._negated(before) else valence
        if (lower[i - 3] == "never" and lower[i - 2] in ("so", "this")) or lower[i - 1] in ("so", "this"):
            return valence * 1.25
        if lower[i - 3] == "without" and "doubt" in (lower[i - 2], lower[i - 1]):
            return valence
        return valence * scalar if self._negated(before) else valence

    def _negated(self, word: str) -> bool:
        return word in self.negations or "n't" in word

    def _describe_emojis(self, text: str) -> str:
        """VADER's own emoji step: each emoji becomes its description, as words."""
        out, prev_space = [], True
        for char in text:
            description = self.emojis.get(char)
            if description is not None:
                if not prev_space:
                    out.append(" ")
                out.append(description)
                prev_space = False
            else:
                out.append(char)
                prev_space = char == " "
        return "".join(out)


_PUNCTUATION = string.punctuation
MAX_CACHED_TOKENS = 200_000


def _word(token: str) -> str:
    """VADER strips punctuation around a word unless that leaves two characters or fewer (":)")."""
    stripped = token.strip(_PUNCTUATION)
    return stripped if len(stripped) > 2 else token


_LOCK = threading.Lock()
_VADER: list[_Vader] = []


def _vader() -> _Vader:
    if not _VADER:
        with _LOCK:
            if not _VADER:
                _VADER.append(_Vader())
    return _VADER[0]


def compound(text: str) -> float:
    """VADER's compound score of the first HEAD_CHARS characters of `text`, rounded to 4 places."""
    return round(_vader().compound(text[:HEAD_CHARS]), 4)


def compounds(texts: Sequence[str], tokens: Sequence[list[str] | None] | None = None) -> list[float]:
    """`compound` of each text. `tokens`: per text, `text.split()` where the caller has it (None
    where not); used where the text is within HEAD_CHARS."""
    vader = _vader()
    if tokens is None:
        return [round(vader.compound(t[:HEAD_CHARS]), 4) for t in texts]
    return [round(vader.compound(t[:HEAD_CHARS], k if len(t) <= HEAD_CHARS else None), 4)
            for t, k in zip(texts, tokens, strict=True)]
