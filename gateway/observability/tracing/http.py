"""The HTTP request span: an ASGI middleware in front of ``/graphql``.

The span continues the caller's trace from its W3C ``traceparent``/``tracestate`` headers.
No header value is recorded: ``Authorization`` carries the gateway API key.
"""

from __future__ import annotations

from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["W3C", "RequestSpans"]

W3C = TraceContextTextMapPropagator()
_TRACE_HEADERS = frozenset({b"traceparent", b"tracestate"})


class RequestSpans:
    """One SERVER span per HTTP request, named ``{method} {route}`` (``POST /graphql``)."""

    def __init__(self, app: ASGIApp, tracer: Tracer, route: str = "/graphql") -> None:
        self._app = app
        self._tracer = tracer
        self._route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in _TRACE_HEADERS
        }
        method = scope["method"]
        attributes: dict[str, str | int] = {
            "http.request.method": method,
            "http.route": self._route,
            "url.path": scope["path"],
            "url.scheme": scope.get("scheme", "http"),
            "network.protocol.version": scope.get("http_version", "1.1"),
        }
        server = scope.get("server")
        if server and server[0]:
            attributes["server.address"] = server[0]
            if server[1] is not None:
                attributes["server.port"] = server[1]
        with self._tracer.start_as_current_span(
            f"{method} {self._route}",
            context=W3C.extract(carrier),
            kind=SpanKind.SERVER,
            attributes=attributes,
        ) as span:

            async def send_with_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = message["status"]
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:  # 4xx is the client's error, not the server's
                        span.set_attribute("error.type", str(status))
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            await self._app(scope, receive, send_with_status)
