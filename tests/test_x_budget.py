"""The X rate-limit budget on a clock of its own: limits from settings, X's headers first,
waits for the announced reset, exponential backoff when X says nothing."""

from __future__ import annotations

import pytest

from connectors.x.budget import RateBudget, Stopped


class Clock:
    def __init__(self):
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> bool:
        self.now += seconds
        return False


def test_the_configured_limit_is_spent_then_it_waits_for_the_window():
    clock = Clock()
    budget = RateBudget({"mentions": 3}, clock=clock)
    start = clock.now
    times = []
    for _ in range(7):
        budget.acquire("mentions", clock.sleep)
        times.append(clock.now - start)
    assert times == [0, 0, 0, 900, 900, 900, 1800]


def test_rate_limit_headers_beat_the_configured_limit():
    clock = Clock()
    budget = RateBudget({"mentions": 450}, clock=clock)
    budget.acquire("mentions", clock.sleep)
    budget.observe("mentions", {"x-rate-limit-limit": "75", "x-rate-limit-remaining": "0",
                                "x-rate-limit-reset": str(int(clock.now) + 120)})
    assert budget.limit("mentions") == 75
    assert budget.wait_time("mentions") == 121  # the reset, and one second to spare


def test_a_429_with_a_reset_blocks_until_then():
    clock = Clock()
    budget = RateBudget({"search": 450}, clock=clock)
    waited = budget.rate_limited("search", {"x-rate-limit-reset": str(int(clock.now) + 300)})
    assert waited == 301
    budget.acquire("search", clock.sleep)
    assert clock.now == 1_700_000_301


def test_a_429_without_headers_backs_off_exponentially_and_a_success_resets_it():
    clock = Clock()
    budget = RateBudget({"search": 450}, clock=clock, backoff_base=2)
    assert [budget.rate_limited("search", {}) for _ in range(4)] == [2, 4, 8, 16]
    budget.succeeded("search")
    assert budget.wait_time("search") == 0
    assert budget.failed("search") == 2


def test_backoff_is_capped():
    budget = RateBudget({"search": 450}, clock=Clock(), max_backoff=60)
    assert max(budget.failed("search") for _ in range(20)) == 60


def test_the_poll_interval_spreads_the_limit_over_the_window():
    clock = Clock()
    budget = RateBudget({"mentions": 450, "search": 180}, clock=clock)
    assert budget.poll_interval("mentions") == 2
    assert budget.poll_interval("search") == 5
    budget.observe("search", {"x-rate-limit-limit": "180", "x-rate-limit-remaining": "9",
                              "x-rate-limit-reset": str(int(clock.now) + 899)})
    assert budget.poll_interval("search") == 100  # 9 requests left must last the 900 s to the reset


def test_waiting_can_be_interrupted():
    budget = RateBudget({"mentions": 1}, clock=Clock())
    budget.acquire("mentions", lambda s: True)
    with pytest.raises(Stopped):
        budget.acquire("mentions", lambda s: True)  # a stop request during the wait
