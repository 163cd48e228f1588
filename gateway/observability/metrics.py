"""Prometheus metrics: an observer of ``telemetry`` events, scraped at ``/metrics``.

Each app has its own ``CollectorRegistry`` instead of ``prometheus_client``'s global one:
two apps in one process (tests, a benchmark beside a server) would otherwise share counters
or fail to register the same names twice.

Label values are bounded, so a client cannot grow the series without limit: accounts come
from the configuration, endpoint names from the provider's fixed accounting names, error
codes from ``ErrorCode`` (anything else counts as ``other``), HTTP routes from the
app's routes (anything else is ``other``), and operation names are the one client-chosen
value — kept only if they are GraphQL names of at most 64 characters, and only the first
``max_operation_names`` distinct ones; later ones count as ``other``, invalid ones as
``invalid``, unnamed operations as ``anonymous``. Query text and record ids are never labels.

Circuit state, quota and pacing are gauges read from the portals' ``UpstreamGuard`` at scrape
time, not kept up to date on every call.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.errors import ErrorCode
from gateway.observability.telemetry import (
    CacheLookup,
    MutationRecord,
    Observer,
    OperationRecord,
    RequestRecord,
    UpstreamCall,
)
from gateway.upstream.guard import UpstreamGuard

__all__ = ["GatewayMetrics", "OperationNames"]

# Outcome labels besides "ok" (and "cancelled" for upstream calls): the values of ErrorCode.
_ERROR_CODES = frozenset(code.value for code in ErrorCode)
_METHODS = frozenset({"GET", "POST", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
_OPERATION_TYPES = frozenset({"query", "mutation", "subscription"})
_GRAPHQL_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
_CIRCUIT_STATES = ("closed", "open", "half_open")

# Seconds. The top buckets reach the default 30 s deadline and read timeout.
_OPERATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_UPSTREAM_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class OperationNames:
    """Bounded label values for client-chosen operation names."""

    ANONYMOUS = "anonymous"
    INVALID = "invalid"
    OTHER = "other"

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._seen: set[str] = set()

    def label(self, name: str | None) -> str:
        if not name:
            return self.ANONYMOUS
        if not _GRAPHQL_NAME.match(name):
            return self.INVALID
        if name in self._seen:
            return name
        if len(self._seen) >= self._limit:
            return self.OTHER
        self._seen.add(name)
        return name


class GatewayMetrics(Observer):
    """The gateway's metrics in a registry of their own, updated from telemetry events."""

    def __init__(
        self,
        *,
        max_operation_names: int,
        guards: Mapping[str, UpstreamGuard],
        routes: Callable[[], Iterable[str]] = tuple,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._names = OperationNames(max_operation_names)
        self._routes = routes
        self._known_routes: frozenset[str] | None = None
        r = self.registry
        self.http_requests = Histogram(
            "gateway_http_request_duration_seconds",
            "HTTP requests answered, by route, method and status, and how long they took.",
            ["route", "method", "status"],
            buckets=_OPERATION_BUCKETS,
            registry=r,
        )
        self.operations = Counter(
            "gateway_graphql_operations",
            "GraphQL operations by account, operation name, type and outcome (ok or error code).",
            ["account", "operation", "type", "outcome"],
            registry=r,
        )
        self.operation_duration = Histogram(
            "gateway_graphql_operation_duration_seconds",
            "Time from the start of execution of a GraphQL operation to its result.",
            ["operation", "type"],
            buckets=_OPERATION_BUCKETS,
            registry=r,
        )
        self.resolved_fields = Counter(
            "gateway_graphql_resolved_fields",
            "Leaf fields in the results of GraphQL operations.",
            ["operation"],
            registry=r,
        )
        self.upstream_calls = Counter(
            "gateway_upstream_requests",
            "HTTP calls to the LMS by account, endpoint, HTTP status and outcome; "
            "status is timeout, unreachable or cancelled when no response came.",
            ["account", "endpoint", "status", "outcome"],
            registry=r,
        )
        self.upstream_duration = Histogram(
            "gateway_upstream_request_duration_seconds",
            "Time of one HTTP call to the LMS (each attempt separately).",
            ["account", "endpoint"],
            buckets=_UPSTREAM_BUCKETS,
            registry=r,
        )
        self.upstream_retries = Counter(
            "gateway_upstream_retries",
            "Upstream calls tried again after a retryable failure.",
            ["account", "endpoint"],
            registry=r,
        )
        self.mutations = Counter(
            "gateway_mutations",
            "Mutations run, by account, mutation and outcome (ok, a userErrors code or an "
            "error code), replays of an idempotency key included.",
            ["account", "mutation", "outcome"],
            registry=r,
        )
        self.cache_lookups = Counter(
            "gateway_cache_lookups",
            "Reads of the shared upstream cache; result is hit (no call of its own) or miss.",
            ["account", "endpoint", "result"],
            registry=r,
        )
        r.register(_GuardCollector(guards))

    # --- Observer ------------------------------------------------------------------------

    def request_finished(self, record: RequestRecord) -> None:
        method = record.method if record.method in _METHODS else "other"
        self.http_requests.labels(self._route(record.path), method, str(record.status)).observe(
            record.duration
        )

    def operation_finished(self, record: OperationRecord) -> None:
        name = self._names.label(record.operation_name)
        kind = record.operation_type if record.operation_type in _OPERATION_TYPES else "unknown"
        outcome = record.outcome
        if outcome != "ok" and outcome not in _ERROR_CODES:
            outcome = "other"
        self.operations.labels(record.account_id, name, kind, outcome).inc()
        self.operation_duration.labels(name, kind).observe(record.duration)
        if record.resolved_fields:
            self.resolved_fields.labels(name).inc(record.resolved_fields)

    def upstream_call(self, call: UpstreamCall) -> None:
        status = call.failure or (
            str(call.status) if call.status is not None and 100 <= call.status <= 599 else "other"
        )
        outcome = call.outcome
        if outcome not in ("ok", "cancelled") and outcome not in _ERROR_CODES:
            outcome = "other"
        self.upstream_calls.labels(call.account_id, call.endpoint, status, outcome).inc()
        self.upstream_duration.labels(call.account_id, call.endpoint).observe(call.duration)

    def upstream_retry(self, account_id: str, endpoint: str) -> None:
        self.upstream_retries.labels(account_id, endpoint).inc()

    def cache_lookup(self, lookup: CacheLookup) -> None:
        result = "hit" if lookup.hit else "miss"
        self.cache_lookups.labels(lookup.account_id, lookup.endpoint, result).inc()

    def mutation_finished(self, record: MutationRecord) -> None:
        # Both label values come from closed sets: the schema's fields and codes.
        self.mutations.labels(record.account_id, record.mutation, record.outcome).inc()

    # --- exposition ----------------------------------------------------------------------

    def endpoint(self, token: str | None = None) -> Callable[[Request], Response]:
        """The ``GET /metrics`` handler; with ``token``, only ``Authorization: Bearer <token>``
        may read it."""
        expected = f"Bearer {token}".encode() if token else None

        def metrics(request: Request) -> Response:
            if expected is not None:
                given = request.headers.get("authorization", "").encode()
                if not secrets.compare_digest(given, expected):
                    body = {
                        "errors": [
                            {
                                "message": "The metrics need the configured bearer token",
                                "extensions": {"code": ErrorCode.UNAUTHENTICATED},
                            }
                        ]
                    }
                    return JSONResponse(
                        body, status_code=401, headers={"WWW-Authenticate": "Bearer"}
                    )
            # OpenMetrics when the scraper's Accept asks for it, else text format 0.0.4.
            encode, media_type = choose_encoder(request.headers.get("accept", ""))
            return Response(
                encode(self.registry), media_type=media_type, headers={"Vary": "Accept"}
            )

        return metrics

    def _route(self, path: str) -> str:
        if self._known_routes is None:
            self._known_routes = frozenset(self._routes())
        return path if path in self._known_routes else "other"


class _GuardCollector:
    """Circuit state, quota and pacing of every portal, read when Prometheus scrapes."""

    def __init__(self, guards: Mapping[str, UpstreamGuard]) -> None:
        self._guards = guards

    def describe(self) -> Iterable[Metric]:
        return ()  # nothing to check for clashes: the names below are used only here

    def collect(self) -> Iterable[Metric]:
        state = GaugeMetricFamily(
            "gateway_upstream_circuit_state",
            "1 for the circuit breaker's current state per account (closed, open, half_open).",
            labels=["account", "state"],
        )
        failures = GaugeMetricFamily(
            "gateway_upstream_circuit_failures",
            "Consecutive upstream failures the breaker has counted per account.",
            labels=["account"],
        )
        remaining = GaugeMetricFamily(
            "gateway_upstream_quota_remaining",
            "Calls left in the portal's hourly quota (absent until /ratelimit was read).",
            labels=["account"],
        )
        limit = GaugeMetricFamily(
            "gateway_upstream_quota_limit",
            "Calls the portal's plan allows per hour (absent until known).",
            labels=["account"],
        )
        in_window = GaugeMetricFamily(
            "gateway_upstream_pacer_calls_in_window",
            "Upstream calls started in the current pacing window per account.",
            labels=["account"],
        )
        waiting = GaugeMetricFamily(
            "gateway_upstream_pacer_waiting",
            "Calls queued for a pacing slot per account.",
            labels=["account"],
        )
        for account, guard in sorted(self._guards.items()):
            current = guard.breaker.state
            for name in _CIRCUIT_STATES:
                state.add_metric([account, name], 1.0 if name == current else 0.0)
            failures.add_metric([account], guard.breaker.failures)
            if guard.quota.remaining is not None:
                remaining.add_metric([account], guard.quota.remaining)
            if guard.quota.limit is not None:
                limit.add_metric([account], guard.quota.limit)
            pacing = guard.pacer.snapshot()
            in_window.add_metric([account], float(pacing["inWindow"]))
            waiting.add_metric([account], guard.pacer.waiting)
        return [state, failures, remaining, limit, in_window, waiting]
