"""Scores of predicted labels against the truth: per-label precision, recall and F1,
and the macro averages. Training, evaluation and the benchmarks report with it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def classification_report(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    labels = sorted(set(truth) | set(predicted))
    per_class = {}
    for label in labels:
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p == label)
        fp = sum(1 for t, p in zip(truth, predicted, strict=True) if t != label and p == label)
        fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                            "support": tp + fn}
    present = [label for label in labels if per_class[label]["support"] > 0]
    macro = float(np.mean([per_class[label]["f1"] for label in present])) if present else 0.0
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for t, p in zip(truth, predicted, strict=True):
        matrix[index[t]][index[p]] += 1
    critical = {"recall": None, "precision": None, "support": 0}
    if "critical" in per_class:
        c = per_class["critical"]
        critical = {"recall": c["recall"] if c["support"] else None,
                    "precision": c["precision"] if any(p == "critical" for p in predicted) else None,
                    "support": c["support"]}
    return {"macro_f1": round(macro, 4), "per_class": per_class, "confusion": {"labels": labels, "matrix": matrix},
            "critical": critical, "n": len(truth)}


# reading ----------------------------------------------------------------------------
