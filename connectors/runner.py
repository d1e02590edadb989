"""Run receiving connectors side by side until asked to stop.

Each receiver runs in its own thread. A receiver that raises is reported down and
restarted with exponential backoff (capped), unless its error is permanent: a
permanent error (bad credentials) is reported and that receiver stays down.
"""

from __future__ import annotations

import logging
import threading

from connectors.base import ConnectorError, Receiver, Sink

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0


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
        try:
            receiver.run(sink, stop)
            return  # a receiver that returns is done (the demo feed ends)
        except ConnectorError as exc:
            sink.report(receiver.name, "down", str(exc))
            if exc.permanent:
                log.error("%s connector stopped: %s", receiver.name, exc)
                return
            log.warning("%s connector failed (%s); retrying in %.0f s", receiver.name, exc, backoff)
        except Exception as exc:  # keep the other connectors running
            sink.report(receiver.name, "down", f"{type(exc).__name__}: {exc}")
            log.exception("%s connector crashed; restarting in %.0f s", receiver.name, backoff)
        stop.wait(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF)
