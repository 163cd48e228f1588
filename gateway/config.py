"""Configuration, read from the environment (or passed in whole by tests).

Every setting is an environment variable of the same name in upper case; the table in
docs/configuration.md lists them. With no TalentLMS credentials the gateway runs against
its embedded simulator ("demo mode").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEMO_BASE_URL", "AccountConfig", "ConfigError", "Settings", "UsersPaging"]

# The embedded simulator answers on this made-up host through an in-process transport.
DEMO_BASE_URL = "http://talentlms-simulator.invalid/api/v1"


class ConfigError(ValueError):
    """The configuration cannot work; the message says which variable to fix."""


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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="", case_sensitive=False, extra="ignore", frozen=True
    )

    # --- TalentLMS account ---------------------------------------------------------------
    talentlms_domain: str | None = Field(
        default=None, description="Portal host, e.g. acme.talentlms.com (https is used)."
    )
    talentlms_base_url: str | None = Field(
        default=None, description="Full API base URL; wins over the domain (proxies, test doubles)."
    )
    talentlms_api_key: SecretStr | None = Field(default=None, description="The portal's API key.")
    talentlms_date_format: str | None = Field(
        default=None,
        description="DDMMYYYY, MMDDYYYY or YYYYMMDD; skips reading siteinfo.date_format.",
    )
    talentlms_timezone: str = Field(
        default="UTC", description="Zone in which the portal renders formatted dates."
    )
    talentlms_users_paging: UsersPaging = Field(
        default=UsersPaging.PATH, description="path: page /users upstream; none: page locally."
    )
    talentlms_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Read timeout: longest wait for a response's bytes."
    )
    talentlms_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    talentlms_pool_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Longest wait for a free connection."
    )
    talentlms_max_connections: int = Field(default=50, ge=1)
    talentlms_retry_attempts: int = Field(
        default=3, ge=1, description="Tries per read (first included); writes are tried once."
    )
    talentlms_retry_base_delay_seconds: float = Field(default=0.2, ge=0)
    talentlms_retry_max_delay_seconds: float = Field(default=5.0, ge=0)
    talentlms_breaker_failures: int = Field(
        default=5, ge=1, description="Consecutive failures that open a portal's circuit."
    )
    talentlms_breaker_cool_down_seconds: float = Field(default=30.0, gt=0)
    talentlms_pace_max_calls: int = Field(
        default=200, ge=1, description="Calls that may start in any pacing window."
    )
    talentlms_pace_window_seconds: float = Field(default=5.0, gt=0)
    talentlms_quota_refresh_seconds: float = Field(
        default=300.0, gt=0, description="How often the free /ratelimit is read."
    )

    # --- gateway ---------------------------------------------------------------------------
    lms_gateway_upstream_extension: bool = Field(
        default=True, description="Report upstream calls in extensions.upstream."
    )
    lms_gateway_graphiql: bool = Field(default=True, description="Serve GraphiQL to browsers.")

    # --- tenancy and security ----------------------------------------------------------
    lms_gateway_accounts_file: Path | None = Field(
        default=None, description="TOML or JSON file of accounts and gateway API keys."
    )
    lms_gateway_allow_anonymous: bool = Field(
        default=False,
        description="Serve real portals without gateway API keys even when not on loopback.",
    )
    lms_gateway_max_upstream_calls: int = Field(
        default=250, ge=1, description="Refuse operations estimated to need more upstream calls."
    )
    lms_gateway_max_depth: int = Field(default=13, ge=1)
    lms_gateway_max_aliases: int = Field(default=15, ge=0)
    lms_gateway_max_directives: int = Field(default=20, ge=0)
    lms_gateway_max_root_fields: int = Field(default=10, ge=1)
    lms_gateway_max_tokens: int = Field(default=2000, ge=10)
    lms_gateway_max_body_bytes: int = Field(default=262_144, ge=1024)
    lms_gateway_max_batch_operations: int = Field(default=10, ge=1)
    lms_gateway_deadline_seconds: float = Field(default=30.0, gt=0)
    lms_gateway_introspection: bool = Field(default=True)
    lms_gateway_hide_suggestions: bool = Field(default=False)

    # --- shared cache of upstream responses ----------------------------------------------
    lms_gateway_cache: bool = Field(
        default=True, description="Cache upstream reads across requests."
    )
    lms_gateway_cache_max_entries: int = Field(default=10_000, ge=1)
    lms_gateway_cache_ttls: dict[str, float] = Field(
        default_factory=dict,
        description='Seconds per endpoint over the defaults, as JSON: {"users/id": 10}.',
    )

    # --- demo mode (embedded simulator) ---------------------------------------------------
    lms_gateway_demo_seed: int = 7
    lms_gateway_demo_users: int = Field(default=60, ge=1, le=100_000)
    lms_gateway_demo_courses: int = Field(default=12, ge=1, le=10_000)
    lms_gateway_demo_units_per_course: int = Field(default=10, ge=2, le=500)
    lms_gateway_demo_enrollments_per_user: int = Field(default=4, ge=0, le=1000)
    lms_gateway_demo_latency_ms: float = Field(default=0.0, ge=0)
    lms_gateway_demo_date_format: str = "DDMMYYYY"

    # --- operations: serving, health and shutdown ----------------------------------------
    lms_gateway_host: str = Field(
        default="127.0.0.1", description="Address `lms-gateway serve` binds (--host wins)."
    )
    lms_gateway_port: int = Field(
        default=8000, ge=0, le=65535, description="Port `lms-gateway serve` binds (--port wins)."
    )
    lms_gateway_readiness_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="Seconds a /readyz result is reused before the portals are asked again.",
    )
    lms_gateway_readiness_timeout_seconds: float = Field(
        default=2.0, gt=0, description="Longest wait for one portal's /ratelimit in /readyz."
    )
    lms_gateway_shutdown_timeout_seconds: float = Field(
        default=25.0,
        gt=0,
        description="After SIGTERM, seconds in-flight requests get to finish before cancelling.",
    )
    lms_gateway_shutdown_delay_seconds: float = Field(
        default=0.0,
        ge=0,
        description="After SIGTERM, seconds to keep serving (with /readyz at 503) before stopping.",
    )
    lms_gateway_header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Longest wait for a request's headers; then 408 and the connection closes.",
    )
    lms_gateway_body_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Longest wait for a request's whole body; then 408 and the connection closes.",
    )

    # --- Apollo Federation ----------------------------------------------------------------
    lms_gateway_federation: bool = Field(
        default=False,
        description="Serve /graphql as an Apollo Federation 2 subgraph (_service, _entities).",
    )

    # --- tracing (OpenTelemetry; the exporter is configured by the standard OTEL_* variables)
    lms_gateway_tracing: bool = Field(
        default=False,
        description="Trace HTTP requests, GraphQL operations and upstream calls (extra: tracing).",
    )
    lms_gateway_tracing_propagate_upstream: bool = Field(
        default=False,
        description="Send traceparent/tracestate to TalentLMS, a third party (off: not sent).",
    )

    # --- GraphiQL page ----------------------------------------------------------------------
    lms_gateway_graphiql_assets: Literal["bundled", "cdn"] = Field(
        default="bundled",
        description="bundled: GraphiQL's scripts come from the gateway; cdn: from a public CDN.",
    )

    # --- observability: metrics and logs ---------------------------------------------------
    lms_gateway_metrics: bool = Field(
        default=True, description="Serve Prometheus metrics at /metrics (outside the API keys)."
    )
    lms_gateway_metrics_token: SecretStr | None = Field(
        default=None, description="When set, /metrics needs Authorization: Bearer <token>."
    )
    lms_gateway_metrics_max_operation_names: int = Field(
        default=100, ge=0, description="Distinct operation names kept as labels; later: other."
    )
    lms_gateway_log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description="How `serve` writes logs: json, text, or auto (text on a terminal, else json).",
    )
    lms_gateway_access_log: bool = Field(
        default=True, description="One structured line per HTTP request (gateway.access)."
    )

    # --- upstream HTTP performance ----------------------------------------------------------
    talentlms_http_pool: Literal["aiohttp", "httpx"] = Field(
        default="aiohttp",
        description="Connection pool for upstream calls: aiohttp's (fast with many calls in "
        "flight) or httpx's own.",
    )

    @field_validator(
        "talentlms_domain",
        "talentlms_base_url",
        "talentlms_api_key",
        "talentlms_date_format",
        "lms_gateway_accounts_file",
        "lms_gateway_metrics_token",
        "lms_gateway_persisted_queries_manifest",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `TALENTLMS_API_KEY=` (a compose file, `docker run -e`) means "not set", not a
        # portal with an empty key and no address.
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, SecretStr) and not value.get_secret_value().strip():
            return None
        return value

    @field_validator("talentlms_domain")
    @classmethod
    def _bare_domain(cls, value: str | None) -> str | None:
        # Like the official library: accept "https://acme.talentlms.com/" and keep the host.
        if value is None or not value.strip():
            return None
        host = value.strip().removeprefix("https://").removeprefix("http://").strip("/")
        if not host or "/" in host or " " in host:
            raise ValueError("TALENTLMS_DOMAIN must be a host name such as acme.talentlms.com")
        return host

    @field_validator("talentlms_base_url")
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

    @field_validator("talentlms_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"TALENTLMS_TIMEZONE is not an IANA zone: {value!r}") from None
        return value

    @model_validator(mode="after")
    def _credentials_complete(self) -> Settings:
        has_target = bool(self.talentlms_domain or self.talentlms_base_url)
        has_key = self.talentlms_api_key is not None and bool(
            self.talentlms_api_key.get_secret_value()
        )
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
        return self.talentlms_api_key is None

    def default_account(self, demo_api_key: str = "") -> AccountConfig:
        if self.demo:
            base_url, key = DEMO_BASE_URL, demo_api_key
            date_format = None
        else:
            assert self.talentlms_api_key is not None
            base_url = self.talentlms_base_url or f"https://{self.talentlms_domain}/api/v1"
            key = self.talentlms_api_key.get_secret_value()
            date_format = self.talentlms_date_format
        return AccountConfig(
            id="default",
            provider="talentlms",
            base_url=base_url,
            api_key=key,
            date_format=date_format,
            timezone=ZoneInfo(self.talentlms_timezone),
            users_paging=self.talentlms_users_paging,
            demo=self.demo,
        )

    # --- persisted queries (APQ and allow-list mode) ---------------------------------------
    lms_gateway_apq: bool = Field(
        default=True, description="Automatic persisted queries: run documents by SHA-256 hash."
    )
    lms_gateway_apq_max_entries: int = Field(
        default=10_000, ge=1, description="Documents the in-process APQ store keeps (LRU)."
    )
    lms_gateway_apq_max_bytes: int = Field(
        default=32 * 1024 * 1024, ge=1024, description="Total size of those documents."
    )
    lms_gateway_persisted_queries_manifest: Path | None = Field(
        default=None, description="Apollo persisted-query manifest (JSON) of known operations."
    )
    lms_gateway_persisted_queries_allowlist: bool = Field(
        default=False, description="Run only the manifest's operations."
    )

    @model_validator(mode="after")
    def _allowlist_has_manifest(self) -> Settings:
        if (
            self.lms_gateway_persisted_queries_allowlist
            and self.lms_gateway_persisted_queries_manifest is None
        ):
            raise ValueError(
                "LMS_GATEWAY_PERSISTED_QUERIES_ALLOWLIST=true needs "
                "LMS_GATEWAY_PERSISTED_QUERIES_MANIFEST (build one with "
                "`lms-gateway persisted-queries build queries/ -o manifest.json`)"
            )
        return self
