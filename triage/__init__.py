"""Triage: suggests each ticket's priority and category, and computes SLA due times.

`triage.classifier` suggests (`suggest`, `suggest_batch`); `triage.types` holds what goes in and out.
"""
