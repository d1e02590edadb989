"""Triage benchmark: suggestion throughput and latency, training time, and quality figures.

    .venv/bin/python bench/triage.py [--quick] [--output bench/results/triage.json]

1. Batch throughput: `suggest_batch` on batches of 1,000 generated messages (bench/synthetic.py:
   email, Discord and X, 50-2,000 characters, log-uniform) and on the seed set's messages,
   after one warm-up batch, in one process and in one process per core. Target >= 20,000 msg/s.
2. Single-message latency: `suggest([one])` 2,000 times (`--quick`: 500); p50/p99. Target p99 <= 2 ms.
3. Training time: the seed model (the seed's training split) and 100,000 messages (`--quick`:
   20,000): the seed's messages resampled with words dropped and swapped, so no two are alike.
4. Quality: held-out split (priority/category macro-F1, Critical recall/precision), NLBSE'24
   issues (5-fold CV per repository, mean macro-F1; skipped with --quick) and Hadoop Jira
   zero-shot Critical recall/precision, when ../shared/data is there.

Figures are printed and written as JSON (`--output`).
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "triage":
    # Another bench script put bench/ first on sys.path and asked for the triage package:
    # hand it the real one (the import system returns whatever sys.modules holds by now).
    import importlib.util

    _real = Path(__file__).resolve().parents[1] / "triage" / "__init__.py"
    _spec = importlib.util.spec_from_file_location("triage", _real, submodule_search_locations=[str(_real.parent)])
    _package = importlib.util.module_from_spec(_spec)
    sys.modules["triage"] = _package
    _spec.loader.exec_module(_package)

import argparse
import json
import os
import platform
import random
import tempfile
import time

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
if __name__ == "__main__":
    os.environ.setdefault("TRKV_HOME", tempfile.mkdtemp(prefix="trkv-bench-triage-"))

import numpy as np  # noqa: E402

from bench.synthetic import MessageFactory  # noqa: E402
from triage import evaluate, store, training  # noqa: E402
from triage.classifier import active_model, suggest, suggest_batch  # noqa: E402
from triage.pipeline import TriageModel  # noqa: E402
from triage.types import TriageInput  # noqa: E402

SHARED = Path(os.environ.get("TRKV_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def _inputs_from_factory(n: int) -> list[TriageInput]:
    factory = MessageFactory(seed=11)
    out = []
    while len(out) < n:
        out.extend(TriageInput(text=m.text, channel=m.channel, subject=m.subject, hints=m.hints)
                   for m in factory.batch(1000))
    return out[:n]


def _inputs_from_seed() -> list[TriageInput]:
    return [TriageInput(text=r["text"], channel=r["channel"], subject=r["subject"], hints=r["hints"])
            for r in training.load_seed()]


def throughput(items: list[TriageInput], batch: int = 1000) -> dict[str, float]:
    """Messages per wall-clock second, and per CPU second of this process (the machine
    may be shared: the second figure is what one free core would do)."""
    suggest_batch(items[:batch])  # warm-up
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(items), batch):
        suggest_batch(items[start : start + batch])
    return {"wall": round(len(items) / (time.perf_counter() - wall)),
            "cpu": round(len(items) / (time.process_time() - cpu))}


def throughput_pool(items: list[TriageInput], batch: int = 1000, workers: int | None = None) -> dict[str, float]:
    """The same across one process per core, as `trkv import` triages (forked workers that
    share the loaded model; suggestions travel back pickled)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    workers = workers or os.cpu_count() or 1
    batches = [items[start : start + batch] for start in range(0, len(items), batch)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        list(pool.map(suggest_batch, batches[:workers]))  # warm-up: every worker has its model
        wall = time.perf_counter()
        done = sum(len(s) for s in pool.map(suggest_batch, batches))
    return {"wall": round(done / (time.perf_counter() - wall)), "workers": workers}


def latency(items: list[TriageInput], n: int) -> dict[str, float]:
    for item in items[:50]:
        suggest(item)
    times = []
    for item in (items * (n // len(items) + 1))[:n]:
        started = time.perf_counter_ns()
        suggest(item)
        times.append((time.perf_counter_ns() - started) / 1e6)
    return {"p50_ms": round(float(np.percentile(times, 50)), 3), "p99_ms": round(float(np.percentile(times, 99)), 3),
            "max_ms": round(max(times), 3), "n": n}


def resampled(n: int, seed: int = 5) -> list[dict]:
    rng = random.Random(seed)
    rows = training.load_seed("train")
    out = []
    for i in range(n):
        row = dict(rows[rng.randrange(len(rows))])
        words = row["text"].split()
        words = [w for w in words if rng.random() > 0.15]
        if len(words) > 3:
            a, b = rng.randrange(len(words)), rng.randrange(len(words))
            words[a], words[b] = words[b], words[a]
        row["text"] = " ".join(words) + f" #{i}"
        row["situation"] = f"r{i % 5000}"
        out.append(row)
    return out


def train_time(records: list[dict]) -> float:
    started = time.perf_counter()
    TriageModel.fit(records, version="bench")
    return round(time.perf_counter() - started, 1)


def quality(quick: bool) -> dict:
    out: dict = {"held_out": training.score_held_out(active_model())}
    nlbse = SHARED / "nlbse24-issues" / "issues_train.csv"
    if nlbse.exists() and not quick:
        r = evaluate.run(nlbse, nlbse, ["title", "body"], "label", "repo", True,
                         {"bug": "bug_report", "feature": "feature_request", "question": "support_question"})
        out["nlbse_cv5_per_repo"] = {"mean_macro_f1": r["macro_f1"],
                                     "per_repo": {k: v["macro_f1"] for k, v in r["per_group"].items()}}
    hadoop = SHARED / "hadoop-jira" / "hadoop_bugs_train.csv"
    if hadoop.exists():
        r = evaluate.run(hadoop, None, ["Summary", "Description"], "Priority", None, False,
                         {"Blocker": "critical", "Critical": "critical", "Major": "high", "Minor": "medium",
                          "Trivial": "low"}, "priority")
        out["hadoop_zero_shot_critical"] = r["critical"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", default=str(Path(__file__).with_name("results") / "triage.json"))
    args = parser.parse_args()

    model = active_model()
    figures: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                     "model": model.version}
    generated = _inputs_from_factory(10_000 if args.quick else 50_000)
    seed_items = _inputs_from_seed()
    figures["batch_msgs_per_s_generated"] = throughput(generated)
    figures["batch_msgs_per_s_seed"] = throughput(seed_items * 4)
    figures["batch_msgs_per_s_generated_all_cores"] = throughput_pool(generated)
    figures["batch_msgs_per_s_seed_all_cores"] = throughput_pool(seed_items * 8)
    figures["single"] = latency(seed_items, 500 if args.quick else 2000)
    gen, seed = figures["batch_msgs_per_s_generated"], figures["batch_msgs_per_s_seed"]
    gen_all, seed_all = figures["batch_msgs_per_s_generated_all_cores"], figures["batch_msgs_per_s_seed_all_cores"]
    print(f"batch msg/s, one process (wall / per CPU-second): generated 50-2,000 chars {gen['wall']:,} / "
          f"{gen['cpu']:,}; seed messages {seed['wall']:,} / {seed['cpu']:,}", flush=True)
    print(f"batch msg/s, {gen_all['workers']} processes: generated {gen_all['wall']:,}; seed messages "
          f"{seed_all['wall']:,}", flush=True)
    print(f"single: p50 {figures['single']['p50_ms']} ms, p99 {figures['single']['p99_ms']} ms; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    figures["train_seconds_seed"] = train_time(training.load_seed("train"))
    big = 20_000 if args.quick else 100_000
    figures[f"train_seconds_{big}"] = train_time(resampled(big))
    print(f"training: seed ({len(training.load_seed('train'))} messages) {figures['train_seconds_seed']} s, "
          f"{big:,} messages {figures[f'train_seconds_{big}']} s", flush=True)
    figures["quality"] = quality(args.quick)
    q = figures["quality"]
    held = q["held_out"]
    print(f"held-out: priority macro-F1 {held['priority']['macro_f1']}, category macro-F1 "
          f"{held['category']['macro_f1']}, Critical recall {held['critical']['recall']}, "
          f"precision {held['critical']['precision']}")
    if "nlbse_cv5_per_repo" in q:
        print(f"NLBSE'24 5-fold CV per repository: mean macro-F1 {q['nlbse_cv5_per_repo']['mean_macro_f1']}")
    if "hadoop_zero_shot_critical" in q:
        print(f"Hadoop Jira zero-shot Critical: {q['hadoop_zero_shot_critical']}")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(figures, indent=2))
    print(f"written to {args.output}")


if __name__ == "__main__":
    store.seed_model()
    main()
