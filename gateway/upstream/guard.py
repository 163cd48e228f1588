"""One portal's protection around each upstream call: retries (``retry``), a circuit breaker
(``breaker``), a burst pacer (``pacer``) and an hourly-quota tracker (``quota``).

Pure asyncio, no HTTP, every clock injectable: each provider's client (TalentLMS's,
LearnWorlds's) composes these around its transport, one guard per account, and tests drive
them with a fake clock instead of real waiting. The quota is TalentLMS's hourly one; an account
whose provider has no quota to read (LearnWorlds) leaves it unknown, and unknown never blocks.

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
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from gateway.errors import UpstreamRateLimited
from gateway.upstream.breaker import CircuitBreaker
from gateway.upstream.pacer import MAX_HOLD_SECONDS, Admission, Pacer
from gateway.upstream.quota import QuotaTracker
from gateway.upstream.retry import RetryPolicy, call_with_retries, retryable

__all__ = ["UpstreamGuard"]

T = TypeVar("T")


@dataclass
class UpstreamGuard:
    """One account's protection, shared by every request in the process."""

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
