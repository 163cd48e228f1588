"""Optional OpenTelemetry tracing: one span per HTTP request, per GraphQL operation and per
upstream call (``LMS_GATEWAY_TRACING=true``).

The OpenTelemetry packages are the ``tracing`` extra. This module imports them only when
tracing is switched on, so the gateway imports and runs without them; switched on without
them, the app refuses to start with ``TRACING_UNAVAILABLE``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway.config import TracingSettings
from gateway.errors import TracingUnavailable

if TYPE_CHECKING:
    from gateway.observability.tracing.tracer import Tracing

__all__ = ["start_tracing"]


def start_tracing(settings: TracingSettings, tracer_provider: Any = None) -> Tracing | None:
    """The app's tracing, or ``None`` when it is off (then nothing is wrapped or imported).

    ``tracer_provider`` (an SDK ``TracerProvider``) replaces the one built from the
    ``OTEL_*`` environment variables; its owner shuts it down.
    """
    if not settings.enabled:
        return None
    try:
        from gateway.observability.tracing.tracer import Tracing

        return Tracing.create(settings, tracer_provider)  # imports the exporter it needs
    except ImportError as exc:
        missing = exc.name or "opentelemetry"
        raise TracingUnavailable(
            f"{TracingUnavailable.code}: LMS_GATEWAY_TRACING=true needs the OpenTelemetry packages "
            f"({missing} is not installed): pip install 'lms-gateway[tracing]'"
        ) from None
