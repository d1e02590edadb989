"""A rule-based stand-in for the learned triage model.

It exists so that every ticket has a suggestion from the first day; it is labelled
as a placeholder in `model_version`, and every ticket it triages needs a human.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from triage.classifier import Suggestion, TriageInput
from triage.rules import critical_reasons

VERSION = "placeholder-rules-1"

_CATEGORY_WORDS = {
    "bug_report": r"\b(bug|broken|error|crash(es|ed)?|fails?|failing|exception|500|502|503|doesn'?t work|not working)\b",
    "feature_request": r"\b(feature request|would be (great|nice)|please add|could you add|wish|support for|dark mode)\b",
    "documentation": r"\b(docs?|documentation|typo|readme|guide|tutorial)\b",
    "support_question": r"\b(how (do|can|to)|help|question|is it possible|where)\b|\?",
    "no_action": r"\b(thanks?|thank you|love|awesome|great job|congrats)\b",
}
_PRIORITY_FOR_CATEGORY = {
    "bug_report": "high",
    "feature_request": "low",
    "documentation": "low",
    "support_question": "medium",
    "no_action": "low",
    "general": "low",
}
_COMPILED = {name: re.compile(p, re.IGNORECASE) for name, p in _CATEGORY_WORDS.items()}


class KeywordPlaceholder:
    version = VERSION

    def predict(self, items: Sequence[TriageInput]) -> list[Suggestion]:
        return [self._one(item) for item in items]

    def _one(self, item: TriageInput) -> Suggestion:
        text = f"{item.subject or ''}\n{item.text}"
        evidence: dict[str, list[str]] = {}
        category = item.hints.get("category") or self._category(text, evidence)
        reasons = critical_reasons(text)
        if reasons:
            evidence["critical"] = reasons
            priority = "critical"
        else:
            priority = _PRIORITY_FOR_CATEGORY.get(category, "low")
        return Suggestion(
            priority=priority,
            category=category,
            confidence=0.5,
            model_version=VERSION,
            evidence=evidence,
            needs_triage=True,
        )

    @staticmethod
    def _category(text: str, evidence: dict[str, list[str]]) -> str:
        for name, pattern in _COMPILED.items():
            match = pattern.search(text)
            if match:
                evidence["terms"] = [match.group(0)]
                return name
        return "general"
