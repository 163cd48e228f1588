"""The ASGI application: ``/graphql`` (GraphQL over HTTP + GraphiQL) and ``/healthz``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.http.ides import GraphQL_IDE

from gateway.config import DEMO_BASE_URL, AccountConfig, Settings
from gateway.context import Context
from gateway.providers.talentlms.client import TalentLmsClient
from gateway.providers.talentlms.provider import TalentLmsPortal, TalentLmsProvider
from gateway.simulator import SimulatorConfig, create_simulator_app
from gateway.usage import UpstreamUsage
from schema import schema

__all__ = ["Runtime", "create_app", "demo_simulator_config"]

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


@dataclass
class Runtime:
    """What lives as long as the app: settings, the account, and the shared HTTP client."""

    settings: Settings
    account: AccountConfig
    portal: TalentLmsPortal
    simulator: Starlette | None
    http: httpx.AsyncClient | None = None


class _GatewayGraphQL(GraphQL[Context, None]):
    """Strawberry's GraphQL-over-HTTP endpoint with our per-operation context."""

    def __init__(self, runtime: Runtime) -> None:
        ide: GraphQL_IDE | None = "graphiql" if runtime.settings.lms_gateway_graphiql else None
        super().__init__(schema, graphql_ide=ide, allow_queries_via_get=True)
        self._runtime = runtime

    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        runtime = self._runtime
        assert runtime.http is not None, "the app's lifespan has not started"
        account = runtime.account
        usage = UpstreamUsage()
        client = TalentLmsClient(
            runtime.http, base_url=account.base_url, api_key=account.api_key, usage=usage
        )
        provider = TalentLmsProvider(runtime.portal, client, now=datetime.now(UTC))
        return Context(
            account_id=account.id,
            provider=provider,
            usage=usage,
            report_upstream=runtime.settings.lms_gateway_upstream_extension,
        )


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
    if settings.demo:
        simulator_config = demo_simulator_config(settings)
        simulator = create_simulator_app(simulator_config)
        # The simulator is reached through the same client as a real portal, in process.
        mounts[DEMO_BASE_URL.split("/api/")[0]] = httpx.ASGITransport(app=simulator)
        account = settings.default_account(demo_api_key=simulator_config.api_key)
    else:
        account = settings.default_account()

    runtime = Runtime(settings, account, TalentLmsPortal(account), simulator)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        timeout = httpx.Timeout(settings.talentlms_timeout_seconds)
        async with httpx.AsyncClient(
            timeout=timeout, mounts=mounts, transport=upstream_transport
        ) as http:
            runtime.http = http
            yield
            runtime.http = None

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/graphql", _GatewayGraphQL(runtime), methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app
