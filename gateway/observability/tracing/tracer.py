"""The app's tracer: its provider (from the ``OTEL_*`` environment unless given) and the
hooks the app installs when tracing is on."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import httpx
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Tracer
from starlette.types import ASGIApp

from gateway.config import TracingSettings
from gateway.errors import ConfigError
from gateway.execution.context import Context
from gateway.observability.tracing.http import RequestSpans
from gateway.observability.tracing.operations import OperationNaming, OperationSpan
from gateway.observability.tracing.upstream import TracedAsyncClient

__all__ = ["DEFAULT_SERVICE_NAME", "Tracing", "provider_from_environment"]

DEFAULT_SERVICE_NAME = "lms-gateway"
_INSTRUMENTATION = "lms-gateway"


@dataclass
class Tracing:
    """What the app needs to trace: a tracer, and whether it owns (and shuts down) its provider."""

    provider: TracerProvider
    tracer: Tracer
    owns_provider: bool
    propagate_upstream: bool

    @classmethod
    def create(
        cls, settings: TracingSettings, tracer_provider: TracerProvider | None = None
    ) -> Tracing:
        owns = tracer_provider is None
        provider = tracer_provider if tracer_provider is not None else provider_from_environment()
        return cls(
            provider=provider,
            tracer=provider.get_tracer(_INSTRUMENTATION),
            owns_provider=owns,
            propagate_upstream=settings.propagate_upstream,
        )

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """One SERVER span per HTTP request, a child of the caller's ``traceparent``."""
        return RequestSpans(app, self.tracer)

    def http_client(self, **options: Any) -> httpx.AsyncClient:
        """The shared upstream client, with one CLIENT span per request it sends."""
        return TracedAsyncClient(tracer=self.tracer, propagate=self.propagate_upstream, **options)

    @property
    def schema_extensions(self) -> tuple[type[OperationNaming]]:
        return (OperationNaming,)

    def operation_span(self, context: Context) -> OperationSpan:
        """A GraphQL operation's span, started now: the view runs the operation in it and ends
        it (an answer in parts, after its last part)."""
        return OperationSpan(self.tracer, context)

    def shutdown(self) -> None:
        """Flushes and stops the exporter when the provider is ours."""
        if self.owns_provider:
            self.provider.shutdown()


def provider_from_environment() -> TracerProvider:
    """A provider configured like every OpenTelemetry SDK: ``OTEL_SERVICE_NAME``,
    ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER(_ARG)``, ``OTEL_BSP_*``,
    ``OTEL_TRACES_EXPORTER`` (``otlp``, ``console`` or ``none``) and the OTLP exporter's
    ``OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT/HEADERS/TIMEOUT/COMPRESSION/CERTIFICATE``."""
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    provider = TracerProvider(resource=resource)
    exporter = _exporter(os.environ.get("OTEL_TRACES_EXPORTER", "otlp"))
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def _exporter(name: str) -> SpanExporter | None:
    choice = name.strip().lower() or "otlp"
    if choice == "otlp":
        # Not gRPC: OTEL_EXPORTER_OTLP_PROTOCOL other than http/protobuf is refused below.
        protocol = os.environ.get(
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        )
        if protocol.strip().lower() != "http/protobuf":
            raise ConfigError(
                f"TRACING_MISCONFIGURED: OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r} is not "
                "supported: the gateway exports OTLP as http/protobuf"
            )
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if choice == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if choice == "none":
        return None
    raise ConfigError(
        f"TRACING_MISCONFIGURED: OTEL_TRACES_EXPORTER={name!r} is not supported: "
        "use otlp, console or none"
    )
