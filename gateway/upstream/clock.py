"""The clocks the upstream guards run on, injectable so tests drive them without waiting."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

__all__ = ["Clock", "Sleep"]

Clock = Callable[[], float]
"""Seconds from a monotonic clock (``time.monotonic``), or a fake one in tests."""

Sleep = Callable[[float], Awaitable[None]]
"""Waits that many seconds (``asyncio.sleep``); a fake one advances a fake clock."""
