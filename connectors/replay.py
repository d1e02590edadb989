"""The demo connector: replays a bundled feed of native payloads in real time.

Each feed line is `{"at": seconds, "channel": "discord"|"x"|"email", "payload": ...,
"context": {...}}`. Lines go through the same parsers as live traffic, so the demo
exercises the real path from payload to ticket. The cursor is the number of lines
already submitted; ids in the feed are fixed, so a restart neither skips nor
duplicates a message.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from connectors.base import ConnectorError, Inbound, Sink
from connectors.discord_bot import parse_message
from connectors.mail.parse import parse_email
from connectors.x.parse import parse_tweet

log = logging.getLogger(__name__)

CURSOR = "demo"
MAX_TICK = 0.5  # longest sleep between looks at the stop event when `sleep` is injected
SUBMIT_BACKOFF = (0.5, 1.0, 2.0, 5.0)  # the store may be briefly busy; retry, never skip


def inbound_from_line(line: dict) -> Inbound:
    """Parse one feed line with the live parsers. Raises ValueError on a bad line."""
    if not isinstance(line, dict):
        raise ValueError("feed line is not an object")
    channel, payload = line.get("channel"), line.get("payload")
    context = line.get("context") or {}
    if channel == "discord":
        return parse_message(payload, context.get("channel"), bot_user_id=context.get("bot_user_id"))
    if channel == "x":
        return parse_tweet(payload)
    if channel == "email":
        if not isinstance(payload, str):
            raise ValueError("email payload must be the raw message as a string")
        return parse_email(payload.encode("utf-8"))
    raise ValueError(f"unknown channel {channel!r}")


def default_feed() -> Path:
    return Path(str(resources.files("connectors.demo").joinpath("feed.jsonl")))


class DemoReplay:
    name = "demo"

    def __init__(
        self,
        feed_path: Path | None = None,
        speed: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] | None = None,
    ):
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.feed_path = Path(feed_path) if feed_path else default_feed()
        self.speed = speed
        self.clock = clock
        # None: wait on the stop event itself, which wakes at once when it is set.
        self.sleep = sleep

    def run(self, sink: Sink, stop: Any) -> None:
        start = _cursor(sink.load_cursor(CURSOR))
        lines = self._read()
        if start >= len(lines):
            sink.report(self.name, "ok", f"demo feed finished ({len(lines)} lines)")
            return
        sink.report(self.name, "ok", f"replaying demo feed from line {start + 1} of {len(lines)}")
        began, first_at = self.clock(), _at(lines[start])
        for index in range(start, len(lines)):
            due = began + (_at(lines[index]) - first_at) / self.speed
            if not self._wait_until(due, stop):
                return
            inbound = _parse(lines[index], index)
            if inbound is not None and not self._submit(sink, inbound, stop):
                return
            sink.save_cursor(CURSOR, str(index + 1))
        sink.report(self.name, "ok", f"demo feed finished ({len(lines)} lines)")

    def _read(self) -> list[Any]:
        try:
            with open(self.feed_path, encoding="utf-8") as feed:
                return [_decode(text, number) for number, text in enumerate(feed, 1) if text.strip()]
        except OSError as exc:  # a missing feed stays missing: restarting cannot help
            raise ConnectorError(f"demo feed unreadable: {exc}", permanent=True) from exc

    def _wait_until(self, due: float, stop: Any) -> bool:
        """Sleep until `due` on our clock; False when stop was set first."""
        while not stop.is_set():
            left = due - self.clock()
            if left <= 0:
                return True
            self._pause(left, stop)
        return False

    def _pause(self, seconds: float, stop: Any) -> None:
        if self.sleep is None:
            stop.wait(seconds)
        else:
            self.sleep(min(seconds, MAX_TICK))

    def _submit(self, sink: Sink, inbound: Inbound, stop: Any) -> bool:
        failed = False
        for delay in _backoff():
            try:
                sink.submit(inbound)
            except Exception as exc:  # the sink's failure is not ours to judge: retry
                log.warning("demo: submitting %s failed, retrying in %.1fs: %s", inbound.external_id, delay, exc)
                sink.report(self.name, "degraded", f"submit failed: {exc}")
                failed = True
                if not self._wait_until(self.clock() + delay, stop):
                    return False
            else:
                if failed:
                    sink.report(self.name, "ok", "submitting again")
                return True
        return False


def _backoff() -> Iterator[float]:
    yield from SUBMIT_BACKOFF
    while True:
        yield SUBMIT_BACKOFF[-1]


def _decode(text: str, number: int) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        log.warning("demo feed line %d is not JSON (%s); it will be skipped", number, exc)
        return None


def _parse(line: Any, index: int) -> Inbound | None:
    if line is None:  # not JSON; already logged when the feed was read
        return None
    try:
        return inbound_from_line(line)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        log.warning("demo feed line %d skipped: %s", index + 1, exc)
        return None


def _at(line: Any) -> float:
    at = line.get("at") if isinstance(line, dict) else None
    return float(at) if isinstance(at, (int, float)) else 0.0


def _cursor(value: str | None) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        log.warning("demo cursor %r is not a line count; starting over", value)
        return 0
