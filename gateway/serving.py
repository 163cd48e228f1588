"""Running the gateway under uvicorn: in the foreground with a graceful SIGTERM
(``lms-gateway serve``), or in a background thread (benchmark and tests)."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["GatewayHttpProtocol", "GracefulServer", "serve_in_thread"]


class GatewayHttpProtocol(H11Protocol):
    """uvicorn's h11 protocol, answering what it refuses itself in the gateway's error shape.

    uvicorn writes the 400 for a request h11 cannot parse (malformed, or headers over
    ``h11_max_incomplete_event_size``) before any app sees it, in plain text; here it is
    ``{"errors": [{"message": …, "extensions": {"code": "BAD_REQUEST"}}]}``.
    """

    def send_400_response(self, msg: str) -> None:
        self.send_error_and_close(400, "BAD_REQUEST", msg)

    def send_error_and_close(self, status: int, code: str, message: str) -> None:
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


def uvicorn_config(app: Any, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for ``app`` with the gateway's HTTP protocol."""
    return uvicorn.Config(app, http=GatewayHttpProtocol, **options)


@contextmanager
def serve_in_thread(app: Any, *, start_timeout: float = 10.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 at a free port; yields its base URL."""
    config = uvicorn_config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
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
