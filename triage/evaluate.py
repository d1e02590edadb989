"""Evaluation: read a labelled file (CSV or JSONL), score the shipped model or a
model trained on another file, and report per-class precision/recall/F1, macro-F1,
the confusion matrix and Critical recall/precision, with an HTML chart.

Needs no database. When --train and --test name the same file, scoring a model on
its own training rows would mean nothing, so the file is cross-validated (5 folds,
stratified, per group with --train-per-group).
"""

from __future__ import annotations

import csv
import html
import json
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from triage.labels import PRIORITIES
from triage.metrics import classification_report

FOLDS = 5


def read_table(path: Path) -> list[dict[str, Any]]:
    """Rows of a CSV file (with a header) or a JSONL file (one object a line)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json") or text.lstrip().startswith("{"):
        rows = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{number}: not a JSON object ({exc.msg})") from None
        return rows
    csv.field_size_limit(sys.maxsize)
    return list(csv.DictReader(text.splitlines(keepends=True)))


def parse_map(spec: str | None) -> dict[str, str]:
    mapping = {}
    for pair in (spec or "").split(","):
        if pair.strip():
            if "=" not in pair:
                raise ValueError(f"--map expects a=b pairs, got {pair!r}")
            old, new = pair.split("=", 1)
            mapping[old.strip()] = new.strip()
    return mapping


def to_records(rows: Sequence[Mapping[str, Any]], text_cols: Sequence[str], label_col: str,
               mapping: Mapping[str, str], group_col: str | None, source: str) -> list[dict[str, Any]]:
    """Rows as triage records: with two or more text columns the first is the subject."""
    if rows:
        missing = [c for c in [*text_cols, label_col, *([group_col] if group_col else [])] if c not in rows[0]]
        if missing:
            raise ValueError(f"{source}: no column {', '.join(missing)} (columns: {', '.join(rows[0])})")
    records = []
    for row in rows:
        label = str(row.get(label_col) or "").strip()
        label = mapping.get(label, label)
        if not label:
            continue
        parts = [str(row.get(c) or "") for c in text_cols]
        subject, body = (parts[0], "\n".join(parts[1:])) if len(parts) > 1 else (None, parts[0])
        hints = row.get("hints") if isinstance(row.get("hints"), dict) else {}
        records.append({"text": body, "subject": subject, "channel": str(row.get("channel") or ""), "hints": hints,
                        "label": label, "group": str(row.get(group_col)) if group_col else None})
    return records


# scoring ----------------------------------------------------------------------------

def run(test: Path, train: Path | None, text_cols: Sequence[str], label_col: str, group_col: str | None = None,
        per_group: bool = False, mapping: Mapping[str, str] | None = None, target: str | None = None) -> dict[str, Any]:
    mapping = mapping or {}
    if per_group and not group_col:
        raise ValueError("--train-per-group needs --group")
    if per_group and train is None:
        raise ValueError("--train-per-group needs --train")
    test_records = to_records(read_table(test), text_cols, label_col, mapping, group_col, str(test))
    if not test_records:
        raise ValueError(f"{test}: no labelled rows")
    target = target or ("priority" if {r["label"] for r in test_records} <= set(PRIORITIES) else "category")
    same_file = train is not None and train.resolve() == test.resolve()
    if train is None:
        predicted = _shipped(test_records, target)
        mode = "shipped model"
    elif same_file:
        predicted = _cross_validated(test_records, per_group)
        mode = f"{FOLDS}-fold cross-validation" + (" per group" if per_group else "")
    else:
        train_records = to_records(read_table(train), text_cols, label_col, mapping, group_col, str(train))
        predicted = _trained(train_records, test_records, per_group)
        mode = "one model per group" if per_group else "pooled model"
    truth = [r["label"] for r in test_records]
    result = classification_report(truth, predicted)
    result.update({"target": target, "mode": mode, "per_group": {}})
    if group_col:
        groups = sorted({r["group"] for r in test_records})
        for group in groups:
            rows = [i for i, r in enumerate(test_records) if r["group"] == group]
            report = classification_report([truth[i] for i in rows], [predicted[i] for i in rows])
            result["per_group"][group] = {"macro_f1": report["macro_f1"], "critical": report["critical"],
                                          "n": report["n"]}
        result["pooled_macro_f1"] = result["macro_f1"]
        result["macro_f1"] = round(float(np.mean([g["macro_f1"] for g in result["per_group"].values()])), 4)
    return result


def _shipped(records: Sequence[Mapping[str, Any]], target: str) -> list[str]:
    from triage.classifier import active_model
    from triage.types import TriageInput

    model = active_model()
    items = [TriageInput(text=r["text"], channel=r["channel"], subject=r["subject"], hints=r["hints"]) for r in records]
    return [getattr(s, target) for s in model.predict(items)]


def _fit_predict(train: Sequence[Mapping[str, Any]], test: Sequence[Mapping[str, Any]]) -> list[str]:
    from triage.pipeline import TriageModel, doc_of

    model = TriageModel.fit([{**r, "target": r["label"]} for r in train], targets=("target",))
    head = model.heads["target"]
    probabilities = model.probabilities([doc_of(r) for r in test], "target")
    return [head.classes[i] for i in probabilities.argmax(axis=1)]


def _trained(train: Sequence[Mapping[str, Any]], test: Sequence[Mapping[str, Any]], per_group: bool) -> list[str]:
    if not per_group:
        return _fit_predict(train, test)
    predicted: list[str | None] = [None] * len(test)
    for group in sorted({r["group"] for r in test}):
        rows = [i for i, r in enumerate(test) if r["group"] == group]
        group_train = [r for r in train if r["group"] == group]
        if not group_train:
            raise ValueError(f"group {group!r} has no training rows")
        for i, label in zip(rows, _fit_predict(group_train, [test[i] for i in rows]), strict=True):
            predicted[i] = label
    return predicted  # type: ignore[return-value]


def _cross_validated(records: Sequence[Mapping[str, Any]], per_group: bool) -> list[str]:
    from sklearn.model_selection import StratifiedKFold

    predicted: list[str | None] = [None] * len(records)
    groups = sorted({r["group"] for r in records}) if per_group else [None]
    for group in groups:
        rows = [i for i, r in enumerate(records) if not per_group or r["group"] == group]
        labels = [records[i]["label"] for i in rows]
        smallest = min(Counter(labels).values())
        folds = StratifiedKFold(max(2, min(FOLDS, smallest)), shuffle=True, random_state=0)
        for train_idx, test_idx in folds.split(np.zeros(len(rows)), labels):
            train = [records[rows[i]] for i in train_idx]
            test = [records[rows[i]] for i in test_idx]
            for i, label in zip(test_idx, _fit_predict(train, test), strict=True):
                predicted[rows[i]] = label
    return predicted  # type: ignore[return-value]


# output -----------------------------------------------------------------------------

def as_json(result: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("macro_f1", "per_group", "per_class", "critical", "confusion", "target", "mode", "n", "chart")
    return {k: result[k] for k in keys if k in result}


def as_text(result: Mapping[str, Any]) -> str:
    lines = [f"{result['mode']}, target {result['target']}, {result['n']} rows"]
    lines.append(f"{'class':<20} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}")
    for label, m in result["per_class"].items():
        lines.append(f"{label:<20} {m['precision']:>9.3f} {m['recall']:>7.3f} {m['f1']:>7.3f} {m['support']:>8}")
    for group, g in result["per_group"].items():
        lines.append(f"group {group}: macro-F1 {g['macro_f1']:.3f} ({g['n']} rows)")
    lines.append(f"macro-F1: {result['macro_f1']:.4f}" + (" (mean over groups)" if result["per_group"] else ""))
    crit = result["critical"]
    if crit["support"]:
        lines.append(f"Critical: recall {_fmt(crit['recall'])}, precision {_fmt(crit['precision'])} "
                     f"({crit['support']} Critical rows)")
    labels, matrix = result["confusion"]["labels"], result["confusion"]["matrix"]
    lines.append("confusion (rows: true, columns: predicted)")
    width = max(len(label) for label in labels) + 1
    lines.append(" " * width + " ".join(f"{label[:8]:>8}" for label in labels))
    for label, row in zip(labels, matrix, strict=True):
        lines.append(f"{label:<{width}}" + " ".join(f"{v:>8}" for v in row))
    if result.get("chart"):
        lines.append(f"chart: {result['chart']}")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def write_chart(result: Mapping[str, Any], folder: Path) -> Path:
    """A self-contained HTML page: per-class bars and the confusion matrix."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"eval-{datetime.now(UTC):%Y%m%d-%H%M%S-%f}.html"
    bars = []
    for label, m in result["per_class"].items():
        cells = "".join(
            f'<div class="bar {k}" style="width:{m[k] * 300:.0f}px">{k} {m[k]:.2f}</div>' for k in ("precision", "recall", "f1")
        )
        bars.append(f"<tr><th>{html.escape(label)}</th><td>{cells}</td><td>{m['support']}</td></tr>")
    labels, matrix = result["confusion"]["labels"], result["confusion"]["matrix"]
    peak = max(max(row) for row in matrix) or 1
    head = "".join(f"<th>{html.escape(label)}</th>" for label in labels)
    body = "".join(
        f"<tr><th>{html.escape(label)}</th>"
        + "".join(f'<td style="background:rgba(40,90,200,{v / peak:.2f})">{v}</td>' for v in row) + "</tr>"
        for label, row in zip(labels, matrix, strict=True)
    )
    crit = result["critical"]
    path.write_text(f"""<!doctype html><meta charset="utf-8"><title>trkv eval</title>
<style>body{{font:14px system-ui;margin:2em}} .bar{{height:16px;margin:2px 0;color:#fff;font-size:11px;padding-left:4px}}
.precision{{background:#3a7}} .recall{{background:#37a}} .f1{{background:#a73}} td,th{{padding:4px 8px;text-align:left}}
table.cm td{{text-align:right;min-width:3em}}</style>
<h1>{html.escape(result['mode'])}: {html.escape(result['target'])}</h1>
<p>macro-F1 <b>{result['macro_f1']:.4f}</b> on {result['n']} rows; Critical recall {_fmt(crit['recall'])},
precision {_fmt(crit['precision'])}</p>
<table>{''.join(bars)}</table><h2>Confusion matrix (rows: true)</h2>
<table class="cm"><tr><th></th>{head}</tr>{body}</table>
""", encoding="utf-8")
    return path
