"""A workflow's refusal as the HTTP answer it names, for the JSON routers over
`support.incidents` (incidents and scheduled maintenance): their workflows raise
`IncidentError` carrying the status to answer with, so the routers need not map each case."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import HTTPException

from support.incidents.core import IncidentError

T = TypeVar("T")


def run_incident_call(call: Callable[[], T]) -> T:
    """The workflow's answer, or its refusal as the HTTP status it names."""
    try:
        return call()
    except IncidentError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
