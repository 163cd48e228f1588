"""Errors outside GraphQL, over real HTTP and raw sockets: unknown paths, wrong methods,
malformed HTTP, and clients too slow to send their request."""

from __future__ import annotations

import json
import os
import socket
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.app import create_app
from gateway.config import Settings
from tests.conftest import serve_over_http
from tests.test_http import free_port, running


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in list(os.environ):
        if name.startswith(("TALENTLMS_", "LMS_GATEWAY_")):
            monkeypatch.delenv(name)
    return dict(os.environ)


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


def test_lms_gateway_serve_answers_malformed_http_with_the_error_shape(clean_env):
    port = free_port()
    with running(["serve", "--port", str(port)], clean_env, f"http://127.0.0.1:{port}/healthz"):
        status, _, body = exchange(f"http://127.0.0.1:{port}", b"NOT HTTP AT ALL\r\n\r\n")
    assert status == 400
    assert body["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
