"""The hourly quota (2,000 or 10,000 calls by plan): read from ``GET /ratelimit``, which is
free, and counted down by our own calls in between.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from gateway.upstream.clock import Clock

__all__ = [
    "QuotaTracker",
]


class QuotaTracker:
    """The portal's hourly budget: read from /ratelimit (free), counted down by our own
    calls in between.

    Unknown values are ``None`` and never block anything (``can_afford`` is then true):
    the tracker protects the budget, it must not invent an outage. Once the reset time has
    passed, the remaining count describes an old hour, so it reads as unknown and the
    tracker as stale until the next ``update``.
    """

    def __init__(self, *, clock_wall: Clock = time.time) -> None:
        self._wall = clock_wall
        self._limit: int | None = None
        self._remaining: int | None = None
        self._reset_at: float | None = None
        self._read_at: float | None = None

    def update(self, ratelimit_body: object) -> None:
        """Take in a ``GET /ratelimit`` body, e.g.
        ``{"limit": "10000", "remaining": 9986, "reset": "1598160603", ...}``.

        Numbers may come as ints or strings (TalentLMS sends both); junk is ignored field by
        field. ``remaining`` and ``reset`` describe one hour together, so they are replaced
        together, and only a usable ``remaining`` counts as a fresh read. The /ratelimit
        call itself is free, so it is not spent.
        """
        if not isinstance(ratelimit_body, Mapping):
            return
        limit = _count(ratelimit_body.get("limit"))
        if limit is not None:
            self._limit = limit
        remaining = _count(ratelimit_body.get("remaining"))
        if remaining is not None:
            self._remaining = remaining
            self._reset_at = _unix_time(ratelimit_body.get("reset"))
            self._read_at = self._wall()

    def spend(self, calls: int = 1) -> None:
        """Count calls we sent since the last read (failed ones cost quota too)."""
        if calls < 0:
            raise ValueError("calls must not be negative")
        if self._remaining is not None and not self._expired():
            self._remaining = max(0, self._remaining - calls)

    @property
    def remaining(self) -> int | None:
        """Calls left this hour, or ``None`` when unknown (never read, or the hour reset)."""
        return None if self._expired() else self._remaining

    @property
    def limit(self) -> int | None:
        """Calls allowed per hour by the portal's plan (2,000 or 10,000), if known."""
        return self._limit

    @property
    def reset_at(self) -> float | None:
        """Unix seconds when the hourly count resets, if known and still ahead."""
        return None if self._expired() else self._reset_at

    def can_afford(self, calls: int) -> bool:
        """Whether ``calls`` more fit in the budget; ``True`` when the budget is unknown."""
        remaining = self.remaining
        return remaining is None or remaining >= calls

    def stale(self, max_age: float) -> bool:
        """Whether /ratelimit should be read again: never read, read more than ``max_age``
        wall seconds ago, or the hour it described has reset."""
        if self._read_at is None or self._expired():
            return True
        return self._wall() - self._read_at > max_age

    def snapshot(self) -> dict[str, object]:
        """``{"quotaRemaining", "quotaLimit", "quotaResetAt"}``; the reset is ISO-8601 UTC
        (``2020-08-23T05:30:03Z``) or ``None``."""
        reset_at = self.reset_at
        return {
            "quotaRemaining": self.remaining,
            "quotaLimit": self._limit,
            "quotaResetAt": None if reset_at is None else _iso_utc(reset_at),
        }

    def _expired(self) -> bool:
        return self._reset_at is not None and self._wall() >= self._reset_at


def _count(value: object) -> int | None:
    """A non-negative whole number from an int, an integral float or a numeric string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            return _count(int(text))
        except ValueError:
            try:
                return _count(float(text))
            except ValueError:
                return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and value >= 0:
        return int(value)
    return None


def _unix_time(value: object) -> float | None:
    """Positive Unix seconds from a number or a numeric string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, int | float) and math.isfinite(value) and value > 0:
        try:
            _iso_utc(float(value))
        except (OverflowError, OSError, ValueError):
            return None
        return float(value)
    return None


def _iso_utc(unix_seconds: float) -> str:
    return datetime.fromtimestamp(unix_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
