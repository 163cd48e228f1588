"""The one HTTP client every upstream (LMS) call goes through, shared by the whole process.

httpx's API on top of aiohttp's connection pool by default. httpcore's pool (httpx's own,
1.0.9) scans every pooled connection, polling each idle socket, whenever a request starts
or ends: at 40 calls in flight (a course roster: one ``users/id`` per learner) that is about
5 ms of CPU per call, and the burst takes four times the upstream latency instead of one.
aiohttp's connector does the same bookkeeping in constant time per call. Timeouts, the
connection limit and httpx's exceptions (which retries and the breaker rely on) are the same
either way; ``TALENTLMS_HTTP_POOL=httpx`` switches back.

The client keeps no cookies. Every call carries its account's credentials, and one client
serves every account, so a cookie one portal sets has no business in another's requests;
and httpx's cookie extraction (a urllib request and response built around each answer,
even when it sets none) was 5-10 % of the CPU of a roster's 41 calls.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from gateway.config import Settings

__all__ = ["upstream_http_client"]


def upstream_http_client(
    settings: Settings,
    *,
    mounts: dict[str, httpx.AsyncBaseTransport | None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    factory: Callable[..., httpx.AsyncClient] = httpx.AsyncClient,
) -> httpx.AsyncClient:
    """The client, to be used as an async context manager (it closes its pool on exit).

    ``transport`` (tests, fault injection) replaces the network; ``mounts`` route some hosts
    elsewhere (demo mode: the embedded simulator); ``factory`` builds the client from httpx's
    keyword arguments (tracing's client subclass).
    """
    timeout = httpx.Timeout(
        settings.talentlms_timeout_seconds,
        connect=settings.talentlms_connect_timeout_seconds,
        pool=settings.talentlms_pool_timeout_seconds,
    )
    limits = httpx.Limits(max_connections=settings.talentlms_max_connections)
    if transport is None and settings.talentlms_http_pool == "aiohttp":
        transport = _aiohttp_transport(limits)
    client = factory(timeout=timeout, limits=limits, mounts=mounts, transport=transport)
    # httpx has no switch for cookie persistence; its client calls this after each answer.
    client.cookies.extract_cookies = _keep_no_cookies  # type: ignore[method-assign]
    return client


def _keep_no_cookies(_response: httpx.Response) -> None:
    """Stand-in for ``httpx.Cookies.extract_cookies``: the upstream client is stateless."""


def _aiohttp_transport(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    import aiohttp
    from httpx_aiohttp import AiohttpTransport

    def session() -> aiohttp.ClientSession:
        # Built here rather than by the transport: its own session ignores HTTP(S)_PROXY and
        # NO_PROXY, which httpx's pool honours; a gateway behind an egress proxy needs them.
        connector = aiohttp.TCPConnector(
            limit=limits.max_connections or 0,
            keepalive_timeout=limits.keepalive_expiry or 5.0,
            ssl=httpx.create_ssl_context(),
        )
        # No cookie jar: one session serves every account, so a portal's session cookie
        # must not follow another account's requests (the httpx side drops them too).
        return aiohttp.ClientSession(
            connector=connector, trust_env=True, cookie_jar=aiohttp.DummyCookieJar()
        )

    return AiohttpTransport(limits=limits, client=session)
