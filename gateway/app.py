"""The ASGI application: ``/graphql`` (GraphQL over HTTP + GraphiQL) and ``/healthz``.

A request to ``/graphql`` passes, in order: the body-size limit, authentication and account
selection (``gateway.accounts``), the token limit, parsing and validation (operation limits
and demand control, ``schema/``), and execution under a deadline.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from cross_web import HTTPException  # Strawberry's own HTTP error (a dependency of it)
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http.ides import GraphQL_IDE
from strawberry.types import ExecutionResult

from gateway.accounts import AccessDenied, Tenancy, authorize, load_tenancy
from gateway.cache import DEFAULT_TTLS, MemoryCacheStore, UpstreamCache
from gateway.config import DEMO_BASE_URL, AccountConfig, Settings
from gateway.context import Context
from gateway.providers.talentlms.client import TalentLmsClient
from gateway.providers.talentlms.portal import TalentLmsPortal
from gateway.providers.talentlms.provider import TalentLmsProvider
from gateway.resilience import CircuitBreaker, Pacer, QuotaTracker, RetryPolicy, UpstreamGuard
from gateway.simulator import SimulatorConfig, create_simulator_app
from gateway.upstream_http import upstream_http_client
from gateway.usage import UpstreamUsage
from schema import GatewaySchema, build_schema
from schema.limits import OperationLimits, count_tokens

__all__ = ["Runtime", "create_app", "demo_simulator_config", "operation_limits", "upstream_guard"]

logger = logging.getLogger("gateway")


def demo_simulator_config(settings: Settings) -> SimulatorConfig:
    return SimulatorConfig(
        seed=settings.lms_gateway_demo_seed,
        users=settings.lms_gateway_demo_users,
        courses=settings.lms_gateway_demo_courses,
        units_per_course=settings.lms_gateway_demo_units_per_course,
        enrollments_per_user=settings.lms_gateway_demo_enrollments_per_user,
        latency_ms=settings.lms_gateway_demo_latency_ms,
        date_format=settings.lms_gateway_demo_date_format,
    )


def upstream_guard(settings: Settings) -> UpstreamGuard:
    """One portal's retries, circuit breaker, pacing and quota, from the settings."""
    return UpstreamGuard(
        retry=RetryPolicy(
            attempts=settings.talentlms_retry_attempts,
            base_delay=settings.talentlms_retry_base_delay_seconds,
            max_delay=settings.talentlms_retry_max_delay_seconds,
        ),
        breaker=CircuitBreaker(
            failure_threshold=settings.talentlms_breaker_failures,
            cool_down=settings.talentlms_breaker_cool_down_seconds,
        ),
        pacer=Pacer(
            max_calls=settings.talentlms_pace_max_calls,
            window=settings.talentlms_pace_window_seconds,
        ),
        quota=QuotaTracker(),
        rng=random.Random(),
        quota_refresh=settings.talentlms_quota_refresh_seconds,
    )


def operation_limits(settings: Settings) -> OperationLimits:
    return OperationLimits(
        max_depth=settings.lms_gateway_max_depth,
        max_aliases=settings.lms_gateway_max_aliases,
        max_directives=settings.lms_gateway_max_directives,
        max_root_fields=settings.lms_gateway_max_root_fields,
        max_tokens=settings.lms_gateway_max_tokens,
        introspection=settings.lms_gateway_introspection,
        hide_suggestions=settings.lms_gateway_hide_suggestions,
    )


@dataclass
class Runtime:
    """What lives as long as the app: settings, accounts, portals and the HTTP client."""

    settings: Settings
    tenancy: Tenancy
    schema: GatewaySchema
    simulator: Starlette | None
    portals: dict[str, TalentLmsPortal] = field(default_factory=dict)
    guards: dict[str, UpstreamGuard] = field(default_factory=dict)
    cache: UpstreamCache | None = None
    http: httpx.AsyncClient | None = None

    def context_for(self, account: AccountConfig, *, fresh: bool = False) -> Context:
        """A new operation's context; ``fresh`` skips cached answers (but refreshes them)."""
        assert self.http is not None, "the app's lifespan has not started"
        usage = UpstreamUsage()
        client = TalentLmsClient(
            self.http,
            base_url=account.base_url,
            api_key=account.api_key,
            usage=usage,
            cache=self.cache,
            cache_scope=account.id,
            fresh=fresh,
            guard=self.guards.get(account.id),
            deadline=time.monotonic() + self.settings.lms_gateway_deadline_seconds,
        )
        provider = TalentLmsProvider(self.portals[account.id], client, now=datetime.now(UTC))
        return Context(
            account_id=account.id,
            provider=provider,
            usage=usage,
            report_upstream=self.settings.lms_gateway_upstream_extension,
            max_upstream_calls=self.settings.lms_gateway_max_upstream_calls,
            guard=self.guards.get(account.id),
        )


def error_response(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    """A GraphQL-over-HTTP error body for a request refused before GraphQL ran."""
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers or None)


def _error_result(code: str, message: str, **extensions: Any) -> ExecutionResult:
    error = GraphQLError(message, extensions={"code": code, **extensions})
    return ExecutionResult(data=None, errors=[error])


class _GatewayGraphQL(GraphQL[Context, None]):
    """Strawberry's GraphQL-over-HTTP view with per-account contexts, limits and a deadline."""

    def __init__(self, runtime: Runtime) -> None:
        settings = runtime.settings
        ide: GraphQL_IDE | None = "graphiql" if settings.lms_gateway_graphiql else None
        super().__init__(runtime.schema, graphql_ide=ide, allow_queries_via_get=True)
        self._runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Strawberry answers refused requests in plain text; clients get GraphQL errors.
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as exc:
            code = "METHOD_NOT_ALLOWED" if exc.status_code == 405 else "BAD_REQUEST"
            response = error_response(exc.status_code, code, exc.reason)
        await response(scope, receive, send)

    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        account: AccountConfig | None = request.scope["state"]["account"]
        if account is None:  # the GraphiQL page itself: no operation, no upstream call
            account = next(iter(self._runtime.tenancy.accounts.values()))
        return self._runtime.context_for(account, fresh=_wants_fresh(request))

    async def parse_http_body(self, request: Any) -> Any:
        # Strawberry trusts the JSON's shape; a body of `null`, `[1]` or `[]` must be a 400.
        try:
            data = await super().parse_http_body(request)
        except (AttributeError, TypeError, ValueError, RecursionError):
            raise HTTPException(
                400, "The body must be a GraphQL request: a JSON object, or a list of them"
            ) from None
        if isinstance(data, list) and not data:
            raise HTTPException(400, "An empty batch has no operation to run")
        return data

    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: Any,
        context: Context,
        root_value: Any,
        sub_response: Any,
    ) -> Any:
        if not isinstance(request_data, list):
            return await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
        # A batch: every operation gets its own context, loaders and call count.
        account: AccountConfig = request.scope["state"]["account"]
        return await asyncio.gather(
            *(
                self.execute_single(
                    request=request,
                    request_adapter=request_adapter,
                    sub_response=sub_response,
                    context=context
                    if index == 0
                    else self._runtime.context_for(account, fresh=_wants_fresh(request)),
                    root_value=root_value,
                    request_data=data,
                )
                for index, data in enumerate(request_data)
            )
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: Any,
    ) -> Any:
        settings = self._runtime.settings
        query = request_data.query
        if isinstance(query, str):
            tokens = count_tokens(query, settings.lms_gateway_max_tokens)
            if tokens > settings.lms_gateway_max_tokens:
                return _error_result(
                    "OPERATION_LIMIT_EXCEEDED",
                    f"The document has more than {settings.lms_gateway_max_tokens} tokens",
                    limit="tokens",
                    max=settings.lms_gateway_max_tokens,
                )
        try:
            async with asyncio.timeout(settings.lms_gateway_deadline_seconds):
                return await super().execute_single(
                    request=request,
                    request_adapter=request_adapter,
                    sub_response=sub_response,
                    context=context,
                    root_value=root_value,
                    request_data=request_data,
                )
        except TimeoutError:
            return _error_result(
                "DEADLINE_EXCEEDED",
                f"The operation did not finish within {settings.lms_gateway_deadline_seconds:g} s",
            )
        finally:
            context.provider.close()


class RequestGuard:
    """Body-size limit, authentication and account choice, before GraphQL sees a request."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self._app = app
        self._runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request = Request(scope)
        if _wants_ide(request):
            scope.setdefault("state", {})["account"] = None
            await self._app(scope, receive, send)
            return
        limit = self._runtime.settings.lms_gateway_max_body_bytes
        body = await _read_body(request, receive, limit)
        if body is None:
            response = error_response(
                413, "REQUEST_TOO_LARGE", f"The request body is larger than {limit} bytes"
            )
            await response(scope, receive, send)
            return
        try:
            access = authorize(
                self._runtime.tenancy,
                request.headers.get("authorization"),
                request.headers.get("x-lms-account"),
            )
        except AccessDenied as denied:
            headers = {"WWW-Authenticate": "Bearer"} if denied.status == 401 else {}
            await error_response(denied.status, denied.code, denied.message, **headers)(
                scope, receive, send
            )
            return
        scope.setdefault("state", {})["account"] = access.account
        await self._app(scope, _replay(body), send)


def _wants_fresh(request: Request) -> bool:
    """``Cache-Control: no-cache`` (or ``no-store``, or ``Pragma: no-cache``) skips the cache."""
    control = request.headers.get("cache-control", "").lower()
    pragma = request.headers.get("pragma", "").lower()
    return "no-cache" in control or "no-store" in control or "no-cache" in pragma


def _wants_ide(request: Request) -> bool:
    return (
        request.method == "GET"
        and "query" not in request.query_params
        and "text/html" in request.headers.get("accept", "")
    )


async def _read_body(request: Request, receive: Receive, limit: int) -> bytes | None:
    """The whole body, or ``None`` as soon as it is known to exceed ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def create_app(
    settings: Settings | None = None,
    *,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The gateway for ``settings`` (read from the environment when not given).

    ``upstream_transport`` replaces the network for upstream calls (tests, fault injection).
    """
    settings = settings or Settings()
    mounts: dict[str, httpx.AsyncBaseTransport | None] = {}
    simulator = None
    demo_key = ""
    if settings.demo:
        simulator_config = demo_simulator_config(settings)
        simulator = create_simulator_app(simulator_config)
        demo_key = simulator_config.api_key
        # The simulator is reached through the same client as a real portal, in process.
        mounts[DEMO_BASE_URL.split("/api/")[0]] = httpx.ASGITransport(app=simulator)
    tenancy = load_tenancy(
        settings, accounts_file=settings.lms_gateway_accounts_file, demo_api_key=demo_key
    )
    runtime = Runtime(
        settings=settings,
        tenancy=tenancy,
        schema=build_schema(operation_limits(settings), settings.lms_gateway_max_batch_operations),
        simulator=simulator,
        portals={account.id: TalentLmsPortal(account) for account in tenancy.accounts.values()},
        guards={account_id: upstream_guard(settings) for account_id in tenancy.accounts},
        cache=UpstreamCache(
            MemoryCacheStore(settings.lms_gateway_cache_max_entries),
            {**DEFAULT_TTLS, **settings.lms_gateway_cache_ttls},
        )
        if settings.lms_gateway_cache
        else None,
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with upstream_http_client(
            settings, mounts=mounts, transport=upstream_transport
        ) as http:
            runtime.http = http
            yield
            for guard in runtime.guards.values():
                await guard.aclose()
            runtime.http = None

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    graphql = RequestGuard(_GatewayGraphQL(runtime), runtime)
    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/graphql", graphql, methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app
