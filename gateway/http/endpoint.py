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
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

# Strawberry's HTTP layer: tests/test_strawberry_internals.py.
from cross_web import (
    HTTPException,  # Strawberry's own HTTP error (a dependency of it)
    StarletteRequestAdapter,
    parse_content_type,
)
from graphql import ExperimentalIncrementalExecutionResults, GraphQLError
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response, StreamingResponse
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
from gateway.http.incremental import (
    IncrementalAnswer,
    IncrementalFormat,
    Outcome,
    Parts,
    PartsTransport,
    incremental_format,
    multipart_content_type,
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
from gateway.tenancy.authorization import Access
from schema.validation.extensions import operation_extensions, with_code

__all__ = [
    "GraphQLView",
    "TracedGraphQLView",
    "answer_in_parts",
]


class _RequestAdapter(StarletteRequestAdapter):
    """Strawberry's request adapter, giving the view the parsed media type as the content
    type: Strawberry looks for ``application/json`` in the raw header, case-sensitively.
    ``GraphQLView.parse_http_body`` has refused every other type before."""

    @property
    def content_type(self) -> str | None:
        raw = super().content_type
        return None if raw is None else parse_content_type(raw)[0]


# The request's answer in parts, if it has one, in its scope's state: ended by the view once
# the response is sent, or abandoned.
_ANSWER = "gateway_incremental_answer"


def _error_result(code: ErrorCode, message: str) -> ExecutionResult:
    error = GraphQLError(message, extensions={"code": code})
    return ExecutionResult(data=None, errors=[error])


def answer_in_parts(request: HTTPConnection) -> IncrementalAnswer | None:
    """The request's answer in parts (``@defer``/``@stream`` over multipart/mixed), if any."""
    answer = request.scope.get("state", {}).get(_ANSWER)
    return answer if isinstance(answer, IncrementalAnswer) else None


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's GraphQL-over-HTTP view with per-account contexts, limits and a deadline."""

    # Past get_context and process_result, the hooks overridden here are undocumented:
    # tests/test_strawberry_internals.py checks their names, parameters and call order.
    request_adapter_class = _RequestAdapter
    multipart_transport_class = PartsTransport

    def __init__(self, runtime: Runtime) -> None:
        settings = runtime.settings
        ide: GraphQL_IDE | None = "graphiql" if settings.graphiql.enabled else None
        super().__init__(runtime.schema, graphql_ide=ide, allow_queries_via_get=True)
        self._runtime = runtime
        self._ide_page = (
            GraphiQLPage(
                settings.graphiql.assets,
                requires_key=runtime.tenancy.requires_keys,
                accounts=_other_accounts(runtime),
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
        try:
            await self._answer(request, scope, receive, send)
        finally:
            # An answer in parts ends after its last part; here if it did not: the client left
            # while a part was being sent, or the response never started.
            answer = answer_in_parts(request)
            if answer is not None:
                await answer.close()

    async def _answer(self, request: Request, scope: Scope, receive: Receive, send: Send) -> None:
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
        context = _with_access(
            self._runtime.context_for(account, fresh=_wants_fresh(request)), request
        )
        context.incremental = incremental_format(request.headers.get("accept")) is not None
        return context

    async def create_streaming_response(
        self,
        request: Request | WebSocket,
        stream: Callable[[], AsyncIterator[str]],
        sub_response: Response,
        headers: Mapping[str, str],
    ) -> Response:
        # Only answers in parts stream (the gateway serves no subscriptions).
        fmt = incremental_format(request.headers.get("accept")) or IncrementalFormat.GRAPHQL_CORE
        headers = {
            **headers,
            "Content-Type": multipart_content_type(headers["Content-Type"], fmt),
            # Each part must reach the client when it is ready: proxies such as nginx buffer
            # responses unless told not to.
            "X-Accel-Buffering": "no",
            "Cache-Control": "no-store",
        }
        return StreamingResponse(
            stream(),
            status_code=sub_response.status_code or 200,
            headers={**sub_response.headers, **headers},
        )

    async def _process_stream_result(
        self, request: Request, value: Any, all_pending: list[Any]
    ) -> tuple[Any, list[Any]]:
        # The parts of an answer in parts are already in the client's format (IncrementalAnswer).
        return value, all_pending

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
        # A batch: every operation gets its own context, loaders and call count, and one JSON
        # answer (no answer in parts: @defer and @stream data inline).
        account: AccountConfig = request.scope["state"]["account"]
        context.incremental = False
        return await asyncio.gather(
            *(
                self.execute_single(
                    request=request,
                    request_adapter=request_adapter,
                    sub_response=sub_response,
                    context=context
                    if index == 0
                    else _with_access(
                        self._runtime.context_for(account, fresh=_wants_fresh(request)), request
                    ),
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
        # Every operation, refused ones included, is reported once it has its result; an answer
        # in parts, once its last part is sent (IncrementalAnswer.finish).
        started = time.perf_counter()
        result: Any = None
        try:
            result = await self._execute_limited(
                request, request_adapter, sub_response, context, root_value, request_data, started
            )
            return result
        except HTTPException as exc:
            result = _error_result(http_error_code(exc.status_code), exc.reason)
            raise
        except asyncio.CancelledError:
            if client_left(request.scope):
                result = _client_left_result()
            raise
        finally:
            if not isinstance(result, ExperimentalIncrementalExecutionResults):
                self._report(
                    context,
                    request_data,
                    started,
                    getattr(result, "data", None),
                    getattr(result, "errors", None) or (),
                )

    def _report(
        self,
        context: Context,
        request_data: Any,
        started: float,
        data: object,
        errors: Sequence[Any],
    ) -> None:
        self._runtime.telemetry.operation_finished(
            operation_record(
                account_id=context.account_id,
                operation_name=context.operation_name or request_data.operation_name,
                operation_type=context.operation_type,
                usage=context.usage,
                data=data,
                errors=errors,
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
        started: float,
    ) -> Any:
        settings = self._runtime.settings
        try:
            query = await self._runtime.persisted.resolve(
                request_data.query, request_data.extensions, scope=context.account_id
            )
        except PersistedQueryError as refused:
            return refusal(refused)
        request_data = replace(request_data, query=query)
        deadline = asyncio.get_running_loop().time() + settings.execution.deadline_seconds
        answer: IncrementalAnswer | None = None
        try:
            async with asyncio.timeout_at(deadline):
                result: Any = await super().execute_single(
                    request=request,
                    request_adapter=request_adapter,
                    sub_response=sub_response,
                    context=context,
                    root_value=root_value,
                    request_data=request_data,
                )
            # Strawberry passes graphql-core's answer in parts on as it is (it is experimental,
            # and typed out of execute_single): tests/test_strawberry_internals.py.
            if isinstance(result, ExperimentalIncrementalExecutionResults):
                answer = self._answer_in_parts(
                    request, context, result, deadline, request_data, started
                )
                return answer.start()
            return result
        except TimeoutError:
            return _error_result(ErrorCode.DEADLINE_EXCEEDED, self._deadline_message())
        finally:
            if answer is None:
                _end_operation(context)

    def _deadline_message(self) -> str:
        seconds = self._runtime.settings.execution.deadline_seconds
        return f"The operation did not finish within {seconds:g} s"

    def _answer_in_parts(
        self,
        request: Request,
        context: Context,
        results: ExperimentalIncrementalExecutionResults,
        deadline: float,
        request_data: Any,
        started: float,
    ) -> IncrementalAnswer:
        """The operation's answer in parts, which ends the operation after its last part."""
        fmt = incremental_format(request.headers.get("accept")) or IncrementalFormat.GRAPHQL_CORE
        message = self._deadline_message()
        hide = self._runtime.settings.limits.hide_suggestions
        schema = self._runtime.schema

        def code(errors: Sequence[GraphQLError]) -> list[GraphQLError]:
            # Strawberry logs and codes errors of single answers only (ErrorCodes).
            if errors:
                schema.process_errors(list(errors))
            return [with_code(error, hide) for error in errors]

        def timed_out(path: list[str | int]) -> GraphQLError:
            deadline_code = ErrorCode.DEADLINE_EXCEEDED
            return GraphQLError(message, path=path, extensions={"code": deadline_code})

        def finish(outcome: Outcome) -> None:
            _end_operation(context)
            errors: list[Any] = list(outcome.errors)
            if not outcome.complete and client_left(request.scope):  # the outcome: it left
                errors = [*(_client_left_result().errors or []), *errors]
            self._report(context, request_data, started, outcome.data, errors)

        answer = IncrementalAnswer(
            results=results,
            parts=Parts(fmt, code),
            deadline=deadline,
            timed_out=timed_out,
            extensions=lambda: operation_extensions(context),
            on_finish=[finish],
        )
        request.scope.setdefault("state", {})[_ANSWER] = answer
        return answer


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
        span = self._runtime.tracing.operation_span(context)
        result: Any = None
        try:
            result = await span.run(
                lambda: execute(
                    request=request,
                    request_adapter=request_adapter,
                    sub_response=sub_response,
                    context=context,
                    root_value=root_value,
                    request_data=request_data,
                )
            )
            return result
        finally:
            answer = (
                answer_in_parts(request)
                if isinstance(result, ExperimentalIncrementalExecutionResults)
                else None
            )
            if answer is None:
                span.end(getattr(result, "errors", None) or ())
            else:  # the span covers every part, and is current while later parts run
                answer.step = span.current
                answer.on_finish.append(lambda outcome: span.end(outcome.errors))


def _end_operation(context: Context) -> None:
    context.provider.close()
    if context.admission is not None:  # unused promised calls go back to the pacer
        context.admission.release()


def _client_left_result() -> ExecutionResult:
    return _error_result(
        ErrorCode.CLIENT_CLOSED_REQUEST, "The client closed the connection before the answer"
    )


def _wants_fresh(request: HTTPConnection) -> bool:
    """``Cache-Control: no-cache`` (or ``no-store``, or ``Pragma: no-cache``) skips the cache."""
    control = request.headers.get("cache-control", "").lower()
    pragma = request.headers.get("pragma", "").lower()
    return "no-cache" in control or "no-store" in control or "no-cache" in pragma


def _other_accounts(runtime: Runtime) -> list[tuple[str, str]]:
    """The accounts besides the fallback one (demo mode's second school), for GraphiQL."""
    tenancy = runtime.tenancy
    if tenancy.fallback_account is None:
        return []
    fallback = tenancy.accounts[tenancy.fallback_account]
    return [
        (account.id, account.provider_name)
        for account in tenancy.accounts.values()
        if account is not fallback
    ]


def _with_access(context: Context, request: Request | WebSocket) -> Context:
    """``context`` with what the request's access allows (the guard's ``Access``)."""
    access: Access | None = request.scope["state"].get("access")
    if access is not None:
        context.scopes = access.scopes
        context.key_name = access.key_name
    return context
