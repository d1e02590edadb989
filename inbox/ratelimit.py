"""Rate limits. A token bucket per API token for POST /api/inbound: a runaway integration
gets 429 with Retry-After instead of filling the inbox; per process (each web process
counts for itself), which is enough to stop a loop; it is not a billing meter. And the
throttle on failed logins (below), which is shared by all processes."""

from __future__ import annotations

import hashlib
import math
import threading
import time

from fastapi import HTTPException, Request

from support.accounts import clear_login_failures, login_blocked_for, record_login_failure


class TokenBuckets:
    def __init__(self, rate: float, burst: int, clock=time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, max(1, burst), clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, token: str) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        key = hashlib.sha256(token.encode()).hexdigest()  # never keep the secret itself
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > 10_000:  # forget idle tokens; full buckets carry no state
                self._buckets = {k: v for k, v in self._buckets.items() if v[0] < self.burst}
            return (1 - tokens) / self.rate if self.rate > 0 else 3600.0

    def check(self, token: str) -> None:
        wait = self.take(token)
        if wait > 0:
            raise HTTPException(429, "too many messages from this token; slow down",
                                headers={"Retry-After": str(max(1, math.ceil(wait)))})


# failed logins: counted in the database (support.accounts), so every web process and host
# shares the count; per account and per client address, whichever blocks first.


def _login_keys(request: Request, email: str) -> list[str]:
    client = request.client.host if request.client else "unknown"
    return [f"account:{email.strip().lower()}", f"client:{client}"]


def login_wait(request: Request, email: str) -> int:
    """Seconds until this client may try this account again (0: now)."""
    return _seconds(login_blocked_for(_login_keys(request, email), request.app.state.settings))


def login_failed(request: Request, email: str) -> int:
    """Count a failed login; the seconds to wait when it was one too many (0 otherwise)."""
    return _seconds(record_login_failure(_login_keys(request, email), request.app.state.settings))


def login_succeeded(request: Request, email: str) -> None:
    """The account's count starts over; the client's does not (one's own account must not
    reset the count of guesses at everyone else's)."""
    clear_login_failures(_login_keys(request, email)[:1], request.app.state.settings)


def _seconds(wait: float) -> int:
    return max(1, math.ceil(wait)) if wait > 0 else 0
