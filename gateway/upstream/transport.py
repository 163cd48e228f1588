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

import functools
import ssl
from collections.abc import Callable

import httpx

from gateway.config import UpstreamSettings

__all__ = ["upstream_http_client"]


def upstream_http_client(
    settings: UpstreamSettings,
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
        settings.timeout_seconds,
        connect=settings.connect_timeout_seconds,
        pool=settings.pool_timeout_seconds,
    )
    limits = httpx.Limits(max_connections=settings.max_connections)
    if transport is None and settings.http_pool == "aiohttp":
        transport, proxied = _aiohttp_transports(limits)
        mounts = {**proxied, **(mounts or {})}
    client = factory(timeout=timeout, limits=limits, mounts=mounts, transport=transport)
    # httpx has no switch for cookie persistence; its client calls this after each answer.
    # Replacing the jar's bound method is the one hook (a jar that refuses cookies would
    # still parse every answer's headers), and mypy allows no assignment to a method.
    client.cookies.extract_cookies = _keep_no_cookies  # type: ignore[method-assign,assignment]
    return client


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The process's TLS client context (system CAs, or SSL_CERT_FILE/SSL_CERT_DIR as httpx
    reads them). Loading the CA bundle takes tens of milliseconds; a context serves any
    number of connections, so every app and pool in the process shares this one."""
    return httpx.create_ssl_context()


def _keep_no_cookies(_response: httpx.Response) -> None:
    """Stand-in for ``httpx.Cookies.extract_cookies``: the upstream client is stateless."""


def _named_after_cause(exc: httpx.TimeoutException) -> httpx.TransportError:
    """The httpx error for what aiohttp reported.

    httpx_aiohttp (0.2) maps every ``aiohttp.ClientConnectionError`` to ``ConnectTimeout``:
    a refused connection or a dropped one would read, and count, as a slow portal. Only an
    aiohttp timeout (a ``TimeoutError``) stays a timeout.
    """
    cause = exc.__cause__
    if cause is None or isinstance(cause, TimeoutError):
        return exc
    import aiohttp

    kind: type[httpx.TransportError] = httpx.ReadError
    if isinstance(cause, aiohttp.ClientProxyConnectionError):
        kind = httpx.ProxyError
    elif isinstance(cause, aiohttp.ClientConnectorError):
        kind = httpx.ConnectError
    elif isinstance(cause, aiohttp.ServerDisconnectedError):
        kind = httpx.RemoteProtocolError
    named = kind(str(exc))
    named.__cause__ = cause
    return named


def _aiohttp_transports(
    limits: httpx.Limits,
) -> tuple[httpx.AsyncBaseTransport, dict[str, httpx.AsyncBaseTransport | None]]:
    """The direct transport, and one per proxy the environment names, by httpx URL pattern.

    The environment is read here, once, with httpx's own rules (the ones its pool applies:
    HTTP(S)_PROXY, ALL_PROXY, NO_PROXY). aiohttp's ``trust_env`` would read it, and parse
    ~/.netrc, in a worker thread for every call: a third of the CPU under load. All of them
    share one aiohttp session, so the connection limit is the whole process's.
    """
    import aiohttp
    from httpx._utils import get_environment_proxies
    from httpx_aiohttp import AiohttpTransport

    class CauseNamingTransport(AiohttpTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            try:
                response = await super().handle_async_request(request)
            except httpx.TimeoutException as exc:
                raise _named_after_cause(exc) from exc.__cause__
            # A body's read errors need no renaming: aiohttp reports those as payload
            # errors (ReadError) or socket timeouts (ReadTimeout).
            return response

    shared: list[aiohttp.ClientSession] = []

    def session() -> aiohttp.ClientSession:
        # Made on first use, inside the event loop, and shared by every transport below.
        if not shared:
            connector = aiohttp.TCPConnector(
                limit=limits.max_connections or 0,
                keepalive_timeout=limits.keepalive_expiry or 5.0,
                ssl=_tls_context(),
            )
            # No cookie jar: one session serves every account, so a portal's session cookie
            # must not follow another account's requests (the httpx side drops them too).
            shared.append(
                aiohttp.ClientSession(
                    connector=connector, trust_env=False, cookie_jar=aiohttp.DummyCookieJar()
                )
            )
        return shared[0]

    proxied: dict[str, httpx.AsyncBaseTransport | None] = {
        pattern: None  # NO_PROXY: the direct transport
        if proxy is None
        else CauseNamingTransport(
            verify=_tls_context(), limits=limits, client=session, proxy=httpx.Proxy(proxy)
        )
        for pattern, proxy in get_environment_proxies().items()
    }
    return CauseNamingTransport(verify=_tls_context(), limits=limits, client=session), proxied
