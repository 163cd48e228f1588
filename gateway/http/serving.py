"""Running the gateway under uvicorn: in the foreground with a graceful SIGTERM
(``lms-gateway serve``), or in a background thread (benchmark and tests)."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any, ClassVar

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from gateway.errors import ErrorCode

if TYPE_CHECKING:
    from gateway.config import Settings

__all__ = ["GatewayHttpProtocol", "GracefulServer", "listening_sockets", "serve_in_thread"]


# After the body timeout the app answers 408 itself (``RequestGuard``); the protocol closes a
# connection whose body is still arriving this much later (a route that never read it).
_BODY_TIMEOUT_GRACE = 1.0


class GatewayHttpProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for reading a request, answering what it
    refuses itself in the gateway's error shape.

    * uvicorn writes the 400 for a request h11 cannot parse (malformed, or headers over
      ``h11_max_incomplete_event_size``) before any app sees it, in plain text; here it is
      ``{"errors": [{"message": …, "extensions": {"code": "BAD_REQUEST"}}]}``.
    * uvicorn has no header-read timeout (its keep-alive timer is reset by every byte), so a
      client sending one byte a second keeps a connection forever. Here the headers must
      arrive within ``header_timeout`` of the connection (or of a later request's first
      byte), else 408 ``REQUEST_TIMEOUT`` and the connection closes; a body still arriving
      ``body_timeout`` (+ a grace second) after its headers closes the connection.
    """

    header_timeout: ClassVar[float | None] = None
    body_timeout: ClassVar[float | None] = None

    @classmethod
    def with_timeouts(cls, header: float, body: float) -> type[GatewayHttpProtocol]:
        return type(cls.__name__, (cls,), {"header_timeout": header, "body_timeout": body})

    # The signature of uvicorn's H11Protocol, which narrows asyncio's BaseTransport the same way.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._read_deadline: asyncio.TimerHandle | None = None
        self._reading: type[h11.IDLE] | type[h11.SEND_BODY] | None = None
        self._watch_reading(h11.IDLE)

    def data_received(self, data: bytes) -> None:
        if self._reading is None and self.conn.their_state is h11.IDLE:
            self._watch_reading(h11.IDLE)  # the first bytes of a further request
        super().data_received(data)
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            self._watch_reading(h11.SEND_BODY)
        elif state is not h11.IDLE:
            self._watch_reading(None)  # the whole request is in (or the connection failed)

    def connection_lost(self, exc: Exception | None) -> None:
        self._watch_reading(None)
        super().connection_lost(exc)

    def _watch_reading(self, part: type[h11.IDLE] | type[h11.SEND_BODY] | None) -> None:
        if part is self._reading:
            return
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None
        self._reading = part
        if part is h11.IDLE and self.header_timeout is not None:
            self._read_deadline = self.loop.call_later(self.header_timeout, self._headers_late)
        elif part is h11.SEND_BODY and self.body_timeout is not None:
            delay = self.body_timeout + _BODY_TIMEOUT_GRACE
            self._read_deadline = self.loop.call_later(delay, self._body_late)

    def _headers_late(self) -> None:
        self._read_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            message = f"The request headers did not arrive within {self.header_timeout:g} s"
            self.send_error_and_close(408, ErrorCode.REQUEST_TIMEOUT, message)

    def _body_late(self) -> None:
        self._read_deadline = None
        if self.conn.their_state is h11.SEND_BODY and not self.transport.is_closing():
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        self.send_error_and_close(400, ErrorCode.BAD_REQUEST, msg)

    def send_error_and_close(self, status: int, code: ErrorCode, message: str) -> None:
        body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        try:
            for event in (
                h11.Response(status_code=status, headers=headers),
                h11.Data(data=body.encode()),
                h11.EndOfMessage(),
            ):
                self.transport.write(self.conn.send(event))
        except h11.LocalProtocolError:
            pass  # a response had already begun: closing is all that is left
        self.transport.close()


def uvicorn_config(app: Any, settings: Settings | None = None, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for ``app`` with the gateway's HTTP protocol; with ``settings``
    (the gateway's), its request-read timeouts."""
    protocol = GatewayHttpProtocol
    if settings is not None:
        protocol = protocol.with_timeouts(
            settings.http.header_timeout_seconds, settings.http.body_timeout_seconds
        )
    return uvicorn.Config(app, http=protocol, **options)


def listening_sockets(host: str, port: int) -> list[socket.socket]:
    """Sockets bound to ``port`` on every address of ``host``, as asyncio's ``create_server``
    binds them for uvicorn, for ``Server.run(sockets=...)``.

    Binding before uvicorn starts makes a port in use (or an address not of this machine) an
    ``OSError`` here, before the app's startup runs: uvicorn binds after it, so its own failure
    comes after "Application startup complete".
    """
    addresses = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=socket.AI_PASSIVE
    )
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(addresses):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                # Like asyncio: the IPv6 socket leaves IPv4 to its own socket.
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


@contextmanager
def serve_in_thread(app: Any, *, start_timeout: float = 10.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 at a free port; yields its base URL."""
    runtime = getattr(getattr(app, "state", None), "runtime", None)  # a gateway app's
    config = uvicorn_config(
        app,
        getattr(runtime, "settings", None),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class GracefulServer(uvicorn.Server):
    """uvicorn's server with three changes to how SIGTERM and SIGINT end it.

    * ``on_exit`` runs first: the gateway marks itself draining, so ``/readyz`` answers 503.
    * With ``drain_delay`` seconds, it keeps accepting and serving that long before it
      stops, so a load balancer that polls ``/readyz`` takes it out of rotation before its
      socket closes. A second signal stops it at once.
    * The signal is not raised again after the graceful shutdown. uvicorn re-raises it so
      that the process dies of it (exit status 143 for SIGTERM); a shutdown that finished
      every request is a success, so the process exits 0.

    Then uvicorn does the rest: it stops accepting connections, lets in-flight requests
    finish for up to ``timeout_graceful_shutdown`` seconds (then cancels them), and runs
    the app's lifespan shutdown, which closes the upstream client.
    """

    def __init__(
        self, config: uvicorn.Config, *, on_exit: Callable[[], None], drain_delay: float = 0.0
    ) -> None:
        super().__init__(config)
        self._on_exit = on_exit
        self._drain_delay = drain_delay
        self._draining = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._on_exit()
        if self._drain_delay > 0 and not self._draining:
            self._draining = True
            # A signal handler must not block; the main loop polls should_exit every 0.1 s.
            timer = threading.Timer(self._drain_delay, self._stop)
            timer.daemon = True
            timer.start()
            return
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True  # a second Ctrl+C: stop waiting
        else:
            self.should_exit = True

    def _stop(self) -> None:
        self.should_exit = True
