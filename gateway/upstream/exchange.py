"""One HTTP exchange with an LMS, whoever the provider: sent, decoded, and reported.

Every provider's client sends its calls through ``observed_exchange``, so that transport
failures become the same ``UpstreamUnavailable`` and every call, whatever its outcome, is
one ``UpstreamCall`` event for logs, metrics and traces.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

import httpx

from gateway.errors import ErrorCode, UpstreamError, UpstreamUnavailable
from gateway.observability.telemetry import Observer, UpstreamCall

__all__ = ["observed_exchange"]

T = TypeVar("T")


async def observed_exchange(
    http: httpx.AsyncClient,
    request: httpx.Request,
    decode: Callable[[httpx.Response, str], T],
    *,
    provider: str,
    provider_name: str,
    endpoint: str,
    account_id: str,
    observer: Observer | None,
) -> T:
    """``decode(response, endpoint)`` of ``request``'s answer. A transport failure is
    ``UpstreamUnavailable`` (``provider_name`` says who in its message); the call is reported
    to ``observer`` with its status, outcome and duration, whatever happens."""
    started = time.perf_counter()
    status: int | None = None
    failure = ""
    outcome = "ok"
    try:
        try:
            response = await http.send(request)
        except httpx.TransportError as exc:
            timed_out = isinstance(exc, httpx.TimeoutException)
            failure = "timeout" if timed_out else "unreachable"
            what = "did not answer in time" if timed_out else "could not be reached"
            raise UpstreamUnavailable(
                f"{provider_name} {what} ({type(exc).__name__})",
                provider=provider,
                endpoint=endpoint,
            ) from None
        status = response.status_code
        return decode(response, endpoint)
    except UpstreamError as exc:
        outcome = exc.code
        raise
    except asyncio.CancelledError:  # the operation's deadline, or the client went away
        failure = outcome = "cancelled"
        raise
    except Exception:
        failure = failure or "error"
        outcome = ErrorCode.INTERNAL
        raise
    finally:
        if observer is not None:
            observer.upstream_call(
                UpstreamCall(
                    account_id=account_id,
                    endpoint=endpoint,
                    method=request.method,
                    status=status,
                    outcome=outcome,
                    duration=time.perf_counter() - started,
                    failure=failure,
                )
            )
