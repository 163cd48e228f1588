"""What lives as long as the app: settings, accounts, schema, portals, their guards, the
shared cache and HTTP client; and the per-operation ``Context`` each request gets from it.

This is where an account's provider is looked at: each account gets its provider's client
(``upstream_client``), over the same shared HTTP client, cache and guard machinery. A
provider whose queries are not written yet is refused at startup (``refuse_unserved``), with a
message that says so, rather than served half.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
from starlette.applications import Starlette

from gateway.config import AccountConfig, Settings
from gateway.errors import ConfigError
from gateway.execution.context import Context
from gateway.observability.telemetry import Telemetry
from gateway.persisted.queries import (
    PersistedQueries,
)
from gateway.providers.learnworlds.client import LearnWorldsAuth, LearnWorldsClient
from gateway.providers.talentlms.client import TalentLmsClient
from gateway.providers.talentlms.portal import TalentLmsPortal
from gateway.providers.talentlms.provider import TalentLmsProvider
from gateway.simulator import SimulatorConfig
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
    "SERVED_PROVIDERS",
    "Runtime",
    "demo_simulator_config",
    "learnworlds_auths",
    "refuse_unserved",
    "upstream_guard",
]

# The providers whose accounts this version can answer queries for. LearnWorlds has its client
# (gateway/providers/learnworlds/client.py) but not yet its call plan.
SERVED_PROVIDERS = frozenset({"talentlms"})


def demo_simulator_config(settings: Settings) -> SimulatorConfig:
    # The group's fields are SimulatorConfig's keyword arguments.
    return SimulatorConfig(**settings.simulator.model_dump())


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


def refuse_unserved(tenancy: Tenancy) -> None:
    """Raise ``ConfigError`` for an account whose provider this version cannot serve."""
    for account in tenancy.accounts.values():
        if account.provider in SERVED_PROVIDERS:
            continue
        if account.id == "default":
            which = "the account of the LMS_GATEWAY_LEARNWORLDS_* variables is a LearnWorlds school"
            fix = "unset LMS_GATEWAY_LEARNWORLDS_URL, _CLIENT_ID, _CLIENT_SECRET and _ACCESS_TOKEN"
        else:
            which = f"account {account.id!r} is a {account.provider_name} school"
            fix = "remove it from LMS_GATEWAY_ACCOUNTS_FILE"
        raise ConfigError(
            f"{which}, and {account.provider_name} accounts are not available yet: this "
            f"version has the {account.provider_name} client but cannot answer queries with "
            f"it ({fix})"
        )


@dataclass
class Runtime:
    """What lives as long as the app: settings, accounts, portals and the HTTP client."""

    settings: Settings
    tenancy: Tenancy
    schema: GatewaySchema
    simulator: Starlette | None
    portals: dict[str, TalentLmsPortal] = field(default_factory=dict)  # TalentLMS accounts
    guards: dict[str, UpstreamGuard] = field(default_factory=dict)  # every account
    auths: dict[str, LearnWorldsAuth] = field(default_factory=dict)  # LearnWorlds accounts
    cache: UpstreamCache | None = None
    http: httpx.AsyncClient | None = None
    persisted: PersistedQueries = field(default_factory=PersistedQueries)
    tracing: Tracing | None = None  # None: tracing is off and nothing is wrapped
    telemetry: Telemetry = field(default_factory=Telemetry)  # metrics and logs subscribe

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
        if not isinstance(client, TalentLmsClient):  # refused at startup (refuse_unserved)
            raise ConfigError(f"{account.provider_name} accounts are not available yet")
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
