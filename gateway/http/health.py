"""Readiness (``/readyz``): can this process serve its accounts right now?

``/healthz`` only says the process answers. ``/readyz`` also checks that the configuration
is loaded, the app has started and is not shutting down, and that every configured
account's LMS answers and accepts its credentials (``Runtime.probe``, which asks each
provider's cheapest call: a free one where the API has it, whose answer may refresh the
account's quota tracker as a bonus). Demo mode asks the embedded simulators the same way.

Decisions:

* **Degraded, not down.** All accounts ready: 200 ``ready``. Some ready: 200 ``degraded``
  (the body says which are not). None ready: 503 ``unready``. One customer's revoked key or
  dead portal must not take the gateway out of the load balancer for every other customer,
  and a portal every replica shares is not fixed by routing around this one.
* **Quota and circuit are reported, not judged.** An exhausted quota or an open circuit is
  shared by every replica; queries then get ``UPSTREAM_RATE_LIMITED``/``UPSTREAM_UNAVAILABLE``
  with a retry time, which tells clients more than a missing endpoint would.
* **Cheap to probe.** A result is reused for ``LMS_GATEWAY_READINESS_CACHE_SECONDS``;
  concurrent probes share one check; each portal gets ``LMS_GATEWAY_READINESS_TIMEOUT_SECONDS``.
* **Draining.** Once shutdown starts (``drain()``, called on SIGTERM) the answer is 503
  ``SHUTTING_DOWN`` without any upstream call.
* **Nothing secret.** Account ids, booleans, quota numbers and reason codes only: no URL,
  no key, no upstream message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from gateway.config import AccountConfig
from gateway.errors import (
    ErrorCode,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamForbidden,
    UpstreamUnavailable,
)
from gateway.upstream.quota import QuotaTracker

if TYPE_CHECKING:
    from gateway.runtime import Runtime

__all__ = ["AccountReadiness", "Readiness"]

logger = logging.getLogger("gateway.health")

# Reason codes of an account, and of the whole answer.
OK = "OK"
TIMEOUT = "TIMEOUT"  # no answer within LMS_GATEWAY_READINESS_TIMEOUT_SECONDS
SHUTTING_DOWN = "SHUTTING_DOWN"
NOT_STARTED = "NOT_STARTED"  # the app's lifespan has not opened the upstream client
SOME_ACCOUNTS_UNREADY = "SOME_ACCOUNTS_UNREADY"
NO_ACCOUNT_READY = "NO_ACCOUNT_READY"


@dataclass(frozen=True)
class AccountReadiness:
    """One account's probe: ``reachable``/``authorized`` are ``None`` when unknown."""

    id: str
    ready: bool
    reachable: bool | None
    authorized: bool | None
    reason: str
    quota_remaining: int | None
    quota_limit: int | None
    circuit: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ready": self.ready,
            "reachable": self.reachable,
            "authorized": self.authorized,
            "quotaRemaining": self.quota_remaining,
            "quotaLimit": self.quota_limit,
            "circuit": self.circuit,
            "reason": self.reason,
        }


class Readiness:
    """The ``/readyz`` answer for one app, cached briefly and computed once at a time."""

    def __init__(self, runtime: Runtime, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._runtime = runtime
        self._clock = clock
        self._lock = asyncio.Lock()
        self._result: tuple[int, dict[str, Any]] | None = None
        self._checked_at = 0.0
        self._draining = False

    @property
    def draining(self) -> bool:
        return self._draining

    def drain(self) -> None:
        """Shutdown has begun: answer 503 from now on. Safe to call from a signal handler."""
        self._draining = True

    async def endpoint(self, _: Request) -> JSONResponse:
        status, body = await self.report()
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    async def report(self) -> tuple[int, dict[str, Any]]:
        """``(HTTP status, JSON body)``; checks the portals only when the last result is old."""
        if self._draining:
            return 503, self._unready(SHUTTING_DOWN)
        if self._runtime.http is None:  # not cached: the lifespan may start any moment
            return 503, self._unready(NOT_STARTED)
        ttl = self._runtime.settings.readiness.cache_seconds
        async with self._lock:  # concurrent probes wait for one check instead of repeating it
            if self._result is None or self._clock() - self._checked_at >= ttl:
                self._result = await self._check()
                self._checked_at = self._clock()
            status, body = self._result
        if self.draining:  # shutdown began while the portals were being asked
            return 503, self._unready(SHUTTING_DOWN)
        return status, body

    def _unready(self, reason: str) -> dict[str, Any]:
        last = self._result[1]["accounts"] if self._result is not None else []
        return {"status": "unready", "reason": reason, "checkedAt": _now(), "accounts": last}

    async def _check(self) -> tuple[int, dict[str, Any]]:
        accounts = list(self._runtime.tenancy.accounts.values())
        results = await asyncio.gather(*(self._check_account(a) for a in accounts))
        ready = sum(result.ready for result in results)
        if ready == len(results):
            status, state, reason = 200, "ready", None
        elif ready:
            status, state, reason = 200, "degraded", SOME_ACCOUNTS_UNREADY
        else:
            status, state, reason = 503, "unready", NO_ACCOUNT_READY
        body = {
            "status": state,
            "reason": reason,
            "checkedAt": _now(),
            "accounts": [result.as_json() for result in results],
        }
        return status, body

    async def _check_account(self, account: AccountConfig) -> AccountReadiness:
        guard = self._runtime.guards.get(account.id)
        quota = guard.quota if guard is not None else QuotaTracker()
        reachable: bool | None = True
        authorized: bool | None = None
        timeout = self._runtime.settings.readiness.timeout_seconds
        try:
            # No cache, no guard: a probe asks the portal now, once, and is never retried,
            # paced or counted (the runtime's probe, which also refreshes the quota).
            async with asyncio.timeout(timeout):
                await self._runtime.probe(account)
        except TimeoutError:
            reachable, reason = False, TIMEOUT
        except UpstreamUnavailable as exc:
            reachable, reason = False, exc.code
        except (UpstreamAuthFailed, UpstreamForbidden) as exc:
            authorized, reason = False, exc.code
        except UpstreamError as exc:  # it answered, but not as a portal does
            reason = exc.code
        except Exception as exc:  # a probe must answer, whatever went wrong
            logger.warning("readiness probe of account %s failed: %s", account.id, type(exc))
            reachable, reason = None, ErrorCode.INTERNAL
        else:
            authorized, reason = True, OK
        return AccountReadiness(
            id=account.id,
            ready=reason == OK,
            reachable=reachable,
            authorized=authorized,
            reason=reason,
            quota_remaining=quota.remaining,
            quota_limit=quota.limit,
            circuit=guard.breaker.state if guard is not None else "closed",
        )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
