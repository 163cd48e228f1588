"""The ASGI application: ``/graphql`` (GraphQL over HTTP + GraphiQL, ``gateway.http.endpoint``),
``/healthz``, ``/readyz`` and ``/metrics``, wired from the settings by ``create_app``; ``/``
redirects to ``/graphql``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from gateway.config import DEMO_BASE_URL, DEMO_LEARNWORLDS_URL, Settings
from gateway.errors import ErrorCode
from gateway.http.endpoint import GraphQLView, TracedGraphQLView
from gateway.http.graphiql import graphiql_routes
from gateway.http.graphql_over_http import error_response, http_error_code, response_media_type
from gateway.http.guard import RequestGuard
from gateway.http.health import Readiness
from gateway.http.idempotency import IdempotentMutations
from gateway.observability.logs import OperationLog
from gateway.observability.metrics import GatewayMetrics
from gateway.observability.telemetry import RequestTelemetry
from gateway.observability.tracing import start_tracing
from gateway.persisted.queries import persisted_queries
from gateway.providers.learnworlds.school import LearnWorldsSchool
from gateway.providers.talentlms.portal import TalentLmsPortal
from gateway.runtime import (
    Runtime,
    demo_learnworlds_config,
    demo_school_account,
    demo_simulator_config,
    learnworlds_auths,
    upstream_guard,
)
from gateway.simulator import create_learnworlds_app, create_simulator_app
from gateway.tenancy.accounts import load_tenancy
from gateway.upstream.cache import MemoryCacheStore, UpstreamCache
from gateway.upstream.transport import upstream_http_client
from schema import build_schema
from schema.validation.limits import OperationLimits

__all__ = ["create_app"]


def _observe(runtime: Runtime, app_routes: Callable[[], Sequence[BaseRoute]]) -> list[Route]:
    """Subscribe logs and metrics to the runtime's events; the ``/metrics`` route when on."""
    settings = runtime.settings
    runtime.telemetry.subscribe(OperationLog(access_log=settings.logging.access_log))
    if not settings.metrics.enabled:
        return []
    metrics = GatewayMetrics(
        max_operation_names=settings.metrics.max_operation_names,
        guards=runtime.guards,
        routes=lambda: [getattr(route, "path", "") for route in app_routes()],
    )
    runtime.telemetry.subscribe(metrics)
    token = settings.metrics.token
    # Outside RequestGuard: scrapers hold no gateway API key (docs/operations.md, "Metrics").
    endpoint = metrics.endpoint(token.get_secret_value() if token else None)
    return [Route("/metrics", endpoint, methods=["GET"])]


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no route, a method the route does not take) in the error
    shape every other answer has, instead of its plain text."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"Nothing is served at {request.url.path}"
    elif exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        message = f"{request.method} is not allowed here ({allowed})"
    else:
        message = exc.detail
    media_type = response_media_type(request.headers.get("accept"))
    code = http_error_code(exc.status_code)
    return error_response(
        exc.status_code, code, message, media_type=media_type, **(exc.headers or {})
    )


async def _to_graphql(request: Request) -> RedirectResponse:
    """``/`` to ``/graphql``, where a browser finds GraphiQL, with the query string kept: a
    ``GET /?query=…`` is then still that operation.

    307 is temporary: browsers cache a 301 or 308 without end, and what ``/`` serves may change
    (GraphiQL switched off, a page mounted there). The location is relative, so that behind a
    proxy that mounts the gateway under a path prefix it stays under that prefix.
    """
    query = request.url.query
    return RedirectResponse(f"graphql?{query}" if query else "graphql", status_code=307)


async def _server_error(request: Request, _: Exception) -> Response:
    # Starlette logs the exception and re-raises it to the server after this answer.
    media_type = response_media_type(request.headers.get("accept"))
    return error_response(500, ErrorCode.INTERNAL, "Internal server error", media_type=media_type)


def create_app(
    settings: Settings | None = None,
    *,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
    tracer_provider: Any = None,
) -> Starlette:
    """The gateway for ``settings`` (read from the environment when not given).

    ``upstream_transport`` replaces the network for upstream calls (tests, fault injection);
    ``tracer_provider`` replaces the one tracing builds from ``OTEL_*`` (tests).
    """
    settings = settings or Settings()
    tracing = start_tracing(settings.tracing, tracer_provider)
    mounts: dict[str, httpx.AsyncBaseTransport | None] = {}
    simulator = learnworlds_simulator = None
    demo_key = ""
    demo_school = None
    if settings.demo:
        simulator_config = demo_simulator_config(settings)
        simulator = create_simulator_app(simulator_config)
        demo_key = simulator_config.api_key
        school_config = demo_learnworlds_config(settings)
        learnworlds_simulator = create_learnworlds_app(school_config)
        demo_school = demo_school_account(school_config)
        # The simulators are reached through the same client as real LMSs, in process.
        mounts[DEMO_BASE_URL.split("/api/")[0]] = httpx.ASGITransport(app=simulator)
        mounts[DEMO_LEARNWORLDS_URL.split("/admin/")[0]] = httpx.ASGITransport(
            app=learnworlds_simulator
        )
    tenancy = load_tenancy(
        settings,
        accounts_file=settings.tenancy.accounts_file,
        demo_api_key=demo_key,
        demo_school=demo_school,
    )
    runtime = Runtime(
        settings=settings,
        tenancy=tenancy,
        schema=build_schema(
            OperationLimits.from_settings(settings.limits),
            settings.http.max_batch_operations,
            federation=settings.federation.enabled,
            extra_extensions=tracing.schema_extensions if tracing is not None else (),
        ),
        simulator=simulator,
        learnworlds_simulator=learnworlds_simulator,
        portals={
            account.id: TalentLmsPortal(account)
            for account in tenancy.accounts.values()
            if account.provider == "talentlms"
        },
        schools={
            account.id: LearnWorldsSchool(account)
            for account in tenancy.accounts.values()
            if account.provider == "learnworlds"
        },
        guards={
            account.id: upstream_guard(settings, account) for account in tenancy.accounts.values()
        },
        auths=learnworlds_auths(settings, tenancy),
        cache=UpstreamCache.from_settings(settings.cache) if settings.cache.enabled else None,
        persisted=persisted_queries(settings.persisted_queries),
        tracing=tracing,
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        factory = httpx.AsyncClient if tracing is None else tracing.http_client
        async with upstream_http_client(
            settings.upstream, mounts=mounts, transport=upstream_transport, factory=factory
        ) as http:
            runtime.http = http
            yield
            for guard in runtime.guards.values():
                await guard.aclose()
            runtime.http = None
        if tracing is not None:
            await asyncio.to_thread(tracing.shutdown)  # flushes spans; may wait on the network

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    view = GraphQLView(runtime) if tracing is None else TracedGraphQLView(runtime)
    idempotent = IdempotentMutations(
        view,
        MemoryCacheStore(settings.execution.idempotency_max_entries),
        ttl=settings.execution.idempotency_ttl_seconds,
        persisted=runtime.persisted,
        observer=runtime.telemetry,
    )
    graphql: ASGIApp = RequestGuard(idempotent, runtime)
    if tracing is not None:
        graphql = tracing.middleware(graphql)
    readiness = Readiness(runtime)
    app = Starlette(
        routes=[
            Route("/", _to_graphql, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readiness.endpoint, methods=["GET"]),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            *(graphiql_routes() if settings.graphiql.enabled else []),
            *_observe(runtime, lambda: app.routes),
        ],
        middleware=[Middleware(RequestTelemetry, telemetry=runtime.telemetry)],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.readiness = readiness  # drained by the server on SIGTERM
    return app
