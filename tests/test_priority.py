"""Bulk work yields the cores: `trkv.priority.background` lowers the process and, where Linux
groups the scheduler by session (autogroup), the session's group for as long as it runs."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = textwrap.dedent("""
    import json, os
    from trkv.priority import background, group_nice
    seen = {"group_before": group_nice(), "nice_before": os.nice(0)}
    with background(7):
        seen["group_during"], seen["nice_during"] = group_nice(), os.nice(0)
        with open("/proc/self/autogroup") as f:
            seen["autogroup"] = f.read().strip()
    seen["group_after"], seen["nice_after"] = group_nice(), os.nice(0)
    print(json.dumps(seen))
""")


def probe() -> dict:
    # A session of its own: the probe lowers its session's group, which must not be pytest's.
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True,
                          start_new_session=True)
    return json.loads(done.stdout)


def test_background_lowers_the_process_and_its_session_group_then_gives_the_group_back():
    seen = probe()
    assert seen["nice_during"] == min(19, seen["nice_before"] + 7)
    assert seen["nice_after"] == seen["nice_during"]  # a process cannot raise itself again: it stays
    if seen["group_before"] is None:  # no autogroup in this kernel: the nice value alone counts
        assert seen["group_during"] is None
        return
    assert seen["group_during"] == 7, seen["autogroup"]
    assert seen["group_after"] == seen["group_before"]


def test_background_zero_changes_nothing():
    import os

    from trkv.priority import background, group_nice

    before = (os.nice(0), group_nice())
    with background(0):
        assert (os.nice(0), group_nice()) == before
