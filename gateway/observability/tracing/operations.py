"""The GraphQL operation span, after the OpenTelemetry GraphQL conventions.

One span per operation (a batch has one per operation, under its HTTP request span), never
one per field: a resolver hook on every field costs far more than the operation itself.
The span starts as ``GraphQL Operation`` and is renamed ``{type} {name}``
(``query LearnerDashboard``) by a schema extension once the document is parsed. An operation
answered in parts (``@defer``) keeps its span open until its last part: the upstream calls of
its later parts are children of it too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Any

from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer, use_span
from strawberry.extensions import SchemaExtension

from gateway.errors import ErrorCode
from gateway.execution.context import Context

__all__ = ["OPERATION_SPAN_NAME", "OperationNaming", "OperationSpan", "Run"]

OPERATION_SPAN_NAME = "GraphQL Operation"  # the conventions' name while the type is unknown
Run = Callable[[], Awaitable[Any]]

# The running operation's span, for the schema extension (which has no other way to it).
_operation_span: ContextVar[Span | None] = ContextVar("lms_gateway_operation_span", default=None)


class OperationSpan:
    """One operation's span: started now, current while ``run`` runs (and in ``current()``),
    ended by ``end`` with the operation's errors: when ``run`` returns, or after the last part
    of an answer in parts (``gateway.http.endpoint.TracedGraphQLView``)."""

    def __init__(self, tracer: Tracer, context: Context) -> None:
        self._context = context
        self.span = tracer.start_span(
            OPERATION_SPAN_NAME,
            kind=SpanKind.INTERNAL,  # the HTTP request span is the SERVER span
            attributes={"lms.account.id": context.account_id},
        )

    async def run(self, run: Run) -> Any:
        """``run()`` (the operation's execution) with the span current; returns its result."""
        with self.current():
            token = _operation_span.set(self.span)
            try:
                return await run()
            except Exception as exc:
                self.span.set_attribute("error.type", type(exc).__qualname__)
                raise
            finally:
                _operation_span.reset(token)

    def current(self) -> AbstractContextManager[Span]:
        """The span made current (exceptions recorded on it), not ended on leaving."""
        return use_span(self.span, end_on_exit=False)

    def end(self, errors: Iterable[Any]) -> None:
        """The operation's upstream counts and error codes, and the span's end."""
        span, usage = self.span, self._context.usage
        span.set_attribute("lms.upstream.calls", usage.calls)
        span.set_attribute("lms.upstream.retries", usage.retries)
        span.set_attribute("lms.upstream.cache_hits", sum(usage.cache_hits.values()))
        codes = _error_codes(errors)
        if codes:
            span.set_attribute("error.type", codes[0])
            span.set_attribute("lms.graphql.error_codes", sorted(set(codes)))
            span.set_status(Status(StatusCode.ERROR, codes[0]))
        span.end()


def _error_codes(errors: Iterable[Any]) -> list[str]:
    """``extensions.code`` of each error, in the response's order."""
    codes = []
    for error in errors:
        extensions = getattr(error, "extensions", None) or {}
        codes.append(str(extensions.get("code", ErrorCode.INTERNAL)))
    return codes


class OperationNaming(SchemaExtension):
    """Names the operation span once the document is parsed and its operation chosen."""

    def on_validate(self) -> Iterator[None]:
        span = _operation_span.get()
        if span is not None:
            ctx = self.execution_context
            kind = ctx.operation_type.value  # "query" / "mutation" / "subscription"
            name = ctx.operation_name
            span.set_attribute("graphql.operation.type", kind)
            if name:
                span.set_attribute("graphql.operation.name", name)
            span.update_name(f"{kind} {name}" if name else kind)
        yield
