"""The one HTTP client every upstream (LMS) call goes through, shared by the whole process.

httpx's API on top of aiohttp's connection pool by default. httpcore's pool (httpx's own,
1.0.9) scans every pooled connection, polling each idle socket, whenever a request starts
or ends: at 40 calls in flight (a course roster: one ``users/id`` per learner) that is about
5 ms of CPU per call, and the burst takes four times the upstream latency instead of one.
aiohttp's connector does the same bookkeeping in constant time per call. Timeouts, the
connection limit and httpx's exceptions (which retries and the breaker rely on) are the same
either way; ``TALENTLMS_HTTP_POOL=httpx`` switches back.
"""

from __future__ import annotations

import httpx

from gateway.config import Settings

__all__ = ["upstream_http_client"]


def upstream_http_client(
    settings: Settings,
    *,
    mounts: dict[str, httpx.AsyncBaseTransport | None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The client, to be used as an async context manager (it closes its pool on exit).

    ``transport`` (tests, fault injection) replaces the network; ``mounts`` route some hosts
    elsewhere (demo mode: the embedded simulator).
    """
    timeout = httpx.Timeout(
        settings.talentlms_timeout_seconds,
        connect=settings.talentlms_connect_timeout_seconds,
        pool=settings.talentlms_pool_timeout_seconds,
    )
    limits = httpx.Limits(max_connections=settings.talentlms_max_connections)
    if transport is None and settings.talentlms_http_pool == "aiohttp":
        from httpx_aiohttp import AiohttpTransport

        transport = AiohttpTransport(limits=limits)
    return httpx.AsyncClient(timeout=timeout, limits=limits, mounts=mounts, transport=transport)
