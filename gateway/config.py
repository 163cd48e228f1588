"""Configuration, read from the environment (or passed in whole by tests).

The settings come in groups, one per thing they configure (``Settings().retry`` is the
upstream retry policy's), and every setting is an environment variable named after its group
and field: ``TALENTLMS_RETRY_ATTEMPTS`` is ``Settings().retry.attempts``. The table in
docs/configuration.md lists them all. With no credentials (neither TalentLMS's nor
LearnWorlds's) the gateway runs against its embedded simulator ("demo mode").
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
    "DEMO_LEARNWORLDS_ACCOUNT",
    "DEMO_LEARNWORLDS_URL",
    "AccountConfig",
    "BreakerSettings",
    "CacheSettings",
    "ExecutionSettings",
    "FederationSettings",
    "GraphiqlSettings",
    "HttpSettings",
    "LearnWorldsCredentials",
    "LearnWorldsSettings",
    "LimitsSettings",
    "LoggingSettings",
    "MetricsSettings",
    "PaceLimit",
    "PacingSettings",
    "PersistedQueriesSettings",
    "Provider",
    "QuotaSettings",
    "ReadinessSettings",
    "RetrySettings",
    "Settings",
    "SimulatorSettings",
    "TenancySettings",
    "TokenEncoding",
    "TracingSettings",
    "UpstreamSettings",
    "UsersPaging",
    "Variable",
    "environment_variables",
    "learnworlds_base_url",
]

# The embedded simulators answer on these made-up hosts through in-process transports.
DEMO_BASE_URL = "http://talentlms-simulator.invalid/api/v1"
DEMO_LEARNWORLDS_URL = "http://learnworlds-simulator.invalid/admin/api"
# Demo mode's second account, a LearnWorlds school: chosen with ``X-LMS-Account``.
DEMO_LEARNWORLDS_ACCOUNT = "learnworlds"


class UsersPaging(StrEnum):
    """How ``/users`` is paged. Paging parameters are [T] in the reference, so it is a setting."""

    PATH = "path"  # send page_size:/page_number:, tolerate portals that ignore them
    NONE = "none"  # always download the whole list and page in the gateway


Provider = Literal["talentlms", "learnworlds"]
"""The LMS behind an account. Only the runtime and the providers tell them apart."""

# How each provider is named to people (messages, logs).
PROVIDER_NAMES: Mapping[str, str] = {"talentlms": "TalentLMS", "learnworlds": "LearnWorlds"}


class TokenEncoding(StrEnum):
    """How the LearnWorlds token call carries ``client_id``, ``client_secret`` and
    ``grant_type``. Working clients use all three; no source says a school refuses any
    (docs/learnworlds-mapping.md, "Token body encoding")."""

    AUTO = "auto"  # DATA first; on a 400, FORM, then JSON; the one that worked is kept
    DATA = "data"  # a form field ``data`` holding the JSON object (the v1 docs, most clients)
    FORM = "form"  # plain form fields
    JSON = "json"  # a JSON body


@dataclass(frozen=True)
class PaceLimit:
    """At most ``max_calls`` calls reach the account in any ``window_seconds``."""

    max_calls: int
    window_seconds: float

    def __post_init__(self) -> None:
        if self.max_calls < 1 or not self.window_seconds > 0:
            raise ValueError("a pace limit needs max_calls >= 1 and a positive window")


@dataclass(frozen=True)
class LearnWorldsCredentials:
    """How a LearnWorlds account signs its calls: the client id (``Lw-Client``) and either the
    client secret (OAuth2 client credentials: tokens fetched and renewed by the gateway) or a
    static access token made in the school's admin panel (never renewed)."""

    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    token_url: str | None = None  # default: {base_url}/oauth2/access_token
    token_encoding: TokenEncoding = TokenEncoding.AUTO

    def __post_init__(self) -> None:
        if not self.client_id.strip():
            raise ValueError("a LearnWorlds account needs its client id (the Lw-Client header)")
        if (self.client_secret is None) == (self.access_token is None):
            raise ValueError(
                "a LearnWorlds account needs exactly one of a client secret and an access token"
            )


@dataclass(frozen=True)
class AccountConfig:
    """One LMS account the gateway serves: a TalentLMS portal or a LearnWorlds school.

    ``base_url`` is the provider's API root (TalentLMS ``…/api/v1``, LearnWorlds
    ``…/admin/api``). ``api_key``, ``date_format``, ``timezone`` and ``users_paging`` are
    TalentLMS's; ``learnworlds`` holds a LearnWorlds school's credentials. ``pacing`` overrides
    the provider's default pace for this account.
    """

    id: str
    provider: Provider
    base_url: str
    api_key: str = field(default="", repr=False)  # a super-admin secret: never in a repr or a log
    date_format: str | None = None  # overrides siteinfo.date_format when set
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    users_paging: UsersPaging = UsersPaging.PATH
    demo: bool = False
    learnworlds: LearnWorldsCredentials | None = None
    pacing: PaceLimit | None = None

    def __post_init__(self) -> None:
        if (self.provider == "learnworlds") != (self.learnworlds is not None):
            raise ValueError("a LearnWorlds account, and only one, has LearnWorlds credentials")

    @property
    def provider_name(self) -> str:
        """``TalentLMS`` or ``LearnWorlds``, for messages."""
        return PROVIDER_NAMES[self.provider]


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
    """The TalentLMS portal (the ``default`` account), and the HTTP client every upstream call
    goes through, whatever the provider (timeouts, connections, pool)."""

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


def learnworlds_base_url(value: str) -> str:
    """A school's API root, ``{origin}/admin/api``, from the "API URL" the admin panel shows.

    People paste it with ``/admin/api`` or as the bare origin (``https://school.example``), or
    give the host alone; all three mean the same school. Anything else under the host (a bare
    ``/v2``, another path) is refused: every call would be a 404 of a path that is not the API's.
    Raises ``ValueError`` with a message that does not repeat the value (it could carry
    credentials).
    """
    text = value.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname
        _ = parts.port
    except ValueError:
        raise ValueError("the LearnWorlds URL is not a URL") from None
    if parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in text):
        raise ValueError("the LearnWorlds URL must be an http(s) URL such as https://school.com")
    if parts.username is not None or parts.password is not None:
        raise ValueError("the LearnWorlds URL must not contain credentials")
    if parts.query or parts.fragment:
        raise ValueError("the LearnWorlds URL must not have a query or a fragment")
    path = parts.path.rstrip("/")
    if path not in ("", "/admin/api"):
        raise ValueError(
            "the LearnWorlds URL must be the school's address, alone or ending in /admin/api "
            "(the API URL of Settings → Developers → API)"
        )
    return f"{parts.scheme}://{parts.netloc}/admin/api"


class LearnWorldsSettings(_Group):
    """A LearnWorlds school as the single account (``default``), and how every LearnWorlds
    account's tokens and pace are handled."""

    model_config = _variables("lms_gateway_learnworlds_")

    url: Annotated[str | None, _BLANK_IS_UNSET] = Field(
        default=None,
        description="The school's API URL: https://school.com or https://school.com/admin/api.",
    )
    client_id: Annotated[str | None, _BLANK_IS_UNSET] = Field(
        default=None, description="The API client id, sent as Lw-Client on every call."
    )
    client_secret: Annotated[SecretStr | None, _BLANK_IS_UNSET] = Field(
        default=None, description="The client secret: the gateway fetches and renews tokens."
    )
    access_token: Annotated[SecretStr | None, _BLANK_IS_UNSET] = Field(
        default=None, description="A static access token from the admin panel (never renewed)."
    )
    token_url: Annotated[str | None, _BLANK_IS_UNSET] = Field(
        default=None, description="The token endpoint; default {API URL}/oauth2/access_token."
    )
    token_encoding: TokenEncoding = Field(
        default=TokenEncoding.AUTO,
        description="auto, data, form or json: how the token call's body is encoded.",
    )
    token_margin_seconds: float = Field(
        default=60.0, ge=0, description="A token is renewed this long before it expires."
    )
    token_lifetime_seconds: float = Field(
        default=3600.0, gt=0, description="A token's lifetime when the answer gives none."
    )
    pace_max_calls: int = Field(
        default=30, ge=1, description="Calls that may reach a school in any pacing window."
    )
    pace_window_seconds: float = Field(default=10.0, gt=0)

    @field_validator("url")
    @classmethod
    def _school_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return learnworlds_base_url(value)
        except ValueError as exc:
            raise ValueError(f"LMS_GATEWAY_LEARNWORLDS_URL: {exc}") from None

    @field_validator("token_url")
    @classmethod
    def _token_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
            raise ValueError("LMS_GATEWAY_LEARNWORLDS_TOKEN_URL must be an http(s) URL")
        return value.strip()

    @model_validator(mode="after")
    def _credentials_complete(self) -> LearnWorldsSettings:
        if not self.configured:
            return self
        given = [name for name, value in self._credentials().items() if value is not None]
        if self.url is None:
            raise ValueError(f"LMS_GATEWAY_LEARNWORLDS_URL is required with {_listed(given)}")
        if self.client_id is None:
            raise ValueError(
                f"LMS_GATEWAY_LEARNWORLDS_CLIENT_ID is required with {_listed(given)} "
                "(the client id shown with the API keys, sent as Lw-Client)"
            )
        if self.client_secret is None and self.access_token is None:
            raise ValueError(
                "LMS_GATEWAY_LEARNWORLDS_CLIENT_SECRET or LMS_GATEWAY_LEARNWORLDS_ACCESS_TOKEN "
                "is required with LMS_GATEWAY_LEARNWORLDS_URL"
            )
        if self.client_secret is not None and self.access_token is not None:
            raise ValueError(
                "give one of LMS_GATEWAY_LEARNWORLDS_CLIENT_SECRET and "
                "LMS_GATEWAY_LEARNWORLDS_ACCESS_TOKEN, not both"
            )
        return self

    def _credentials(self) -> dict[str, object]:
        return {
            "LMS_GATEWAY_LEARNWORLDS_URL": self.url,
            "LMS_GATEWAY_LEARNWORLDS_CLIENT_ID": self.client_id,
            "LMS_GATEWAY_LEARNWORLDS_CLIENT_SECRET": self.client_secret,
            "LMS_GATEWAY_LEARNWORLDS_ACCESS_TOKEN": self.access_token,
        }

    @property
    def configured(self) -> bool:
        """Whether these variables name a school (the single account is LearnWorlds)."""
        return any(value is not None for value in self._credentials().values())

    @property
    def pace(self) -> PaceLimit:
        return PaceLimit(self.pace_max_calls, self.pace_window_seconds)

    def default_account(self) -> AccountConfig:
        """The single account these variables configure (``configured`` must be true)."""
        assert self.url is not None and self.client_id is not None
        secret = self.client_secret.get_secret_value() if self.client_secret else None
        token = self.access_token.get_secret_value() if self.access_token else None
        return AccountConfig(
            id="default",
            provider="learnworlds",
            base_url=self.url,
            learnworlds=LearnWorldsCredentials(
                client_id=self.client_id,
                client_secret=secret,
                access_token=token,
                token_url=self.token_url,
                token_encoding=self.token_encoding,
            ),
        )


def _listed(names: list[str]) -> str:
    return " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]


class RetrySettings(_Group):
    """How failed reads are retried, for every account (``RetryPolicy.from_settings``)."""

    model_config = _variables("talentlms_retry_")

    attempts: int = Field(
        default=3, ge=1, description="Tries per read (first included); writes are tried once."
    )
    base_delay_seconds: float = Field(default=0.2, ge=0)
    max_delay_seconds: float = Field(default=5.0, ge=0)


class BreakerSettings(_Group):
    """Each account's circuit breaker, whatever the provider (``CircuitBreaker.from_settings``)."""

    model_config = _variables("talentlms_breaker_")

    failures: int = Field(
        default=5, ge=1, description="Consecutive failures that open a portal's circuit."
    )
    cool_down_seconds: float = Field(default=30.0, gt=0)


class PacingSettings(_Group):
    """Each TalentLMS portal's burst pacing (``PacingSettings.pace``); LearnWorlds schools
    have their own (``LearnWorldsSettings``), and an account may set its own."""

    model_config = _variables("talentlms_pace_")

    max_calls: int = Field(
        default=200, ge=1, description="Calls that may start in any pacing window."
    )
    window_seconds: float = Field(default=5.0, gt=0)

    @property
    def pace(self) -> PaceLimit:
        return PaceLimit(self.max_calls, self.window_seconds)


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
    idempotency_ttl_seconds: float = Field(
        default=86_400.0,
        gt=0,
        description="How long a mutation's answer is kept for its Idempotency-Key.",
    )
    idempotency_max_entries: int = Field(
        default=100_000, ge=1, description="Idempotency records kept in process at most."
    )


class LimitsSettings(_Group):
    """The shape an operation may have (``OperationLimits.from_settings``)."""

    model_config = _variables("lms_gateway_")

    max_depth: int = Field(default=13, ge=1)
    max_aliases: int = Field(default=15, ge=0)
    max_directives: int = Field(default=20, ge=0)
    max_root_fields: int = Field(default=10, ge=1)
    max_mutations: int = Field(
        default=5, ge=0, description="Mutations one operation may run (0: none)."
    )
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
    learnworlds: LearnWorldsSettings = Field(default_factory=LearnWorldsSettings)
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

    @model_validator(mode="after")
    def _one_provider_for_the_single_account(self) -> Settings:
        talentlms = [
            name
            for name, value in (
                ("TALENTLMS_DOMAIN", self.upstream.domain),
                ("TALENTLMS_BASE_URL", self.upstream.base_url),
                ("TALENTLMS_API_KEY", self.upstream.api_key),
            )
            if value is not None
        ]
        if talentlms and self.learnworlds.configured:
            learnworlds = [k for k, v in self.learnworlds._credentials().items() if v is not None]
            raise ValueError(
                f"TALENTLMS_* ({', '.join(talentlms)}) and LMS_GATEWAY_LEARNWORLDS_* "
                f"({', '.join(learnworlds)}) both configure the single account: set one "
                "provider's variables, or list several accounts in LMS_GATEWAY_ACCOUNTS_FILE"
            )
        return self

    @property
    def demo(self) -> bool:
        """No credentials at all (TalentLMS or LearnWorlds): the gateway serves the embedded
        simulator."""
        return self.upstream.demo and not self.learnworlds.configured

    def default_account(self, demo_api_key: str = "") -> AccountConfig:
        """The single account of the environment: LearnWorlds when its variables are set,
        else TalentLMS (the demo simulator without credentials)."""
        if self.learnworlds.configured:
            return self.learnworlds.default_account()
        return self.upstream.default_account(demo_api_key)

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
