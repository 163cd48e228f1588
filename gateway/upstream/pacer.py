"""Burst pacing: an LMS allows so many calls in so many seconds per account (TalentLMS 200 in
5 s per portal, LearnWorlds 30 in 10 s per school).

A client-side sliding window keeps what the portal receives under it (a call holds its place
until its answer arrives), queueing callers instead of collecting 429s; it admits whole
operations only when their estimated calls fit before their deadline, so the portal's budget
turns into complete answers rather than many partial ones.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TypedDict

from gateway.config import PaceLimit, PacingSettings
from gateway.errors import PacingTimeout
from gateway.upstream.clock import Clock, Sleep

__all__ = [
    "MAX_HOLD_SECONDS",
    "Admission",
    "PacedCall",
    "Pacer",
    "PacingSnapshot",
]


class PacingSnapshot(TypedDict):
    """``Pacer.snapshot()``: calls holding a place in the window, and the window's size."""

    inWindow: int
    maxCalls: int
    windowSeconds: float


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
        service: str = "the LMS",
    ) -> None:
        if max_calls < 1:
            raise ValueError("max_calls must be at least 1")
        if not window > 0:
            raise ValueError("window must be positive")
        self._max_calls = max_calls
        self._window = window
        self.service = service  # the provider, as its errors name it ("LearnWorlds")
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

    @classmethod
    def from_settings(cls, settings: PacingSettings) -> Pacer:
        return cls.from_pace(settings.pace, service="TalentLMS")

    @classmethod
    def from_pace(cls, pace: PaceLimit, *, service: str = "the LMS") -> Pacer:
        """At ``pace`` (an account's, or its provider's default)."""
        return cls(max_calls=pace.max_calls, window=pace.window_seconds, service=service)

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
                service=self.service,
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

    def snapshot(self) -> PacingSnapshot:
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
            retry_after=retry_after,
            max_calls=self._max_calls,
            window=self._window,
            service=self.service,
        )


# A Retry-After longer than the quota's hour is not believed past the hour.
MAX_HOLD_SECONDS = 3600.0
