"""A long-running worker's resident memory, kept honest on glibc.

Two habits of glibc's allocator make a Python worker that handles numpy and scipy
buffers look like it leaks when it does not:

- the mmap threshold is dynamic: once a large block (a batch's sparse matrix) is freed,
  glibc raises the threshold, and later blocks of that size come from the heap, where
  freed holes are reused only by blocks that fit them and are seldom given back;
- memory freed inside the heap goes back to the system only from its top.

`tune()` fixes the threshold (large blocks are mapped and unmapped, as on the first
batch), and `Trimmer` calls `malloc_trim(0)` at most once a minute after a task, which
returns the free pages inside the heap too. Both are no-ops on other C libraries.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # malloc.h
MMAP_THRESHOLD = 256 * 1024


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 - only glibc has it
        return libc
    except (OSError, AttributeError):
        return None


_libc = _glibc()


def tune() -> bool:
    """Fix glibc's mmap threshold for this process and its forks; True if it was set."""
    if _libc is None:
        return False
    return bool(_libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def trim() -> bool:
    """Give free heap pages back to the system; True if glibc released any."""
    return bool(_libc.malloc_trim(0)) if _libc is not None else False


def freeze_once_warm(tasks: int = 3) -> Callable[[], bool]:
    """A callable for after each task: after the first `tasks`, `gc.freeze()` once. What a
    pool process built on its first tasks (mappers, compiled statements, connections, the
    model) lives as long as it does, and a full collection walking it cost a live message
    70-150 ms; frozen, later collections walk only what later tasks made."""
    seen = 0

    def after_task() -> bool:
        nonlocal seen
        seen += 1
        if seen != tasks:
            return False
        gc.freeze()
        return True

    return after_task


class Trimmer:
    """`trim()` at most once per `every` seconds, called after each task."""

    def __init__(self, every: float = 60.0, clock=time.monotonic):
        self.every, self._clock = every, clock
        self._last = clock()

    def __call__(self) -> bool:
        now = self._clock()
        if now - self._last < self.every:
            return False
        self._last = now
        return trim()
