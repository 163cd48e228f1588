"""The typed per-operation context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from strawberry.types.info import Info as _Info

from gateway.domain.cost import CostEstimate
from gateway.execution.loaders import Loaders
from gateway.observability.telemetry import Observer
from gateway.providers.base import LmsProvider
from gateway.upstream.guard import UpstreamGuard
from gateway.upstream.pacer import Admission
from gateway.upstream.usage import UpstreamUsage

__all__ = ["Context", "Info"]


@dataclass(slots=True)
class Context:
    """One GraphQL operation against one account."""

    account_id: str
    provider: LmsProvider
    usage: UpstreamUsage
    loaders: Loaders = field(init=False)
    report_upstream: bool = True
    max_upstream_calls: int = 250
    guard: UpstreamGuard | None = None  # the portal's quota, circuit and pacing
    admission: Admission | None = None  # this operation's standing with the portal's pacer
    shares_calls: bool = False  # the cache shares identical calls in flight with other operations
    # The client reads an answer in parts (multipart/mixed): @defer and @stream deliver
    # incrementally. Otherwise their data is part of the one answer (schema/incremental.py).
    incremental: bool = False
    # Demand control's estimate of the operation's upstream calls, once validation made it.
    cost: CostEstimate | None = None
    # What the request may do (gateway.tenancy.accounts.SCOPES) and the key that allowed it
    # (None: anonymous), set by the HTTP layer from the request's access.
    scopes: frozenset[str] = frozenset({"read"})
    key_name: str | None = None
    observer: Observer | None = None  # telemetry, for the audit of mutations
    # Set by the schema once the document is parsed; for logs and metrics.
    operation_name: str | None = None
    operation_type: str = "unknown"

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.provider)


Info: TypeAlias = _Info[Context, None]
