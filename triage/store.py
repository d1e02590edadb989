"""Model versions on disk: `$TRKV_HOME/models/<version>.skops`, a `<version>.json`
beside it (how it was trained and how it scored), and a `current` file naming the
promoted version. Promotion rewrites `current` atomically; every process checks
its modification time now and then and loads the new model without a restart.

Without a `current` file the hub uses the seed model: trained from `triage/data`
on first use (about 8 s on two idle cores), saved as `seed-<digest>.skops` in a cache
folder shared by every TRKV_HOME of the user (`$TRKV_MODEL_CACHE`, default
`$XDG_CACHE_HOME/trkv/models`), and kept in memory per process. The digest covers
the data and the recipe, so a changed seed set or recipe trains a new one.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from triage import training
from triage.pipeline import FORMAT, TriageModel

log = logging.getLogger(__name__)

POINTER = "current"


_RECIPE_MODULES = ("features.py", "model.py", "pipeline.py", "rules.py", "training.py")


def seed_version() -> str:
    """Names the seed model by what it is made of: the data, the code's format, the recipe."""
    digest = hashlib.sha256(training.SEED_PATH.read_bytes())
    digest.update(f"format={FORMAT};recipe={training.RECIPE}".encode())
    for module in _RECIPE_MODULES:  # the code that trains it, and the rules its Critical threshold is fitted around
        digest.update((Path(__file__).parent / module).read_bytes())
    return f"seed-{digest.hexdigest()[:10]}"


def model_path(folder: Path, version: str) -> Path:
    return folder / f"{version}.skops"


def current_version(folder: Path) -> str | None:
    try:
        return (folder / POINTER).read_text().strip() or None
    except FileNotFoundError:
        return None


def pointer_stamp(folder: Path) -> float | None:
    try:
        return (folder / POINTER).stat().st_mtime_ns
    except FileNotFoundError:
        return None


def save(folder: Path, model: TriageModel, report: dict[str, Any]) -> Path:
    path = model_path(folder, model.version)
    model.save(path)
    (folder / f"{model.version}.json").write_text(json.dumps(report, indent=2, sort_keys=True))
    return path


def promote(folder: Path, version: str) -> None:
    if not model_path(folder, version).exists():
        raise FileNotFoundError(f"no model {version} in {folder}")
    tmp = folder / f".{POINTER}.{os.getpid()}"
    tmp.write_text(version + "\n")
    tmp.replace(folder / POINTER)
    log.info("triage model %s promoted", version)


def report_of(folder: Path, version: str) -> dict[str, Any] | None:
    try:
        return json.loads((folder / f"{version}.json").read_text())
    except FileNotFoundError:
        return None


def load_active(folder: Path) -> TriageModel:
    """The promoted model, or the seed model (trained now if it is not on disk yet)."""
    version = current_version(folder)
    if version is not None:
        path = model_path(folder, version)
        if path.exists():
            try:
                return TriageModel.load(path)
            except ValueError as exc:  # an older model format: its features are not computed any more
                log.error("triage: %s cannot be used (%s); using the seed model until `trkv train` promotes "
                          "a new one", path, exc)
                return seed_model(folder)
        log.error("triage: %s names %s, which is missing; using the seed model", folder / POINTER, version)
    return seed_model(folder)


_SEED_MODELS: dict[str, TriageModel] = {}


def cache_folder() -> Path:
    configured = os.environ.get("TRKV_MODEL_CACHE")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "trkv" / "models"


def seed_model(folder: Path | None = None) -> TriageModel:
    """The model trained on the seed set's training split (`folder` is looked in first)."""
    version = seed_version()
    if version in _SEED_MODELS:
        return _SEED_MODELS[version]
    for place in ([folder] if folder else []) + [cache_folder()]:
        if model_path(place, version).exists():
            _SEED_MODELS[version] = TriageModel.load(model_path(place, version))
            return _SEED_MODELS[version]
    cache = cache_folder()
    with _lock(cache):
        if not model_path(cache, version).exists():  # or another process trained it while we waited
            log.info("triage: training the seed model %s into %s", version, cache)
            model, report = training.train_seed(version)
            save(cache, model, report)
        _SEED_MODELS[version] = TriageModel.load(model_path(cache, version))
    return _SEED_MODELS[version]


def seed_report() -> dict[str, Any] | None:
    seed_model()
    return report_of(cache_folder(), seed_version())


@contextmanager
def _lock(folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
