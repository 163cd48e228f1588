"""What happened, for whoever watches: one observer interface for metrics, logs and tracing.

The gateway reports facts at four points and does not care who listens:

* ``request_finished`` — one HTTP request, from the ``RequestTelemetry`` middleware;
* ``operation_finished`` — one GraphQL operation (a batch has several), from the view;
* ``upstream_call`` / ``upstream_retry`` — one HTTP call to the LMS, from the provider client;
* ``cache_lookup`` — one read of the shared upstream cache, from the provider client.

``Telemetry`` fans each event out to its subscribers (``metrics``, ``logs``; ``tracing`` can
subscribe the same way). A subscriber that raises is logged and skipped: watching
must never fail a request. Every request runs with a request id in a context variable, so
log records and events anywhere below the middleware can name their request.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import ErrorCode
from gateway.upstream.usage import UpstreamUsage

__all__ = [
    "CLIENT_CLOSED_STATUS",
    "CacheLookup",
    "MutationRecord",
    "Observer",
    "OperationRecord",
    "RequestRecord",
    "RequestTelemetry",
    "Telemetry",
    "UpstreamCall",
    "client_left",
    "count_leaf_fields",
    "current_request_id",
    "mark_client_left",
    "new_request_id",
    "operation_record",
    "safe_request_id",
]

logger = logging.getLogger("gateway.telemetry")

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "gateway_request_id", default=None
)


# A request whose client closed the connection before its answer: as nginx logs it, its status
# (its operations' code is ErrorCode.CLIENT_CLOSED_REQUEST). Nobody receives either; logs and
# metrics do.
CLIENT_CLOSED_STATUS = 499
_CLIENT_LEFT = "gateway_client_left"


def mark_client_left(scope: Scope) -> None:
    """Note that the request's client went away (its work is being cancelled)."""
    scope.setdefault("state", {})[_CLIENT_LEFT] = True


def client_left(scope: Scope) -> bool:
    return bool(scope.get("state", {}).get(_CLIENT_LEFT))


def new_request_id() -> str:
    return secrets.token_hex(16)


def safe_request_id(value: str | None) -> str | None:
    """The caller's request id when it is safe to echo and log (bounded, plain characters)."""
    if value is not None and _SAFE_REQUEST_ID.match(value):
        return value
    return None


def current_request_id() -> str | None:
    """The id of the request being served in this task, if any."""
    return _request_id.get()


# --- events --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UpstreamCall:
    """One HTTP call that left the gateway (every attempt of a retried call is one)."""

    account_id: str
    endpoint: str  # bounded accounting name: ``users/id``, ``courses`` …
    method: str
    status: int | None  # HTTP status; None when no response arrived
    outcome: str  # "ok", the error code the answer was classified as, or "cancelled"
    duration: float  # seconds, from sending the request to the decoded answer
    failure: str = ""  # without a status: "timeout", "unreachable", "cancelled" or "error"


@dataclass(frozen=True, slots=True)
class CacheLookup:
    account_id: str
    endpoint: str
    hit: bool  # served from the cache or a call already in flight, without a call of its own


@dataclass(frozen=True, slots=True)
class OperationRecord:
    """One GraphQL operation, after execution. Ids and counts only: no query text, no
    variables, no result values."""

    request_id: str | None
    account_id: str
    operation_name: str | None  # as the client named it (untrusted text)
    operation_type: str  # "query", "mutation", "subscription" or "unknown"
    duration: float  # seconds
    error_codes: tuple[str, ...]  # extensions.code of each error, in order
    resolved_fields: int
    upstream_calls: int
    upstream_by_endpoint: Mapping[str, int] = field(default_factory=dict)
    cache_hits: int = 0
    retries: int = 0

    @property
    def outcome(self) -> str:
        """``ok``, or the code of the first error."""
        return self.error_codes[0] if self.error_codes else "ok"


@dataclass(frozen=True, slots=True)
class MutationRecord:
    """One mutation field, after it ran: who asked for what, and what came of it. Ids and
    codes only: never a password, a launch link or a key."""

    account_id: str
    key_name: str | None  # the gateway key that allowed it (None: anonymous)
    mutation: str  # the field: "enrollUser"
    targets: Mapping[str, str]  # the provider's ids it acted on: {"user": "8", "course": "101"}
    outcome: str  # "ok", a userErrors code, or the error's extensions.code
    upstream_calls: int  # calls the operation had made when it ended (reads included)
    replayed: bool = False  # answered from an idempotency record, without running


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One HTTP request the gateway answered."""

    request_id: str
    method: str
    path: str  # without the query string, which can carry a GraphQL document and variables
    status: int
    duration: float


class Observer:
    """A subscriber: override the events it cares about (the others do nothing).

    Calls happen on the event loop, inside the request: they must be quick and not block.
    """

    def request_finished(self, record: RequestRecord) -> None:
        pass

    def operation_finished(self, record: OperationRecord) -> None:
        pass

    def upstream_call(self, call: UpstreamCall) -> None:
        pass

    def upstream_retry(self, account_id: str, endpoint: str) -> None:
        pass

    def cache_lookup(self, lookup: CacheLookup) -> None:
        pass

    def mutation_finished(self, record: MutationRecord) -> None:
        pass


class Telemetry(Observer):
    """Fans events out to the subscribed observers; one per app, shared by every request."""

    def __init__(self, observers: Iterable[Observer] = ()) -> None:
        self._observers: list[Observer] = list(observers)

    def subscribe(self, observer: Observer) -> None:
        self._observers.append(observer)

    def request_finished(self, record: RequestRecord) -> None:
        self._emit("request_finished", record)

    def operation_finished(self, record: OperationRecord) -> None:
        self._emit("operation_finished", record)

    def upstream_call(self, call: UpstreamCall) -> None:
        self._emit("upstream_call", call)

    def upstream_retry(self, account_id: str, endpoint: str) -> None:
        self._emit("upstream_retry", account_id, endpoint)

    def cache_lookup(self, lookup: CacheLookup) -> None:
        self._emit("cache_lookup", lookup)

    def mutation_finished(self, record: MutationRecord) -> None:
        self._emit("mutation_finished", record)

    def _emit(self, event: str, *args: Any) -> None:
        for observer in self._observers:
            try:
                getattr(observer, event)(*args)
            except Exception:
                logger.exception("%s failed in %s", event, type(observer).__name__)


def operation_record(
    *,
    account_id: str,
    operation_name: str | None,
    operation_type: str,
    usage: UpstreamUsage,
    data: object,
    errors: Iterable[Any] = (),
    duration: float,
) -> OperationRecord:
    """The record of a finished operation; ``errors`` are GraphQL errors with a code."""
    codes = tuple(
        str((getattr(error, "extensions", None) or {}).get("code", ErrorCode.INTERNAL))
        for error in errors
    )
    return OperationRecord(
        request_id=current_request_id(),
        account_id=account_id,
        operation_name=operation_name,
        operation_type=operation_type,
        duration=duration,
        error_codes=codes,
        resolved_fields=count_leaf_fields(data) if data is not None else 0,
        upstream_calls=usage.calls,
        upstream_by_endpoint=dict(usage.by_endpoint),
        cache_hits=sum(usage.cache_hits.values()),
        retries=usage.retries,
    )


def count_leaf_fields(data: object) -> int:
    """Fields in a result that hold a value rather than objects (a list of scalars is one).

    A walk over the response already built: cheap, and no per-field resolver hook. Exact
    type checks: a result holds only plain dicts and lists, and ``isinstance`` against a
    union per value made this walk 3 % of a large dashboard's CPU.
    """
    count = 0
    stack = [data]
    push, pop = stack.append, stack.pop
    while stack:
        value = pop()
        if type(value) is dict:
            for item in value.values():
                inner = type(item)
                if inner is dict or (inner is list and _holds_containers(item)):
                    push(item)
                else:
                    count += 1
        elif type(value) is list:
            for item in value:
                inner = type(item)
                if inner is dict or inner is list:
                    push(item)
    return count


def _holds_containers(items: list[object]) -> bool:
    for item in items:
        kind = type(item)
        if kind is dict or kind is list:
            return True
    return False


# --- the HTTP middleware ---------------------------------------------------------------------

_INTERNAL_ERROR = json.dumps(
    {"errors": [{"message": "Internal server error", "extensions": {"code": ErrorCode.INTERNAL}}]},
    separators=(",", ":"),
).encode()


class RequestTelemetry:
    """Outermost middleware: gives every request an id, echoes it in ``X-Request-ID`` on
    every response, and reports the request when it is answered.

    The caller's ``X-Request-ID`` is kept when it is safe (at most 128 characters of
    ``[A-Za-z0-9._-]``), so one id follows a call through a proxy chain; otherwise a new one
    is made. An exception that escapes the app is logged here and answered with a coded 500
    that still carries the id.
    """

    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self._app = app
        self._telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                incoming = safe_request_id(value.decode("latin-1"))
                break
        request_id = incoming or new_request_id()
        token = _request_id.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = [
                    (name, value)
                    for name, value in message.get("headers", ())
                    if name.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode("ascii")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        except Exception:
            logger.exception("unhandled error")
            if response_started:
                raise
            status = 500
            await send_with_id(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": _INTERNAL_ERROR})
        finally:
            self._telemetry.request_finished(
                RequestRecord(
                    request_id=request_id,
                    method=scope.get("method", ""),
                    path=scope.get("path", ""),
                    status=CLIENT_CLOSED_STATUS if client_left(scope) else status,
                    duration=time.perf_counter() - started,
                )
            )
            _request_id.reset(token)
