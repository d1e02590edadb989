"""SLA due times per the seed: the earlier of the priority's and the channel's target."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta


def first_response_due(
    received_at: datetime,
    priority: str,
    channel: str,
    priority_hours: Mapping[str, float],
    channel_hours: Mapping[str, float],
) -> datetime:
    hours = priority_hours[priority]
    if channel in channel_hours:  # the api channel uses the priority's target alone
        hours = min(hours, channel_hours[channel])
    return received_at + timedelta(hours=hours)


def resolution_due(received_at: datetime, resolution_hours: float) -> datetime:
    return received_at + timedelta(hours=resolution_hours)


def promised_response(due_at: datetime, now: datetime) -> str:
    """'within 2 hours', for acknowledgements."""
    minutes = max(1, round((due_at - now).total_seconds() / 60))
    if minutes < 60:
        return f"within {minutes} minutes"
    hours = round(minutes / 60)
    return "within 1 hour" if hours == 1 else f"within {hours} hours"
