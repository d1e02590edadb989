"""Bulk work yields the cores to live work, also where Linux groups the scheduler by session.

With autogroup (`/proc/sys/kernel/sched_autogroup_enabled`, on by default in most
distributions' kernels) the scheduler first shares the cores fairly between sessions, and
only then by nice value within each. A `trkv import` started from an operator's terminal
is in a session of its own, so its nice value alone changed nothing against the hub's
workers. `background` therefore lowers the session's group too, for as long as the bulk work
runs, and gives the old value back after: measured by bench/paging.py on PostgreSQL + RabbitMQ,
the live path's p99 during an import went from 113-127 to 60-83 ms, with the import as fast."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("trkv.priority")

AUTOGROUP = Path("/proc/self/autogroup")
AUTOGROUP_ENABLED = Path("/proc/sys/kernel/sched_autogroup_enabled")


@contextmanager
def background(nice: int) -> Iterator[None]:
    """Run the body (and the processes it starts) `nice` steps below the current priority.
    The process's own nice value cannot be raised again without privileges, so it stays; the
    session group's is restored on the way out (what else runs in the session, an operator's
    shell, is lowered only meanwhile)."""
    if nice <= 0 or not hasattr(os, "nice"):
        yield
        return
    os.nice(nice)
    before = group_nice()
    lowered = before is not None and before < nice and _set_group_nice(nice)
    try:
        yield
    finally:
        if lowered:
            _set_group_nice(before)


def group_nice() -> int | None:
    """This session's autogroup nice value, or None where the scheduler has no autogroup."""
    try:
        if AUTOGROUP_ENABLED.read_text().strip() != "1":
            return None
        found = re.search(r"nice\s+(-?\d+)", AUTOGROUP.read_text())
    except OSError:
        return None
    return int(found.group(1)) if found else None


def _set_group_nice(value: int) -> bool:
    for attempt in range(3):
        try:
            AUTOGROUP.write_text(str(value))
            return True
        except BlockingIOError:  # EAGAIN: the kernel takes one change per 100 ms from a user
            time.sleep(0.11 * (attempt + 1))
        except OSError as exc:  # a read-only /proc, or a container's seccomp: work goes on at nice only
            log.debug("cannot set the session's scheduling group to nice %s: %s", value, exc)
            return False
    return False
