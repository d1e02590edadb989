"""Learning from corrections, measured: a team adopts the hub in a new domain.

    .venv/bin/python bench/triage_learning.py [--steps 0,25,50,100,250] [--output bench/results/triage_learning.json]

The new domain is the Bitext customer-service requests (shared/data), mapped onto the hub's
categories by `triage.corpora.BITEXT_CATEGORY`. Corrections are drawn, in a fixed random order,
from the dev part of `triage.splits`; every figure is on the test part, which no model sees.
After n corrections the model is the seed's training split plus the n corrections (each
weighing `training.CORRECTION_WEIGHT` seed examples), trained as `trkv train` does.
Figures per n: category accuracy and macro-F1, the share of requests called no_action (each
an error here: every request needs an answer), the abstention (needs_triage) rate, retrain seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from triage import corpora, metrics, splits, training  # noqa: E402
from triage.pipeline import TriageModel  # noqa: E402

SHARED = Path(os.environ.get("TRKV_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
STEPS = (0, 25, 50, 100, 250)


def correction_pool(root: Path, seed: int = 7) -> list[dict]:
    pool = corpora.bitext(root, "dev")
    random.Random(seed).shuffle(pool)
    return pool


def score(model: TriageModel, test: list[dict]) -> dict:
    suggestions = model.predict(corpora.inputs(test))
    truth = [r["category"] for r in test]
    guess = [s.category for s in suggestions]
    report = metrics.classification_report(truth, guess)
    n = len(test)
    return {"accuracy": round(sum(t == g for t, g in zip(truth, guess, strict=True)) / n, 4),
            "macro_f1": report["macro_f1"],
            "no_action_errors": round(sum(g == "no_action" for g in guess) / n, 4),
            "abstention": round(sum(s.needs_triage for s in suggestions) / n, 4)}


def curve(root: Path, steps=STEPS, weight: float | None = None) -> dict:
    pool, test = correction_pool(root), corpora.bitext(root, "test")
    seed_rows = training.load_seed("train")
    weight = weight or training.CORRECTION_WEIGHT
    out = {}
    for n in steps:
        started = time.perf_counter()
        model = TriageModel.fit(seed_rows + [{**r, "weight": weight} for r in pool[:n]], version=f"curve-{n}")
        seconds = round(time.perf_counter() - started, 1)
        out[str(n)] = {**score(model, test), "retrain_seconds": seconds}
        print(f"{n:>4} corrections: {out[str(n)]}", flush=True)
    return {"split": f"corrections from Bitext dev, scored on Bitext test ({splits.NAME})", "test_rows": len(test),
            "correction_weight": weight, "curve": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", default=",".join(map(str, STEPS)))
    parser.add_argument("--weight", type=float, default=None)
    parser.add_argument("--output", default=str(Path(__file__).with_name("results") / "triage_learning.json"))
    args = parser.parse_args()
    figures = curve(SHARED, [int(s) for s in args.steps.split(",")], args.weight)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
