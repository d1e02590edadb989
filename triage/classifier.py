"""The triage interface the rest of the hub calls.

Until the learned model lands (the triage issue), suggestions come from
`triage.placeholder.KeywordPlaceholder`, a clearly labelled rule-based stand-in:
its model_version says so, and every ticket it triages is marked "needs triage".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


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
    confidence: float
    model_version: str
    evidence: dict[str, list[str]] = field(default_factory=dict)
    needs_triage: bool = False


def _model():
    from triage.placeholder import KeywordPlaceholder

    return KeywordPlaceholder()


def suggest_batch(items: Sequence[TriageInput]) -> list[Suggestion]:
    return _model().predict(items)


def suggest(item: TriageInput) -> Suggestion:
    return suggest_batch([item])[0]
