"""Run receiving connectors side by side until asked to stop.

Each receiver runs in its own thread. A receiver that raises is reported down and
restarted with exponential backoff (capped), unless its error is permanent: a
permanent error (bad credentials) is reported and that receiver stays down. Reporting
health writes to the hub's database; when that fails too (the database restarting),
the failure is logged and the receiver is still restarted. A receiver that ran for a
while before failing starts again from the shortest backoff.
"""

from __future__ import annotations

import logging
import threading
import time

from connectors.base import ConnectorError, Receiver, Sink

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0
HEALTHY_RUN = 60.0  # seconds: a receiver that ran this long before failing was healthy


def run_receivers(receivers: list[Receiver], sink: Sink, stop: threading.Event) -> None:
    threads = [
        threading.Thread(target=_supervise, args=(receiver, sink, stop), name=f"connector-{receiver.name}", daemon=True)
        for receiver in receivers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.5)


def _supervise(receiver: Receiver, sink: Sink, stop: threading.Event) -> None:
    backoff = 1.0
    while not stop.is_set():
        started = time.monotonic()
        try:
            receiver.run(sink, stop)
            return  # a receiver that returns is done (the demo feed ends)
        except ConnectorError as exc:
            _report(sink, receiver.name, str(exc))
            if exc.permanent:
                log.error("%s connector stopped: %s", receiver.name, exc)
                return
            log.warning("%s connector failed (%s); retrying in %.0f s", receiver.name, exc, backoff)
        except Exception as exc:  # keep the other connectors running
            _report(sink, receiver.name, f"{type(exc).__name__}: {exc}")
            log.exception("%s connector crashed; restarting in %.0f s", receiver.name, backoff)
        if time.monotonic() - started >= HEALTHY_RUN:
            backoff = 1.0
        stop.wait(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF)


def _report(sink: Sink, name: str, detail: str) -> None:
    """Health is reported where it can be; a failure to report never stops the receiver."""
    try:
        sink.report(name, "down", detail)
    except Exception as exc:
        log.warning("%s connector: its state could not be recorded (%s: %s)", name, type(exc).__name__, exc)
