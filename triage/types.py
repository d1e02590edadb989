"""What triage takes and what it gives back."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from operator import attrgetter


@dataclass(frozen=True)
class TriageInput:
    text: str
    channel: str
    subject: str | None = None
    hints: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Suggestion:
    priority: str
    category: str
    confidence: float  # calibrated: the lower of the two labels' probabilities
    model_version: str
    # "priority"/"category": the terms that weighed most; "critical": why it is Critical
    evidence: dict[str, list[str]] = field(default_factory=dict)
    needs_triage: bool = False
    # VADER compound (-1..1) of the first ~300 characters; None where it was not computed
    sentiment: float | None = None
    # no_action that is praise (positive, no complaint, no question): thank rather than acknowledge
    praise: bool = False


_FIELDS = tuple(f.name for f in fields(Suggestion))
_row = attrgetter(*_FIELDS)


class Suggestions(list):
    """One batch's suggestions (a list). Pickled, from a worker process back to the one that
    stores them, as rows of plain values: a quarter fewer bytes, half the time to pickle, and
    rebuilt without a call per object (bench/triage.py's pool: ~ +6 %)."""

    def __reduce__(self):
        return _suggestions, (list(map(_row, self)),)


def _suggestions(rows: list[tuple]) -> Suggestions:
    # as pickle itself restores a dataclass: a new object given its attributes, no __init__
    out, new = Suggestions(), object.__new__
    for row in rows:
        suggestion = new(Suggestion)
        suggestion.__dict__.update(zip(_FIELDS, row))
        out.append(suggestion)
    return out


class SuggestionsByKey(dict):
    """Suggestions by (channel, external id) (a dict), pickled as their keys and `Suggestions`."""

    def __reduce__(self):
        return _by_key, (list(self), Suggestions(self.values()))


def _by_key(keys: list, suggestions: Suggestions) -> SuggestionsByKey:
    return SuggestionsByKey(zip(keys, suggestions, strict=True))
