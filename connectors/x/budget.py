"""A request budget per X API endpoint, so that the hub never goes over its tier's limits.

X counts requests per endpoint in 15-minute windows. The budget starts from the
tier's limits (settings) and lets the `x-rate-limit-limit/-remaining/-reset`
headers X sends on every response take precedence. A 429 with `x-rate-limit-reset`
blocks the endpoint until that moment; without it (X sends no Retry-After), and
after 5xx answers and timeouts, the endpoint backs off exponentially. tweepy's own
`wait_on_rate_limit` is not used: without the reset header it retries at once, in a
tight loop.

The clock is injectable, so tests and benchmarks can run windows on a clock of
their own; `acquire` sleeps with a callable that returns True when asked to stop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

WINDOW = 900.0  # X's rate-limit window, seconds


@dataclass
class _Endpoint:
    limit: int
    remaining: int
    reset_at: float | None = None  # when the current window refills (None: no window open)
    blocked_until: float = 0.0  # backoff after a failure
    failures: int = 0


class Stopped(Exception):
    """Waiting for the budget was interrupted by a stop request (`seconds`: how long
    the wait would have been, when known)."""

    def __init__(self, message: str, seconds: float | None = None):
        super().__init__(message)
        self.seconds = seconds


class RateBudget:
    def __init__(
        self,
        limits: Mapping[str, int],
        *,
        clock: Callable[[], float] = time.time,
        window: float = WINDOW,
        backoff_base: float = 2.0,
        max_backoff: float = WINDOW,
    ):
        self._endpoints = {name: _Endpoint(limit, limit) for name, limit in limits.items()}
        self.clock = clock
        self.window = window
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self._lock = threading.Lock()

    def _get(self, endpoint: str) -> _Endpoint:
        state = self._endpoints.get(endpoint)
        if state is None:  # an endpoint without a configured limit: a cautious default
            state = self._endpoints[endpoint] = _Endpoint(50, 50)
        return state

    def wait_time(self, endpoint: str) -> float:
        """Seconds until one more request to `endpoint` is within the budget."""
        with self._lock:
            state, now = self._get(endpoint), self.clock()
            return self._wait(state, now)

    def _wait(self, state: _Endpoint, now: float) -> float:
        """Seconds until `state` allows a request (refilled first); the caller holds the lock."""
        self._refill(state, now)
        wait = max(0.0, state.blocked_until - now)
        if state.remaining <= 0:
            wait = max(wait, (state.reset_at or now) - now)
        return wait

    def acquire(self, endpoint: str, sleep: Callable[[float], bool]) -> None:
        """Wait until a request is allowed, then count it. Raises Stopped when `sleep` says stop."""
        while True:
            with self._lock:
                state, now = self._get(endpoint), self.clock()
                wait = self._wait(state, now)
                if wait <= 0:
                    state.remaining -= 1
                    if state.reset_at is None:
                        state.reset_at = now + self.window
                    return
            if sleep(wait):
                raise Stopped(endpoint)

    def observe(self, endpoint: str, headers: Mapping[str, str]) -> None:
        """Take the limits X reported; they beat the configured ones."""
        limit, remaining, reset = _rate_headers(headers)
        with self._lock:
            state = self._get(endpoint)
            if limit is not None:
                state.limit = limit
            if remaining is not None and reset is not None:
                state.remaining = remaining
                state.reset_at = reset + 1.0  # the header has whole seconds; one to spare

    def succeeded(self, endpoint: str) -> None:
        with self._lock:
            state = self._get(endpoint)
            state.failures = 0
            state.blocked_until = 0.0

    def rate_limited(self, endpoint: str, headers: Mapping[str, str]) -> float:
        """A 429: wait for the reset X announced, or back off. Returns the wait in seconds."""
        limit, _, reset = _rate_headers(headers)
        if reset is None:
            return self.failed(endpoint)
        with self._lock:
            state, now = self._get(endpoint), self.clock()
            if limit is not None:
                state.limit = limit
            state.remaining = 0
            state.reset_at = reset + 1.0
            return max(0.0, state.reset_at - now)

    def failed(self, endpoint: str) -> float:
        """A transient failure (429 without headers, 5xx, timeout): exponential backoff."""
        with self._lock:
            state, now = self._get(endpoint), self.clock()
            delay = min(self.max_backoff, self.backoff_base * 2**state.failures)
            state.failures += 1
            state.blocked_until = now + delay
            return delay

    def poll_interval(self, endpoint: str) -> float:
        """The pace that spends the budget evenly: never faster than limit per window,
        slower when what remains must last until the reset."""
        with self._lock:
            state, now = self._get(endpoint), self.clock()
            self._refill(state, now)
            pace = self.window / max(state.limit, 1)
            if state.reset_at is not None:
                pace = max(pace, (state.reset_at - now) / max(state.remaining, 1))
            return max(pace, state.blocked_until - now)

    def limit(self, endpoint: str) -> int:
        with self._lock:
            return self._get(endpoint).limit

    def _refill(self, state: _Endpoint, now: float) -> None:
        if state.reset_at is not None and now >= state.reset_at:
            state.remaining = state.limit
            state.reset_at = None


def _rate_headers(headers: Mapping[str, str]) -> tuple[int | None, int | None, float | None]:
    def number(name: str) -> int | None:
        try:
            return int(headers[name])
        except (KeyError, TypeError, ValueError):
            return None

    reset = number("x-rate-limit-reset")
    return number("x-rate-limit-limit"), number("x-rate-limit-remaining"), float(reset) if reset is not None else None
