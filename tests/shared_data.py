"""Where the recorded public payloads live, for tests that read them.

They sit beside the project in `shared/data` (a copy is laid beside the clone in CI);
TRKV_SHARED_DATA points elsewhere. Missing data skips the test, or fails it under
TRKV_REQUIRE_SERVICES=1 so CI cannot pass by skipping everything.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def shared_data_root() -> Path:
    override = os.environ.get("TRKV_SHARED_DATA")
    return Path(override) if override else Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """The path of `parts` under the shared data folder; skip or fail when it is missing."""
    path = shared_data_root().joinpath(*parts)
    if not path.exists():
        message = f"shared test data not found: {path} (set TRKV_SHARED_DATA to its folder)"
        if os.environ.get("TRKV_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path
