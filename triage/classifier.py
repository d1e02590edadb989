"""The triage interface the rest of the hub calls: `suggest` and `suggest_batch`.

The model is loaded once per process (see `triage.store`) and swapped when another
process promotes a new version: at most every `triage_reload_seconds` we look at
the `current` pointer's modification time, which costs one stat(). The models folder is
resolved once per settings object (`reset_settings` makes a new one), not on every call.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from triage.pipeline import TriageModel
from triage.types import Suggestion, Suggestions, TriageInput

log = logging.getLogger(__name__)

__all__ = ["Suggestion", "TriageInput", "active_model", "suggest", "suggest_batch"]


class _Active:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.folder: Path | None = None
        self.model: TriageModel | None = None
        self.stamp: float | None = None
        self.checked = 0.0
        self.settings_folder: tuple[object, Path | None] = (None, None)


_ACTIVE = _Active()


def _settings():
    from trkv.settings import get_settings

    return get_settings()


def active_model() -> TriageModel:
    from triage import store

    settings = _settings()
    state = _ACTIVE
    seen, folder = state.settings_folder
    if seen is not settings:  # the path is resolved on disk (a few stat calls): once per settings
        folder = settings.triage_models_path
        state.settings_folder = (settings, folder)
    now = time.monotonic()
    if state.model is not None and state.folder == folder and now - state.checked < settings.triage_reload_seconds:
        return state.model
    with state.lock:
        stamp = store.pointer_stamp(folder)
        if state.model is None or state.folder != folder or stamp != state.stamp:
            model = store.load_active(folder)
            # The model lives as long as the process: the cyclic collector need not walk its
            # objects (its vocabularies are ~100,000 of them; a full collection took 70 ms
            # idle and 150 ms under load in a worker, in the middle of a live message).
            gc.freeze()
            if state.model is not None and state.folder == folder:
                log.info("triage: now using model %s (was %s)", model.version, state.model.version)
            state.model, state.folder, state.stamp = model, folder, stamp
        state.model.confidence_threshold = settings.triage_confidence_threshold
        state.checked = now
        return state.model


def suggest_batch(items: Sequence[TriageInput]) -> Suggestions:
    """A list, pickled compactly (`Suggestions`): import workers send it back to the writer."""
    return Suggestions(active_model().predict(items))


def suggest(item: TriageInput) -> Suggestion:
    return suggest_batch([item])[0]
