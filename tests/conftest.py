"""Shared test helpers: the gateway in process, and any ASGI app over real HTTP."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.config import Settings
from gateway.http.serving import serve_in_thread
from gateway.simulator import SimulatorConfig, create_simulator_app

serve_over_http = serve_in_thread  # any ASGI app over real HTTP on 127.0.0.1


@asynccontextmanager
async def gateway_client(
    settings: Settings | None = None, upstream: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client wired to a fresh gateway in process (its lifespan runs)."""
    app = create_app(settings or Settings(), upstream_transport=upstream)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


@pytest.fixture
def demo_settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Demo-mode settings that ignore whatever TALENTLMS_* the machine has set."""
    for name in ("TALENTLMS_DOMAIN", "TALENTLMS_BASE_URL", "TALENTLMS_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return Settings()


QUERIES = Path(__file__).resolve().parent.parent / "queries"


def query_text(name: str) -> str:
    return (QUERIES / f"{name}.graphql").read_text(encoding="utf-8")


def simulator_stats(client: httpx.AsyncClient) -> dict[str, int]:
    """Calls the embedded simulator has answered, per endpoint name, but for the free
    /ratelimit reads the gateway makes in the background to watch the quota."""
    stats = client.app.state.runtime.simulator.state.stats.by_endpoint  # type: ignore[attr-defined]
    return {name: count for name, count in stats.items() if name != "ratelimit"}


def counted(upstream: dict[str, object]) -> dict[str, object]:
    """``extensions.upstream`` without the portal's quota, which moves on its own."""
    return {k: v for k, v in upstream.items() if k not in ("quotaRemaining", "quotaResetAt")}


class RecordingUpstream(httpx.AsyncBaseTransport):
    """A simulator behind a transport that records requests and can inject failures.

    ``faults`` maps a regular expression on the request path to a response (or an
    exception to raise) used instead of the simulator's answer.
    """

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.simulator = create_simulator_app(config or SimulatorConfig())
        self._inner = httpx.ASGITransport(app=self.simulator)
        self.faults: dict[str, httpx.Response | Exception] = {}
        self.rewrites: list[tuple[str, str]] = []
        self.paths: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode()
        self.paths.append(path)
        for pattern, fault in self.faults.items():
            if re.search(pattern, path):
                if isinstance(fault, Exception):
                    raise fault
                return fault
        for pattern, replacement in self.rewrites:
            path = re.sub(pattern, replacement, path)
        request.url = request.url.copy_with(raw_path=path.encode())
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._inner.handle_async_request(request)
        finally:
            self.in_flight -= 1


def keyed_settings(tmp_path: Path, key: str, **overrides: Mapping[str, Any]) -> Settings:
    """``upstream_settings`` behind one gateway API key (``key``) that reaches every account."""
    from gateway.tenancy.authorization import hash_key

    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        f'[[api_keys]]\nname = "client"\nsha256 = "{hash_key(key)}"\naccounts = ["*"]\n',
        encoding="utf-8",
    )
    return replaced(upstream_settings(tenancy={"accounts_file": accounts}), **overrides)


def upstream_settings(**overrides: Mapping[str, Any]) -> Settings:
    """Settings for a gateway pointed at a TalentLMS double (not demo mode); ``overrides``
    change fields of groups, as in ``upstream_settings(retry={"attempts": 1})``."""
    portal = {"base_url": "http://upstream.test/api/v1", "api_key": SimulatorConfig().api_key}
    return replaced(Settings(upstream=portal), **overrides)


def replaced(settings: Settings, **groups: Mapping[str, Any]) -> Settings:
    """``settings`` with some fields of some groups changed (and validated again):
    ``replaced(settings, cache={"enabled": False})``."""
    changed = {}
    for name, fields in groups.items():
        group = getattr(settings, name)
        changed[name] = type(group)(**{**group.model_dump(), **fields})
    return settings.model_copy(update=changed)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment without any gateway or TalentLMS setting (for subprocess gateways)."""
    for name in list(os.environ):
        if name.startswith(("TALENTLMS_", "LMS_GATEWAY_")):
            monkeypatch.delenv(name)
    return dict(os.environ)
