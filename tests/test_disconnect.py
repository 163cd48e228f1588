"""A client that leaves: its operation stops, upstream work shared with others goes on.

Over real HTTP: the simulator and the gateway each run under uvicorn, and the client is a raw
socket that sends a request and closes it, as a browser tab or a timed-out caller does.
Decisions are made on calls counted at the simulator, not on wall-clock times.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.app import create_app
from gateway.config import Settings
from gateway.simulator import SimulatorConfig
from tests.support import Captured, gid, replaced, serve_over_http, talentlms_over_http

pytestmark = pytest.mark.http

# One users page, then one users/id per learner (31 calls).
NESTED = "{ users(first: 30) { nodes { name enrollments { nodes { course { title } } } } } }"
LOOKUP = 'query Lookup { user(remoteId: "3") { id remoteId name } }'


def gateway_settings(simulator_url: str, **overrides: Mapping[str, Any]) -> Settings:
    portal = {"base_url": f"{simulator_url}/api/v1", "api_key": SimulatorConfig().api_key}
    return replaced(Settings(upstream=portal, retry={"attempts": 1}), **overrides)


def open_request(base: str, payload: object, request_id: str) -> socket.socket:
    """A POST /graphql of ``payload`` sent on a raw connection, whose answer nobody reads."""
    address = urlsplit(base)
    body = json.dumps(payload).encode()
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"X-Request-ID: {request_id}\r\n\r\n"
    ).encode()
    connection = socket.create_connection((address.hostname, address.port), timeout=10)
    connection.sendall(head + body)
    return connection


def wait_for(condition: Callable[[], Any], seconds: float = 20.0) -> Any:
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)
    return value


def logged(logs: Captured, logger: str, request_id: str) -> list[dict[str, Any]]:
    return [
        line
        for line in logs.lines
        if line["logger"] == logger and line.get("request_id") == request_id
    ]


@pytest.mark.slow
def test_a_client_that_leaves_stops_its_operation_and_is_logged_as_gone(logs):
    # One connection upstream: every call is its own round trip, one after the other.
    with talentlms_over_http(latency_ms=40) as (url, calls):
        settings = gateway_settings(url, cache={"enabled": False}, upstream={"max_connections": 1})
        with serve_over_http(create_app(settings)) as base:
            complete = httpx.post(f"{base}/graphql", json={"query": NESTED}, timeout=30)
            assert complete.status_code == 200 and "errors" not in complete.json()
            whole = sum(calls().values())
            assert whole >= 25  # the query needs many sequential calls

            client = open_request(base, {"query": NESTED}, "leaves-early")
            wait_for(lambda: sum(calls().values()) - whole >= 2)  # under way upstream
            client.close()
            operation = wait_for(lambda: logged(logs, "gateway.operation", "leaves-early"))
            access = wait_for(lambda: logged(logs, "gateway.access", "leaves-early"))
            made = sum(calls().values()) - whole
            scraped = httpx.get(f"{base}/metrics").text

    assert made <= whole // 2, (made, whole)
    assert operation[0]["outcome"] == "CLIENT_CLOSED_REQUEST"
    assert operation[0]["error_codes"] == ["CLIENT_CLOSED_REQUEST"]
    assert access[0]["status"] == 499
    assert 'outcome="CLIENT_CLOSED_REQUEST"' in scraped  # a code of its own, not "other"
    assert 'route="/graphql",status="499"' in scraped


def test_a_batch_stops_when_its_client_leaves(logs):
    with talentlms_over_http(latency_ms=40) as (url, calls):
        settings = gateway_settings(url, cache={"enabled": False}, upstream={"max_connections": 1})
        with serve_over_http(create_app(settings)) as base:
            client = open_request(base, [{"query": NESTED}] * 2, "batch-leaves")
            wait_for(lambda: sum(calls().values()) >= 2)
            client.close()
            operations = wait_for(
                lambda: (
                    len(found := logged(logs, "gateway.operation", "batch-leaves")) == 2 and found
                )
            )
            made = sum(calls().values())

    assert made < 25, made  # one NESTED alone needs more than that (see the test above)
    assert [line["outcome"] for line in operations] == ["CLIENT_CLOSED_REQUEST"] * 2


@pytest.mark.slow
def test_a_call_shared_with_another_operation_survives_its_first_caller_leaving(logs):
    # users/id answers slowly, so the second request joins the first one's call in flight.
    slow = {"kind": "latency", "endpoint": "users/id", "latency_ms": 1500}
    with talentlms_over_http(faults=(slow,)) as (url, calls):
        app = create_app(gateway_settings(url))
        cache = app.state.runtime.cache
        lookups: list[str] = []
        fetch = cache.fetch

        async def counted_fetch(key: str, *args: Any, **kwargs: Any) -> Any:
            lookups.append(key)
            return await fetch(key, *args, **kwargs)

        cache.fetch = counted_fetch
        with serve_over_http(app) as base, ThreadPoolExecutor(1) as pool:
            leaver = open_request(base, {"query": LOOKUP}, "first-caller")
            wait_for(lambda: calls().get("users/id", 0) >= 1)  # its call is in flight
            stayer = pool.submit(httpx.post, f"{base}/graphql", json={"query": LOOKUP}, timeout=30)
            # The second caller waits on the same call.
            wait_for(lambda: sum(key.endswith("/users/id:3") for key in lookups) >= 2)
            leaver.close()
            answer = stayer.result(timeout=30)
            first = wait_for(lambda: logged(logs, "gateway.operation", "first-caller"))
            upstream = calls()

    assert answer.status_code == 200
    user = answer.json()["data"]["user"]
    assert (user["id"], user["remoteId"]) == (gid("User", 3), "3") and user["name"]
    assert "errors" not in answer.json()
    assert upstream.get("users/id") == 1  # one call, shared, not made again
    assert first[0]["outcome"] == "CLIENT_CLOSED_REQUEST"
