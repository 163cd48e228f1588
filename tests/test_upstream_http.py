"""The upstream HTTP client: aiohttp's pool by default, httpx's exceptions either way."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from httpx_aiohttp import AiohttpTransport

from gateway.config import UpstreamSettings
from gateway.simulator import SimulatorConfig, create_simulator_app
from gateway.upstream.transport import upstream_http_client
from tests.support import serve_over_http

CONFIG = SimulatorConfig(latency_ms=300)
AUTH = (CONFIG.api_key, "")


@pytest.mark.unit
def test_the_pool_is_chosen_by_setting():
    assert isinstance(upstream_http_client(UpstreamSettings())._transport, AiohttpTransport)
    httpx_pool = upstream_http_client(UpstreamSettings(http_pool="httpx"))._transport
    assert isinstance(httpx_pool, httpx.AsyncHTTPTransport)
    with pytest.raises(ValueError, match="http_pool"):
        UpstreamSettings(http_pool="requests")


@pytest.mark.http
@pytest.mark.slow
@pytest.mark.parametrize("pool", ["aiohttp", "httpx"])
async def test_concurrent_calls_and_timeouts_over_real_http(pool):
    settings = UpstreamSettings(http_pool=pool, timeout_seconds=0.1)
    with serve_over_http(create_simulator_app(CONFIG)) as simulator:
        async with upstream_http_client(settings) as http:
            with pytest.raises(httpx.TimeoutException):  # 300 ms of latency, 100 ms allowed
                await http.get(f"{simulator}/api/v1/users/id:1", auth=AUTH)
        relaxed = UpstreamSettings(http_pool=pool, max_connections=4)
        async with upstream_http_client(relaxed) as http:
            urls = [f"{simulator}/api/v1/users/id:{n}" for n in range(1, 11)]
            answers = await asyncio.gather(*(http.get(url, auth=AUTH) for url in urls))
    assert [a.json()["id"] for a in answers] == [str(n) for n in range(1, 11)]


@pytest.mark.http
@pytest.mark.parametrize("pool", ["aiohttp", "httpx"])
async def test_an_unreachable_portal_is_a_transport_error(pool):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with upstream_http_client(UpstreamSettings(http_pool=pool)) as http:
        with pytest.raises(httpx.ConnectError):  # refused, not timed out (ConnectTimeout)
            await http.get(f"http://127.0.0.1:{port}/api/v1/users")


class ForwardProxy:
    """Answers what a forward proxy receives: requests whose target is an absolute URL."""

    def __init__(self) -> None:
        self.targets: list[str] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        self.targets.append(scope["raw_path"].decode())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b'{"id": "1"}'})


@pytest.mark.http
@pytest.mark.parametrize("pool", ["aiohttp", "httpx"])
async def test_an_egress_proxy_from_the_environment_is_used(pool, monkeypatch):
    # The portal's host does not resolve: only the proxy from HTTP_PROXY can reach it.
    proxy = ForwardProxy()
    with serve_over_http(proxy) as proxy_url:
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with upstream_http_client(UpstreamSettings(http_pool=pool)) as http:
            answer = await http.get("http://portal.invalid/api/v1/users/id:1", auth=AUTH)
    assert answer.json() == {"id": "1"}
    assert proxy.targets == ["http://portal.invalid/api/v1/users/id:1"]


@pytest.mark.unit
async def test_cookies_an_upstream_sets_are_never_sent_back():
    # One client serves every account: a portal's cookie must not follow later requests.
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(200, json={}, headers={"set-cookie": "PHPSESSID=abc; Path=/"})

    transport = httpx.MockTransport(answer)
    async with upstream_http_client(UpstreamSettings(), transport=transport) as http:
        for _ in range(2):
            response = await http.get("https://acme.talentlms.com/api/v1/users")
            assert response.headers["set-cookie"].startswith("PHPSESSID")
        assert not http.cookies
    assert seen == [None, None]


class CookieSettingPortal:
    """Sets a session cookie on every answer and records the Cookie header it receives."""

    def __init__(self) -> None:
        self.cookies: list[str | None] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        headers = dict(scope["headers"])
        self.cookies.append(headers[b"cookie"].decode() if b"cookie" in headers else None)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"set-cookie", b"PHPSESSID=abc; Path=/")],
            }
        )
        await send({"type": "http.response.body", "body": b"{}"})


@pytest.mark.http
@pytest.mark.parametrize("pool", ["aiohttp", "httpx"])
async def test_no_pool_sends_a_portals_cookie_back_over_real_http(pool):
    # aiohttp's session has a cookie jar of its own, beside httpx's. It keeps no cookies
    # of IP-address hosts, so the portal is reached by name.
    portal = CookieSettingPortal()
    with serve_over_http(portal) as base:
        named = base.replace("127.0.0.1", "localhost")
        async with upstream_http_client(UpstreamSettings(http_pool=pool)) as http:
            for _ in range(3):
                await http.get(f"{named}/api/v1/users")
    assert portal.cookies == [None, None, None]


@pytest.mark.http
async def test_the_aiohttp_pool_reads_the_environment_once_not_per_call(monkeypatch):
    # With trust_env=True aiohttp parsed ~/.netrc and the proxy variables in a thread for
    # every call: a third of the CPU under load. The proxies are read once, at start.
    import aiohttp.client

    reads: Counter[str] = Counter()

    def counting(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def read(*args: Any, **kwargs: Any) -> Any:
            reads[name] += 1
            return real(*args, **kwargs)

        return read

    monkeypatch.setattr(
        aiohttp.client, "netrc_from_env", counting("netrc", aiohttp.client.netrc_from_env)
    )
    monkeypatch.setattr(
        aiohttp.client,
        "get_env_proxy_for_url",
        counting("proxies", aiohttp.client.get_env_proxy_for_url),
    )
    portal = ForwardProxy()
    with serve_over_http(portal) as base:
        async with upstream_http_client(UpstreamSettings(http_pool="aiohttp")) as http:
            for _ in range(5):
                answer = await http.get(f"{base}/api/v1/users/id:1", auth=AUTH)
                assert answer.json() == {"id": "1"}
            sessions = [
                t.client
                for t in (http._transport, *http._mounts.values())
                if isinstance(t, AiohttpTransport) and isinstance(t.client, aiohttp.ClientSession)
            ]
    assert sessions and not any(session.trust_env for session in sessions)
    assert reads == {}


@pytest.mark.http
@pytest.mark.parametrize("pool", ["aiohttp", "httpx"])
async def test_no_proxy_from_the_environment_is_honoured(pool, monkeypatch):
    # The proxy refuses every connection: only a direct call (NO_PROXY) reaches the portal.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    portal = ForwardProxy()
    with serve_over_http(portal) as base:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed}")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("http_proxy", raising=False)
        async with upstream_http_client(UpstreamSettings(http_pool=pool)) as http:
            answer = await http.get(f"{base}/api/v1/users/id:1", auth=AUTH)
    assert answer.json() == {"id": "1"}
    assert portal.targets == ["/api/v1/users/id:1"]
