"""Errors outside GraphQL, over real HTTP and raw sockets: unknown paths, wrong methods,
malformed HTTP, and clients too slow to send their request."""

from __future__ import annotations

import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.app import create_app
from gateway.config import Settings
from tests.support import free_port, running, serve_over_http

pytestmark = pytest.mark.http


def coded(response: httpx.Response) -> str:
    """The one error's code, after checking the documented shape."""
    assert response.headers["content-type"].startswith("application/json"), response.text
    (error,) = response.json()["errors"]
    assert isinstance(error["message"], str) and error["message"]
    return str(error["extensions"]["code"])


def exchange(base: str, data: bytes, *, timeout: float = 10) -> tuple[int, dict[str, str], Any]:
    """Sends raw bytes, reads until the server closes: status, headers and the JSON body."""
    url = urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, json.loads(body)


def test_unknown_paths_and_wrong_methods_get_the_documented_error_shape(clean_env):
    with serve_over_http(create_app(Settings())) as base, httpx.Client(base_url=base) as http:
        put = http.put("/graphql", json={"query": "{ __typename }"})
        delete = http.delete("/healthz")
        missing = http.get("/nowhere")
        new_type = http.get("/nowhere", headers={"Accept": "application/graphql-response+json"})
    assert put.status_code == delete.status_code == 405
    assert coded(put) == coded(delete) == "METHOD_NOT_ALLOWED"
    assert set(put.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert missing.status_code == 404 and coded(missing) == "NOT_FOUND"
    assert new_type.headers["content-type"] == "application/graphql-response+json"


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"NOT HTTP AT ALL\r\n\r\n",
        # Unfinished headers past h11's 16 KiB: refused without waiting for their end.
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000,
    ],
    ids=["malformed", "headers too long"],
)
def test_requests_h11_refuses_get_the_documented_error_shape(clean_env, request_bytes):
    with serve_over_http(create_app(Settings())) as base:
        status, headers, body = exchange(base, request_bytes)
    assert status == 400
    assert headers["content-type"].startswith("application/json")
    assert headers["connection"] == "close"
    assert body["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


@pytest.mark.slow
def test_lms_gateway_serve_answers_malformed_http_with_the_error_shape(clean_env):
    port = free_port()
    with running(["serve", "--port", str(port)], clean_env, f"http://127.0.0.1:{port}/healthz"):
        status, _, body = exchange(f"http://127.0.0.1:{port}", b"NOT HTTP AT ALL\r\n\r\n")
    assert status == 400
    assert body["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


# --- slow clients ----------------------------------------------------------------------

SLOW = {"http": {"header_timeout_seconds": 1.0, "body_timeout_seconds": 1.0}}


def drip(base: str, head: bytes, dripped: bytes, *, give_up: float = 20) -> tuple[bytes, int]:
    """Sends ``head`` at once, then ``dripped`` one byte every 0.15 s, until the server
    closes the connection; what it answered, and how many dripped bytes it took. Fails if
    the connection is still open after ``give_up`` seconds."""
    url = urlsplit(base)
    received, sent = b"", 0
    with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
        sock.sendall(head)
        sock.settimeout(0.15)
        deadline = time.monotonic() + give_up
        while time.monotonic() < deadline:
            try:
                if sent < len(dripped):
                    sock.send(dripped[sent : sent + 1])
                    sent += 1
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                return received, sent
            if not chunk:
                return received, sent
            received += chunk
    pytest.fail(f"the connection was still open after {give_up} s ({sent} bytes dripped)")


def answer(received: bytes) -> tuple[int, dict[str, str], Any]:
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, json.loads(body) if body else None


REQUEST_HEAD = b"POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
HEADERS = REQUEST_HEAD + b"X-Padding: " + b"a" * 400 + b"\r\n\r\n"
BODY = b'{"query": "{ __typename }", "padding": "' + b"a" * 400 + b'"}'


@pytest.mark.slow
def test_headers_sent_a_byte_at_a_time_are_cut_off_with_a_coded_408(clean_env):
    with serve_over_http(create_app(Settings(**SLOW))) as base:
        received, sent = drip(base, b"", HEADERS)
    assert sent < len(HEADERS)  # cut off: the whole request would have taken over a minute
    status, headers, body = answer(received)
    assert status == 408 and headers["connection"] == "close"
    assert body["errors"][0]["extensions"] == {"code": "REQUEST_TIMEOUT"}


@pytest.mark.slow
def test_a_body_sent_a_byte_at_a_time_is_answered_408_and_the_connection_closed(clean_env):
    head = REQUEST_HEAD + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
    with serve_over_http(create_app(Settings(**SLOW))) as base:
        received, sent = drip(base, head, BODY)
    assert sent < len(BODY)
    status, headers, body = answer(received)
    assert status == 408 and headers["connection"] == "close"
    assert body["errors"][0]["extensions"] == {"code": "REQUEST_TIMEOUT"}


@pytest.mark.slow
def test_a_slow_body_to_a_route_that_does_not_read_it_is_cut_off_too(clean_env):
    head = b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n"
    head += f"Content-Length: {len(BODY)}\r\n\r\n".encode()
    with serve_over_http(create_app(Settings(**SLOW))) as base:
        received, sent = drip(base, head, BODY)
    assert sent < len(BODY)
    assert answer(received)[0] == 200  # answered at once, then closed at the deadline


@pytest.mark.slow
def test_lms_gateway_serve_bounds_the_header_read_by_its_setting(clean_env):
    port = free_port()
    env = {**clean_env, "LMS_GATEWAY_HEADER_TIMEOUT_SECONDS": "1"}
    with running(["serve", "--port", str(port)], env, f"http://127.0.0.1:{port}/healthz"):
        received, sent = drip(f"http://127.0.0.1:{port}", b"", HEADERS)
    assert sent < len(HEADERS)
    assert answer(received)[0] == 408


@pytest.mark.slow
def test_many_silent_connections_are_all_closed(clean_env):
    with serve_over_http(create_app(Settings(**SLOW))) as base:
        url = urlsplit(base)
        sockets = [socket.create_connection((url.hostname, url.port)) for _ in range(50)]
        try:
            statuses = []
            for sock in sockets:  # each was opened and then said nothing
                sock.settimeout(15)
                received = b""
                while chunk := sock.recv(65536):
                    received += chunk
                statuses.append(answer(received)[0])
        finally:
            for sock in sockets:
                sock.close()
    assert statuses == [408] * 50
