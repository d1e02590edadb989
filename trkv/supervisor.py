"""`trkv up`: child processes supervised by one parent.

Ctrl-C or SIGTERM stops every child (SIGTERM, then SIGKILL after a grace period).
A child that dies on its own is restarted with backoff, so one crash does not take
the hub down.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from trkv.settings import Settings

log = logging.getLogger("trkv.up")

GRACE = 15.0


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    restarts: int = 0
    next_start: float = 0.0


@dataclass
class Supervisor:
    children: list[Child]
    stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def for_settings(cls, settings: Settings) -> Supervisor:
        cli = [sys.executable, "-m", "trkv.cli"]
        children = [
            Child("web", [*cli, "web"]),
            # Pages never wait behind bulk work: the critical queue has a worker of its own.
            Child("worker-critical", [*cli, "worker", "-Q", "critical", "-c", "1", "-n", "critical@%h"]),
            # Nor does live work: a long bulk task (indexing an import for search, a retrain) held
            # one of the default worker's two processes, and live messages queued for the other.
            Child("worker", [*cli, "worker", "-Q", "default", "-c", "2", "-n", "default@%h", "--beat"]),
            Child("worker-bulk", [*cli, "worker", "-Q", "bulk", "-c", "1", "-n", "bulk@%h"]),
            Child("connect", [*cli, "connect"]),
        ]
        return cls(children)

    def run(self) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stop.set())
        try:
            while not self.stop.is_set():
                self._tend()
                self.stop.wait(0.5)
        finally:
            self._shutdown()
        return 0

    def _tend(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.process is None:
                if now >= child.next_start:
                    log.info("starting %s", child.name)
                    child.process = subprocess.Popen(child.argv)
                continue
            code = child.process.poll()
            if code is not None:
                child.process = None
                if child.name == "connect" and code == 0:
                    child.next_start = float("inf")  # connectors finished (the demo feed ended)
                    continue
                child.restarts += 1
                delay = min(60.0, 2.0 ** child.restarts)
                child.next_start = now + delay
                log.warning("%s exited with %s; restarting in %.0f s", child.name, code, delay)

    def _shutdown(self) -> None:
        running = [c for c in self.children if c.process and c.process.poll() is None]
        for child in running:
            child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE
        for child in running:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0f s; killing it", child.name, GRACE)
                child.process.kill()
                child.process.wait()
        log.info("stopped")
