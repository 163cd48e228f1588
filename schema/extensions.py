"""Schema extensions: tell the provider what the operation selects, report upstream calls,
and give every error a code in ``extensions.code``."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from gateway.context import Context
from gateway.errors import GatewayError
from schema.selection import selected_fields

__all__ = ["ErrorCodes", "UpstreamAccounting"]

logger = logging.getLogger("gateway.graphql")


class UpstreamAccounting(SchemaExtension):
    """Before execution: hand the selection to the provider. After: ``extensions.upstream``."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        context = ctx.context
        if isinstance(context, Context) and ctx.graphql_document is not None:
            context.provider.prepare(selected_fields(ctx.schema._schema, ctx.graphql_document))
        yield

    def get_results(self) -> dict[str, object]:
        context = self.execution_context.context
        if isinstance(context, Context) and context.report_upstream:
            return {"upstream": context.usage.as_extension()}
        return {}


class ErrorCodes(SchemaExtension):
    """Codes for every error; unexpected exceptions are masked as INTERNAL."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [_with_code(error) for error in errors]


def _with_code(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if original is None:
        code = "GRAPHQL_VALIDATION_FAILED"
        message = error.message
    elif isinstance(original, GatewayError):
        code, message = original.code, original.message
    elif isinstance(original, GraphQLError):  # e.g. a variable that does not coerce
        code, message = "BAD_USER_INPUT", error.message
    else:
        code, message = "INTERNAL", "Internal server error"
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions={**(error.extensions or {}), "code": code},
    )
