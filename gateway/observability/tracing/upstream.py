"""Upstream call spans: the shared ``httpx.AsyncClient`` with one CLIENT span per request.

Every try is a request of its own (the client's retries call ``send`` again), so each retry
gets its own span. Only the method, a redacted URL, the server and the status are recorded:
never a header, so never ``Authorization`` (the portal's API key). Overriding ``send``
rather than passing a wrapping ``transport=`` keeps what the client builds itself:
connection limits, the demo simulator's mount and proxies from ``HTTPS_PROXY``/``NO_PROXY``.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from gateway.observability.tracing.http import W3C

__all__ = ["TracedAsyncClient", "redacted_path", "url_template"]

# TalentLMS v1 parameters: ``key:value`` pairs in a path segment, split on ``,``. Values are
# percent-encoded by the client, so a value never holds ``:``, ``,`` or ``/``.
_PAIR = re.compile(r"([a-z][a-z0-9_]*):([^,/?#]*)")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def url_template(path: str) -> str:
    """``/api/v1/users/id:7`` → ``/api/v1/users/id:{id}``: one name per kind of call."""
    return _PAIR.sub(lambda m: f"{m[1]}:{{{m[1]}}}", path)


def redacted_path(path: str) -> str:
    """The path with every non-numeric value (emails, user names, custom field values,
    redirect URLs) replaced by ``REDACTED``; ids and page numbers stay."""
    return _PAIR.sub(lambda m: m[0] if m[2].isdigit() else f"{m[1]}:REDACTED", path)


class TracedAsyncClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` whose every sent request is a CLIENT span.

    With ``propagate``, the span's ``traceparent``/``tracestate`` go with the request.
    """

    def __init__(self, *, tracer: Tracer, propagate: bool = False, **options: Any) -> None:
        super().__init__(**options)
        self._tracer = tracer
        self._propagate = propagate

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        url = request.url
        path = url.raw_path.decode("ascii", "replace").partition("?")[0]
        port = url.port or _DEFAULT_PORTS.get(url.scheme)
        shown_port = f":{url.port}" if url.port is not None else ""
        template = url_template(path)
        attributes: dict[str, str | int] = {
            "http.request.method": request.method,
            # No user info or query: neither is ever needed to tell calls apart.
            "url.full": f"{url.scheme}://{url.host}{shown_port}{redacted_path(path)}",
            "url.template": template,
            "server.address": url.host,
        }
        if port is not None:
            attributes["server.port"] = port
        with self._tracer.start_as_current_span(
            f"{request.method} {template}",
            kind=SpanKind.CLIENT,
            attributes=attributes,
        ) as span:
            if self._propagate:
                W3C.inject(request.headers)
            try:
                response = await super().send(request, **kwargs)
            except Exception as exc:
                span.set_attribute("error.type", type(exc).__qualname__)
                raise
            status = response.status_code
            span.set_attribute("http.response.status_code", status)
            if status >= 400:
                span.set_attribute("error.type", str(status))
                span.set_status(Status(StatusCode.ERROR))
            return response
