"""The one way every shared data file is cut into a development part and a test part.

Rules, thresholds and cue words are tuned on "dev"; figures are reported on "test".
The cut is a hash of a stable key of the row (an issue id, or the text itself), so it
is the same on every machine and in every run, and was fixed before any row was read.
"""

from __future__ import annotations

import hashlib

NAME = "sha256(key) parity: even=dev, odd=test"


def part_of(key: str) -> str:
    """'dev' or 'test' for the row with this key."""
    return "test" if hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()[0] & 1 else "dev"
