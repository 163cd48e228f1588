"""Incremental delivery: ``@defer`` answered in parts over ``multipart/mixed``.

Over real HTTP (uvicorn) where it matters when a part arrives or the client leaves: the
TalentLMS double holds chosen calls until the test lets them go, so "the first part arrives
before the deferred ones" is shown by reading it while the calls the deferred parts need are
still held, not by timing. Parts are read as Apollo Client 3 reads them
(``tests.support.multipart_parts``) and merged as clients merge them (``merge_parts``).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse, print_ast

from gateway.app import create_app
from gateway.config import Settings
from gateway.http.incremental import IncrementalFormat, incremental_format
from schema.incremental import inline_incremental
from tests.support import (
    QUERIES,
    Captured,
    RecordingUpstream,
    codes,
    counted,
    gateway_client,
    merge_parts,
    multipart_parts,
    query_text,
    serve_over_http,
    simulator_stats,
    upstream_settings,
)

# Apollo Client 4's Accept for an operation with @defer (Apollo Client 3 sends
# multipart/mixed;deferSpec=20220824,application/json); urql's default.
APOLLO = (
    "multipart/mixed;deferSpec=20220824,application/graphql-response+json,application/json;q=0.9"
)
GRAPHQL_JS = "multipart/mixed, application/graphql-response+json, application/json"
FORMATS = {"deferSpec=20220824": APOLLO, "graphql-core": GRAPHQL_JS}

DASHBOARD = query_text("learner_dashboard")
DEFERRED = query_text("learner_dashboard_deferred")


def data_fields(value: Any) -> set[str]:
    """Every field name in a result."""
    if isinstance(value, dict):
        return set(value) | {name for v in value.values() for name in data_fields(v)}
    if isinstance(value, list):
        return {name for v in value for name in data_fields(v)}
    return set()


class HeldUpstream(RecordingUpstream):
    """The TalentLMS double, holding every call whose path matches ``hold`` until ``release``
    (a thread-safe event: the gateway's loop runs in uvicorn's thread, the test in its own)."""

    def __init__(self, hold: str, **config: Any) -> None:
        super().__init__(**config)
        self.hold = re.compile(hold)
        self.release = threading.Event()
        self.held = 0  # calls waiting at the gate now
        self.cancelled = 0  # held calls whose operation ended before they were let go

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.hold.search(request.url.raw_path.decode()):
            self.held += 1
            try:
                while not self.release.is_set():
                    await asyncio.sleep(0.005)
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
            finally:
                self.held -= 1
        return await super().handle_async_request(request)


def wait_for(condition: Callable[[], Any], seconds: float = 20.0) -> Any:
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)
    return value


@contextmanager
def served(upstream: RecordingUpstream, **overrides: Any) -> Iterator[httpx.Client]:
    settings = upstream_settings(cache={"enabled": False}, **overrides)
    with (
        serve_over_http(create_app(settings, upstream_transport=upstream)) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        yield client


def upstream_calls(upstream: RecordingUpstream) -> dict[str, int]:
    stats = upstream.simulator.state.stats.by_endpoint
    return {name: n for name, n in stats.items() if name != "ratelimit"}


def since(now: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: n - before.get(k, 0) for k, n in now.items() if n > before.get(k, 0)}


async def in_parts(client: httpx.AsyncClient, query: str, accept: str) -> list[dict[str, Any]]:
    response = await client.post("/graphql", json={"query": query}, headers={"accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith('multipart/mixed; boundary="-"')
    return list(multipart_parts(response.headers["content-type"], [response.content]))


# --- who gets parts ------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (APOLLO, IncrementalFormat.DEFER_SPEC_20220824),
        (
            "multipart/mixed;deferSpec=20220824,application/json",  # Apollo Client 3.7
            IncrementalFormat.DEFER_SPEC_20220824,
        ),
        ('multipart/mixed; deferSpec="20220824"', IncrementalFormat.DEFER_SPEC_20220824),
        (GRAPHQL_JS, IncrementalFormat.GRAPHQL_CORE),  # urql's
        ("application/json, multipart/mixed", IncrementalFormat.GRAPHQL_CORE),  # GraphiQL's
        ("Multipart/Mixed", IncrementalFormat.GRAPHQL_CORE),
        (
            "application/json, multipart/mixed;q=1.0;deferSpec=20220824",
            IncrementalFormat.DEFER_SPEC_20220824,
        ),
        ("application/json;q=0.5, multipart/mixed;q=0.6", IncrementalFormat.GRAPHQL_CORE),
        ("application/json, multipart/mixed;q=0.5", None),  # ranked below JSON
        ("*/*, multipart/mixed;q=0.9", None),
        ("multipart/mixed;q=0", None),
        ("multipart/mixed;q=oops", None),
        ("*/*", None),
        ("application/json", None),
        (None, None),
        ("multipart/form-data, application/json", None),
    ],
)
def test_parts_go_to_clients_that_name_multipart_mixed_and_do_not_rank_it_lower(
    accept: str | None, expected: IncrementalFormat | None
):
    assert incremental_format(accept) is expected


@pytest.mark.unit
def test_defer_and_stream_are_removed_from_a_document_answered_whole():
    document = parse(
        "{ users(first: 2) @skip(if: false) { nodes @stream(initialCount: 1) { id "
        '... @defer(label: "x") { name } ...More @defer } } } fragment More on User { role }'
    )
    assert print_ast(inline_incremental(document)) == print_ast(
        parse(
            "{ users(first: 2) @skip(if: false) { nodes { id ... { name } ...More } } } "
            "fragment More on User { role }"
        )
    )
    plain = parse("{ users { nodes { id } } }")
    assert inline_incremental(plain) is plain


# --- what the parts hold -------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize("accept", FORMATS.values(), ids=FORMATS.keys())
async def test_the_parts_add_up_to_the_answer_without_defer_with_the_same_calls(accept: str):
    async with gateway_client() as client:
        whole = (await client.post("/graphql", json={"query": DASHBOARD})).json()
        whole_calls = simulator_stats(client)
    async with gateway_client() as client:
        parts = await in_parts(client, DEFERRED, accept)
        calls = simulator_stats(client)

    assert calls == whole_calls  # 1 users page, 5 users/id, 12 courses/id
    assert sum(calls.values()) == 18
    data, errors = merge_parts(parts)
    assert errors == []
    assert data == whole["data"]
    # Three waves: names; enrollments with course titles; course outlines.
    first, *later = parts
    assert first["hasNext"] is True and "extensions" not in first
    assert "enrollments" not in data_fields(first["data"])
    assert {"name", "emails", "role"} <= data_fields(first["data"])
    assert [part["hasNext"] for part in later] == [True] * (len(later) - 1) + [False]
    # The totals come with the last part, and agree with the answer without @defer.
    *_, last = parts
    assert counted(last["extensions"]["upstream"]) == counted(whole["extensions"]["upstream"])
    assert last["extensions"]["cost"] == whole["extensions"]["cost"]
    assert all("extensions" not in part for part in parts[:-1])


@pytest.mark.unit
async def test_each_format_has_its_own_shape():
    async with gateway_client() as client:
        apollo = await in_parts(client, DEFERRED, APOLLO)
        graphql_js = await in_parts(client, DEFERRED, GRAPHQL_JS)

    # deferSpec=20220824: only data, errors, hasNext, incremental and extensions at the top;
    # each entry has the path its data goes to, and its fragment's label.
    for part in apollo:
        assert set(part) <= {"data", "errors", "hasNext", "incremental", "extensions"}, part
        for entry in part.get("incremental", []):
            assert set(entry) == {"data", "path", "label"}, entry
            assert entry["label"] in ("enrollments", "outline")
    labels = [e["label"] for part in apollo for e in part.get("incremental", [])]
    assert labels == ["enrollments"] * 5 + ["outline"] * labels.count("outline")
    first_outline = next(
        e for part in apollo for e in part.get("incremental", []) if e["label"] == "outline"
    )
    assert first_outline["path"][:2] == ["users", "nodes"]
    assert first_outline["path"][-1] == "course"
    # graphql-core's: ids announced in pending (with path and label), then incremental
    # entries and completed ids that name them.
    announced = {p["id"]: p for part in graphql_js for p in part.get("pending", [])}
    assert {p["label"] for p in announced.values()} == {"enrollments", "outline"}
    entries = [e for part in graphql_js for e in part.get("incremental", [])]
    done = [c["id"] for part in graphql_js for c in part.get("completed", [])]
    assert {e["id"] for e in entries} <= set(announced) and sorted(done) == sorted(announced)
    assert all(set(e) <= {"id", "data", "subPath", "errors"} for e in entries)


@pytest.mark.unit
async def test_a_client_without_multipart_gets_one_answer_with_everything():
    async with gateway_client() as client:
        whole = (await client.post("/graphql", json={"query": DASHBOARD})).json()
    for accept in ("application/json", "application/graphql-response+json", "*/*", None):
        async with gateway_client() as client:
            headers = {"accept": accept} if accept else {}
            response = await client.post("/graphql", json={"query": DEFERRED}, headers=headers)
            calls = simulator_stats(client)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/")
        body = response.json()
        assert body["data"] == whole["data"] and "errors" not in body
        assert "hasNext" not in body
        assert counted(body["extensions"]["upstream"]) == counted(whole["extensions"]["upstream"])
        assert sum(calls.values()) == 18


@pytest.mark.unit
async def test_a_batch_answers_deferred_operations_whole():
    async with gateway_client() as client:
        response = await client.post(
            "/graphql",
            json=[{"query": DEFERRED}, {"query": "{ users(first: 1) { nodes { name } } }"}],
            headers={"accept": APOLLO},
        )
    assert response.headers["content-type"].startswith("application/")
    deferred, other = response.json()
    assert "errors" not in deferred and "enrollments" in data_fields(deferred["data"])
    assert other["data"]["users"]["nodes"][0]["name"]


@pytest.mark.unit
async def test_stream_is_answered_whole_even_to_a_multipart_client():
    # A list comes whole from one call; streaming its items would only send them later
    # (schema/incremental.py).
    query = "{ users(first: 3) { nodes @stream(initialCount: 1) { id name } } }"
    async with gateway_client() as client:
        response = await client.post("/graphql", json={"query": query}, headers={"accept": APOLLO})
    assert response.headers["content-type"] == "application/graphql-response+json"
    assert len(response.json()["data"]["users"]["nodes"]) == 3


@pytest.mark.unit
async def test_an_operation_with_nothing_deferred_is_one_answer_to_a_multipart_client():
    query = "{ users(first: 1) { nodes { name ... @defer(if: false) { role } } } }"
    async with gateway_client() as client:
        response = await client.post("/graphql", json={"query": query}, headers={"accept": APOLLO})
    assert response.headers["content-type"] == "application/graphql-response+json"
    assert set(response.json()["data"]["users"]["nodes"][0]) == {"name", "role"}


@pytest.mark.unit
@pytest.mark.parametrize("accept", ["application/json", APOLLO])
@pytest.mark.parametrize(
    "query",
    [
        '{ users { nodes { ... @defer(label: "a") { name } ... @defer(label: "a") { role } } } }',
        "query($l: String) { users { nodes { ... @defer(label: $l) { name } } } }",
        "{ users(first: 1) @stream { totalCount } }",
    ],
    ids=["duplicate label", "variable label", "stream on an object"],
)
async def test_the_directives_are_validated_before_anything_is_removed(query: str, accept: str):
    async with gateway_client() as client:
        response = await client.post("/graphql", json={"query": query}, headers={"accept": accept})
    assert codes(response.json()) == ["GRAPHQL_VALIDATION_FAILED"]


@pytest.mark.unit
async def test_the_limits_and_the_cost_rule_see_a_deferred_operation_whole():
    # The directives count towards the directive limit; the estimate counts deferred fields.
    async with gateway_client(upstream_settings(limits={"max_directives": 1})) as client:
        response = await client.post(
            "/graphql", json={"query": DEFERRED}, headers={"accept": APOLLO}
        )
    assert response.status_code == 400  # refused before execution: one answer, no parts
    assert codes(response.json()) == ["OPERATION_LIMIT_EXCEEDED"]
    upstream = RecordingUpstream()
    settings = upstream_settings(execution={"max_upstream_calls": 17})  # it needs 18
    async with gateway_client(settings, upstream) as client:
        response = await client.post(
            "/graphql", json={"query": DEFERRED}, headers={"accept": APOLLO}
        )
    assert codes(response.json()) == ["COST_LIMIT_EXCEEDED"]
    assert upstream_calls(upstream) == {}


@pytest.mark.unit
async def test_a_subgraph_answers_defer_in_parts_but_leaves_it_out_of_its_sdl():
    async with gateway_client(Settings(federation={"enabled": True})) as client:
        parts = await in_parts(client, DEFERRED, APOLLO)
        sdl = (await client.post("/graphql", json={"query": "{ _service { sdl } }"})).json()
    assert len(parts) >= 3 and merge_parts(parts)[1] == []
    assert "@key" in sdl["data"]["_service"]["sdl"]
    assert "directive @defer" not in sdl["data"]["_service"]["sdl"]
    assert "directive @stream" not in sdl["data"]["_service"]["sdl"]


# --- failures inside a deferred part ---------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize("accept", FORMATS.values(), ids=FORMATS.keys())
async def test_an_upstream_failure_in_a_deferred_part_is_an_error_in_that_part(accept: str):
    upstream = RecordingUpstream()
    upstream.faults[r"/courses/id:10[12]\b"] = httpx.Response(500, text="down")
    settings = upstream_settings(retry={"attempts": 1}, breaker={"failures": 100})
    async with gateway_client(settings, upstream) as client:
        parts = await in_parts(client, DEFERRED, accept)

    first, *later = parts
    assert "errors" not in first
    data, errors = merge_parts(parts)
    assert errors and {e["extensions"]["code"] for e in errors} == {"UPSTREAM_ERROR"}
    assert all(e["path"][-1] == "items" for e in errors)
    # The outlines of the two failed courses are null, at the errors' paths; the rest is there.
    failed = [e["path"] for e in errors]
    for path in failed:
        node = data
        for key in path[:-1]:
            node = node[key]
        assert node["items"] is None
    outlines = [
        n["course"]["items"] for u in data["users"]["nodes"] for n in u["enrollments"]["nodes"]
    ]
    assert sum(items is None for items in outlines) == len(failed) < len(outlines)
    assert later[-1]["hasNext"] is False


@pytest.mark.unit
async def test_errors_in_the_first_part_have_their_codes_and_the_rest_still_comes():
    upstream = RecordingUpstream()
    upstream.faults[r"/courses$"] = httpx.Response(500, text="down")
    query = (
        "{ users(first: 1) { nodes { name ... @defer { enrollments { nodes { id } } } } } "
        "courses(first: 1) { nodes { title } } }"
    )
    async with gateway_client(upstream_settings(retry={"attempts": 1}), upstream) as client:
        first, *later = await in_parts(client, query, APOLLO)
    assert first["data"]["courses"] is None and first["data"]["users"]["nodes"][0]["name"]
    assert codes(first) == ["UPSTREAM_ERROR"] and first["errors"][0]["path"] == ["courses"]
    data, errors = merge_parts([first, *later])
    assert data["users"]["nodes"][0]["enrollments"]["nodes"]
    assert len(errors) == 1


@pytest.mark.unit
async def test_nothing_left_to_defer_is_one_answer():
    # The deferred fragments are under a field that failed: graphql-core has no part to add.
    upstream = RecordingUpstream()
    upstream.faults[r"/users/page_size"] = httpx.Response(500, text="down")
    async with gateway_client(upstream_settings(retry={"attempts": 1}), upstream) as client:
        response = await client.post(
            "/graphql", json={"query": DEFERRED}, headers={"accept": APOLLO}
        )
    assert response.headers["content-type"] == "application/graphql-response+json"
    body = response.json()
    assert body["data"] == {"users": None} and codes(body) == ["UPSTREAM_ERROR"]
    assert body["extensions"]["upstream"]["calls"] == 1


@pytest.mark.unit
async def test_an_unexpected_failure_in_a_deferred_part_is_masked(monkeypatch, logs: Captured):
    import gateway.providers.talentlms.provider as provider

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(provider, "map_course_items", broken)
    async with gateway_client() as client:
        parts = await in_parts(client, DEFERRED, APOLLO)
    _, errors = merge_parts(parts)
    assert errors
    assert {(e["message"], e["extensions"]["code"]) for e in errors} == {
        ("Internal server error", "INTERNAL")
    }
    assert "secret detail" not in str(parts)
    assert "secret detail" in logs.text  # logged with its traceback, not sent


# --- over real HTTP ---------------------------------------------------------------------------


@pytest.mark.http
@pytest.mark.parametrize("accept", FORMATS.values(), ids=FORMATS.keys())
def test_the_first_part_arrives_while_the_deferred_calls_are_still_held(accept: str):
    upstream = HeldUpstream(r"/users/id:")  # what the deferred enrollments need
    upstream.release.set()
    with served(upstream) as client:
        plain = client.post("/graphql", json={"query": DASHBOARD}).json()
        whole_calls = upstream_calls(upstream)
        upstream.release.clear()
        with client.stream(
            "POST", "/graphql", json={"query": DEFERRED}, headers={"accept": accept}
        ) as response:
            parts = multipart_parts(response.headers["content-type"], response.iter_raw())
            first = next(parts)
            # Every users/id call is held (they start once the first part is out): nothing
            # deferred can have been sent, yet the first part is here.
            wait_for(lambda: upstream.held >= 1)
            assert since(upstream_calls(upstream), whole_calls) == {"users": 1}
            upstream.release.set()
            rest = list(parts)
        calls = since(upstream_calls(upstream), whole_calls)

    assert plain["data"]["users"]["nodes"][0]["enrollments"]  # the same data, undeferred
    assert first["hasNext"] is True
    assert [u["name"] for u in first["data"]["users"]["nodes"]] == [
        u["name"] for u in plain["data"]["users"]["nodes"]
    ]
    assert "enrollments" not in data_fields(first["data"])
    data, errors = merge_parts([first, *rest])
    assert errors == [] and data == plain["data"]
    assert calls == whole_calls
    assert rest[-1]["extensions"]["upstream"]["calls"] == plain["extensions"]["upstream"]["calls"]


@pytest.mark.http
def test_the_framing_is_what_apollo_client_reads():
    with served(RecordingUpstream()) as client:
        response = client.post("/graphql", json={"query": DEFERRED}, headers={"accept": APOLLO})
    content_type = response.headers["content-type"]
    assert content_type == 'multipart/mixed; boundary="-"; deferSpec=20220824'
    assert response.headers["x-accel-buffering"] == "no"
    assert "chunked" in response.headers.get("transfer-encoding", "")
    body = response.content.decode()
    # The RFC's framing: the boundary before each part, a JSON content type per part, a
    # blank line, the payload, and the closing delimiter after the last.
    assert body.startswith("---\r\nContent-Type: application/json; charset=utf-8\r\n")
    assert body.endswith("}\r\n-----\r\n")
    raw_parts = body[len("---") : -len("--\r\n")].split("\r\n---")
    assert raw_parts[-1] == ""
    for raw in raw_parts[:-1]:
        head, blank, payload = raw.partition("\r\n\r\n")
        assert blank and head.startswith("\r\nContent-Type: application/json; charset=utf-8")
        assert f"Content-Length: {len(payload.encode())}" in head
    # In chunks of 7 bytes: a part split anywhere, boundaries included, still reads whole.
    chunks = [response.content[i : i + 7] for i in range(0, len(response.content), 7)]
    parts = list(multipart_parts(content_type, chunks))
    assert len(parts) == len(raw_parts) - 1 >= 3
    assert parts[-1]["hasNext"] is False


@pytest.mark.http
@pytest.mark.parametrize("accept", FORMATS.values(), ids=FORMATS.keys())
def test_a_deadline_in_a_deferred_part_ends_the_stream_with_an_error(accept: str, logs: Captured):
    upstream = HeldUpstream(r"/courses/id:")  # the outlines never come
    with served(upstream, execution={"deadline_seconds": 0.5}) as client:
        started = time.monotonic()
        response = client.post("/graphql", json={"query": DEFERRED}, headers={"accept": accept})
        took = time.monotonic() - started
        wait_for(lambda: upstream.held == 0)
    assert 0.5 <= took < 10
    assert response.content.endswith(b"\r\n-----\r\n")  # closed properly, not cut
    parts = list(multipart_parts(response.headers["content-type"], [response.content]))
    data, errors = merge_parts(parts)
    assert parts[-1]["hasNext"] is False
    assert errors and {e["extensions"]["code"] for e in errors} == {"DEADLINE_EXCEEDED"}
    assert all(e["message"] == "The operation did not finish within 0.5 s" for e in errors)
    # One error per outline still pending, at its course.
    assert all(e["path"][-1] == "course" for e in errors)
    assert data["users"]["nodes"][0]["name"]
    assert data["users"]["nodes"][0]["enrollments"]["nodes"][0]["course"]["title"]
    assert upstream.cancelled >= 1  # the held calls stopped with the operation
    (line,) = [r for r in logs.lines if r["logger"] == "gateway.operation"]
    assert line["outcome"] == "DEADLINE_EXCEEDED"


@pytest.mark.http
def test_a_client_that_leaves_mid_stream_stops_the_deferred_work(logs: Captured):
    upstream = HeldUpstream(r"/courses/id:")
    with served(upstream) as client:
        with client.stream(
            "POST", "/graphql", json={"query": DEFERRED}, headers={"accept": APOLLO}
        ) as response:
            parts = multipart_parts(response.headers["content-type"], response.iter_raw())
            next(parts)  # the names
            next(parts)  # the enrollments
            wait_for(lambda: upstream.held >= 1)  # the outlines' calls are under way
        # Leaving the block closes the connection before the last part.
        wait_for(lambda: upstream.held == 0)
        line = wait_for(lambda: [r for r in logs.lines if r["logger"] == "gateway.operation"])
        made = upstream_calls(upstream)
    assert upstream.cancelled >= 1
    assert made == {"users": 1, "users/id": 5}  # no outline call reached the portal
    assert line[0]["outcome"] == "CLIENT_CLOSED_REQUEST"
    assert line[0]["upstream_calls"] >= 6


@pytest.mark.http
def test_the_operation_is_reported_once_after_its_last_part(logs: Captured):
    with served(RecordingUpstream()) as client:
        client.post("/graphql", json={"query": DASHBOARD}, headers={"x-request-id": "whole"})
        response = client.post(
            "/graphql",
            json={"query": DEFERRED},
            headers={"accept": APOLLO, "x-request-id": "in-parts"},
        )
    parts = list(multipart_parts(response.headers["content-type"], [response.content]))
    lines = {r["request_id"]: r for r in logs.lines if r["logger"] == "gateway.operation"}
    assert set(lines) == {"whole", "in-parts"}  # one line each
    whole, in_parts_ = lines["whole"], lines["in-parts"]
    assert in_parts_["outcome"] == "ok"
    assert in_parts_["operation"] == "LearnerDashboardDeferred"
    assert in_parts_["upstream_calls"] == parts[-1]["extensions"]["upstream"]["calls"] == 18
    assert in_parts_["upstream_by_endpoint"] == whole["upstream_by_endpoint"]
    assert in_parts_["resolved_fields"] == whole["resolved_fields"]


# --- Apollo Client itself (Node) --------------------------------------------------------------

COMPLIANCE = Path(__file__).resolve().parent / "compliance"


def apollo_command() -> list[str]:
    """``node apollo_defer.mjs``; skipped without Node or the installed Node project, except in
    CI (``CI`` set), as the GraphQL-over-HTTP audit is."""
    node = shutil.which("node")
    if node is None:
        missing = "node is not installed"
    elif not (COMPLIANCE / "node_modules" / "@apollo" / "client").is_dir():
        missing = "the Node project is not installed: npm ci --prefix tests/compliance"
    else:
        return [node, str(COMPLIANCE / "apollo_defer.mjs")]
    if os.environ.get("CI"):
        pytest.fail(f"{missing} (CI is set, so the Apollo Client check may not be skipped)")
    pytest.skip(missing)


@pytest.mark.node
def test_apollo_client_reads_the_parts_and_merges_them_into_the_dashboard():
    command = apollo_command()
    with served(RecordingUpstream()) as client:
        plain = client.post("/graphql", json={"query": DASHBOARD}).json()
        url = str(client.base_url.join("/graphql"))
        done = subprocess.run(
            [*command, url, str(QUERIES / "learner_dashboard_deferred.graphql")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    results = seen["results"]
    # What Apollo Client's HttpLink emitted, one result per part: the names first...
    first, *later = results
    assert first["hasNext"] is True and "enrollments" not in data_fields(first["data"])
    assert len(later) >= 2 and all("incremental" in result for result in later)
    assert [r["hasNext"] for r in later] == [True] * (len(later) - 1) + [False]
    assert later[-1]["extensions"]["upstream"]["calls"] == 18
    assert not any(r.get("errors") for r in results)
    # ...and ApolloClient merged them into the dashboard's data.
    assert seen["merged"] == plain["data"]
