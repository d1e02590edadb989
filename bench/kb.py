"""KB benchmark: search latency at 10,000 published articles, what suggestions add to a
ticket view, the index rebuild after a publish, and the retrieval quality of ticket
suggestions on the labelled questions.

    .venv/bin/python bench/kb.py [--articles 10000] [--backend sqlite|postgresql] [--queries 500]

The 60 seed articles are joined by synthetic ones (titles and bodies drawn from the seed
articles' words and from made-up product words, so the vocabulary grows as a real KB's
does). Queries are the customer questions of tests/fixtures/kb/questions.jsonl and typo'd
versions of them (which take the "did you mean" path). Retrieval quality is measured on
the 60 seed articles alone (the KB the questions were written for), on the `test` split;
`dev` (the split tuned on) is reported beside it. Writes bench/results/kb.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import git_state, machine_info  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "kb.json"


def database(backend: str):
    """(url, drop) from bench/discord.py's helper (a file name that hides discord.py on import)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_discord", ROOT / "bench" / "discord.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.database(backend, Path(tempfile.mkdtemp(prefix="trkv-kb-bench-")))


def synthetic(count: int, seed_articles: list[dict], rng: random.Random) -> list[dict]:
    from support.kb.stem import words

    pool = [w for a in seed_articles for w in words(a["title"] + " " + a["body"])]
    invented = [f"{rng.choice('bcdfgklmnprstvz')}{rng.choice('aeiou')}{rng.choice('lmnrstx')}"
                f"{rng.choice('aeiou')}{rng.choice('bdklmnrst')}{n}" for n in range(30_000)]
    out = []
    for n in range(count):
        title = " ".join(rng.choice(pool if rng.random() < 0.6 else invented) for _ in range(rng.randint(3, 7)))
        body = " ".join(rng.choice(pool if rng.random() < 0.8 else invented) for _ in range(rng.randint(80, 400)))
        out.append({"slug": f"synthetic-{n}", "title": title.capitalize(), "category": rng.choice(
            ["getting_started", "configuration", "troubleshooting", "faqs", "api_reference", "best_practices"]),
            "body": body})
    return out


def insert(url: str, rows: list[dict]) -> None:
    from storage.db import transaction
    from storage.models.kb import KbArticle

    for start in range(0, len(rows), 1000):
        with transaction(url) as session:
            session.add_all([KbArticle(**row, html="", status="published", version=1, updated_by="bench")
                             for row in rows[start:start + 1000]])


def typo(text: str, rng: random.Random) -> str:
    out = []
    for word in text.split():
        if len(word) > 5 and rng.random() < 0.3:
            i = rng.randrange(1, len(word) - 1)
            word = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        out.append(word)
    return " ".join(out)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 2)


def timed(fn, items) -> list[float]:
    spent = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        spent.append((time.perf_counter() - start) * 1000)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    os.environ["TRKV_HOME"] = tempfile.mkdtemp(prefix="trkv-kb-home-")
    url, drop = database(args.backend)
    os.environ["TRKV_DATABASE_URL"] = url
    from support.kb import index, quality, search, seed
    from trkv.settings import get_settings

    settings = get_settings()
    rng = random.Random(16)
    seed.load(settings)
    figures: dict = {"backend": args.backend}
    for split in ("test", "dev"):
        result = quality.evaluate(settings, split)
        result.pop("misses")
        figures[f"quality_{split}"] = result
    seeds = seed.seed_articles()
    insert(url, synthetic(args.articles - len(seeds), seeds, rng))
    start = time.perf_counter()
    index.get_index(url)
    figures["index_build_ms"] = round((time.perf_counter() - start) * 1000, 1)
    questions = [q["text"] for q in quality.questions()]
    queries = [rng.choice(questions) if i % 2 else typo(rng.choice(questions), rng) for i in range(args.queries)]
    search_ms = timed(lambda q: search.search(settings, q), queries)
    suggest_ms = timed(lambda q: search.suggest(settings, q), queries)
    figures.update(articles=args.articles, queries=len(queries),
                   search_ms={"p50": percentile(search_ms, 50), "p95": percentile(search_ms, 95),
                              "p99": percentile(search_ms, 99), "mean": round(statistics.mean(search_ms), 2)},
                   suggestions_ms={"p50": percentile(suggest_ms, 50), "p95": percentile(suggest_ms, 95)})
    from support.kb import articles

    start = time.perf_counter()
    articles.update(settings, "export-not-working", {"body": "Exports: see Settings."}, author="bench")
    search.search(settings, "export")
    figures["rebuild_after_publish_ms"] = round((time.perf_counter() - start) * 1000, 1)
    results = {"benchmark": "kb", "figures": figures, "machine": machine_info([args.backend], []),
               "git": git_state(), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    print(json.dumps(results, indent=2))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    drop()


if __name__ == "__main__":
    main()
