"""What lives as long as the app: settings, accounts, schema, portals, their guards, the
shared cache and HTTP client; and the per-operation ``Context`` each request gets from it.

This is where an account's provider is looked at: each account gets its provider's client
(``upstream_client``) and provider (``context_for``), over the same shared HTTP client, cache
and guard machinery. Nothing past the context names a provider.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
from starlette.applications import Starlette

from gateway.config import (
    DEMO_LEARNWORLDS_ACCOUNT,
    DEMO_LEARNWORLDS_URL,
    AccountConfig,
    LearnWorldsCredentials,
    Settings,
)
from gateway.execution.context import Context
from gateway.observability.telemetry import Telemetry
from gateway.persisted.queries import (
    PersistedQueries,
)
from gateway.providers.base import LmsProvider
from gateway.providers.learnworlds.client import LearnWorldsAuth, LearnWorldsClient
from gateway.providers.learnworlds.provider import LearnWorldsProvider
from gateway.providers.learnworlds.school import LearnWorldsSchool
from gateway.providers.talentlms.client import TalentLmsClient
from gateway.providers.talentlms.portal import TalentLmsPortal
from gateway.providers.talentlms.provider import TalentLmsProvider
from gateway.simulator import LearnWorldsConfig, SimulatorConfig
from gateway.tenancy.accounts import Tenancy
from gateway.upstream.breaker import CircuitBreaker
from gateway.upstream.cache import UpstreamCache
from gateway.upstream.guard import UpstreamGuard
from gateway.upstream.pacer import Admission, Pacer
from gateway.upstream.quota import QuotaTracker
from gateway.upstream.retry import RetryPolicy
from gateway.upstream.usage import UpstreamUsage
from schema import GatewaySchema

if TYPE_CHECKING:
    from gateway.observability.tracing.tracer import Tracing

__all__ = [
    "Runtime",
    "demo_learnworlds_config",
    "demo_school_account",
    "demo_simulator_config",
    "learnworlds_auths",
    "upstream_guard",
]


def demo_simulator_config(settings: Settings) -> SimulatorConfig:
    # The group's fields are SimulatorConfig's keyword arguments.
    return SimulatorConfig(**settings.simulator.model_dump())


def demo_learnworlds_config(settings: Settings) -> LearnWorldsConfig:
    """Demo mode's LearnWorlds school: the simulator's own data, at the demo's latency."""
    return LearnWorldsConfig(seed=settings.simulator.seed, latency_ms=settings.simulator.latency_ms)


def demo_school_account(config: LearnWorldsConfig) -> AccountConfig:
    """The demo's second account, on the embedded LearnWorlds simulator (``config``'s
    client credentials)."""
    return AccountConfig(
        id=DEMO_LEARNWORLDS_ACCOUNT,
        provider="learnworlds",
        base_url=DEMO_LEARNWORLDS_URL,
        demo=True,
        learnworlds=LearnWorldsCredentials(
            client_id=config.client_id, client_secret=config.client_secret
        ),
    )


def upstream_guard(settings: Settings, account: AccountConfig) -> UpstreamGuard:
    """One account's retries, circuit breaker, pacing and quota, from the settings.

    The retry policy and the breaker are every provider's; the pace is the account's own
    (``pace_max_calls`` in the accounts file) or its provider's default: TalentLMS 200 calls
    in 5 s (``TALENTLMS_PACE_*``), LearnWorlds 30 in 10 s (``LMS_GATEWAY_LEARNWORLDS_PACE_*``).
    """
    default = settings.learnworlds.pace if account.provider == "learnworlds" else None
    pace = account.pacing or default or settings.pacing.pace
    service = account.provider_name
    return UpstreamGuard(
        retry=RetryPolicy.from_settings(settings.retry),
        breaker=CircuitBreaker.from_settings(settings.breaker, service=service),
        pacer=Pacer.from_pace(pace, service=service),
        quota=QuotaTracker(),
        rng=random.Random(),
        quota_refresh=settings.quota.refresh_seconds,
    )


def learnworlds_auths(settings: Settings, tenancy: Tenancy) -> dict[str, LearnWorldsAuth]:
    """Each LearnWorlds account's credentials and token, kept for the app's lifetime."""
    return {
        account.id: LearnWorldsAuth.for_account(account, settings.learnworlds)
        for account in tenancy.accounts.values()
        if account.provider == "learnworlds"
    }


@dataclass
class Runtime:
    """What lives as long as the app: settings, accounts, portals and the HTTP client."""

    settings: Settings
    tenancy: Tenancy
    schema: GatewaySchema
    simulator: Starlette | None  # demo mode's TalentLMS simulator
    portals: dict[str, TalentLmsPortal] = field(default_factory=dict)  # TalentLMS accounts
    schools: dict[str, LearnWorldsSchool] = field(default_factory=dict)  # LearnWorlds accounts
    guards: dict[str, UpstreamGuard] = field(default_factory=dict)  # every account
    auths: dict[str, LearnWorldsAuth] = field(default_factory=dict)  # LearnWorlds accounts
    cache: UpstreamCache | None = None
    http: httpx.AsyncClient | None = None
    persisted: PersistedQueries = field(default_factory=PersistedQueries)
    tracing: Tracing | None = None  # None: tracing is off and nothing is wrapped
    telemetry: Telemetry = field(default_factory=Telemetry)  # metrics and logs subscribe
    learnworlds_simulator: Starlette | None = None  # demo mode's LearnWorlds simulator

    def upstream_client(
        self,
        account: AccountConfig,
        *,
        usage: UpstreamUsage,
        deadline: float | None = None,
        admission: Admission | None = None,
        fresh: bool = False,
    ) -> TalentLmsClient | LearnWorldsClient:
        """The account's provider client for one operation: the shared HTTP client and cache,
        the account's guard (and, for LearnWorlds, its token)."""
        assert self.http is not None, "the app's lifespan has not started"
        common: dict[str, Any] = {
            "usage": usage,
            "cache": self.cache,
            "cache_scope": account.id,
            "fresh": fresh,
            "guard": self.guards.get(account.id),
            "deadline": deadline,
            "admission": admission,
            "observer": self.telemetry,
            "account_id": account.id,
        }
        if account.provider == "learnworlds":
            return LearnWorldsClient(
                self.http, base_url=account.base_url, auth=self.auths[account.id], **common
            )
        return TalentLmsClient(
            self.http, base_url=account.base_url, api_key=account.api_key, **common
        )

    async def probe(self, account: AccountConfig) -> None:
        """Ask the account's LMS once whether it answers and accepts the credentials
        (``/readyz``): no cache, no guard, no retry; raises ``UpstreamError``.

        TalentLMS: the free ``GET /ratelimit``, whose answer refreshes the quota tracker.
        LearnWorlds has no free call: one course (a token call first if none is kept).
        """
        assert self.http is not None, "the app's lifespan has not started"
        usage = UpstreamUsage()  # thrown away: a probe is nobody's operation
        if account.provider == "learnworlds":
            client = LearnWorldsClient(
                self.http, base_url=account.base_url, auth=self.auths[account.id], usage=usage
            )
            await client.get(("courses",), "courses", [("page", 1), ("items_per_page", 1)])
            return
        talentlms = TalentLmsClient(
            self.http, base_url=account.base_url, api_key=account.api_key, usage=usage
        )
        body = await talentlms.rate_limit()
        guard = self.guards.get(account.id)
        if guard is not None:
            guard.quota.update(body)

    def context_for(self, account: AccountConfig, *, fresh: bool = False) -> Context:
        """A new operation's context; ``fresh`` skips cached answers (but refreshes them)."""
        assert self.http is not None, "the app's lifespan has not started"
        usage = UpstreamUsage()
        guard = self.guards.get(account.id)
        deadline = time.monotonic() + self.settings.execution.deadline_seconds
        # The operation's standing with the portal's pacer: its priority, its promised calls.
        admission = guard.pacer.admission(deadline) if guard is not None else None
        client = self.upstream_client(
            account, usage=usage, deadline=deadline, admission=admission, fresh=fresh
        )
        now = datetime.now(UTC)
        provider: LmsProvider
        if isinstance(client, LearnWorldsClient):
            provider = LearnWorldsProvider(self.schools[account.id], client, now=now)
        else:
            provider = TalentLmsProvider(self.portals[account.id], client, now=now)
        return Context(
            account_id=account.id,
            provider=provider,
            usage=usage,
            report_upstream=self.settings.execution.upstream_extension,
            max_upstream_calls=self.settings.execution.max_upstream_calls,
            guard=guard,
            admission=admission,
            shares_calls=self.cache is not None and not fresh,
            observer=self.telemetry,
        )
