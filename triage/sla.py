"""SLA policy: pure functions of times and targets, no database.

First response is due at the earlier of the priority's and the channel's target (the
`api` channel has none: its priority's target alone); resolution has a target per
priority. Time counts around the clock unless business hours are given, in a time
zone and with holidays off. Time spent waiting on the customer (pending) does not
count: a ticket carries the paused seconds, and a due time is always recomputed as
start + target + paused, so pausing, resuming and a priority change agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPEC = re.compile(r"^\s*(\w{3})(?:\s*-\s*(\w{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class BusinessHours:
    """Working hours in a time zone: `days` are weekday numbers (Monday 0) with the same
    opening and closing time; holidays are whole local days off."""

    tz: ZoneInfo
    days: frozenset[int]
    opens: time
    closes: time
    holidays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, spec: str, tz: str = "UTC", holidays: Iterable[date | str] = ()) -> BusinessHours:
        """'mon-fri 09:00-17:00' (or 'mon 08:00-12:00'); raises ValueError with the reason."""
        match = _SPEC.match(spec.lower())
        if not match or match.group(1) not in _DAYS or (match.group(2) and match.group(2) not in _DAYS):
            raise ValueError(f"business hours {spec!r}: expected like 'mon-fri 09:00-17:00'")
        first = _DAYS.index(match.group(1))
        last = _DAYS.index(match.group(2)) if match.group(2) else first
        days = frozenset(d % 7 for d in range(first, last + 1 if last >= first else last + 8))
        opens, closes = time(int(match.group(3)), int(match.group(4))), time(int(match.group(5)), int(match.group(6)))
        if closes <= opens:
            raise ValueError(f"business hours {spec!r}: closing time must be after opening time")
        days_off = frozenset(d if isinstance(d, date) else date.fromisoformat(d.strip()) for d in holidays if d)
        return cls(ZoneInfo(tz), days, opens, closes, days_off)

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        if day.weekday() not in self.days or day in self.holidays:
            return None
        return (datetime.combine(day, self.opens, self.tz), datetime.combine(day, self.closes, self.tz))

    def add(self, start: datetime, seconds: float) -> datetime:
        """The moment `seconds` of working time after `start`."""
        local = start.astimezone(self.tz)
        day = local.date()
        remaining = timedelta(seconds=seconds)
        for _ in range(3700):  # ten years of days: a calendar with no working day must not loop forever
            window = self._window(day)
            if window is not None:
                begin = max(window[0], local)
                if begin < window[1]:
                    if begin + remaining <= window[1]:
                        return (begin + remaining).astimezone(start.tzinfo)
                    remaining -= window[1] - begin
            day += timedelta(days=1)
        raise ValueError("business hours have no working time in the next ten years")

    def between(self, start: datetime, end: datetime) -> float:
        """Working seconds from `start` to `end` (0 when end is before start)."""
        if end <= start:
            return 0.0
        total = 0.0
        day, last = start.astimezone(self.tz).date(), end.astimezone(self.tz).date()
        while day <= last:
            window = self._window(day)
            if window is not None:
                begin, finish = max(window[0], start), min(window[1], end)
                if finish > begin:
                    total += (finish - begin).total_seconds()
            day += timedelta(days=1)
        return total


@dataclass(frozen=True)
class Policy:
    """Targets in hours. `calendar` None means around the clock."""

    first_response_hours: Mapping[str, float]  # per priority
    channel_hours: Mapping[str, float]  # per channel; a channel absent here has no target of its own
    resolution_hours: Mapping[str, float]  # per priority
    calendar: BusinessHours | None = None

    def first_response_target(self, priority: str, channel: str) -> float:
        hours = self.first_response_hours[priority]
        if channel in self.channel_hours:  # the earliest applies
            hours = min(hours, self.channel_hours[channel])
        return hours

    def add(self, start: datetime, seconds: float) -> datetime:
        if self.calendar is None:
            return start + timedelta(seconds=seconds)
        return self.calendar.add(start, seconds)

    def elapsed(self, start: datetime, end: datetime) -> float:
        """Counted seconds between two moments (paused time is the caller's business)."""
        if self.calendar is None:
            return max(0.0, (end - start).total_seconds())
        return self.calendar.between(start, end)

    def due_times(self, start: datetime, priority: str, channel: str, paused_seconds: float = 0.0) -> Due:
        first = self.first_response_target(priority, channel) * 3600
        resolution = self.resolution_hours[priority] * 3600
        return Due(
            first_response=self.add(start, first + paused_seconds),
            resolution=self.add(start, resolution + paused_seconds),
            first_response_seconds=first,
            resolution_seconds=resolution,
        )

    def warn_at(self, start: datetime, target_seconds: float, paused_seconds: float, share: float) -> datetime:
        """When `share` of the target has been used (75 %: the at-risk warning)."""
        return self.add(start, target_seconds * share + paused_seconds)


@dataclass(frozen=True)
class Due:
    first_response: datetime
    resolution: datetime
    first_response_seconds: float
    resolution_seconds: float


def promised_response(due_at: datetime, now: datetime) -> str:
    """'within 2 hours', for acknowledgements."""
    minutes = max(1, round((due_at - now).total_seconds() / 60))
    if minutes < 60:
        return f"within {minutes} minutes"
    hours = round(minutes / 60)
    return "within 1 hour" if hours == 1 else f"within {hours} hours"


def due_in(due_at: datetime | None, now: datetime) -> int | None:
    """Seconds until due (negative: late by that much)."""
    return None if due_at is None else int((due_at - now).total_seconds())
