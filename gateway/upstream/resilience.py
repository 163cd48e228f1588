"""Resilience building blocks for upstream calls: retries, a circuit breaker, a burst pacer
and an hourly-quota tracker.

Pure asyncio, no HTTP, every clock injectable: the TalentLMS client composes these around
its transport, and tests drive them with a fake clock instead of real waiting.

Why each piece exists:

* ``call_with_retries`` / ``RetryPolicy`` — upstream hiccups (connection resets, timeouts,
  5xx, 429) are often gone a moment later. Like Hive Gateway's upstream retry, only those
  are retried, ``Retry-After`` is honoured, and the backoff is AWS-style "full jitter" so a
  burst of failed callers does not come back in lock-step. Like Cosmo's traffic shaping,
  writes are never retried: a timed-out enrolment may have happened.
* ``CircuitBreaker`` — when the portal is down, failing fast for a while is kinder to it
  and to our callers than queueing every request behind a timeout (Cosmo's breaker).
* ``Pacer`` — TalentLMS allows at most 200 calls in 5 seconds per portal; a client-side
  sliding window keeps what the portal receives under it (a call holds its place until its
  answer arrives), queueing callers instead of collecting 429s; it admits whole operations
  only when their estimated calls fit before their deadline, so the portal's budget turns
  into complete answers rather than many partial ones.
* ``QuotaTracker`` — the hourly budget (2,000 or 10,000 calls by plan) is read from
  ``GET /ratelimit``, which is free, and counted down by our own calls in between.

Intended order around one HTTP call::

    breaker.before_call()              # fail fast while the portal is known to be down
    paced = await pacer.acquire(deadline)  # wait for a burst slot, or PacingTimeout
    quota.spend(1); send the request
    breaker.record_success()  or  breaker.record_failure() if retryable(error) and not a 429
    paced.release()                    # the answer is in: the slot counts one more window

with the whole thing wrapped in ``call_with_retries`` (``idempotent=False`` for writes).
"""

from __future__ import annotations

import asyncio
import heapq
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from gateway.errors import UpstreamError, UpstreamRateLimited, UpstreamUnavailable

__all__ = [
    "Admission",
    "CircuitBreaker",
    "CircuitOpen",
    "Clock",
    "PacedCall",
    "Pacer",
    "PacingTimeout",
    "QuotaTracker",
    "RetryPolicy",
    "Sleep",
    "UpstreamGuard",
    "call_with_retries",
    "retryable",
]

T = TypeVar("T")

Clock = Callable[[], float]
"""Seconds from a monotonic clock (``time.monotonic``), or a fake one in tests."""

Sleep = Callable[[float], Awaitable[None]]
"""Waits that many seconds (``asyncio.sleep``); a fake one advances a fake clock."""


# --- retries -------------------------------------------------------------------------------


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
    two errors this module raises itself — ``CircuitOpen`` and ``PacingTimeout`` — which
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


# --- circuit breaker -----------------------------------------------------------------------

_CLOSED = "closed"
_OPEN = "open"
_HALF_OPEN = "half_open"


class CircuitOpen(UpstreamUnavailable):
    """Raised without calling the upstream because the breaker is open.

    ``retry_at`` is the ``clock()`` time at which a test call will be allowed again and
    ``retry_in`` the seconds until then (what clients can be told to wait).
    """

    def __init__(
        self,
        *,
        retry_at: float,
        retry_in: float,
        probing: bool = False,
        breaker: str = "",
        **where: Any,
    ) -> None:
        retry_in = max(0.0, retry_in)
        if probing:
            until = "a test call in progress succeeds"
        else:
            until = f"a test call in {max(1, math.ceil(retry_in))} s"
        super().__init__(f"TalentLMS is failing: calls are paused until {until}", **where)
        self.retry_at = retry_at
        self.retry_in = retry_in
        self.breaker = breaker


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
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if cool_down < 0:
            raise ValueError("cool_down must not be negative")
        self.name = name
        self._threshold = failure_threshold
        self._cool_down = cool_down
        self._clock = clock
        self._state = _CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_started: float | None = None

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
                raise CircuitOpen(retry_at=retry_at, retry_in=retry_at - now, breaker=self.name)
            self._state = _HALF_OPEN
            self._probe_started = now
            return
        # Half open: one probe at a time; a probe silent for a whole cool-down is replaced.
        if self._probe_started is None or now - self._probe_started >= self._cool_down:
            self._probe_started = now
            return
        retry_at = self._probe_started + self._cool_down
        raise CircuitOpen(
            retry_at=retry_at, retry_in=retry_at - now, probing=True, breaker=self.name
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


# --- burst pacing --------------------------------------------------------------------------


class PacingTimeout(UpstreamRateLimited):
    """No call slot frees up before the caller's deadline; nothing was sent upstream.

    ``retry_after`` is the seconds until this caller would have got a slot. With
    ``operation_calls``, a whole operation was refused before it started (``Admission.request``).
    """

    def __init__(
        self,
        *,
        retry_after: float,
        max_calls: int = 0,
        window: float = 0.0,
        operation_calls: int = 0,
        **where: Any,
    ) -> None:
        retry_after = max(0.0, retry_after)
        limit = f" (at most {max_calls} calls per {window:g} s)" if max_calls else ""
        if operation_calls:
            message = (
                f"The TalentLMS portal is busy{limit}: this operation may need up to "
                f"{operation_calls} calls and they could not all start before its deadline; "
                f"try again in {retry_after:.1f} s"
            )
        else:
            message = (
                f"Too many TalentLMS calls at once{limit}: no call slot frees up before the "
                f"request's deadline; try again in {retry_after:.1f} s"
            )
        super().__init__(message, retry_after=retry_after, **where)


class PacedCall:
    """A call's place in the pacer's window: it counts from its start until ``release()``
    (the answer arrived, or the attempt ended otherwise) and for one window after that.

    The portal counts a call when it arrives, some time between its start and its answer;
    holding the place until then plus a window keeps every window *at the portal* under the
    cap, however long calls take and however unevenly they travel.
    """

    __slots__ = ("_pacer", "_released")

    def __init__(self, pacer: Pacer) -> None:
        self._pacer = pacer
        self._released = False

    def release(self) -> None:
        """The call ended; calling it again does nothing."""
        if not self._released:
            self._released = True
            self._pacer._call_ended()


class Admission:
    """One operation's standing with the pacer (``Pacer.admission``): its priority (its
    deadline: earlier operations are served first, so later ones cannot starve them) and the
    calls the pacer promised it when it was admitted (``request``).
    """

    __slots__ = ("_pacer", "deadline", "remaining")

    def __init__(self, pacer: Pacer, deadline: float) -> None:
        self._pacer = pacer
        self.deadline = deadline
        self.remaining = 0

    def request(self, calls: int, *, share: float = 0.8) -> None:
        """Be promised ``calls`` calls, or raise ``PacingTimeout`` with nothing spent.

        Granted when the last of them could start within ``share`` of the time left to the
        deadline (the rest is for the calls' own round trips), behind every call already
        waiting or promised to others; ``retry_after`` says when that would be the case.
        """
        self._pacer._promise(self, calls, share)

    def take(self) -> None:
        """One promised call starts (calls beyond the promise are still served)."""
        if self.remaining > 0:
            self.remaining -= 1
            self._pacer._reserved -= 1

    def release(self) -> None:
        """The operation ended: its unused calls go back to the others."""
        self._pacer._reserved -= self.remaining
        self.remaining = 0
        self._pacer._admissions.discard(self)


@dataclass(order=True)
class _Waiter:
    key: float
    seq: int
    turn: asyncio.Event = field(compare=False, default_factory=asyncio.Event)
    gone: bool = field(compare=False, default=False)


class Pacer:
    """At most ``max_calls`` calls in any sliding window of ``window`` seconds *at the portal*;
    callers queue (by priority, then first come) rather than fail while their deadline allows.

    A call holds its place from its start until it ends (``PacedCall.release``) and for one
    window after: the portal sees it at some moment in between, so no window there can hold
    more than ``max_calls`` (a call admitted near a window's edge cannot arrive together with
    the next window's calls). Waiters are served by ``priority`` (lowest first; an operation's
    deadline, so earlier operations finish first), equal priorities first come first served.
    Only the head of the queue takes a place, stamped with the actual ``clock()`` time, so a
    waiter that wakes late can never squeeze an extra call into a window.

    Admission control is for whole operations (``admission(deadline).request(calls)``): an
    operation whose estimated calls cannot all start within its deadline, behind the calls
    promised to operations admitted before it, is refused before it spends any.
    Promises steer admission and the up-front refusal of calls that could not start in
    time; a free place is never held idle for them (estimates are upper bounds, and promised
    calls may never come).

    ``hold`` pauses every call until a time the portal named (a 429's ``Retry-After``).

    Memory is bounded: at most ``max_calls`` end times are kept. Meant for one event loop;
    waits use the injected ``sleep``, so tests need no real time.
    """

    def __init__(
        self,
        *,
        max_calls: int = 200,
        window: float = 5.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if max_calls < 1:
            raise ValueError("max_calls must be at least 1")
        if not window > 0:
            raise ValueError("window must be positive")
        self._max_calls = max_calls
        self._window = window
        self._clock = clock
        self._sleep = sleep
        self._in_flight = 0
        self._ended: deque[float] = deque()  # end times of calls still in the window, oldest first
        self._queue: list[_Waiter] = []  # a heap; entries that left are marked ``gone``
        self._seq = 0
        self._waiting = 0
        self._call_end = asyncio.Event()
        self._hold_until = -math.inf
        self._reserved = 0  # calls promised to admitted operations, not yet started
        self._admissions: set[Admission] = set()

    @property
    def waiting(self) -> int:
        """Callers queued for a slot right now."""
        return self._waiting

    @property
    def reserved(self) -> int:
        """Calls promised to admitted operations that have not started yet."""
        return self._reserved

    def hold(self, seconds: float) -> None:
        """Start no call for ``seconds`` (the portal said so: a 429's ``Retry-After``)."""
        if seconds > 0 and math.isfinite(seconds):
            self._hold_until = max(self._hold_until, self._clock() + seconds)

    def admission(self, deadline: float) -> Admission:
        """A new operation's standing: no call promised yet, served by its ``deadline``."""
        return Admission(self, deadline)

    def _promise(self, admission: Admission, calls: int, share: float) -> None:
        if calls <= 0:
            return
        now = self._clock()
        ahead = self._waiting + self._reserved - admission.remaining
        last_start = self._estimated_start(now, ahead + calls - 1)
        horizon = now + share * max(0.0, admission.deadline - now)
        if last_start > horizon:
            raise PacingTimeout(
                retry_after=last_start - horizon,
                max_calls=self._max_calls,
                window=self._window,
                operation_calls=calls,
            )
        self._reserved += calls - admission.remaining
        admission.remaining = calls
        self._admissions.add(admission)

    async def acquire(
        self,
        deadline: float | None = None,
        *,
        priority: float | None = None,
        admission: Admission | None = None,
    ) -> PacedCall:
        """Wait for a place and start this call, or raise ``PacingTimeout``.

        ``deadline`` is an absolute ``clock()`` time; the call is refused if it could only
        start after it. ``priority`` orders waiters (lowest first; default: the admission's,
        else the deadline). Call ``release()`` on the result when the call has ended.
        ``admission``: the operation the call belongs to (its priority and promised calls).
        """
        if admission is not None:
            admission.take()
            key = admission.deadline
        else:
            key = priority if priority is not None else (math.inf if deadline is None else deadline)
        now = self._clock()
        if (
            self._head() is None
            and now >= self._hold_until
            and self._occupied(now) < self._max_calls
        ):
            return self._start()  # the common case: a place is free and nobody waits
        if deadline is not None:
            start = self._estimated_start(now, self._ahead_of(key, admission))
            if start > deadline:
                raise self._timeout(start - now)
        self._seq += 1
        entry = _Waiter(key, self._seq)
        heapq.heappush(self._queue, entry)
        self._waiting += 1
        try:
            while True:
                if self._head() is not entry:
                    entry.turn.clear()
                    await entry.turn.wait()
                    continue
                now = self._clock()
                free_at = self._free_at(now)
                if free_at is None:  # every place is held by a call still under way
                    await self._wait_for_a_call_to_end(now, deadline)
                    continue
                if free_at <= now:
                    if deadline is not None and now > deadline:
                        raise self._timeout(0.0)  # the queue ran late; a place is free now
                    heapq.heappop(self._queue)
                    entry.gone = True
                    return self._start()
                if deadline is not None and free_at > deadline:
                    raise self._timeout(free_at - now)
                await self._sleep(free_at - now)
        finally:
            entry.gone = True
            self._waiting -= 1
            self._wake_head()

    def snapshot(self) -> dict[str, object]:
        """``{"inWindow", "maxCalls", "windowSeconds"}`` for ``extensions`` and metrics."""
        return {
            "inWindow": self._occupied(self._clock()),
            "maxCalls": self._max_calls,
            "windowSeconds": self._window,
        }

    # --- internals ---

    def _start(self) -> PacedCall:
        self._in_flight += 1
        return PacedCall(self)

    def _call_ended(self) -> None:
        self._in_flight -= 1
        self._ended.append(self._clock())
        self._call_end.set()
        self._call_end = asyncio.Event()

    def _occupied(self, now: float) -> int:
        ended = self._ended
        while ended and ended[0] + self._window <= now:
            ended.popleft()
        return self._in_flight + len(ended)

    def _free_at(self, now: float) -> float | None:
        """When the next place frees (``now`` or earlier if one is free); ``None`` if that
        waits for a call under way to end."""
        if self._occupied(now) < self._max_calls:
            return max(now, self._hold_until)
        if not self._ended:
            return None
        return max(self._ended[0] + self._window, self._hold_until)

    async def _wait_for_a_call_to_end(self, now: float, deadline: float | None) -> None:
        ended = self._call_end
        if deadline is None:
            await ended.wait()
            return
        try:
            await asyncio.wait_for(ended.wait(), max(0.0, deadline - now))
        except TimeoutError:
            raise self._timeout(self._window) from None

    def _head(self) -> _Waiter | None:
        queue = self._queue
        while queue and queue[0].gone:
            heapq.heappop(queue)
        return queue[0] if queue else None

    def _wake_head(self) -> None:
        head = self._head()
        if head is not None:
            head.turn.set()

    def _ahead_of(self, key: float, own: Admission | None) -> int:
        """Waiting and promised calls that would start before a call of priority ``key``."""
        waiting = sum(1 for entry in self._queue if not entry.gone and entry.key <= key)
        promised = sum(a.remaining for a in self._admissions if a.deadline <= key and a is not own)
        return waiting + promised

    def _estimated_start(self, now: float, index: int) -> float:
        """When the ``index``-th next call (0-based) would start if all ahead start on time.

        Each of the ``max_calls`` places is free at some moment ``A[i]`` (now for a free one,
        a window after its call ended for the others; calls still under way are taken to end
        now, so this never overestimates); the k-th new call takes place ``k mod max_calls``
        in round ``k // max_calls``, and each round adds one window.
        """
        occupied = self._occupied(now)
        free = self._max_calls - occupied
        rounds, index = divmod(index, self._max_calls)
        if index < free:
            base = now
        elif index - free < len(self._ended):
            base = self._ended[index - free] + self._window
        else:
            base = now + self._window
        return max(now, base, self._hold_until) + rounds * self._window

    def _timeout(self, retry_after: float) -> PacingTimeout:
        return PacingTimeout(
            retry_after=retry_after, max_calls=self._max_calls, window=self._window
        )


# A Retry-After longer than the quota's hour is not believed past the hour.
MAX_HOLD_SECONDS = 3600.0


# --- hourly quota --------------------------------------------------------------------------


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

    def update(self, ratelimit_body: Mapping[str, Any]) -> None:
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


@dataclass
class UpstreamGuard:
    """One portal's protection, shared by every request in the process."""

    retry: RetryPolicy
    breaker: CircuitBreaker
    pacer: Pacer
    quota: QuotaTracker
    rng: random.Random
    quota_refresh: float = 300.0  # seconds between reads of the free /ratelimit
    refreshing: asyncio.Task[None] | None = None

    def watch_quota(self, read: Callable[[], Awaitable[Mapping[str, Any]]]) -> None:
        """Re-read the quota in the background when it is stale (never blocks a call)."""
        if self.refreshing is not None or not self.quota.stale(self.quota_refresh):
            return

        async def refresh() -> None:
            try:
                self.quota.update(await read())
            except Exception:
                pass
            finally:
                self.refreshing = None

        self.refreshing = asyncio.ensure_future(refresh())

    async def aclose(self) -> None:
        task = self.refreshing
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def snapshot(self) -> dict[str, object]:
        """What ``extensions.upstream`` shows of the portal: its quota, and an open circuit."""
        found: dict[str, object] = {
            key: value
            for key, value in self.quota.snapshot().items()
            if key in ("quotaRemaining", "quotaResetAt")
        }
        if self.breaker.state != "closed":
            found["circuit"] = self.breaker.snapshot()
        return found

    async def call(
        self,
        send: Callable[[], Awaitable[T]],
        *,
        idempotent: bool,
        deadline: float | None,
        free: bool = False,
        admission: Admission | None = None,
        on_attempt: Callable[[], None] | None = None,
        on_retry: Callable[[int, BaseException, float], None] | None = None,
    ) -> T:
        """``send`` in the order the module docstring gives, retried when ``idempotent``.

        ``free`` calls (``/ratelimit``) are neither paced nor counted against the quota.
        ``admission``: the operation's promised calls (``Admission.request``), which also give its
        calls their priority. ``on_attempt`` runs before every call that leaves the gateway.

        A rate limit (429) is an answer, not a failure of the portal: it never counts
        towards opening the breaker, and its ``Retry-After`` pauses every call to the
        portal (``Pacer.hold``), not only this one's retry.
        """

        async def attempt() -> T:
            if free:
                if on_attempt is not None:
                    on_attempt()
                return await send()
            self.breaker.before_call()
            paced = await self.pacer.acquire(deadline, admission=admission)
            try:
                self.quota.spend(1)
                if on_attempt is not None:
                    on_attempt()
                try:
                    result = await send()
                except UpstreamRateLimited as exc:
                    self.breaker.record_success()  # it answered; it only asked us to wait
                    if exc.retry_after is not None:
                        self.pacer.hold(min(exc.retry_after, MAX_HOLD_SECONDS))
                    raise
                except Exception as exc:
                    if retryable(exc):
                        self.breaker.record_failure()
                    else:
                        self.breaker.record_success()  # it answered: only the request was wrong
                    raise
            finally:
                paced.release()
            self.breaker.record_success()
            return result

        return await call_with_retries(
            attempt,
            policy=self.retry,
            idempotent=idempotent,
            deadline=deadline,
            clock=time.monotonic,
            sleep=asyncio.sleep,
            rng=self.rng,
            on_retry=on_retry,
        )
