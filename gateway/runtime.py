"""What lives as long as the app: settings, accounts, schema, portals, their guards, the
shared cache and HTTP client; and the per-operation ``Context`` each request gets from it."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx
from starlette.applications import Starlette

from gateway.config import AccountConfig, Settings
from gateway.execution.context import Context
from gateway.observability.telemetry import Telemetry
from gateway.persisted.queries import (
    PersistedQueries,
)
from gateway.providers.talentlms.client import TalentLmsClient
from gateway.providers.talentlms.portal import TalentLmsPortal
from gateway.providers.talentlms.provider import TalentLmsProvider
from gateway.simulator import SimulatorConfig
from gateway.tenancy.accounts import Tenancy
from gateway.upstream.breaker import CircuitBreaker
from gateway.upstream.cache import UpstreamCache
from gateway.upstream.guard import UpstreamGuard
from gateway.upstream.pacer import Pacer
from gateway.upstream.quota import QuotaTracker
from gateway.upstream.retry import RetryPolicy
from gateway.upstream.usage import UpstreamUsage
from schema import GatewaySchema

if TYPE_CHECKING:
    from gateway.observability.tracing.tracer import Tracing

__all__ = ["Runtime", "demo_simulator_config", "upstream_guard"]


def demo_simulator_config(settings: Settings) -> SimulatorConfig:
    # The group's fields are SimulatorConfig's keyword arguments.
    return SimulatorConfig(**settings.simulator.model_dump())


def upstream_guard(settings: Settings) -> UpstreamGuard:
    """One portal's retries, circuit breaker, pacing and quota, from the settings."""
    return UpstreamGuard(
        retry=RetryPolicy.from_settings(settings.retry),
        breaker=CircuitBreaker.from_settings(settings.breaker),
        pacer=Pacer.from_settings(settings.pacing),
        quota=QuotaTracker(),
        rng=random.Random(),
        quota_refresh=settings.quota.refresh_seconds,
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
    persisted: PersistedQueries = field(default_factory=PersistedQueries)
    tracing: Tracing | None = None  # None: tracing is off and nothing is wrapped
    telemetry: Telemetry = field(default_factory=Telemetry)  # metrics and logs subscribe

    def context_for(self, account: AccountConfig, *, fresh: bool = False) -> Context:
        """A new operation's context; ``fresh`` skips cached answers (but refreshes them)."""
        assert self.http is not None, "the app's lifespan has not started"
        usage = UpstreamUsage()
        guard = self.guards.get(account.id)
        deadline = time.monotonic() + self.settings.execution.deadline_seconds
        # The operation's standing with the portal's pacer: its priority, its promised calls.
        admission = guard.pacer.admission(deadline) if guard is not None else None
        client = TalentLmsClient(
            self.http,
            base_url=account.base_url,
            api_key=account.api_key,
            usage=usage,
            cache=self.cache,
            cache_scope=account.id,
            fresh=fresh,
            guard=guard,
            deadline=deadline,
            admission=admission,
            observer=self.telemetry,
            account_id=account.id,
        )
        provider = TalentLmsProvider(self.portals[account.id], client, now=datetime.now(UTC))
        return Context(
            account_id=account.id,
            provider=provider,
            usage=usage,
            report_upstream=self.settings.execution.upstream_extension,
            max_upstream_calls=self.settings.execution.max_upstream_calls,
            guard=guard,
            admission=admission,
            shares_calls=self.cache is not None and not fresh,
        )
