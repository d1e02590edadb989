"""Triage quality figures for bench/triage.py, each on data it was not tuned on, with the split named.

- seed held-out: the seed's `split == "test"` rows (never trained on);
- customer requests: Bitext, test part of `triage.splits` (the tone cues were tuned on the dev part);
- Hadoop Jira: dev and test parts of `triage.splits` by issue id (the second round's rules were
  written against dev only; the first round's rules saw the whole file, so test is not clean of them);
- NLBSE'24: 5-fold cross-validation per repository (what tests/test_triage.py gates at 0.77).
Abstention (needs_triage) is reported beside every accuracy; the accuracy scores the best guess.
"""

from __future__ import annotations

from pathlib import Path

from triage import corpora, evaluate, splits, training
from triage.pipeline import TriageModel
from triage.types import TriageInput

# From issue 19: real first tweets to a brand that the first-round model called no_action.
ISSUE_TWEETS = (
    "@AcmeAir still waiting to be contacted after you guys damaged my goods",
    "@AcmeAir wow you guys suck",
    "@AcmeAir Waiting on baggage for almost 15 minutes 😡",
    "@AcmeAir Brand new suitcase zipper broken off leaving my bag wide open",
)


def _answered(suggestions) -> int:
    """Messages that get exactly one reply: an acknowledgement (not a silent no_action: the
    outbox acknowledges anything else, and a no_action that needs triage) or a thank-you (praise)."""
    return sum(1 for s in suggestions if s.category != "no_action" or s.needs_triage or s.praise)


def held_out(model: TriageModel) -> dict:
    report = training.score_held_out(model)
    return {"split": "seed.jsonl split=test", "priority_macro_f1": report["priority"]["macro_f1"],
            "category_macro_f1": report["category"]["macro_f1"], "critical": report["critical"],
            "abstention": report["needs_triage_share"]}


def customer_requests(model: TriageModel, root: Path) -> dict:
    rows = corpora.bitext(root, "test")
    suggestions = model.predict(corpora.inputs(rows))
    n = len(rows)
    tweets = model.predict([TriageInput(text=t, channel="x", hints=corpora.X_MENTION) for t in ISSUE_TWEETS])
    return {"split": f"Bitext test part ({splits.NAME}), sent as X mentions", "n": n,
            "answered_per_100": round(100 * _answered(suggestions) / n, 1),
            "no_action_raw_per_100": round(100 * sum(s.category == "no_action" for s in suggestions) / n, 1),
            "abstention": round(sum(s.needs_triage for s in suggestions) / n, 3),
            "issue_19_tweets_answered": f"{_answered(tweets)} of {len(tweets)}"}


def hadoop(model: TriageModel, root: Path) -> dict:
    out = {}
    for part in ("dev", "test"):
        rows = corpora.hadoop(root, part)
        suggestions = model.predict(corpora.inputs(rows))
        truth = [r["critical"] for r in rows]
        flagged = [s.priority == "critical" for s in suggestions]
        hits = sum(t and f for t, f in zip(truth, flagged, strict=True))
        out[part] = {"n": len(rows), "critical": sum(truth), "recall": round(hits / max(1, sum(truth)), 3),
                     "precision": round(hits / max(1, sum(flagged)), 3),
                     "abstention": round(sum(s.needs_triage for s in suggestions) / len(rows), 3),
                     "confident_no_action": sum(s.category == "no_action" and not s.needs_triage for s in suggestions)}
    out["split"] = f"Hadoop Jira by issue id ({splits.NAME}); round-2 rules written on dev only"
    return out


def nlbse(root: Path) -> dict:
    path = root / "nlbse24-issues" / "issues_train.csv"
    r = evaluate.run(path, path, ["title", "body"], "label", "repo", True,
                     {"bug": "bug_report", "feature": "feature_request", "question": "support_question"})
    return {"split": "5-fold CV per repository", "mean_macro_f1": r["macro_f1"],
            "per_repo": {k: v["macro_f1"] for k, v in r["per_group"].items()}}


def out_of_domain(model: TriageModel) -> dict:
    """Text unlike the training data: flagged for a person, not guessed with confidence."""
    samples = {"german": "Wie ändere ich die Rechnungsadresse? Ich finde die Einstellung nicht.",
               "spanish": "Hola, quiero cambiar mi contraseña pero el enlace no funciona",
               "code": "def merge(a, b):\n    return {k: v for k, v in (a | b).items() if v is not None}"}
    got = model.predict([TriageInput(text=t, channel="email") for t in samples.values()])
    return {name: {"needs_triage": s.needs_triage, "best_guess": s.category} for name, s in zip(samples, got, strict=True)}
