"""Does a change to triage's prediction code leave every suggestion as it was?

    PYTHONPATH=<old checkout> .venv/bin/python bench/triage_same.py dump /tmp/old.json --model M.skops
    PYTHONPATH=<new checkout> .venv/bin/python bench/triage_same.py dump /tmp/new.json --model M.skops
    .venv/bin/python bench/triage_same.py compare /tmp/old.json /tmp/new.json

Both dumps load the same model file, so only the code differs. The messages: ~20,000
generated ones (as bench/triage.py builds them: the mix, X-length, 2,000-character emails),
the seed set, the texts of tests/fixtures, every string literal of tests/test_triage*.py, and
variants of them that reach the rarer paths (capitals, emojis, links, code blocks, no-break
spaces, lone surrogates, empty text). Each is triaged in batches of 1,000 and a sample also
alone (`suggest([one])` takes the same code with one row). Floats must agree to 1e-6, the
rest exactly.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def messages() -> list[dict]:
    from bench.synthetic import MessageFactory

    factory, generated = MessageFactory(seed=11), []
    while len(generated) < 12_000:
        generated.extend({"text": m.text, "channel": m.channel, "subject": m.subject, "hints": m.hints}
                         for m in factory.batch(1000))
    out = list(generated)
    out += [{"text": g["text"][:280], "channel": "x", "hints": {"x_kind": "mention", "mentions_bot": "true"}}
            for g in generated[:6000]]
    out += [{"text": ((g["text"] + " ") * (2000 // max(1, len(g["text"])) + 1))[:2000], "channel": "email",
             "subject": g["subject"] or "question"} for g in generated[6000:8000]]
    for line in (ROOT / "triage" / "data" / "seed.jsonl").read_text().splitlines():
        row = json.loads(line)
        out.append({"text": row["text"], "channel": row["channel"], "subject": row.get("subject"),
                    "hints": row.get("hints") or {}})
    for path in sorted((ROOT / "tests" / "fixtures").rglob("*")):
        if path.is_file():
            text = path.read_text(errors="replace")
            out.append({"text": text[:5000], "channel": "email", "subject": path.stem})
            out += [{"text": line, "channel": "discord"} for line in text.splitlines() if line.strip()][:200]
    for path in sorted((ROOT / "tests").glob("test_triage*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) > 3:
                out.append({"text": node.value, "channel": "discord"})
    return out + variants(out)


def variants(rows: list[dict]) -> list[dict]:
    rng = random.Random(3)
    twists = [str.upper, str.lower, lambda t: t.replace(" ", "\u00a0", 3), lambda t: t + " 😡😡 :) 🙌",
              lambda t: "```\ncode here\n``` " + t + " see https://example.com/x?y=1",
              lambda t: t.replace("o", "\ud800", 1), lambda t: "İstanbul ÇAĞ " + t, lambda t: "",
              lambda t: " ".join(reversed(t.split())), lambda t: t.replace(".", "?"),
              lambda t: "ΟΔΟΣ Σ ΣΑΣ. " + t.title(), lambda t: t + " " + "Ab" * 800]
    out = []
    for row in rng.sample(rows, 2000):
        twist = rng.choice(twists)
        hints = dict(row.get("hints") or {})
        if rng.random() < 0.2:
            hints["category"] = rng.choice(["bug_report", "question", "no_action", "feature_request", "Other Thing"])
        out.append({**row, "text": twist(row["text"]), "hints": hints})
    return out


def dump(path: Path, model_path: Path) -> None:
    from triage.pipeline import TriageModel
    from triage.types import TriageInput

    model = TriageModel.load(model_path)
    items = [TriageInput(text=m["text"], channel=m["channel"], subject=m.get("subject"), hints=m.get("hints") or {})
             for m in messages()]
    out = []
    for start in range(0, len(items), 1000):
        out += [_plain(s) for s in model.predict(items[start : start + 1000])]
    out += [_plain(model.predict([item])[0]) for item in items[::20]]
    path.write_text(json.dumps(out))
    print(f"{len(out)} suggestions of {sys.modules[TriageModel.__module__].__file__} written to {path}")


def _plain(s) -> dict:
    return {"priority": s.priority, "category": s.category, "confidence": s.confidence, "evidence": s.evidence,
            "needs_triage": s.needs_triage, "sentiment": s.sentiment, "praise": s.praise}


def compare(a: Path, b: Path) -> int:
    old, new = json.loads(a.read_text()), json.loads(b.read_text())
    if len(old) != len(new):
        print(f"different lengths: {len(old)} and {len(new)}")
        return 1
    differ = 0
    for i, (x, y) in enumerate(zip(old, new, strict=True)):
        for key in x:
            same = (abs(x[key] - y[key]) <= 1e-6 if isinstance(x[key], float) and isinstance(y[key], float)
                    else x[key] == y[key])
            if not same:
                differ += 1
                if differ <= 10:
                    print(f"#{i} {key}: {x[key]!r} != {y[key]!r}")
    print(f"{len(old)} suggestions compared, {differ} differences")
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["dump", "compare"])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--model", type=Path)
    args = parser.parse_args()
    if args.action == "dump":
        dump(args.files[0], args.model)
        return 0
    return compare(*args.files[:2])


if __name__ == "__main__":
    # not bench/ (its triage.py would stand in for the package), and the root after PYTHONPATH,
    # which names the triage code to run
    sys.path[0:1] = []
    sys.path.append(str(ROOT))
    sys.exit(main())
