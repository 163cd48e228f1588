"""``RequestGuard``: what every ``/graphql`` request passes before GraphQL sees it — the
body-size limit and read timeout, authentication and account choice
(``gateway.tenancy.authorization``) — and the watch that cancels an operation whose client
has disconnected.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import AccessDenied, ErrorCode
from gateway.http.graphql_over_http import (
    error_response,
    names_persisted_query,
    response_media_type,
)
from gateway.observability.telemetry import client_left, mark_client_left
from gateway.runtime import Runtime
from gateway.tenancy.authorization import authorize

__all__ = ["RequestGuard", "replay_body"]


class RequestGuard:
    """Body-size limit, authentication and account choice, before GraphQL sees a request."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self._app = app
        self._runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request = Request(scope)
        if _wants_ide(request):
            scope.setdefault("state", {})["account"] = None
            await self._app(scope, receive, send)
            return
        settings = self._runtime.settings
        limit = settings.http.max_body_bytes
        media_type = response_media_type(request.headers.get("accept"))
        try:
            # A client sending its body a byte at a time must not hold the connection open.
            async with asyncio.timeout(settings.http.body_timeout_seconds):
                body = await _read_body(request, receive, limit)
        except TimeoutError:
            response = error_response(
                408,
                ErrorCode.REQUEST_TIMEOUT,
                f"The request body did not arrive within {settings.http.body_timeout_seconds:g} s",
                media_type=media_type,
                Connection="close",
            )
            await response(scope, receive, send)
            return
        if body is None:
            response = error_response(
                413,
                ErrorCode.REQUEST_TOO_LARGE,
                f"The request body is larger than {limit} bytes",
                media_type=media_type,
            )
            await response(scope, receive, send)
            return
        try:
            access = authorize(
                self._runtime.tenancy,
                request.headers.get("authorization"),
                request.headers.get("x-lms-account"),
            )
        except AccessDenied as denied:
            headers = {"WWW-Authenticate": "Bearer"} if denied.status == 401 else {}
            await error_response(
                denied.status, denied.code, denied.message, media_type=media_type, **headers
            )(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["account"] = access.account
        state["access"] = access
        await _serve_while_connected(self._app, scope, replay_body(body, receive), receive, send)


def _wants_ide(request: Request) -> bool:
    return (
        request.method == "GET"
        and "query" not in request.query_params
        and not names_persisted_query(request.query_params)
        and "text/html" in request.headers.get("accept", "")
    )


async def _read_body(request: Request, receive: Receive, limit: int) -> bytes | None:
    """The whole body, or ``None`` as soon as it is known to exceed ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """The body already read, then the server's own messages (a real ``http.disconnect``)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


async def _serve_while_connected(
    app: ASGIApp, scope: Scope, app_receive: Receive, receive: Receive, send: Send
) -> None:
    """Run ``app``, and cancel it if the client disconnects before its answer is sent.

    Nobody would read the answer: the operation, and the upstream calls only it waits for,
    stop (calls shared with other requests go on for them). The body has been read, so the
    server's next message is ``http.disconnect``, sent when the client closes the connection
    (or once the answer is complete, which is not a departure).
    """
    answered = False

    async def send_noting_the_end(message: Message) -> None:
        nonlocal answered
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            answered = True
        await send(message)

    serving = asyncio.current_task()
    assert serving is not None

    async def cancel_when_client_leaves() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        if not answered:
            mark_client_left(scope)
            serving.cancel()

    watcher = asyncio.ensure_future(cancel_when_client_leaves())
    try:
        await app(scope, app_receive, send_noting_the_end)
    except asyncio.CancelledError:
        if not client_left(scope) or serving.uncancel() > 0:
            raise  # cancelled by someone else too (the server shutting down)
        # The client is gone: there is nobody to answer.
    finally:
        watcher.cancel()
