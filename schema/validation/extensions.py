"""Schema extensions: tell the provider what the operation selects, report upstream calls,
and give every error a code in ``extensions.code``."""

from __future__ import annotations

import json
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import suppress
from functools import partial
from typing import Generic, TypeVar

from graphql import ASTValidationRule, DocumentNode, GraphQLError, validate
from strawberry.extensions import SchemaExtension

# Private (Strawberry's own validation, with its rules): tests/test_strawberry_internals.py.
from strawberry.schema.schema import validate_document

from gateway.domain.cost import CostEstimate
from gateway.errors import ErrorCode, GatewayError, UpstreamRateLimited, retry_after_seconds
from gateway.execution.context import Context
from schema.selection import selected_fields
from schema.validation.cost import cost_rule
from schema.validation.limits import OperationLimitExceeded, hide_suggestions

__all__ = [
    "DemandControl",
    "ErrorCodes",
    "Memo",
    "ParsedDocuments",
    "UpstreamAccounting",
    "ValidatedDocuments",
    "cost_extension",
    "document_error_code",
    "operation_extensions",
    "upstream_extension",
    "with_code",
]


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """A bounded LRU of what a document text gave, shared by a schema's requests."""

    def __init__(self, max_entries: int) -> None:
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._max_entries = max_entries

    def get(self, key: K) -> V | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: K, value: V) -> None:
        self._entries[key] = value
        if len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)


class UpstreamAccounting(SchemaExtension):
    """Before execution: hand the selection to the provider. After: ``extensions.upstream``,
    and the operation's name and type on the context (for logs and metrics).

    The selection depends only on the schema and the document text, and walking a document
    with type information cost a tenth of a small operation's CPU, so it is remembered per
    text in a bounded LRU shared by the schema's requests.
    """

    def __init__(self, selections: Memo[str, frozenset[tuple[str, str]]]) -> None:
        self._selections = selections

    def on_operation(self) -> Iterator[None]:
        yield
        ctx = self.execution_context
        context = ctx.context
        if isinstance(context, Context) and ctx.graphql_document is not None:
            context.operation_name = ctx.operation_name
            try:
                context.operation_type = ctx.operation_type.value
            except Exception:  # no such operation in the document: the error says so
                context.operation_type = "unknown"

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        context = ctx.context
        if isinstance(context, Context) and ctx.graphql_document is not None:
            context.provider.prepare(self._selected(ctx.query, ctx.graphql_document))
        yield

    def _selected(self, query: str | None, document: DocumentNode) -> frozenset[tuple[str, str]]:
        # Private: tests/test_strawberry_internals.py.
        schema = self.execution_context.schema._schema
        if query is None:
            return frozenset(selected_fields(schema, document))
        found = self._selections.get(query)
        if found is None:
            found = frozenset(selected_fields(schema, document))
            self._selections.put(query, found)
        return found

    def get_results(self) -> dict[str, object]:
        context = self.execution_context.context
        return upstream_extension(context) if isinstance(context, Context) else {}


def upstream_extension(context: Context) -> dict[str, object]:
    """``extensions.upstream``: the calls the operation made so far (none if not reported)."""
    if not context.report_upstream:
        return {}
    if context.guard is not None:
        context.usage.portal = context.guard.snapshot()
    return {"upstream": context.usage.as_extension()}


def cost_extension(context: Context) -> dict[str, object]:
    """``extensions.cost``: the estimate, the limit and the calls made so far."""
    if context.cost is None:
        return {}
    return {
        "cost": {
            **context.cost.as_extension(),
            "maxCalls": context.max_upstream_calls,
            "actualCalls": context.usage.calls,
        }
    }


def operation_extensions(context: Context) -> dict[str, object]:
    """What the gateway's extensions add to an answer's ``extensions``, from the context:
    for an answer in parts, its last part carries them (``gateway.http.incremental``)."""
    return {**upstream_extension(context), **cost_extension(context)}


class DemandControl(SchemaExtension):
    """Estimates the operation's upstream calls before execution; refuses it over the limit.

    The estimate, the limit and the actual count are reported in ``extensions.cost``.

    The portal's pacer is asked to promise the operation its estimated calls (admission),
    except while the same operation (account, text, variables) is already running with the
    cache on: the cache shares calls in flight, so identical operations cost the calls of
    one, and promising each of them its own would refuse a burst of them for nothing.
    ``running`` counts the operations under way by that key, shared by the schema's requests.
    """

    def __init__(self, running: Counter[Hashable] | None = None) -> None:
        self._running = running if running is not None else Counter()

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        context = ctx.context
        if not isinstance(context, Context):
            yield
            return
        key: Hashable | None = None
        if context.shares_calls:
            variables = json.dumps(ctx.variables, sort_keys=True, default=str)
            key = (context.account_id, ctx.query, ctx.operation_name, variables)
        admission = None if key is not None and self._running[key] else context.admission
        rule = cost_rule(
            context.provider.cost_table,
            ctx.variables,
            ctx.operation_name,
            context.max_upstream_calls,
            partial(_keep, context),
            context.guard.quota if context.guard is not None else None,
            admission,
        )
        # Strawberry validates with the context's rules then: tests/test_strawberry_internals.py.
        ctx.validation_rules = (*ctx.validation_rules, rule)
        if key is None:
            yield
            return
        self._running[key] += 1
        try:
            yield
        finally:
            self._running[key] -= 1
            if not self._running[key]:
                del self._running[key]

    def get_results(self) -> dict[str, object]:
        context = self.execution_context.context
        return cost_extension(context) if isinstance(context, Context) else {}


def _keep(context: Context, estimate: CostEstimate) -> None:
    context.cost = estimate


class ErrorCodes(SchemaExtension):
    """Codes for every error; unexpected exceptions are masked as INTERNAL.

    With ``hide_suggestions``, every "Did you mean …?" is removed, not only the field
    suggestions Strawberry's own switch removes. With ``max_tokens`` (the bound the parser
    was given, Strawberry's ``MaxTokensLimiter``), the parser's "more than N tokens" syntax
    error is the operation limit it is: ``OPERATION_LIMIT_EXCEEDED``, ``limit: tokens``.
    """

    def __init__(self, *, hide_suggestions: bool = False, max_tokens: int | None = None) -> None:
        self._hide_suggestions = hide_suggestions
        self._max_tokens = max_tokens
        # graphql-core's wording (graphql.language.parser), whole: nothing else matches it
        # (tests/test_strawberry_internals.py checks it).
        self._too_many_tokens = (
            f"Syntax Error: Document contains more than {max_tokens} tokens. Parsing aborted."
        )

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [
                with_code(self._as_limit(error), self._hide_suggestions) for error in errors
            ]

    def _as_limit(self, error: GraphQLError) -> GraphQLError:
        if (
            self._max_tokens is None
            or error.original_error is not None
            or error.message != self._too_many_tokens
        ):
            return error
        return OperationLimitExceeded.for_limit("tokens", self._max_tokens, self._max_tokens + 1)


def with_code(error: GraphQLError, hide: bool) -> GraphQLError:
    """``error`` with its ``extensions.code``; an unexpected exception masked as ``INTERNAL``;
    with ``hide``, without "Did you mean …?" suggestions."""
    original = error.original_error
    extensions: dict[str, object] = {}
    if error.extensions and "code" in error.extensions:
        code, message = str(error.extensions["code"]), error.message
    elif isinstance(original, GatewayError):
        code, message = original.code, original.message
        if isinstance(original, UpstreamRateLimited) and original.retry_after is not None:
            extensions["retryAfter"] = retry_after_seconds(original.retry_after)
    elif original is None or isinstance(original, GraphQLError):
        code, message = document_error_code(error), error.message
    else:
        code, message = ErrorCode.INTERNAL, "Internal server error"
    return GraphQLError(
        hide_suggestions(message) if hide else message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions={**(error.extensions or {}), **extensions, "code": code},
    )


def document_error_code(error: GraphQLError) -> ErrorCode:
    """The code of a parse, validation or variable error that graphql-core gave none."""
    if error.original_error is not None:  # e.g. a variable that does not coerce
        return ErrorCode.BAD_USER_INPUT
    if error.message.startswith("Syntax Error"):
        return ErrorCode.GRAPHQL_PARSE_FAILED
    return ErrorCode.GRAPHQL_VALIDATION_FAILED


class ValidatedDocuments(SchemaExtension):
    """Validation of a document text that already passed is not repeated in full.

    The specified rules and the operation limits depend only on the schema and the text,
    and validating costs as much as executing a small operation; rules marked
    ``per_request`` (the cost estimate: variables, quota) run on every request. Only
    successes are remembered, keyed by the text and the other rules (a rule made per
    request without the mark never matches, so it always runs), in a bounded LRU shared
    by the schema's requests.
    """

    def __init__(self, passed: Memo[Hashable, bool]) -> None:
        self._passed = passed

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        document, query = ctx.graphql_document, ctx.query
        if document is None or query is None or ctx.pre_execution_errors is not None:
            yield
            return
        per_request: list[type[ASTValidationRule]] = []
        fixed: list[type[ASTValidationRule]] = []
        for rule in ctx.validation_rules:
            (per_request if getattr(rule, "per_request", False) else fixed).append(rule)
        key = (query, tuple(fixed))
        # _schema, and Strawberry skipping its validation once pre_execution_errors is set,
        # are private: tests/test_strawberry_internals.py checks them.
        if self._passed.get(key):
            errors = validate(ctx.schema._schema, document, per_request)
        else:
            errors = validate_document(ctx.schema._schema, document, ctx.validation_rules)
            if not errors:
                self._passed.put(key, True)
        ctx.pre_execution_errors = [_as_document_error(error) for error in errors]
        yield


def _as_document_error(error: GraphQLError) -> GraphQLError:
    """A validation error is the document's fault, whatever a rule caught on the way.

    graphql-core reports a literal that a scalar's parser raised on as an invalid value
    carrying that exception: Int's ``int()`` refuses a literal over Python's 4300 digits
    with a ``ValueError``. Kept as ``original_error``, it would read as an unexpected
    failure (``INTERNAL``, a logged traceback) instead of a literal that does not fit.
    """
    original = error.original_error
    if original is None or isinstance(original, GraphQLError | GatewayError):
        return error
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=error.extensions,
    )


class ParsedDocuments(SchemaExtension):
    """A document text is parsed once; its tree is shared by later requests with that text.

    Parsing costs about a tenth of a one-call operation. Only successful parses are
    remembered (``parse`` is an LRU of the schema's); a text that fails is left to
    Strawberry, which parses it again inside its own error handling, so the error keeps
    its ``GRAPHQL_PARSE_FAILED`` code. (Strawberry's ``ParserCache`` raises from its hook,
    outside that handling, and loses the code.) Nothing mutates a parsed document.
    """

    def __init__(self, parse: Callable[..., DocumentNode]) -> None:
        self._parse = parse

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.graphql_document is None and ctx.query:
            # Strawberry does not parse a document set here: tests/test_strawberry_internals.py.
            with suppress(GraphQLError):  # Strawberry parses it again and reports it
                ctx.graphql_document = self._parse(ctx.query, **ctx.parse_options)
        yield
