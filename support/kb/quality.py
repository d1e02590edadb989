"""Retrieval quality of the ticket suggestions on the labelled customer questions
(tests/fixtures/kb/questions.jsonl): top-1 and top-3 accuracy per split. The split is
fixed in the file (by a hash of each question, before any tuning): thresholds and
weights are tuned on `dev`; `test` is what is reported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support.kb import search
from trkv.settings import Settings

QUESTIONS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "kb" / "questions.jsonl"


def questions(split: str | None = None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row for row in rows if split is None or row["split"] == split]


def evaluate(settings: Settings, split: str) -> dict[str, Any]:
    """{questions, top1, top3, confident_precision, confident_share} for one split."""
    rows = questions(split)
    top1 = top3 = confident = confident_right = 0
    misses = []
    for row in rows:
        found = [s["slug"] for s in search.suggest(settings, row["text"], limit=3)]
        top1 += found[:1] == [row["slug"]]
        top3 += row["slug"] in found
        best = search.confident_match(settings, row["text"])
        if best is not None:
            confident += 1
            confident_right += best["slug"] == row["slug"]
        if row["slug"] not in found:
            misses.append({"text": row["text"], "want": row["slug"], "got": found})
    n = len(rows) or 1
    return {"split": split, "questions": len(rows), "top1": round(top1 / n, 3), "top3": round(top3 / n, 3),
            "confident_share": round(confident / n, 3),
            "confident_precision": round(confident_right / confident, 3) if confident else None,
            "misses": misses}
