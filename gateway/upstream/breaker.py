"""The circuit breaker: when the portal is down, failing fast for a while is kinder to it
and to our callers than queueing every request behind a timeout (Cosmo's breaker).
"""

from __future__ import annotations

import time

from gateway.config import BreakerSettings
from gateway.errors import CircuitOpen
from gateway.upstream.clock import Clock

__all__ = [
    "CircuitBreaker",
]


_CLOSED = "closed"
_OPEN = "open"
_HALF_OPEN = "half_open"


class CircuitBreaker:
    """Stops calling an upstream that keeps failing, then tests it with one call at a time.

    closed → (``failure_threshold`` consecutive failures) → open → (``cool_down`` seconds
    pass, next ``before_call``) → half_open: exactly one probe goes through, everyone else
    gets ``CircuitOpen`` → probe succeeds: closed; probe fails: open again, fresh cool-down.

    Callers record only failures that mean "the upstream is unwell" — the errors for which
    ``retryable()`` is true (connection errors, timeouts, 5xx) except rate limits. Any other
    answer (404, 400, 401, 429 …) proves the upstream is up and should be ``record_success()``.
    A probe that never reports back (cancelled, or stopped by the pacer) does not wedge the
    breaker: after another ``cool_down`` a new probe is let through.

    Not thread-safe; meant for one event loop, where ``before_call`` cannot interleave.
    """

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        cool_down: float = 30.0,
        clock: Clock = time.monotonic,
        name: str = "",
        service: str = "the LMS",
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if cool_down < 0:
            raise ValueError("cool_down must not be negative")
        self.name = name
        self.service = service  # the provider, as its errors name it ("TalentLMS")
        self._threshold = failure_threshold
        self._cool_down = cool_down
        self._clock = clock
        self._state = _CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_started: float | None = None

    @classmethod
    def from_settings(
        cls, settings: BreakerSettings, *, service: str = "the LMS"
    ) -> CircuitBreaker:
        return cls(
            failure_threshold=settings.failures,
            cool_down=settings.cool_down_seconds,
            service=service,
        )

    @property
    def state(self) -> str:
        """``"closed"``, ``"open"`` or ``"half_open"`` (moves only on calls, not on time)."""
        return self._state

    @property
    def failures(self) -> int:
        """Consecutive failures recorded since the last success."""
        return self._failures

    def before_call(self) -> None:
        """Let a call through, or raise ``CircuitOpen`` while the upstream is presumed down."""
        if self._state == _CLOSED:
            return
        now = self._clock()
        if self._state == _OPEN:
            retry_at = self._opened_at + self._cool_down
            if now < retry_at:
                raise CircuitOpen(
                    retry_at=retry_at,
                    retry_in=retry_at - now,
                    breaker=self.name,
                    service=self.service,
                )
            self._state = _HALF_OPEN
            self._probe_started = now
            return
        # Half open: one probe at a time; a probe silent for a whole cool-down is replaced.
        if self._probe_started is None or now - self._probe_started >= self._cool_down:
            self._probe_started = now
            return
        retry_at = self._probe_started + self._cool_down
        raise CircuitOpen(
            retry_at=retry_at,
            retry_in=retry_at - now,
            probing=True,
            breaker=self.name,
            service=self.service,
        )

    def record_success(self) -> None:
        """The upstream answered: close and forget past failures."""
        self._state = _CLOSED
        self._failures = 0
        self._probe_started = None

    def record_failure(self) -> None:
        """The upstream looked unwell. Opens at the threshold, or at once while half open.

        A late failure while already open (a call that started before it opened) is counted
        but does not extend the cool-down.
        """
        self._failures += 1
        if self._state == _HALF_OPEN or (
            self._state == _CLOSED and self._failures >= self._threshold
        ):
            self._state = _OPEN
            self._opened_at = self._clock()
            self._probe_started = None

    def snapshot(self) -> dict[str, object]:
        """``{"state", "failures", "retryIn"}`` for ``extensions`` and metrics.

        ``retryIn`` is the seconds until a test call is allowed while open, else ``None``.
        """
        retry_in: float | None = None
        if self._state == _OPEN:
            retry_in = round(max(0.0, self._opened_at + self._cool_down - self._clock()), 3)
        return {"state": self._state, "failures": self._failures, "retryIn": retry_in}
