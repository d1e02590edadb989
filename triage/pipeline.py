"""The triage model as a whole: features, a priority head, a category head, the
Critical rule layer, and how they combine into a `Suggestion`.

Critical = the rules OR the model's calibrated P(critical) at or above a threshold
chosen on cross-validated training scores for recall (never on the held-out split).
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import skops.io as sio
from sklearn.feature_extraction.text import TfidfVectorizer

from triage import sentiment, tone
from triage.features import CharHasher, Tokens, document
from triage.labels import CATEGORIES, PRIORITIES
from triage.model import Featurizer, Head, fit_head, joint_coef, probabilities_parts, top_terms
from triage.rules import critical_reasons
from triage.types import Suggestion, TriageInput

# 2: character n-grams inside words (format 1 hashed them across the whole text: a format-1
# model would see other columns, so it is not loaded; the seed model stands in until retrained)
FORMAT = 2
HINT_ODDS = 3.0
CRITICAL_PRECISION_FLOOR = 0.9  # of rules OR model, on cross-validated training scores
# Below this share of known words a message is out of domain: the suggestion is still made (and
# scored by `trkv eval`), but flagged needs_triage. Chosen on dev parts: about the median of
# Hadoop Jira dev (engineers' issue text), the 20th percentile of Bitext dev.
OUT_OF_DOMAIN_KNOWN = 0.6


class TriageModel:
    def __init__(self, featurizer: Featurizer, heads: dict[str, Head], *, version: str = "",
                 critical_threshold: float = 0.5, confidence_threshold: float = 0.6,
                 meta: dict[str, Any] | None = None):
        self.featurizer = featurizer
        self.heads = heads
        self.version = version
        self.critical_threshold = critical_threshold
        self.confidence_threshold = confidence_threshold
        self.meta = meta or {}
        self._joint: tuple[tuple[Head, ...], np.ndarray] | None = None

    # training -----------------------------------------------------------------------

    @classmethod
    def fit(cls, records: Sequence[Mapping[str, Any]], *, targets: Sequence[str] = ("priority", "category"),
            version: str = "", c: float = 0.5) -> TriageModel:
        started = time.perf_counter()
        docs = [doc_of(r) for r in records]
        featurizer = Featurizer().fit(docs)
        features = featurizer.transform(docs)
        groups = [str(r.get("situation", r.get("source", i))) for i, r in enumerate(records)]
        heads = {}
        for target in targets:  # a record may teach one label only (a correction of the category)
            rows = [i for i, r in enumerate(records) if r.get(target)]
            heads[target] = fit_head(features[rows], [records[i][target] for i in rows], c=c,
                                     groups=[groups[i] for i in rows],
                                     weights=[float(records[i].get("weight") or 1.0) for i in rows])
        threshold = 0.5
        if "priority" in heads and "critical" in heads["priority"].classes:
            ruled = np.array([bool(critical_reasons(f"{r.get('subject') or ''}\n{r.get('text') or ''}"))
                              for r in records if r.get("priority")])
            threshold = _critical_threshold(heads["priority"], ruled)
        meta = {"examples": len(records), "train_seconds": round(time.perf_counter() - started, 2)}
        return cls(featurizer, heads, version=version, critical_threshold=threshold, meta=meta)

    # prediction ---------------------------------------------------------------------

    def probabilities(self, docs: Sequence[str], target: str) -> np.ndarray:
        return self.heads[target].probabilities(self.featurizer.transform(docs))

    def predict(self, items: Sequence[TriageInput]) -> list[Suggestion]:
        if not items:
            return []
        docs = [document(i.text, i.channel, i.subject, i.hints) for i in items]
        tokens = Tokens(docs)
        words, chars, known = self.featurizer.transform_parts_known(docs, tokens)
        pri, cat = self.heads["priority"], self.heads["category"]
        p_pri, p_cat = probabilities_parts((pri, cat), words, chars, self._joint_coef(pri, cat))
        crit = pri.classes.index("critical")
        _apply_category_hints(p_cat, cat.classes, items)
        cat_choice = p_cat.argmax(axis=1)
        pri_choice = np.where(p_pri[:, crit] >= self.critical_threshold, crit, _argmax_without(p_pri, crit))
        # Above 0.5 the threshold can leave a Critical argmax behind: the next best label wins.
        names, n_words = self.featurizer.word_names, self.featurizer.n_words
        pri_terms, cat_terms = top_terms(words, ((pri, pri_choice), (cat, cat_choice)), names, n_words)
        texts = [f"{item.subject}\n{item.text}" if item.subject else item.text for item in items]
        moods = sentiment.compounds(texts, _text_tokens(items, tokens))
        # plain lists: a numpy scalar read per row and field cost more than the rest of the loop
        p_pri_rows, p_cat_rows, pri_rows = p_pri.tolist(), p_cat.tolist(), pri_choice.tolist()
        out = []
        for row, (item, cat_row) in enumerate(zip(items, cat_choice.tolist(), strict=True)):
            reasons = critical_reasons(f"{item.subject or ''}\n{item.text}")
            priority = pri.classes[pri_rows[row]]
            category = cat.classes[cat_row]
            evidence = {"priority": pri_terms[row], "category": cat_terms[row]}
            mood = tone.read(texts[row], moods[row]) if category == "no_action" else None  # only no_action needs it
            if mood is not None and mood.rules_out_no_action:
                # a complaint, anger or a question always needs an answer: the next best category
                category = cat.classes[_argmax_without(p_cat[row : row + 1], cat.classes.index(category))[0]]
                evidence["no_action_ruled_out"] = mood.reasons()
            p_priority = p_pri_rows[row][pri_rows[row]]
            if reasons:
                evidence["critical"] = reasons
                p_priority = max(p_priority, p_pri_rows[row][crit])
                priority = "critical"
            elif priority == "critical":
                evidence["critical"] = [f"model: P(critical) {p_pri_rows[row][crit]:.2f} from "
                                        + ", ".join(pri_terms[row][:3] or ["the text"])]
            if category == "no_action" and priority != "critical":
                priority = "low"  # praise, spam and chatter start no SLA clock worth a higher target
            confidence = round(min(p_priority, p_cat_rows[row][cat.classes.index(category)]), 3)
            unfamiliar = known[row] < OUT_OF_DOMAIN_KNOWN
            if unfamiliar:
                evidence["out_of_domain"] = [f"the model knows {known[row]:.0%} of its words"]
            out.append(Suggestion(
                priority=priority,
                category=category,
                confidence=confidence,
                model_version=self.version,
                evidence=evidence,
                needs_triage=(confidence < self.confidence_threshold or unfamiliar or not _textual(evidence))
                and not reasons,
                sentiment=moods[row],
                praise=category == "no_action" and mood is not None and mood.praise,
            ))
        return out

    def _joint_coef(self, *heads: Head) -> np.ndarray:
        """The heads' weights side by side, made once per set of heads (a retrained head is new)."""
        if self._joint is None or any(a is not b for a, b in zip(self._joint[0], heads, strict=True)):
            self._joint = (heads, joint_coef(heads))
        return self._joint[1]

    # persistence (skops: arrays and strings only, nothing is unpickled) --------------

    def save(self, path: Path) -> None:
        words, chars = self.featurizer.words, self.featurizer.chars
        state = {
            "format": FORMAT,
            "version": self.version,
            "critical_threshold": float(self.critical_threshold),
            "confidence_threshold": float(self.confidence_threshold),
            "meta": {k: v for k, v in self.meta.items() if isinstance(v, (int, float, str))},
            "word_terms": np.asarray(self.featurizer.word_names, dtype=str),
            "word_idf": np.asarray(words.idf_, dtype=np.float64),
            "char_ngram_range": list(chars.ngram_range),
            "char_n_features": int(chars.n_features),
            "char_max_chars": int(chars.max_chars),
            "char_idf": chars.idf_,
            "heads": {
                name: {"classes": list(h.classes), "coef": h.coef, "intercept": h.intercept,
                       "cal_coef": h.cal_coef, "cal_intercept": h.cal_intercept}
                for name, h in self.heads.items()
            },
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        sio.dump(state, tmp, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> TriageModel:
        state = sio.load(path, trusted=[])
        if state.get("format") != FORMAT:
            raise ValueError(f"{path}: unknown model format {state.get('format')!r}")
        featurizer = Featurizer()
        terms = [str(t) for t in state["word_terms"]]
        featurizer.words = _vectorizer(featurizer.words, terms, state["word_idf"])
        featurizer.word_names = np.asarray(terms, dtype=object)
        chars = CharHasher(tuple(state["char_ngram_range"]), state["char_n_features"], state["char_max_chars"])
        chars.idf_ = state["char_idf"]
        featurizer.chars = chars
        heads = {name: Head(h["classes"], h["coef"], h["intercept"], h["cal_coef"], h["cal_intercept"])
                 for name, h in state["heads"].items()}
        return cls(featurizer, heads, version=state["version"], critical_threshold=state["critical_threshold"],
                   confidence_threshold=state["confidence_threshold"], meta=state["meta"])


def _textual(evidence: dict[str, list[str]]) -> bool:
    """Whether any word of the message itself weighed in. A label guessed from the
    channel alone (a language or vocabulary the model never saw) is not to be trusted."""
    return any(not term.startswith("hint_") for key in ("priority", "category") for term in evidence.get(key, []))


def _text_tokens(items: Sequence[TriageInput], tokens: Tokens) -> list[list[str] | None]:
    """Per message, `text.split()` where its document holds the text as it is (no subject before
    it, no code block or link replaced), else None."""
    return [text if not item.subject and "```" not in item.text and "://" not in item.text else None
            for item, text in zip(items, tokens.text, strict=True)]


def _apply_category_hints(probabilities: np.ndarray, classes: list[str], items: Sequence[TriageInput]) -> None:
    """Where the message arrived is a strong hint (a post in Discord's Bug Reports is
    usually a bug report): the hinted category's odds are multiplied by HINT_ODDS."""
    for row, item in enumerate(items):
        hinted = item.hints.get("category") if item.hints else None
        if hinted in classes:
            probabilities[row, classes.index(hinted)] *= HINT_ODDS
            probabilities[row] /= probabilities[row].sum()


def doc_of(record: Mapping[str, Any]) -> str:
    return document(record.get("text") or "", record.get("channel") or "", record.get("subject"),
                    record.get("hints") or {})


def _vectorizer(template: TfidfVectorizer, terms: list[str], idf: np.ndarray) -> TfidfVectorizer:
    params = template.get_params()
    params["vocabulary"] = {t: i for i, t in enumerate(terms)}
    vectorizer = TfidfVectorizer(**params)
    vectorizer.idf_ = idf
    return vectorizer


def _argmax_without(probabilities: np.ndarray, column: int) -> np.ndarray:
    masked = probabilities.copy()
    masked[:, column] = -1
    return masked.argmax(axis=1)


def _critical_threshold(head: Head, ruled: np.ndarray) -> float:
    """The lowest threshold on the model's P(critical) at which the Critical messages the
    model adds to the rules' are right at least CRITICAL_PRECISION_FLOOR of the time, on
    cross-validated training scores: as much recall as that precision allows (a miss
    costs more than a false alarm). The rules' own hits do not count: they were written
    with the training messages in view, and would flatter any threshold."""
    column = head.classes.index("critical")
    truth = head.oof_labels == "critical"
    p = head.oof_probabilities[:, column]
    for threshold in np.arange(0.10, 0.951, 0.02):
        added = ~ruled & (p >= threshold)
        precision = (added & truth).sum() / max(1, added.sum()) if added.any() else 1.0
        if precision >= CRITICAL_PRECISION_FLOOR:
            return round(float(threshold), 2)
    return 0.95


__all__ = ["CATEGORIES", "PRIORITIES", "TriageModel", "doc_of"]
