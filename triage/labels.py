"""Triage labels: slugs everywhere (API, CLI, files)."""

PRIORITIES = ("critical", "high", "medium", "low")
CATEGORIES = ("bug_report", "feature_request", "support_question", "documentation", "general", "no_action")
