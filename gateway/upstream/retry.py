"""Retries of one upstream call: which failures are retried and how long to wait.

Upstream hiccups (connection resets, timeouts, 5xx, 429) are often gone a moment later.
Like Hive Gateway's upstream retry, only those are retried, ``Retry-After`` is honoured, and
the backoff is AWS-style "full jitter" so a burst of failed callers does not come back in
lock-step. Like Cosmo's traffic shaping, writes are never retried: a timed-out enrolment may
have happened.
"""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from gateway.config import RetrySettings
from gateway.errors import (
    CircuitOpen,
    PacingTimeout,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from gateway.upstream.clock import Clock, Sleep

__all__ = [
    "RetryPolicy",
    "call_with_retries",
    "retryable",
]

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait between tries of one idempotent upstream call.

    ``attempts`` counts every try, the first included, so the default makes at most two
    retries. A ``Retry-After`` longer than ``max_retry_after`` is not waited for: holding a
    GraphQL request open that long is worse than failing it with the rate-limit error.
    """

    attempts: int = 3
    base_delay: float = 0.2
    max_delay: float = 5.0
    max_retry_after: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts counts the first try too: it must be at least 1")
        if min(self.base_delay, self.max_delay, self.max_retry_after) < 0:
            raise ValueError("delays must not be negative")

    @classmethod
    def from_settings(cls, settings: RetrySettings) -> RetryPolicy:
        return cls(
            attempts=settings.attempts,
            base_delay=settings.base_delay_seconds,
            max_delay=settings.max_delay_seconds,
        )

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Full jitter: uniform in ``[0, min(max_delay, base_delay * 2**(retry-1))]``.

        Spreading retries over the whole interval (rather than around its end) is what
        stops many callers that failed together from retrying together.
        """
        if retry < 1:
            raise ValueError("retry numbers start at 1")
        # Capping the exponent keeps a silly retry number from overflowing the float.
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** min(retry - 1, 64))
        return rng.uniform(0.0, ceiling)

    def delay(self, retry: int, retry_after: float | None, rng: random.Random) -> float | None:
        """Seconds to wait before retry number ``retry``, or ``None`` to give up.

        The upstream's ``Retry-After`` is a floor (we never come back sooner than asked),
        the jittered backoff still applies on top of it so that many callers told the same
        ``Retry-After`` do not return at the same instant; a ``Retry-After`` beyond
        ``max_retry_after`` (or infinite) means giving up now.
        """
        wait = self.backoff(retry, rng)
        if retry_after is None or math.isnan(retry_after):
            return wait
        if retry_after > self.max_retry_after:
            return None
        return max(retry_after, wait)


def retryable(exc: BaseException) -> bool:
    """Whether ``exc`` means "the upstream is unwell right now", so trying again may work.

    True for ``UpstreamUnavailable`` (connection errors, timeouts), ``UpstreamRateLimited``
    (429) and a plain ``UpstreamError`` (5xx). False for answers that will not change on a
    retry (not found, rejected, auth, bad response), for non-upstream errors, and for the
    two errors the guard raises itself — ``CircuitOpen`` and ``PacingTimeout`` — which
    are local decisions: retrying them would only wait out a pause we chose, and counting
    them as breaker failures would keep the breaker open on its own verdict.

    Apart from 429s (an answer, not an outage), this is also the set of errors callers
    should pass to ``CircuitBreaker.record_failure``.
    """
    if isinstance(exc, CircuitOpen | PacingTimeout):
        return False
    return type(exc) is UpstreamError or isinstance(exc, UpstreamUnavailable | UpstreamRateLimited)


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    idempotent: bool,
    deadline: float | None,
    clock: Clock,
    sleep: Sleep,
    rng: random.Random,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> T:
    """Run ``call()``, retrying retryable failures of idempotent calls within ``policy``.

    * Writes (``idempotent=False``) are tried exactly once: a timeout says nothing about
      whether the upstream applied them, and applying an enrolment twice is not harmless.
    * ``deadline`` is an absolute ``clock()`` time: a wait that would end after it is not
      started, and the last error is raised instead, so the operation can still answer in
      time.
    * ``on_retry(retry_number, error, delay)`` runs before each wait, for metrics and logs.
    * The last error is re-raised as it was (same object, traceback, no added chaining);
      cancellation and other ``BaseException``s are never caught.
    """
    retry = 0
    while True:
        try:
            return await call()
        except Exception as exc:
            retry += 1
            wait = _wait_before_retry(
                exc,
                retry,
                policy=policy,
                idempotent=idempotent,
                deadline=deadline,
                clock=clock,
                rng=rng,
            )
            if wait is None:
                raise
            error: BaseException = exc
        # Outside the except block, so the next failure is not chained to this one.
        if on_retry is not None:
            on_retry(retry, error, wait)
        del error
        await sleep(wait)


def _wait_before_retry(
    exc: BaseException,
    retry: int,
    *,
    policy: RetryPolicy,
    idempotent: bool,
    deadline: float | None,
    clock: Clock,
    rng: random.Random,
) -> float | None:
    if not idempotent or not retryable(exc) or retry >= policy.attempts:
        return None
    retry_after = exc.retry_after if isinstance(exc, UpstreamRateLimited) else None
    wait = policy.delay(retry, retry_after, rng)
    if wait is None or (deadline is not None and clock() + wait > deadline):
        return None
    return wait
