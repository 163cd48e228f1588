"""Structured logs: JSON lines, a request id on every response and record, no secrets."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.app import create_app
from gateway.config import Settings
from gateway.observability.logs import log_handler
from gateway.observability.telemetry import RequestTelemetry, Telemetry, safe_request_id
from gateway.simulator import SimulatorConfig
from gateway.tenancy.authorization import hash_key
from tests.support import (
    RecordingUpstream,
    free_port,
    gateway_client,
    gid,
    running,
    serve_over_http,
    upstream_settings,
)

TLMS_KEY = "portal-secret-key-5d1c7a"
GATEWAY_KEY = "lmsg_logs_frontend_key_9f2e"
VARIABLE_VALUE = "private-variable-value-31a4"
QUERY_MARKER = "queryTextMarker"
SECRETS = (TLMS_KEY, GATEWAY_KEY, VARIABLE_VALUE, QUERY_MARKER)


def settings_with_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A portal (the simulator with its own key) behind a gateway API key."""
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        f"""
[[api_keys]]
name = "frontend"
sha256 = "{hash_key(GATEWAY_KEY)}"
accounts = ["default"]
""",
        encoding="utf-8",
    )
    for name in ("TALENTLMS_DOMAIN", "TALENTLMS_BASE_URL", "TALENTLMS_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return Settings(
        upstream={"base_url": "http://upstream.test/api/v1", "api_key": TLMS_KEY},
        tenancy={"accounts_file": accounts},
        http={"max_body_bytes": 2048},
    )


@pytest.mark.http
def test_request_ids_operation_lines_and_no_secrets(logs, tmp_path, monkeypatch):
    settings = settings_with_keys(tmp_path, monkeypatch)
    upstream = RecordingUpstream(SimulatorConfig(api_key=TLMS_KEY))
    auth = {"Authorization": f"Bearer {GATEWAY_KEY}"}
    query = f"# {QUERY_MARKER}\nquery Lookup($id: ID!) {{ user(id: $id) {{ id name }} }}"
    with (
        serve_over_http(create_app(settings, upstream_transport=upstream)) as base,
        httpx.Client(base_url=base, timeout=10) as http,
    ):
        given = http.post(
            "/graphql",
            json={"query": query, "variables": {"id": gid("User", 3), "note": VARIABLE_VALUE}},
            headers={**auth, "X-Request-ID": "edge-42.a_b"},
        )
        unsafe = http.post(
            "/graphql",
            json={"query": query, "variables": {"id": {"v": VARIABLE_VALUE}}},
            headers={**auth, "X-Request-ID": "bad id!"},
        )
        batch = http.post(
            "/graphql",
            json=[
                {"query": 'query A { user(remoteId: "1") { id } }'},
                {"query": 'query B { user(remoteId: "2") { id } }'},
            ],
            headers=auth,
        )
        denied = http.post(
            "/graphql",
            json={"query": query},
            headers={"Authorization": f"Bearer {GATEWAY_KEY}x"},
        )
        too_large = http.post("/graphql", content=b"{" + b" " * 4096 + b"}", headers={**auth})
        health = http.get("/healthz", params={"token": VARIABLE_VALUE})
    raw, lines = logs.text, logs.lines

    # Every response carries an id: the caller's when safe, a new one otherwise.
    assert given.headers["x-request-id"] == "edge-42.a_b"
    ids = [r.headers["x-request-id"] for r in (unsafe, batch, denied, too_large, health)]
    assert all(safe_request_id(i) for i in ids) and "bad" not in ids[0]
    assert len(set(ids)) == len(ids)
    assert (denied.status_code, too_large.status_code) == (401, 413)
    assert unsafe.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    # One line per operation (two for the batch), carrying the request's id.
    operations = [line for line in lines if line["logger"] == "gateway.operation"]
    by_request = {line["request_id"]: line for line in operations}
    assert len(operations) == 4
    assert [line["request_id"] for line in operations].count(batch.headers["x-request-id"]) == 2
    first = by_request["edge-42.a_b"]
    assert first["account"] == "default"
    assert (first["operation"], first["operation_type"], first["outcome"]) == (
        "Lookup",
        "query",
        "ok",
    )
    assert first["upstream_calls"] == given.json()["extensions"]["upstream"]["calls"] == 1
    assert first["resolved_fields"] == 2 and first["cache_hits"] == 0 and first["retries"] == 0
    assert first["duration_ms"] >= 0
    assert by_request[unsafe.headers["x-request-id"]]["error_codes"] == ["BAD_USER_INPUT"]

    # One access line per HTTP request, refused ones included, without query strings.
    access = [line for line in lines if line["logger"] == "gateway.access"]
    assert sorted(line["status"] for line in access) == [200, 200, 200, 200, 401, 413]
    assert {line["request_id"] for line in access} == {"edge-42.a_b", *ids}
    assert all("?" not in line["path"] for line in access)

    # Nothing secret in any line: keys, Authorization values, variables, query text.
    for secret in SECRETS:
        assert secret not in raw, secret
    assert "authorization" not in raw.lower()  # no request headers at all


def with_telemetry(endpoint: Any) -> Starlette:
    """A one-route app with the gateway's request middleware, placed as create_app does."""
    return Starlette(
        routes=[Route("/", endpoint)],
        middleware=[Middleware(RequestTelemetry, telemetry=Telemetry())],
    )


@pytest.mark.http
def test_a_record_logged_during_a_request_carries_its_id(logs):
    logger = logging.getLogger("tests.inside")

    async def endpoint(_: Request) -> Response:
        logger.warning("deep inside the request")
        return Response(status_code=204)

    with serve_over_http(with_telemetry(endpoint)) as base:
        response = httpx.get(base, headers={"X-Request-ID": "r-1"})
    logger.warning("outside any request")
    lines = logs.lines
    assert response.headers["x-request-id"] == "r-1"
    inside = [line for line in lines if line["message"] == "deep inside the request"]
    outside = [line for line in lines if line["message"] == "outside any request"]
    assert [line["request_id"] for line in inside] == ["r-1"]
    assert [line["request_id"] for line in outside] == [None]


@pytest.mark.http
def test_an_unhandled_error_is_a_coded_500_with_the_id(logs):
    async def endpoint(_: Request) -> Response:
        raise RuntimeError("boom")

    with serve_over_http(with_telemetry(endpoint)) as base:
        response = httpx.get(base, headers={"X-Request-ID": "r-500"})
    assert response.status_code == 500
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert response.headers["x-request-id"] == "r-500"
    logged = [line for line in logs.lines if line["message"] == "unhandled error"]
    assert logged[0]["request_id"] == "r-500" and "RuntimeError: boom" in logged[0]["exception"]


@pytest.mark.unit
@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("abc-123_X.y", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("", False),
        ("with space", False),
        ("new\nline", False),
        ('quote"', False),
    ],
)
def test_only_safe_request_ids_are_kept(value, kept):
    assert (safe_request_id(value) == value) is kept


@pytest.mark.http
@pytest.mark.slow
def test_serve_writes_only_json_lines_and_no_uvicorn_access_line(clean_env):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**clean_env, "LMS_GATEWAY_DEMO_USERS": "5"}
    with running(["serve", "--port", str(port)], env, f"{base}/healthz") as output:
        response = httpx.post(
            f"{base}/graphql",
            json={"query": '{ user(remoteId: "2") { id } }', "variables": {"v": VARIABLE_VALUE}},
            headers={"X-Request-ID": "cli-1"},
        )
    assert response.headers["x-request-id"] == "cli-1"
    lines = [json.loads(line) for line in output.stderr.splitlines()]  # all JSON
    loggers = {line["logger"] for line in lines}
    assert "uvicorn.access" not in loggers
    assert "uvicorn.error" in loggers  # uvicorn's own records go through the same handler
    banner = " ".join(line["message"] for line in lines if line["logger"] == "gateway.cli")
    assert "DEMO DATA" in banner
    mine = [line for line in lines if line["request_id"] == "cli-1"]
    assert sorted(line["logger"] for line in mine) == ["gateway.access", "gateway.operation"]
    assert VARIABLE_VALUE not in output.stderr


@pytest.mark.http
@pytest.mark.slow
def test_serve_can_write_text_logs(clean_env):
    port = free_port()
    env = {**clean_env, "LMS_GATEWAY_LOG_FORMAT": "text"}
    with running(["serve", "--port", str(port)], env, f"http://127.0.0.1:{port}/healthz") as out:
        httpx.get(f"http://127.0.0.1:{port}/healthz", headers={"X-Request-ID": "txt-1"})
    assert "gateway.access [txt-1] http request" in out.stderr
    assert not out.stderr.lstrip().startswith("{")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.unit
@pytest.mark.parametrize(
    ("stream", "log_format", "json_lines"),
    [
        (Terminal(), "auto", False),
        (io.StringIO(), "auto", True),
        (Terminal(), "json", True),
        (io.StringIO(), "text", False),
    ],
    ids=["auto-terminal", "auto-pipe", "json-terminal", "text-pipe"],
)
def test_auto_is_text_on_a_terminal_and_json_elsewhere(stream, log_format, json_lines):
    record = logging.LogRecord("gateway.cli", logging.INFO, __file__, 1, "hello", None, None)
    log_handler(stream, log_format).handle(record)
    assert stream.getvalue().startswith("{") is json_lines


@pytest.mark.unit
async def test_an_upstream_failure_is_logged_by_code_endpoint_and_status(logs):
    upstream = RecordingUpstream()
    upstream.faults[r"/users/id:"] = httpx.Response(503, json={"error": {"message": "down"}})
    settings = upstream_settings(retry={"attempts": 1}, cache={"enabled": False})
    async with gateway_client(settings, upstream) as client:
        response = await client.post(
            "/graphql", json={"query": 'query Who { user(remoteId: "2") { id } }'}
        )
    assert response.json()["errors"][0]["extensions"]["code"] == "UPSTREAM_ERROR"
    request_id = response.headers["x-request-id"]
    mine = [line for line in logs.lines if line["request_id"] == request_id]
    error = next(line for line in mine if line["logger"] == "gateway.graphql")
    assert (error["code"], error["endpoint"], error["upstream_status"]) == (
        "UPSTREAM_ERROR",
        "users/id",
        503,
    )
    assert error["path"] == ["user"]
    operation = next(line for line in mine if line["logger"] == "gateway.operation")
    assert (operation["operation"], operation["outcome"], operation["upstream_calls"]) == (
        "Who",
        "UPSTREAM_ERROR",
        1,
    )
