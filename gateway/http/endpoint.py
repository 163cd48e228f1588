"""The ``/graphql`` endpoint: ``GraphQLView``, Strawberry's GraphQL-over-HTTP view with
persisted queries, per-operation contexts, a deadline and the spec's media types, behind
``RequestGuard`` (``guard.py``: body-size limit, authentication, account choice).

A request passes, in order: the body-size limit, authentication and account selection
(``gateway.tenancy``), persisted queries and the allow-list (``gateway.persisted``), parsing
(stopped at the token limit) and validation (operation limits and demand control,
``schema/``), and execution under a deadline, cancelled if the client disconnects first.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

# Strawberry's HTTP layer: tests/test_strawberry_internals.py.
from cross_web import (
    HTTPException,  # Strawberry's own HTTP error (a dependency of it)
    StarletteRequestAdapter,
    parse_content_type,
)
from graphql import GraphQLError
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http.ides import GraphQL_IDE
from strawberry.types import ExecutionResult

from gateway.config import AccountConfig
from gateway.errors import ErrorCode, PersistedQueryError
from gateway.execution.context import Context
from gateway.http.graphiql import GraphiQLPage
from gateway.http.graphql_over_http import (
    JSON,
    body_media_type_refusal,
    error_response,
    http_error_code,
    is_request_error,
    names_persisted_query,
    request_error_status,
    response_media_type,
)
from gateway.observability.telemetry import (
    client_left,
    operation_record,
)
from gateway.persisted.queries import (
    http_response_head,
    refusal,
)
from gateway.runtime import Runtime

__all__ = [
    "GraphQLView",
    "TracedGraphQLView",
]


class _RequestAdapter(StarletteRequestAdapter):
    """Strawberry's request adapter, giving the view the parsed media type as the content
    type: Strawberry looks for ``application/json`` in the raw header, case-sensitively.
    ``GraphQLView.parse_http_body`` has refused every other type before."""

    @property
    def content_type(self) -> str | None:
        raw = super().content_type
        return None if raw is None else parse_content_type(raw)[0]


def _error_result(code: ErrorCode, message: str) -> ExecutionResult:
    error = GraphQLError(message, extensions={"code": code})
    return ExecutionResult(data=None, errors=[error])


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's GraphQL-over-HTTP view with per-account contexts, limits and a deadline."""

    # Past get_context and process_result, the hooks overridden here are undocumented:
    # tests/test_strawberry_internals.py checks their names, parameters and call order.
    request_adapter_class = _RequestAdapter

    def __init__(self, runtime: Runtime) -> None:
        settings = runtime.settings
        ide: GraphQL_IDE | None = "graphiql" if settings.graphiql.enabled else None
        super().__init__(runtime.schema, graphql_ide=ide, allow_queries_via_get=True)
        self._runtime = runtime
        self._ide_page = (
            GraphiQLPage(
                settings.graphiql.assets,
                requires_key=runtime.tenancy.requires_keys,
            )
            if ide
            else None
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        # Our page, whose assets the gateway serves itself (gateway.http.graphiql).
        assert self._ide_page is not None
        return self._ide_page.response()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope=scope, receive=receive)
        media_type = response_media_type(request.headers.get("accept"))
        # Strawberry answers refused requests in plain text; clients get GraphQL errors.
        try:
            response = await self.run(request)
        except HTTPException as exc:
            code = http_error_code(exc.status_code)
            response = error_response(exc.status_code, code, exc.reason, media_type=media_type)
        else:
            if response.media_type == JSON:  # a GraphQL response (not the GraphiQL page)
                response.headers["content-type"] = media_type
        response.headers.add_vary_header("Accept")  # GET answers may be cached per type
        await response(scope, receive, send)

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET with only a persisted query's hash is an operation, whatever it accepts.
        return super().should_render_graphql_ide(request) and not names_persisted_query(
            request.query_params
        )

    async def process_result(self, request: Request, result: ExecutionResult) -> Any:
        response_data = await super().process_result(request, result)
        # The spec's media type: an operation refused before execution has no data entry.
        if response_media_type(request.headers.get("accept")) != JSON and is_request_error(
            result.data, result.errors
        ):
            del response_data["data"]
        return response_data

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        if isinstance(response_data, dict) and "data" not in response_data:
            status = request_error_status(response_data.get("errors") or [])
            if status is not None:
                response.status_code = status
        return response

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        account: AccountConfig | None = request.scope["state"]["account"]
        if account is None:  # the GraphiQL page itself: no operation, no upstream call
            account = next(iter(self._runtime.tenancy.accounts.values()))
        return self._runtime.context_for(account, fresh=_wants_fresh(request))

    async def parse_http_body(self, request: Any) -> Any:
        if request.method != "GET":
            unsupported = body_media_type_refusal(request.headers.get("content-type"))
            if unsupported is not None:
                raise HTTPException(415, unsupported)
        # Strawberry trusts the JSON's shape; a body of `null`, `[1]` or `[]` must be a 400.
        try:
            data = await super().parse_http_body(request)
        except (AttributeError, TypeError, ValueError, RecursionError):
            raise HTTPException(
                400, "The body must be a GraphQL request: a JSON object, or a list of them"
            ) from None
        if isinstance(data, list) and not data:
            raise HTTPException(400, "An empty batch has no operation to run")
        return data

    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: Any,
        context: Context,
        root_value: Any,
        sub_response: Any,
    ) -> Any:
        if not isinstance(request_data, list):
            result = await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
            # A refused persisted query is the request's whole answer: it sets the status.
            if (head := http_response_head(result)) is not None:
                sub_response.status_code = head[0]
                sub_response.headers.update(head[1])
            return result
        # A batch: every operation gets its own context, loaders and call count.
        account: AccountConfig = request.scope["state"]["account"]
        return await asyncio.gather(
            *(
                self.execute_single(
                    request=request,
                    request_adapter=request_adapter,
                    sub_response=sub_response,
                    context=context
                    if index == 0
                    else self._runtime.context_for(account, fresh=_wants_fresh(request)),
                    root_value=root_value,
                    request_data=data,
                )
                for index, data in enumerate(request_data)
            )
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: Any,
    ) -> Any:
        # Every operation, refused ones included, is reported once it has its result.
        started = time.perf_counter()
        result: Any = None
        try:
            result = await self._execute_limited(
                request, request_adapter, sub_response, context, root_value, request_data
            )
            return result
        except HTTPException as exc:
            result = _error_result(http_error_code(exc.status_code), exc.reason)
            raise
        except asyncio.CancelledError:
            if client_left(request.scope):
                result = _error_result(
                    ErrorCode.CLIENT_CLOSED_REQUEST,
                    "The client closed the connection before the answer",
                )
            raise
        finally:
            self._runtime.telemetry.operation_finished(
                operation_record(
                    account_id=context.account_id,
                    operation_name=context.operation_name or request_data.operation_name,
                    operation_type=context.operation_type,
                    usage=context.usage,
                    data=getattr(result, "data", None),
                    errors=getattr(result, "errors", None) or (),
                    duration=time.perf_counter() - started,
                )
            )

    async def _execute_limited(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: Any,
    ) -> Any:
        settings = self._runtime.settings
        try:
            query = await self._runtime.persisted.resolve(
                request_data.query, request_data.extensions, scope=context.account_id
            )
        except PersistedQueryError as refused:
            return refusal(refused)
        request_data = replace(request_data, query=query)
        try:
            async with asyncio.timeout(settings.execution.deadline_seconds):
                return await super().execute_single(
                    request=request,
                    request_adapter=request_adapter,
                    sub_response=sub_response,
                    context=context,
                    root_value=root_value,
                    request_data=request_data,
                )
        except TimeoutError:
            return _error_result(
                ErrorCode.DEADLINE_EXCEEDED,
                f"The operation did not finish within {settings.execution.deadline_seconds:g} s",
            )
        finally:
            context.provider.close()
            if context.admission is not None:  # unused promised calls go back to the pacer
                context.admission.release()


class TracedGraphQLView(GraphQLView):
    """The view with one span per GraphQL operation (only used when tracing is on)."""

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: Any,
    ) -> Any:
        assert self._runtime.tracing is not None
        execute = super().execute_single
        return await self._runtime.tracing.operation(
            context,
            lambda: execute(
                request=request,
                request_adapter=request_adapter,
                sub_response=sub_response,
                context=context,
                root_value=root_value,
                request_data=request_data,
            ),
        )


def _wants_fresh(request: HTTPConnection) -> bool:
    """``Cache-Control: no-cache`` (or ``no-store``, or ``Pragma: no-cache``) skips the cache."""
    control = request.headers.get("cache-control", "").lower()
    pragma = request.headers.get("pragma", "").lower()
    return "no-cache" in control or "no-store" in control or "no-cache" in pragma
