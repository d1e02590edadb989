"""What triage takes and what it gives back."""

from __future__ import annotations

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
    confidence: float  # calibrated: the lower of the two labels' probabilities
    model_version: str
    # "priority"/"category": the terms that weighed most; "critical": why it is Critical
    evidence: dict[str, list[str]] = field(default_factory=dict)
    needs_triage: bool = False
    # VADER compound (-1..1) of the first ~300 characters; None where it was not computed
    sentiment: float | None = None
    # no_action that is praise (positive, no complaint, no question): thank rather than acknowledge
    praise: bool = False
