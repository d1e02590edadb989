"""Choices that the settings and the command line share, in a module light enough for
`trkv --help` to import (the settings bring in pydantic, ~0.13 s)."""

from __future__ import annotations

from typing import Literal, get_args

WorkerPool = Literal["auto", "threads", "prefork", "solo"]
WORKER_POOLS: tuple[str, ...] = get_args(WorkerPool)
