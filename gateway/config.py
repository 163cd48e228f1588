"""Configuration, read from the environment (or passed in whole by tests).

The settings come in groups, one per thing they configure (``Settings().retry`` is the
upstream retry policy's), and every setting is an environment variable named after its group
and field: ``TALENTLMS_RETRY_ATTEMPTS`` is ``Settings().retry.attempts``. The table in
docs/configuration.md lists them all. With no TalentLMS credentials the gateway runs against
its embedded simulator ("demo mode").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal, NamedTuple
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasGenerator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "DEMO_BASE_URL",
    "AccountConfig",
    "BreakerSettings",
    "CacheSettings",
    "ExecutionSettings",
    "FederationSettings",
    "GraphiqlSettings",
    "HttpSettings",
    "LimitsSettings",
    "LoggingSettings",
    "MetricsSettings",
    "PacingSettings",
    "PersistedQueriesSettings",
    "QuotaSettings",
    "ReadinessSettings",
    "RetrySettings",
    "Settings",
    "SimulatorSettings",
    "TenancySettings",
    "TracingSettings",
    "UpstreamSettings",
    "UsersPaging",
    "Variable",
    "environment_variables",
]

# The embedded simulator answers on this made-up host through an in-process transport.
DEMO_BASE_URL = "http://talentlms-simulator.invalid/api/v1"


class UsersPaging(StrEnum):
    """How ``/users`` is paged. Paging parameters are [T] in the reference, so it is a setting."""

    PATH = "path"  # send page_size:/page_number:, tolerate portals that ignore them
    NONE = "none"  # always download the whole list and page in the gateway


@dataclass(frozen=True)
class AccountConfig:
    """One LMS account (a TalentLMS portal) the gateway serves."""

    id: str
    provider: Literal["talentlms"]
    base_url: str
    api_key: str = field(repr=False)  # a super-admin secret: never in a repr or a log
    date_format: str | None  # overrides siteinfo.date_format when set
    timezone: ZoneInfo
    users_paging: UsersPaging
    demo: bool


def _blank_is_unset(value: object) -> object:
    # `TALENTLMS_API_KEY=` (a compose file, `docker run -e`) means "not set", not a
    # portal with an empty key and no address.
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, SecretStr) and not value.get_secret_value().strip():
        return None
    return value


# On an optional setting: an empty value is no value.
_BLANK_IS_UNSET = BeforeValidator(_blank_is_unset)


def _variables(prefix: str) -> SettingsConfigDict:
    """A group whose fields read the environment variables ``prefix`` + their name, in upper
    case, unless a field names its own variable (``validation_alias``).

    The variable is each field's alias rather than an ``env_prefix``: a validation error then
    names the variable to fix, and ``lms-gateway serve`` prints it as it is.
    """
    return SettingsConfigDict(
        alias_generator=AliasGenerator(validation_alias=lambda name: f"{prefix}{name}".upper())
    )


class _Group(BaseSettings):
    # Keyword arguments name fields (`RetrySettings(attempts=1)`); the environment names
    # variables, the fields' aliases. An unknown keyword is a mistake, not something to ignore.
    model_config = SettingsConfigDict(
        case_sensitive=False, extra="forbid", frozen=True, populate_by_name=True
    )


class UpstreamSettings(_Group):
    """The TalentLMS portal (the ``default`` account) and the HTTP client that reaches it."""

    model_config = _variables("talentlms_")

    domain: Annotated[str | None, _BLANK_IS_UNSET] = Field(
        default=None, description="Portal host, e.g. acme.talentlms.com (https is used)."
    )
    base_url: Annotated[str | None, _BLANK_IS_UNSET] = Field(
        default=None, description="Full API base URL; wins over the domain (proxies, test doubles)."
    )
    api_key: Annotated[SecretStr | None, _BLANK_IS_UNSET] = Field(
        default=None, description="The portal's API key."
    )
    date_format: Annotated[str | None, _BLANK_IS_UNSET] = Field(
        default=None,
        description="DDMMYYYY, MMDDYYYY or YYYYMMDD; skips reading siteinfo.date_format.",
    )
    timezone: str = Field(
        default="UTC", description="Zone in which the portal renders formatted dates."
    )
    users_paging: UsersPaging = Field(
        default=UsersPaging.PATH, description="path: page /users upstream; none: page locally."
    )
    timeout_seconds: float = Field(
        default=30.0, gt=0, description="Read timeout: longest wait for a response's bytes."
    )
    connect_timeout_seconds: float = Field(default=5.0, gt=0)
    pool_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Longest wait for a free connection."
    )
    max_connections: int = Field(default=50, ge=1)
    http_pool: Literal["aiohttp", "httpx"] = Field(
        default="aiohttp",
        description="Connection pool for upstream calls: aiohttp's (fast with many calls in "
        "flight) or httpx's own.",
    )

    @field_validator("domain")
    @classmethod
    def _bare_domain(cls, value: str | None) -> str | None:
        # Like the official library: accept "https://acme.talentlms.com/" and keep the host.
        if value is None or not value.strip():
            return None
        host = value.strip().removeprefix("https://").removeprefix("http://").strip("/")
        if not host or "/" in host or " " in host:
            raise ValueError("TALENTLMS_DOMAIN must be a host name such as acme.talentlms.com")
        return host

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        # Without /api/v1 every call is a 404 of a path that is not the API's.
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or not parts.path.rstrip("/").endswith("/api/v1")
        ):
            raise ValueError("TALENTLMS_BASE_URL must be an http(s) URL ending in /api/v1")
        return value.strip().rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"TALENTLMS_TIMEZONE is not an IANA zone: {value!r}") from None
        return value

    @model_validator(mode="after")
    def _credentials_complete(self) -> UpstreamSettings:
        has_target = bool(self.domain or self.base_url)
        has_key = self.api_key is not None and bool(self.api_key.get_secret_value())
        if has_target and not has_key:
            raise ValueError(
                "TALENTLMS_API_KEY is required with TALENTLMS_DOMAIN/TALENTLMS_BASE_URL"
            )
        if has_key and not has_target:
            raise ValueError(
                "TALENTLMS_API_KEY is set but neither TALENTLMS_DOMAIN nor "
                "TALENTLMS_BASE_URL says which portal"
            )
        return self

    @property
    def demo(self) -> bool:
        """No credentials: serve the embedded simulator."""
        return self.api_key is None

    def default_account(self, demo_api_key: str = "") -> AccountConfig:
        if self.demo:
            base_url, key = DEMO_BASE_URL, demo_api_key
            date_format = None
        else:
            assert self.api_key is not None
            base_url = self.base_url or f"https://{self.domain}/api/v1"
            key = self.api_key.get_secret_value()
            date_format = self.date_format
        return AccountConfig(
            id="default",
            provider="talentlms",
            base_url=base_url,
            api_key=key,
            date_format=date_format,
            timezone=ZoneInfo(self.timezone),
            users_paging=self.users_paging,
            demo=self.demo,
        )


class RetrySettings(_Group):
    """How failed reads are retried (``RetryPolicy.from_settings``)."""

    model_config = _variables("talentlms_retry_")

    attempts: int = Field(
        default=3, ge=1, description="Tries per read (first included); writes are tried once."
    )
    base_delay_seconds: float = Field(default=0.2, ge=0)
    max_delay_seconds: float = Field(default=5.0, ge=0)


class BreakerSettings(_Group):
    """Each portal's circuit breaker (``CircuitBreaker.from_settings``)."""

    model_config = _variables("talentlms_breaker_")

    failures: int = Field(
        default=5, ge=1, description="Consecutive failures that open a portal's circuit."
    )
    cool_down_seconds: float = Field(default=30.0, gt=0)


class PacingSettings(_Group):
    """Each portal's burst pacing (``Pacer.from_settings``)."""

    model_config = _variables("talentlms_pace_")

    max_calls: int = Field(
        default=200, ge=1, description="Calls that may start in any pacing window."
    )
    window_seconds: float = Field(default=5.0, gt=0)


class QuotaSettings(_Group):
    """How each portal's hourly quota is watched (``UpstreamGuard``)."""

    model_config = _variables("talentlms_quota_")

    refresh_seconds: float = Field(
        default=300.0, gt=0, description="How often the free /ratelimit is read."
    )


class CacheSettings(_Group):
    """The shared cache of upstream responses (``UpstreamCache.from_settings``)."""

    model_config = _variables("lms_gateway_cache_")

    enabled: bool = Field(
        default=True,
        validation_alias="LMS_GATEWAY_CACHE",
        description="Cache upstream reads across requests.",
    )
    max_entries: int = Field(default=10_000, ge=1)
    ttls: dict[str, float] = Field(
        default_factory=dict,
        description='Seconds per endpoint over the defaults, as JSON: {"users/id": 10}.',
    )


class ExecutionSettings(_Group):
    """What each operation may spend and reports (its ``Context``)."""

    model_config = _variables("lms_gateway_")

    deadline_seconds: float = Field(default=30.0, gt=0)
    max_upstream_calls: int = Field(
        default=250, ge=1, description="Refuse operations estimated to need more upstream calls."
    )
    upstream_extension: bool = Field(
        default=True, description="Report upstream calls in extensions.upstream."
    )


class LimitsSettings(_Group):
    """The shape an operation may have (``OperationLimits.from_settings``)."""

    model_config = _variables("lms_gateway_")

    max_depth: int = Field(default=13, ge=1)
    max_aliases: int = Field(default=15, ge=0)
    max_directives: int = Field(default=20, ge=0)
    max_root_fields: int = Field(default=10, ge=1)
    max_tokens: int = Field(default=2000, ge=10)
    introspection: bool = Field(default=True)
    hide_suggestions: bool = Field(default=False)


class HttpSettings(_Group):
    """The HTTP server: where it listens, what a request may be, how it shuts down."""

    model_config = _variables("lms_gateway_")

    host: str = Field(
        default="127.0.0.1", description="Address `lms-gateway serve` binds (--host wins)."
    )
    port: int = Field(
        default=8000, ge=0, le=65535, description="Port `lms-gateway serve` binds (--port wins)."
    )
    max_body_bytes: int = Field(default=262_144, ge=1024)
    max_batch_operations: int = Field(default=10, ge=1)
    header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Longest wait for a request's headers; then 408 and the connection closes.",
    )
    body_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Longest wait for a request's whole body; then 408 and the connection closes.",
    )
    shutdown_timeout_seconds: float = Field(
        default=25.0,
        gt=0,
        description="After SIGTERM, seconds in-flight requests get to finish before cancelling.",
    )
    shutdown_delay_seconds: float = Field(
        default=0.0,
        ge=0,
        description="After SIGTERM, seconds to keep serving (with /readyz at 503) before stopping.",
    )


class GraphiqlSettings(_Group):
    """The GraphiQL page browsers get at /graphql."""

    model_config = _variables("lms_gateway_graphiql_")

    enabled: bool = Field(
        default=True,
        validation_alias="LMS_GATEWAY_GRAPHIQL",
        description="Serve GraphiQL to browsers.",
    )
    assets: Literal["bundled", "cdn"] = Field(
        default="bundled",
        description="bundled: GraphiQL's scripts come from the gateway; cdn: from a public CDN.",
    )


class FederationSettings(_Group):
    """Apollo Federation."""

    model_config = _variables("lms_gateway_federation_")

    enabled: bool = Field(
        default=False,
        validation_alias="LMS_GATEWAY_FEDERATION",
        description="Serve /graphql as an Apollo Federation 2 subgraph (_service, _entities).",
    )


class TenancySettings(_Group):
    """Accounts and gateway API keys."""

    model_config = _variables("lms_gateway_")

    accounts_file: Annotated[Path | None, _BLANK_IS_UNSET] = Field(
        default=None, description="TOML or JSON file of accounts and gateway API keys."
    )
    allow_anonymous: bool = Field(
        default=False,
        description="Serve real portals without gateway API keys even when not on loopback.",
    )


class PersistedQueriesSettings(_Group):
    """Automatic persisted queries and allow-list mode (``persisted_queries``)."""

    model_config = _variables("lms_gateway_")

    apq: bool = Field(
        default=True, description="Automatic persisted queries: run documents by SHA-256 hash."
    )
    apq_max_entries: int = Field(
        default=10_000, ge=1, description="Documents the in-process APQ store keeps (LRU)."
    )
    apq_max_bytes: int = Field(
        default=32 * 1024 * 1024, ge=1024, description="Total size of those documents."
    )
    manifest: Annotated[Path | None, _BLANK_IS_UNSET] = Field(
        default=None,
        validation_alias="LMS_GATEWAY_PERSISTED_QUERIES_MANIFEST",
        description="Apollo persisted-query manifest (JSON) of known operations.",
    )
    allowlist: bool = Field(
        default=False,
        validation_alias="LMS_GATEWAY_PERSISTED_QUERIES_ALLOWLIST",
        description="Run only the manifest's operations.",
    )

    @model_validator(mode="after")
    def _allowlist_has_manifest(self) -> PersistedQueriesSettings:
        if self.allowlist and self.manifest is None:
            raise ValueError(
                "LMS_GATEWAY_PERSISTED_QUERIES_ALLOWLIST=true needs "
                "LMS_GATEWAY_PERSISTED_QUERIES_MANIFEST (build one with "
                "`lms-gateway persisted-queries build queries/ -o manifest.json`)"
            )
        return self


class ReadinessSettings(_Group):
    """/readyz."""

    model_config = _variables("lms_gateway_readiness_")

    cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="Seconds a /readyz result is reused before the portals are asked again.",
    )
    timeout_seconds: float = Field(
        default=2.0, gt=0, description="Longest wait for one portal's /ratelimit in /readyz."
    )


class TracingSettings(_Group):
    """OpenTelemetry tracing; the exporter is configured by the standard OTEL_* variables."""

    model_config = _variables("lms_gateway_tracing_")

    enabled: bool = Field(
        default=False,
        validation_alias="LMS_GATEWAY_TRACING",
        description="Trace HTTP requests, GraphQL operations and upstream calls (extra: tracing).",
    )
    propagate_upstream: bool = Field(
        default=False,
        description="Send traceparent/tracestate to TalentLMS, a third party (off: not sent).",
    )


class MetricsSettings(_Group):
    """Prometheus metrics."""

    model_config = _variables("lms_gateway_metrics_")

    enabled: bool = Field(
        default=True,
        validation_alias="LMS_GATEWAY_METRICS",
        description="Serve Prometheus metrics at /metrics (outside the API keys).",
    )
    token: Annotated[SecretStr | None, _BLANK_IS_UNSET] = Field(
        default=None, description="When set, /metrics needs Authorization: Bearer <token>."
    )
    max_operation_names: int = Field(
        default=100, ge=0, description="Distinct operation names kept as labels; later: other."
    )


class LoggingSettings(_Group):
    """Logs."""

    model_config = _variables("lms_gateway_")

    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(
        default="info", description="The least severe log records `serve` writes."
    )
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description="How `serve` writes logs: json, text, or auto (text on a terminal, else json).",
    )
    access_log: bool = Field(
        default=True, description="One structured line per HTTP request (gateway.access)."
    )


class SimulatorSettings(_Group):
    """Demo mode's embedded simulator. The fields are ``SimulatorConfig``'s keyword arguments
    (the simulator imports nothing of the gateway, so it cannot take this group)."""

    model_config = _variables("lms_gateway_demo_")

    seed: int = 7
    users: int = Field(default=60, ge=1, le=100_000)
    courses: int = Field(default=12, ge=1, le=10_000)
    units_per_course: int = Field(default=10, ge=2, le=500)
    enrollments_per_user: int = Field(default=4, ge=0, le=1000)
    latency_ms: float = Field(default=0.0, ge=0)
    date_format: str = "DDMMYYYY"


class Settings(BaseModel):
    """The gateway's settings, one group per thing they configure.

    ``Settings()`` reads every group from the environment. A group given as keyword arguments,
    ``Settings(retry={"attempts": 1})``, has those values and reads the rest from the
    environment too: validating a group runs its own ``BaseSettings.__init__``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    upstream: UpstreamSettings = Field(default_factory=UpstreamSettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    breaker: BreakerSettings = Field(default_factory=BreakerSettings)
    pacing: PacingSettings = Field(default_factory=PacingSettings)
    quota: QuotaSettings = Field(default_factory=QuotaSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    execution: ExecutionSettings = Field(default_factory=ExecutionSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    graphiql: GraphiqlSettings = Field(default_factory=GraphiqlSettings)
    federation: FederationSettings = Field(default_factory=FederationSettings)
    tenancy: TenancySettings = Field(default_factory=TenancySettings)
    persisted_queries: PersistedQueriesSettings = Field(default_factory=PersistedQueriesSettings)
    readiness: ReadinessSettings = Field(default_factory=ReadinessSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    simulator: SimulatorSettings = Field(default_factory=SimulatorSettings)

    @property
    def demo(self) -> bool:
        """No TalentLMS credentials: the gateway serves the embedded simulator."""
        return self.upstream.demo

    @classmethod
    def from_variables(cls, values: Mapping[str, object]) -> Settings:
        """Settings with ``values``, by environment variable name, over the environment's."""
        variables = environment_variables()
        groups: dict[str, dict[str, object]] = {}
        for name, value in values.items():
            variable = variables[name.upper()]
            groups.setdefault(variable.group, {})[variable.field] = value
        return cls.model_validate(groups)


class Variable(NamedTuple):
    """Where an environment variable lands: ``Settings().<group>.<field>``."""

    group: str
    field: str
    info: FieldInfo


def environment_variables() -> dict[str, Variable]:
    """Every environment variable of the settings, by name, in the order of the groups."""
    variables: dict[str, Variable] = {}
    for group, group_info in Settings.model_fields.items():
        model = group_info.annotation
        assert isinstance(model, type) and issubclass(model, _Group)
        for name, info in model.model_fields.items():
            variables[str(info.validation_alias)] = Variable(group, name, info)
    return variables
