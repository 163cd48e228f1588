"""Prometheus metrics at /metrics, scraped over real HTTP after real operations."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from gateway.config import Settings
from gateway.observability.telemetry import Observer, OperationRecord, count_leaf_fields
from gateway.simulator import FaultRule, SimulatorConfig
from gateway.tenancy.authorization import hash_key
from gateway.upstream.cache import DEFAULT_TTLS
from tests.support import (
    RecordingUpstream,
    gateway_client,
    gid,
    query_text,
    replaced,
    serve_over_http,
    upstream_settings,
)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
DASHBOARD = query_text("learner_dashboard")
SIMULATOR_KEY = SimulatorConfig().api_key


def scrape(http: httpx.Client, **headers: str) -> Samples:
    response = http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(value for (n, have), value in samples.items() if n == name and wanted <= have)


def by_label(samples: Samples, name: str, label: str, **labels: str) -> Counter[str]:
    wanted = set(labels.items())
    found: Counter[str] = Counter()
    for (n, have), value in samples.items():
        if n == name and wanted <= have:
            found[dict(have)[label]] += value
    return found


def delta(after: Counter[str], before: Counter[str]) -> dict[str, float]:
    return {key: after[key] - before[key] for key in after if after[key] != before[key]}


@contextmanager
def served(settings: Settings, upstream: httpx.AsyncBaseTransport | None = None) -> Iterator[Any]:
    app = create_app(settings, upstream_transport=upstream)
    with serve_over_http(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        yield http


def post(http: httpx.Client, query: str, **extra: Any) -> dict[str, Any]:
    response = http.post("/graphql", json={"query": query, **extra})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.http
def test_upstream_calls_cache_hits_and_operations_move_by_what_the_responses_report(
    demo_settings,
):
    with served(demo_settings) as http:
        before = scrape(http)
        first = post(http, DASHBOARD, operationName="LearnerDashboard")
        second = post(http, DASHBOARD, operationName="LearnerDashboard")
        single = post(http, 'query OneUser { user(remoteId: "2") { id name } }')
        after = scrape(http)

    responses = (first, second, single)
    expected: Counter[str] = Counter()
    for body in responses:
        assert "errors" not in body
        expected.update(body["extensions"]["upstream"]["byEndpoint"])
    counted = delta(
        by_label(after, "gateway_upstream_requests_total", "endpoint", account="default"),
        by_label(before, "gateway_upstream_requests_total", "endpoint", account="default"),
    )
    counted.pop("ratelimit", None)  # the free quota read in the background is a call too
    assert counted == dict(expected)
    assert sum(expected.values()) > 0

    hits = sum(body["extensions"]["upstream"]["cacheHits"] for body in responses)
    assert hits > 0  # the second dashboard is served from the cache
    assert (
        total(after, "gateway_cache_lookups_total", result="hit")
        - total(before, "gateway_cache_lookups_total", result="hit")
        == hits
    )
    # Every cacheable call that was made was a miss first.
    misses = total(after, "gateway_cache_lookups_total", result="miss") - total(
        before, "gateway_cache_lookups_total", result="miss"
    )
    assert misses == sum(n for name, n in expected.items() if DEFAULT_TTLS.get(name, 0) > 0)

    ok = {"account": "default", "type": "query", "outcome": "ok"}
    assert total(after, "gateway_graphql_operations_total", operation="LearnerDashboard", **ok) == 2
    assert total(after, "gateway_graphql_operations_total", operation="OneUser", **ok) == 1
    assert total(after, "gateway_graphql_resolved_fields_total", operation="OneUser") == 2
    dashboard_fields = count_leaf_fields(first["data"]) + count_leaf_fields(second["data"])
    assert (
        total(after, "gateway_graphql_resolved_fields_total", operation="LearnerDashboard")
        == dashboard_fields
    )
    assert (
        total(after, "gateway_graphql_operation_duration_seconds_count", operation="OneUser") == 1
    )
    assert (
        total(after, "gateway_http_request_duration_seconds_count", route="/graphql", status="200")
        - total(
            before, "gateway_http_request_duration_seconds_count", route="/graphql", status="200"
        )
        == 3
    )
    assert (
        total(after, "gateway_upstream_request_duration_seconds_count", endpoint="users/id")
        == expected["users/id"]
    )


@pytest.mark.unit
def test_leaf_fields_are_counted_once_per_value():
    data = {"users": {"totalCount": 2, "nodes": [{"id": "1", "tags": ["a", "b"]}, {"id": "2"}]}}
    assert count_leaf_fields(data) == 4  # totalCount, two ids, one list of scalars
    assert count_leaf_fields({"user": None}) == 1


@pytest.mark.http
def test_a_retried_call_counts_both_attempts_and_one_retry():
    upstream = RecordingUpstream(
        SimulatorConfig(faults=(FaultRule(kind="error", status=503, endpoint="users/id", times=1),))
    )
    settings = upstream_settings(retry={"base_delay_seconds": 0.0}, cache={"enabled": False})
    with served(settings, upstream) as http:
        body = post(http, '{ user(remoteId: "2") { id } }')
        after = scrape(http)
    assert body["data"] == {"user": {"id": gid("User", 2)}}
    assert body["extensions"]["upstream"]["retries"] == 1
    users = {"account": "default", "endpoint": "users/id"}
    assert total(after, "gateway_upstream_retries_total", **users) == 1
    statuses = by_label(after, "gateway_upstream_requests_total", "status", **users)
    assert statuses == {"503": 1, "200": 1}
    outcomes = by_label(after, "gateway_upstream_requests_total", "outcome", **users)
    assert outcomes == {"UPSTREAM_ERROR": 1, "ok": 1}
    assert total(after, "gateway_cache_lookups_total") == 0  # the cache is off


class TwoPortals(RecordingUpstream):
    """One simulator behind two hosts; every call to ``broken.test`` fails with a 503."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "broken.test":
            self.paths.append(request.url.raw_path.decode())
            return httpx.Response(503, json={"error": {"message": "Internal server error"}})
        return await super().handle_async_request(request)


def two_accounts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **overrides: Any) -> Settings:
    accounts = tmp_path / "accounts.toml"
    ops_hash = hash_key("lmsg_metrics_ops_key")
    accounts.write_text(
        f"""
[[accounts]]
id = "healthy"
provider = "talentlms"
base_url = "http://healthy.test/api/v1"
api_key_env = "METRICS_TEST_TLMS_KEY"

[[accounts]]
id = "broken"
provider = "talentlms"
base_url = "http://broken.test/api/v1"
api_key_env = "METRICS_TEST_TLMS_KEY"

[[api_keys]]
name = "ops"
sha256 = "{ops_hash}"
accounts = ["*"]
""",
        encoding="utf-8",
    )
    for name in ("TALENTLMS_DOMAIN", "TALENTLMS_BASE_URL", "TALENTLMS_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("METRICS_TEST_TLMS_KEY", SIMULATOR_KEY)
    return replaced(Settings(tenancy={"accounts_file": accounts}), **overrides)


OPS = {"Authorization": "Bearer lmsg_metrics_ops_key"}


@pytest.mark.http
def test_circuit_state_and_quota_are_gauges_per_account(tmp_path, monkeypatch):
    settings = two_accounts(
        tmp_path,
        monkeypatch,
        breaker={"failures": 1},
        retry={"attempts": 1},
        cache={"enabled": False},
    )
    with served(settings, TwoPortals()) as http:
        for account in ("healthy", "broken"):
            http.post(
                "/graphql",
                json={"query": '{ user(remoteId: "2") { id } }'},
                headers={**OPS, "X-LMS-Account": account},
            )
        # The quota is read in the background after the first call: wait for it to land.
        for _ in range(200):
            after = scrape(http)
            if total(after, "gateway_upstream_quota_remaining", account="healthy"):
                break
            http.get("/healthz")
        # /metrics needs no gateway API key even though /graphql does.
        assert http.post("/graphql", json={"query": "{ __typename }"}).status_code == 401

    def state(account: str) -> dict[str, float]:
        return dict(by_label(after, "gateway_upstream_circuit_state", "state", account=account))

    assert state("healthy") == {"closed": 1, "open": 0, "half_open": 0}
    assert state("broken") == {"closed": 0, "open": 1, "half_open": 0}
    assert total(after, "gateway_upstream_circuit_failures", account="broken") == 1
    hourly = SimulatorConfig().hourly_limit
    assert 0 < total(after, "gateway_upstream_quota_remaining", account="healthy") < hourly
    assert total(after, "gateway_upstream_quota_limit", account="healthy") == hourly
    # The broken portal never answered /ratelimit: its quota is unknown, so absent.
    assert ("gateway_upstream_quota_remaining", frozenset({("account", "broken")})) not in after
    assert total(after, "gateway_upstream_requests_total", account="broken", status="503") >= 1


@pytest.mark.http
@pytest.mark.slow
def test_operation_names_are_bounded_labels(demo_settings):
    settings = replaced(demo_settings, metrics={"max_operation_names": 20})
    with served(settings) as http:
        for index in range(500):
            post(http, f"query Client{index} {{ __typename }}")
        post(http, "{ __typename }")
        # Not a GraphQL name: refused by GraphQL, and not a label either.
        http.post("/graphql", json={"query": "{ __typename }", "operationName": "x y\n" * 50})
        after = scrape(http)
    names = by_label(after, "gateway_graphql_operations_total", "operation")
    assert len(names) <= 20 + 3
    assert names["other"] == 480
    assert names["anonymous"] == 1
    assert names["invalid"] == 1
    assert sum(names.values()) == 502
    # Outcomes are "ok" or codes from the gateway's table.
    outcomes = by_label(after, "gateway_graphql_operations_total", "outcome")
    assert set(outcomes) <= {"ok", "GRAPHQL_VALIDATION_FAILED", "BAD_REQUEST"}
    assert outcomes["ok"] == 501


@pytest.mark.http
def test_errors_are_counted_by_code(demo_settings):
    with served(demo_settings) as http:
        post(http, "query Broken { nope }")
        post(http, "query Missing { user(remoteId: 123) { id } }")  # names nobody: null, no error
        post(http, "query Syntax { users(")
        after = scrape(http)
    outcome = by_label(after, "gateway_graphql_operations_total", "outcome")
    assert outcome == {"GRAPHQL_VALIDATION_FAILED": 1, "ok": 1, "GRAPHQL_PARSE_FAILED": 1}


@pytest.mark.http
def test_metrics_can_be_switched_off(demo_settings):
    settings = replaced(demo_settings, metrics={"enabled": False})
    with served(settings) as http:
        assert http.get("/metrics").status_code == 404
        assert post(http, "{ __typename }")["data"] == {"__typename": "Query"}


@pytest.mark.http
def test_metrics_token_is_required_when_set(demo_settings):
    settings = Settings(metrics={"token": "scrape-secret-123"})
    with served(settings) as http:
        refused = http.get("/metrics")
        wrong = http.get("/metrics", headers={"Authorization": "Bearer nope"})
        samples = scrape(http, Authorization="Bearer scrape-secret-123")
    assert refused.status_code == wrong.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "scrape-secret-123" not in refused.text
    assert refused.headers["x-request-id"]
    assert any(name == "gateway_upstream_circuit_state" for name, _ in samples)


@pytest.mark.http
def test_two_apps_in_one_process_keep_their_own_counts(demo_settings):
    with served(demo_settings) as one, served(demo_settings) as two:
        post(one, "query Only { __typename }")
        first, second = scrape(one), scrape(two)
    assert total(first, "gateway_graphql_operations_total", operation="Only") == 1
    assert total(second, "gateway_graphql_operations_total", operation="Only") == 0


class Exploding(Observer):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def operation_finished(self, record: OperationRecord) -> None:
        self.seen.append(record.outcome)
        raise RuntimeError("a broken subscriber")


@pytest.mark.unit
async def test_a_failing_subscriber_is_logged_and_skipped(demo_settings, caplog):
    async with gateway_client(demo_settings) as client:
        exploding = Exploding()
        client.app.state.runtime.telemetry.subscribe(exploding)  # type: ignore[attr-defined]
        response = await client.post("/graphql", json={"query": "query Fine { __typename }"})
        scraped = (await client.get("/metrics")).text
    assert response.json()["data"] == {"__typename": "Query"}
    assert exploding.seen == ["ok"]  # it was called, raised, and the request did not notice
    assert 'gateway_graphql_operations_total{account="default",operation="Fine"' in scraped
    assert any("operation_finished failed in Exploding" in r.getMessage() for r in caplog.records)


@contextmanager
def silent_portal() -> Iterator[str]:
    """A base URL whose server takes connections and never answers (a hung portal)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)  # the kernel completes the handshakes; nobody ever reads
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/api/v1"


def closed_port_url() -> str:
    with socket.socket() as sock:  # bound then closed: connections are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v1"


@pytest.mark.http
@pytest.mark.parametrize("pool", ["aiohttp", "httpx"])
def test_a_refused_connection_and_a_timeout_are_reported_as_what_they_are(pool):
    # aiohttp's connection errors reached the gateway as httpx.ConnectTimeout: a portal
    # that refused every connection was reported, and counted, as a slow one.
    once = {"retry": {"attempts": 1}, "cache": {"enabled": False}}
    with silent_portal() as hung:
        cases = [
            (closed_port_url(), "could not be reached", "unreachable"),
            (hung, "did not answer in time", "timeout"),
        ]
        for base_url, words, status in cases:
            portal = {"base_url": base_url, "timeout_seconds": 0.3, "http_pool": pool}
            settings = upstream_settings(upstream=portal, **once)
            with served(settings) as http:
                body = post(http, '{ user(remoteId: "2") { id } }')
                after = scrape(http)
            (error,) = body["errors"]
            assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
            assert words in error["message"], (pool, error["message"])
            users = {"account": "default", "endpoint": "users/id"}
            statuses = by_label(after, "gateway_upstream_requests_total", "status", **users)
            assert statuses == {status: 1}, (pool, base_url)


@pytest.mark.http
def test_metrics_answer_openmetrics_when_the_scraper_asks_for_it(demo_settings):
    openmetrics = "application/openmetrics-text; version=1.0.0"
    with served(demo_settings) as http:
        post(http, "query Negotiated { __typename }")
        asked = http.get("/metrics", headers={"Accept": f"{openmetrics},text/plain;q=0.5"})
        plain = http.get("/metrics", headers={"Accept": "text/plain"})
    assert asked.status_code == 200
    assert asked.headers["content-type"].startswith(openmetrics)
    assert asked.text.endswith("# EOF\n")  # OpenMetrics' mandatory end marker
    assert 'gateway_graphql_operations_total{account="default"' in asked.text
    assert plain.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "# EOF" not in plain.text
