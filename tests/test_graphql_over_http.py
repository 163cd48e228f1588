"""GraphQL over HTTP: the spec's server audits (graphql-http, run with Node) over real HTTP,
and the media-type rules the gateway adds to Strawberry's view, in process."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from gateway.app import create_app
from gateway.config import Settings
from gateway.http.graphql_over_http import (
    GRAPHQL_RESPONSE_JSON,
    JSON,
    request_error_status,
    response_media_type,
)
from tests.support import (
    RecordingUpstream,
    gateway_client,
    keyed_settings,
    node_tool,
    serve_over_http,
)

AUDIT_PROJECT = Path(__file__).resolve().parent / "compliance"

# SHOULD audits the gateway fails, by audit id, with the reason; the "GraphQL over HTTP"
# section of docs/api.md lists the same. Empty: every SHOULD audit passes. A new failure is a
# regression; a new pass means this list (and docs/api.md) must shrink.
KNOWN_SHOULD_FAILURES: dict[str, str] = {}


def audit_command() -> list[str]:
    """``node audit.mjs`` (skipped without Node, except in CI)."""
    installed = AUDIT_PROJECT / "node_modules" / "graphql-http"
    node = node_tool(AUDIT_PROJECT, installed, "the GraphQL-over-HTTP audit")
    return [node, str(AUDIT_PROJECT / "audit.mjs")]


def run_audits(url: str, *headers: str) -> list[dict[str, Any]]:
    flags = [arg for header in headers for arg in ("--header", header)]
    result = subprocess.run(
        [*audit_command(), url, *flags], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode in (0, 1), result.stderr  # 1: a MUST audit failed
    results = json.loads(result.stdout)
    assert result.returncode == (
        1 if any(r["requirement"] == "MUST" and r["status"] != "ok" for r in results) else 0
    )
    return results


def failing(results: list[dict[str, Any]], requirement: str) -> dict[str, str]:
    return {
        r["id"]: f"{r['name']}: {r['reason']}"
        for r in results
        if r["requirement"] == requirement and r["status"] != "ok"
    }


@pytest.mark.node
def test_gateway_passes_the_graphql_over_http_audits(demo_settings: Settings):
    with serve_over_http(create_app(demo_settings)) as base:
        results = run_audits(f"{base}/graphql")
    ids = [r["id"] for r in results]
    assert len(ids) == len(set(ids)) >= 60  # graphql-http 1.23 has 61 server audits
    assert {r["requirement"] for r in results} == {"MUST", "SHOULD", "MAY"}
    assert failing(results, "MUST") == {}
    should = failing(results, "SHOULD")
    assert set(should) == set(KNOWN_SHOULD_FAILURES), should


@pytest.mark.node
@pytest.mark.slow
def test_a_gateway_with_api_keys_passes_them_for_a_client_with_a_key(tmp_path: Path):
    key = "lmsg_compliance_audit_key"
    settings = keyed_settings(tmp_path, key)
    app = create_app(settings, upstream_transport=RecordingUpstream())
    with serve_over_http(app) as base:
        keyed = run_audits(f"{base}/graphql", f"Authorization: Bearer {key}")
        anonymous = run_audits(f"{base}/graphql")
    assert failing(keyed, "MUST") == {}
    assert set(failing(keyed, "SHOULD")) == set(KNOWN_SHOULD_FAILURES)
    # Without the key every GraphQL request is a 401, which the audits see.
    assert "13EE" in failing(anonymous, "MUST")


@pytest.mark.node
def test_the_audit_notices_a_server_that_is_not_graphql():
    """The harness itself: a server answering plain text fails MUST audits."""

    async def plain(_: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    app = Starlette(routes=[Route("/graphql", plain, methods=["GET", "POST"])])
    with serve_over_http(app) as base:
        results = run_audits(f"{base}/graphql")
    must = failing(results, "MUST")
    assert "4655" in must  # MUST accept application/json and match the content-type
    assert "13EE" in must  # MUST allow string {query} parameter when accepting application/json


@pytest.mark.unit
@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/json", JSON),
        ("application/*", JSON),
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON}, application/json", GRAPHQL_RESPONSE_JSON),
        (f"application/json, {GRAPHQL_RESPONSE_JSON}", JSON),  # first listed among equals
        (f"application/json;q=0.9, {GRAPHQL_RESPONSE_JSON}", GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=0.5, */*;q=0.8", JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=0, application/json", JSON),
        (f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8", GRAPHQL_RESPONSE_JSON),
        ("APPLICATION/GRAPHQL-RESPONSE+JSON", GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=junk, application/json;q=0.1", JSON),
        ("text/html", JSON),  # nothing we serve: the default, not 406
        ("text/html,application/xhtml+xml,*/*;q=0.8", JSON),
    ],
)
def test_response_media_type_follows_accept(accept: str | None, expected: str):
    assert response_media_type(accept) == expected


@pytest.mark.unit
def test_request_error_status():
    def errors(*codes: str) -> list[dict[str, Any]]:
        return [{"message": "x", "extensions": {"code": code}} for code in codes]

    assert request_error_status(errors("GRAPHQL_PARSE_FAILED")) == 400
    assert request_error_status(errors("UPSTREAM_RATE_LIMITED")) == 429
    assert request_error_status(errors("UPSTREAM_RATE_LIMITED", "BAD_USER_INPUT")) == 400
    assert request_error_status([{"message": "no code"}]) == 400


NEW = {"Accept": GRAPHQL_RESPONSE_JSON}
OLD = {"Accept": "application/json"}

REQUEST_ERRORS = [
    ("{ users { nodes { id } ", "GRAPHQL_PARSE_FAILED"),
    ("{ users { nodes { password } } }", "GRAPHQL_VALIDATION_FAILED"),
    ("{ " + " ".join(f"a{i}: __typename" for i in range(40)) + " }", "OPERATION_LIMIT_EXCEEDED"),
    ("{ " + "__typename " * 3000 + "}", "OPERATION_LIMIT_EXCEEDED"),  # tokens: the parser stops
    ("{ users(first: 101) { totalCount } }", "BAD_USER_INPUT"),
    (
        "{ users(first: 100) { nodes { enrollments(first: 100) { nodes { course { items"
        " { nodes { id } } } } } } } }",
        "COST_LIMIT_EXCEEDED",
    ),
]


@pytest.mark.unit
@pytest.mark.parametrize(("query", "code"), REQUEST_ERRORS, ids=[c for _, c in REQUEST_ERRORS])
async def test_request_errors_under_each_media_type(query: str, code: str):
    async with gateway_client() as client:
        new = await client.post("/graphql", json={"query": query}, headers=NEW)
        old = await client.post("/graphql", json={"query": query}, headers=OLD)
    assert new.status_code == 400
    assert new.headers["content-type"] == GRAPHQL_RESPONSE_JSON
    assert "data" not in new.json()
    assert {e["extensions"]["code"] for e in new.json()["errors"]} == {code}
    # Legacy clients keep what they had: 200 and "data": null.
    assert old.status_code == 200
    assert old.headers["content-type"] == JSON
    assert old.json()["data"] is None
    assert {e["extensions"]["code"] for e in old.json()["errors"]} == {code}
    assert new.headers["vary"] == old.headers["vary"] == "Accept"


@pytest.mark.unit
async def test_variable_coercion_failure_is_a_request_error():
    query = "query($n: Int) { users(first: $n) { totalCount } }"
    async with gateway_client() as client:
        response = await client.post(
            "/graphql", json={"query": query, "variables": {"n": "ten"}}, headers=NEW
        )
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


@pytest.mark.unit
async def test_field_errors_keep_data_and_200_under_the_new_media_type():
    query = '{ ok: user(remoteId: "8") { remoteId } bad: user(email: "no-at-sign") { id } }'
    async with gateway_client() as client:
        response = await client.post("/graphql", json={"query": query}, headers=NEW)
    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE_JSON
    body = response.json()
    assert body["data"] == {"ok": {"remoteId": "8"}, "bad": None}
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["bad"], "BAD_USER_INPUT")
    ]


@pytest.mark.unit
async def test_a_quota_refusal_is_429_under_the_new_media_type():
    costly = "{ users(first: 3) { nodes { enrollments { nodes { course { title code } } } } } }"
    async with gateway_client() as client:
        quota = client.app.state.runtime.guards["default"].quota
        # A fresh read: 5 calls left this hour (no background refresh for a while).
        quota.update({"limit": "10000", "remaining": 5, "reset": str(int(time.time()) + 3600)})
        new = await client.post("/graphql", json={"query": costly}, headers=NEW)
        old = await client.post("/graphql", json={"query": costly}, headers=OLD)
    assert new.status_code == 429
    assert "data" not in new.json()
    assert [e["extensions"]["code"] for e in new.json()["errors"]] == ["UPSTREAM_RATE_LIMITED"]
    assert old.status_code == 200 and old.json()["data"] is None


@pytest.mark.unit
async def test_refusals_before_graphql_answer_in_the_negotiated_media_type():
    async with gateway_client(Settings(http={"max_body_bytes": 1024})) as client:
        not_json = await client.post(
            "/graphql", content=b"{", headers={**NEW, "Content-Type": "application/json"}
        )
        too_large = await client.post("/graphql", json={"query": "x" * 2000}, headers=NEW)
        get_without_query = await client.get("/graphql", headers=NEW)
        legacy = await client.post(
            "/graphql", content=b"{", headers={**OLD, "Content-Type": "application/json"}
        )
    for response, status, code in (
        (not_json, 400, "BAD_REQUEST"),
        (too_large, 413, "REQUEST_TOO_LARGE"),
        (get_without_query, 400, "BAD_REQUEST"),
    ):
        assert response.status_code == status
        assert response.headers["content-type"] == GRAPHQL_RESPONSE_JSON
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == [code]
    assert legacy.status_code == 400 and legacy.headers["content-type"] == JSON


@pytest.mark.unit
async def test_get_and_batches_under_the_new_media_type():
    async with gateway_client() as client:
        fetched = await client.get(
            "/graphql", params={"query": '{ user(remoteId: "8") { remoteId } }'}, headers=NEW
        )
        batch = await client.post(
            "/graphql",
            json=[{"query": '{ user(remoteId: "8") { remoteId } }'}, {"query": "{ nope }"}],
            headers=NEW,
        )
        page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == GRAPHQL_RESPONSE_JSON
    assert fetched.json()["data"] == {"user": {"remoteId": "8"}}
    # A batch is one response for many operations: 200, each item shaped by the spec.
    assert batch.status_code == 200
    first, second = batch.json()
    assert first["data"] == {"user": {"remoteId": "8"}}
    assert "data" not in second
    assert second["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert page.headers["content-type"].startswith("text/html")  # GraphiQL is untouched


@pytest.mark.http
@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "APPLICATION/JSON",  # type and subtype are case-insensitive (RFC 9110, 8.3.1)
        "Application/Json; Charset=UTF-8",
        "application/json;charset=utf-8",
        'application/json ; charset="utf-8"',
    ],
)
def test_a_json_body_is_run_whatever_the_case_and_parameters(demo_settings, content_type):
    with serve_over_http(create_app(demo_settings)) as base:
        response = httpx.post(
            f"{base}/graphql",
            content=b'{"query": "{ __typename }"}',
            headers={"Content-Type": content_type},
        )
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"__typename": "Query"}


@pytest.mark.http
@pytest.mark.parametrize(
    "content_type",
    [
        "application/jsonx",
        "text/plain, application/json",
        "application/json-patch+json",
        "application/json; charset=latin-1",
        "text/plain",
        "application/graphql",
        "multipart/form-data; boundary=x",
        None,
    ],
)
def test_any_other_body_type_is_refused_with_415(demo_settings, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    with serve_over_http(create_app(demo_settings)) as base:
        # Raw bytes: httpx adds no Content-Type of its own.
        response = httpx.post(
            f"{base}/graphql", content=b'{"query": "{ __typename }"}', headers=headers
        )
    assert response.status_code == 415, response.text
    assert response.headers["content-type"] == JSON
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "UNSUPPORTED_MEDIA_TYPE"}
    assert "application/json" in error["message"]
