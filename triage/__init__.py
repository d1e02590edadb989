"""Triage: suggests each ticket's priority and category, and computes SLA due times."""

from triage.classifier import Suggestion, TriageInput, suggest, suggest_batch

__all__ = ["Suggestion", "TriageInput", "suggest", "suggest_batch"]
