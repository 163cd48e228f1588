"""Fault injection in the TalentLMS v1 simulator: every kind, matching, counting, admin endpoints.

Faults that only show on a real socket (a dropped connection, a read timeout, a trickling
body) run under uvicorn; the rest run in process through ``ASGITransport``. Delays are kept
to fractions of a second so the whole file stays fast.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.simulator import (
    FAULT_KINDS,
    FaultRule,
    SimulatedConnectionReset,
    SimulatorConfig,
    create_simulator_app,
)
from tests.support import serve_over_http

KEY = SimulatorConfig().api_key
RATE_LIMIT_BODY = {
    "error": {"type": "invalid_request_error", "message": "You have exceeded the API rate limit"}
}
INVALID_KEY_BODY = {
    "error": {"type": "invalid_request_error", "message": "Invalid API key provided"}
}
SERVER_ERROR_BODY = {"error": {"type": "api_error", "message": "Internal server error"}}


@asynccontextmanager
async def simulator(
    config: SimulatorConfig | None = None,
) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    """A fresh simulator in process; the client's base URL is the host, not ``/api/v1``."""
    app = create_simulator_app(config)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sim", auth=(KEY, "")
    ) as http:
        yield app, http


async def put_faults(http: httpx.AsyncClient, *faults: dict[str, Any], **extra: Any) -> Any:
    response = await http.put("/_simulator/faults", json={"faults": list(faults), **extra})
    assert response.status_code == 200, response.text
    return response.json()


async def statuses(http: httpx.AsyncClient, paths: Sequence[str]) -> list[int]:
    return [(await http.get(f"/api/v1/{path}")).status_code for path in paths]


# --- the rule model ------------------------------------------------------------------------------


@pytest.mark.unit
def test_rules_round_trip_and_normalise() -> None:
    rule = FaultRule.from_dict({"kind": "latency", "endpoint": "Users/ID", "latency_ms": 5})
    assert rule.endpoint == "users/id" and rule.latency_ms == 5.0
    assert FaultRule.from_dict(rule.to_dict()) == rule
    assert set(rule.to_dict()) == {
        "kind",
        "endpoint",
        "times",
        "probability",
        "status",
        "retry_after",
        "latency_ms",
        "latency_jitter_ms",
        "delay_s",
    }
    assert FaultRule("error").matches("siteinfo") and FaultRule("error").matches("ratelimit")
    assert not rule.matches("users") and rule.matches("users/id")
    assert len(FAULT_KINDS) == 10


@pytest.mark.unit
@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"kind": "explode"}, "unknown fault kind 'explode'"),
        ({"kind": "error", "time": 1}, "unknown fault key(s) ['time']"),
        ({"endpoint": "users"}, "needs a 'kind'"),
        (["error"], "must be an object"),
        ({"kind": "error", "endpoint": ""}, "endpoint"),
        ({"kind": "error", "times": -1}, "times must not be negative"),
        ({"kind": "error", "times": 1.5}, "times must be a whole number"),
        ({"kind": "error", "times": True}, "times must be a whole number"),
        ({"kind": "error", "probability": 1.5}, "probability must be between 0 and 1"),
        ({"kind": "error", "probability": "half"}, "probability must be a non-negative number"),
        ({"kind": "error", "status": 418}, "status must be one of (500, 502, 503, 504)"),
        ({"kind": "rate_limited", "retry_after": -1}, "retry_after"),
        ({"kind": "latency", "latency_ms": -5}, "latency_ms must be a non-negative number"),
        ({"kind": "timeout", "delay_s": float("inf")}, "delay_s must be a non-negative number"),
    ],
)
def test_invalid_rules_are_refused_with_a_clear_message(data: Any, fragment: str) -> None:
    with pytest.raises(ValueError) as caught:
        FaultRule.from_dict(data)
    assert fragment in str(caught.value)


# --- answers that replace the normal one ---------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_error_fault_answers_the_api_error_body(status: int) -> None:
    async with simulator() as (_app, http):
        await put_faults(http, {"kind": "error", "status": status})
        response = await http.get("/api/v1/siteinfo")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == SERVER_ERROR_BODY


@pytest.mark.unit
async def test_endpoint_matching_uses_the_call_stats_names() -> None:
    async with simulator() as (app, http):
        await put_faults(http, {"kind": "error", "endpoint": "users/id"})
        assert (await http.get("/api/v1/users")).status_code == 200
        assert (await http.get("/api/v1/users/page_size:5")).status_code == 200
        assert (await http.get("/api/v1/users/email:x%40example.org")).status_code == 404
        assert (await http.get("/api/v1/courses/id:101")).status_code == 200
        assert (await http.get("/api/v1/users/id:1")).status_code == 500
        assert (await http.get("/api/v1/USERS/id:2")).status_code == 500
    # Faulted calls are still counted: the gateway made them.
    assert app.state.stats.by_endpoint == {
        "courses/id": 1,
        "users": 2,
        "users/email": 1,
        "users/id": 2,
    }


@pytest.mark.unit
async def test_rate_limited_sends_retry_after_only_when_configured() -> None:
    async with simulator() as (_app, http):
        await put_faults(
            http,
            {"kind": "rate_limited", "endpoint": "siteinfo", "retry_after": 2},
            {"kind": "rate_limited", "endpoint": "courses", "retry_after": 0.25},
            {"kind": "rate_limited", "endpoint": "users"},
        )
        with_header = await http.get("/api/v1/siteinfo")
        fractional = await http.get("/api/v1/courses")
        without = await http.get("/api/v1/users")
    for response in (with_header, fractional, without):
        assert response.status_code == 429
        assert response.json() == RATE_LIMIT_BODY
    assert with_header.headers["retry-after"] == "2"
    assert fractional.headers["retry-after"] == "0.25"
    assert "retry-after" not in without.headers


@pytest.mark.unit
async def test_malformed_json_is_a_truncated_200() -> None:
    async with simulator() as (_app, http):
        await put_faults(http, {"kind": "malformed_json", "endpoint": "users/id"})
        response = await http.get("/api/v1/users/id:1")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text == '{"id": "1", "login": "jo'
    with pytest.raises(ValueError):
        response.json()


@pytest.mark.unit
async def test_html_401_and_revoked_key_match_the_real_auth_failures() -> None:
    async with simulator() as (_app, http):
        no_header = await http.get("/api/v1/siteinfo", auth=None)
        wrong_key = await http.get("/api/v1/siteinfo", auth=("wrong", ""))
        await put_faults(
            http,
            {"kind": "html_401", "endpoint": "siteinfo"},
            {"kind": "revoked_key", "endpoint": "users"},
        )
        html = await http.get("/api/v1/siteinfo")
        revoked = await http.get("/api/v1/users")
    assert html.status_code == no_header.status_code == 401
    assert html.headers["content-type"].startswith("text/html")
    assert html.text == no_header.text
    assert "You need a valid user and password" in html.text
    assert html.headers["www-authenticate"] == no_header.headers["www-authenticate"]
    assert revoked.status_code == wrong_key.status_code == 401
    assert revoked.json() == wrong_key.json() == INVALID_KEY_BODY


@pytest.mark.unit
async def test_reset_in_process_raises_to_the_caller() -> None:
    async with simulator() as (_app, http):
        await put_faults(http, {"kind": "reset", "endpoint": "siteinfo", "times": 1})
        with pytest.raises(SimulatedConnectionReset) as caught:
            await http.get("/api/v1/siteinfo")
        assert (await http.get("/api/v1/siteinfo")).status_code == 200
    # The same family of error a real dropped connection gives httpx users.
    assert isinstance(caught.value, httpx.RemoteProtocolError)


# --- answers that are delayed or stretched -------------------------------------------------------


@pytest.mark.unit
async def test_latency_fault_delays_only_its_endpoint() -> None:
    async with simulator() as (_app, http):
        await put_faults(
            http,
            {"kind": "latency", "endpoint": "siteinfo", "latency_ms": 120, "latency_jitter_ms": 40},
        )
        started = time.perf_counter()
        response = await http.get("/api/v1/siteinfo")
        slow = time.perf_counter() - started
        started = time.perf_counter()
        assert (await http.get("/api/v1/courses")).status_code == 200
        fast = time.perf_counter() - started
    assert response.status_code == 200 and response.json()["total_users"] == "60"
    assert 0.118 <= slow < 0.6
    assert fast < 0.1


@pytest.mark.unit
async def test_timeout_fault_answers_normally_after_the_delay() -> None:
    async with simulator() as (_app, http):
        await put_faults(http, {"kind": "timeout", "endpoint": "courses/id", "delay_s": 0.15})
        started = time.perf_counter()
        response = await http.get("/api/v1/courses/id:101")
    assert time.perf_counter() - started >= 0.14
    assert response.status_code == 200 and response.json()["id"] == "101"


@pytest.mark.unit
async def test_timeout_fault_keeps_the_post_body_for_the_handler() -> None:
    async with simulator() as (app, http):
        portal = app.state.portal
        course_id = next(c for c in portal.course_ids if portal.enrollment("2", c) is None)
        await put_faults(http, {"kind": "timeout", "delay_s": 0.05})
        response = await http.post(
            "/api/v1/addusertocourse", data={"user_id": "2", "course_id": course_id}
        )
    assert response.status_code == 200, response.text
    assert response.json() == [{"user_id": "2", "course_id": course_id, "role": "learner"}]


@pytest.mark.http
def test_timeout_over_http_fires_the_client_read_timeout() -> None:
    app = create_simulator_app(
        SimulatorConfig(faults=(FaultRule("timeout", "siteinfo", times=1, delay_s=3.0),))
    )
    started = time.perf_counter()
    with (
        serve_over_http(app) as base,
        httpx.Client(base_url=f"{base}/api/v1", auth=(KEY, ""), timeout=0.2) as http,
    ):
        with pytest.raises(httpx.ReadTimeout):
            http.get("/siteinfo")
        assert http.get("/siteinfo").status_code == 200
    # The server noticed the client leaving and did not sit out the 3 s (nor did shutdown).
    assert time.perf_counter() - started < 2.0


@pytest.mark.http
def test_reset_over_http_drops_the_connection_mid_response() -> None:
    app = create_simulator_app()
    with serve_over_http(app) as base:
        httpx.put(
            f"{base}/_simulator/faults",
            json={"faults": [{"kind": "reset", "endpoint": "users/id", "times": 1}]},
        ).raise_for_status()
        with httpx.Client(base_url=f"{base}/api/v1", auth=(KEY, ""), timeout=2) as http:
            with pytest.raises(httpx.RemoteProtocolError):
                http.get("/users/id:1")
            after = http.get("/users/id:1")
    assert after.status_code == 200 and after.json()["id"] == "1"
    assert app.state.stats.by_endpoint == {"users/id": 2}


@pytest.mark.http
@pytest.mark.slow
def test_slow_body_over_http_trickles_the_normal_body() -> None:
    app = create_simulator_app()
    with serve_over_http(app) as base:
        with httpx.Client(base_url=f"{base}/api/v1", auth=(KEY, ""), timeout=2) as http:
            normal = http.get("/courses/id:101")
        httpx.put(
            f"{base}/_simulator/faults",
            json={"faults": [{"kind": "slow_body", "endpoint": "courses/id", "delay_s": 0.6}]},
        ).raise_for_status()
        # Each gap is ~30 ms, far below the 0.3 s read timeout: only the total is slow.
        with httpx.Client(base_url=f"{base}/api/v1", auth=(KEY, ""), timeout=0.3) as http:
            started = time.perf_counter()
            with http.stream("GET", "/courses/id:101") as response:
                chunks = list(response.iter_raw())
            elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert response.headers["content-type"] == normal.headers["content-type"]
    assert response.headers["content-length"] == normal.headers["content-length"]
    assert b"".join(chunks) == normal.content
    assert len(chunks) > 5
    assert 0.55 <= elapsed < 2.0


# --- times, probability, first match -------------------------------------------------------------


@pytest.mark.unit
async def test_times_run_out_and_the_first_applicable_rule_wins() -> None:
    async with simulator() as (_app, http):
        await put_faults(
            http,
            {"kind": "error", "endpoint": "siteinfo", "times": 2, "status": 503},
            {"kind": "revoked_key", "endpoint": "*", "times": 1},
            {"kind": "error", "endpoint": "siteinfo", "times": 0},
        )
        assert await statuses(http, ["siteinfo"] * 4) == [503, 503, 401, 200]
        assert await statuses(http, ["courses"]) == [200]
        listed = (await http.get("/_simulator/faults")).json()["faults"]
    assert [rule["times"] for rule in listed] == [0, 0, 0]
    assert listed[0] == {**FaultRule("error", "siteinfo", status=503).to_dict(), "times": 0}


@pytest.mark.unit
async def test_probability_is_seeded_and_repeatable() -> None:
    rule = FaultRule("error", "siteinfo", probability=0.5)
    patterns = []
    for _ in range(2):
        async with simulator(SimulatorConfig(faults=(rule,))) as (_app, http):
            patterns.append(await statuses(http, ["siteinfo"] * 30))
    assert patterns[0] == patterns[1]
    assert patterns[0].count(500) >= 5 and patterns[0].count(200) >= 5
    async with simulator(SimulatorConfig(faults=(rule,))) as (_app, http):
        await statuses(http, ["siteinfo"] * 7)
        # Replacing the rules restarts the sequence; another seed gives another one.
        await put_faults(http, rule.to_dict())
        assert await statuses(http, ["siteinfo"] * 30) == patterns[0]
        await put_faults(http, rule.to_dict(), seed=12345)
        other = await statuses(http, ["siteinfo"] * 30)
        await put_faults(http, rule.to_dict(), seed=12345)
        assert await statuses(http, ["siteinfo"] * 30) == other
    assert other != patterns[0]


@pytest.mark.unit
async def test_probability_bounds_and_times_count_only_applied_faults() -> None:
    async with simulator() as (_app, http):
        await put_faults(http, {"kind": "error", "probability": 0})
        assert await statuses(http, ["siteinfo"] * 5) == [200] * 5
        await put_faults(http, {"kind": "error", "probability": 0.3, "times": 3})
        results = await statuses(http, ["siteinfo"] * 40)
    assert results.count(500) == 3


# --- the hourly quota ----------------------------------------------------------------------------


@pytest.mark.unit
async def test_quota_exhausted_empties_the_limiter_until_the_quota_is_reset() -> None:
    async with simulator(SimulatorConfig(hourly_limit=50)) as (app, http):
        assert (await http.get("/api/v1/siteinfo")).status_code == 200
        await put_faults(http, {"kind": "quota_exhausted", "endpoint": "siteinfo", "times": 1})
        limited = await http.get("/api/v1/siteinfo")
        assert limited.status_code == 429 and limited.json() == RATE_LIMIT_BODY
        limits = (await http.get("/api/v1/ratelimit")).json()
        assert limits["remaining"] == 0 and limits["limit"] == "50"
        assert int(limits["reset"]) > time.time() and limits["formatted_reset"]
        assert app.state.rate_limiter.remaining == 0
        # The limiter itself is exhausted, so every other endpoint is refused as well.
        assert await statuses(http, ["users", "courses/id:101"]) == [429, 429]
        assert (await http.delete("/_simulator/faults")).json() == {"faults": []}
        assert await statuses(http, ["siteinfo"]) == [429]
        quota = await http.post("/_simulator/quota", json={"remaining": 50})
        assert quota.status_code == 200
        assert quota.json() == {"limit": 50, "remaining": 50, "reset": int(limits["reset"])}
        assert await statuses(http, ["siteinfo", "users"]) == [200, 200]
        assert (await http.get("/api/v1/ratelimit")).json()["remaining"] == 48


@pytest.mark.unit
async def test_quota_exhausted_on_every_endpoint_still_lets_ratelimit_answer() -> None:
    async with simulator() as (_app, http):
        await put_faults(http, {"kind": "quota_exhausted"})
        limits = await http.get("/api/v1/ratelimit")
        assert limits.status_code == 200 and limits.json()["remaining"] == 0
        assert (await http.get("/api/v1/users")).json() == RATE_LIMIT_BODY


@pytest.mark.unit
async def test_quota_endpoint_sets_the_remaining_budget() -> None:
    async with simulator(SimulatorConfig(hourly_limit=10)) as (_app, http):
        assert (await http.post("/_simulator/quota", json={"remaining": 2})).status_code == 200
        assert await statuses(http, ["siteinfo"] * 3) == [200, 200, 429]
        for body in ({"remaining": -1}, {"remaining": 11}, {"remaining": True}, {"remaining": "3"}):
            bad = await http.post("/_simulator/quota", json=body)
            assert bad.status_code == 400 and bad.json()["error"], body
        for content in (b"not json", b"[1]", b'{"remaining": 1, "extra": 2}'):
            bad = await http.post("/_simulator/quota", content=content)
            assert bad.status_code == 400 and bad.json()["error"], content
        assert (await http.get("/api/v1/ratelimit")).json()["remaining"] == 0


# --- admin endpoints and configuration -----------------------------------------------------------


@pytest.mark.unit
async def test_fault_admin_endpoints_list_replace_and_clear() -> None:
    async with simulator() as (app, http):
        assert (await http.get("/_simulator/faults", auth=None)).json() == {"faults": []}
        body = await put_faults(
            http,
            {"kind": "error", "endpoint": "users", "times": 2},
            {"kind": "latency", "latency_ms": 1},
        )
        assert body == (await http.get("/_simulator/faults")).json()
        assert [(r["kind"], r["endpoint"], r["times"]) for r in body["faults"]] == [
            ("error", "users", 2),
            ("latency", "*", None),
        ]
        assert await statuses(http, ["users"]) == [500]
        assert (await http.get("/_simulator/faults")).json()["faults"][0]["times"] == 1
        invalid: list[Any] = [
            {"faults": [{"kind": "explode"}]},
            {"faults": [{"kind": "error", "bogus": 1}]},
            {"faults": {"kind": "error"}},
            {"faults": [{"kind": "error"}], "seed": "x"},
            {"rules": []},
            [],
        ]
        for payload in invalid:
            response = await http.put("/_simulator/faults", json=payload)
            assert response.status_code == 400, payload
            assert isinstance(response.json()["error"], str) and response.json()["error"]
        not_json = await http.put("/_simulator/faults", content=b"{oops")
        assert not_json.status_code == 400 and "JSON" in not_json.json()["error"]
        # A refused PUT leaves the active rules alone.
        assert len(app.state.faults.rules) == 2
        assert (await http.delete("/_simulator/faults")).json() == {"faults": []}
        assert app.state.faults.rules == ()
        assert await statuses(http, ["users"]) == [200]
        stats = (await http.get("/_simulator/stats")).json()
    assert stats == {"total": 2, "byEndpoint": {"users": 2}}  # admin calls are not counted


@pytest.mark.unit
async def test_faults_from_the_config_apply_from_the_first_call() -> None:
    config = SimulatorConfig(
        faults=(
            FaultRule("error", "siteinfo", times=1, status=502),
            {"kind": "malformed_json", "endpoint": "courses"},  # type: ignore[arg-type]
        )
    )
    assert all(isinstance(rule, FaultRule) for rule in config.faults)
    async with simulator(config) as (_app, http):
        assert await statuses(http, ["siteinfo", "siteinfo"]) == [502, 200]
        assert (await http.get("/api/v1/courses")).text.startswith('{"id": "1"')
        listed = (await http.get("/_simulator/faults")).json()["faults"]
        assert [rule["times"] for rule in listed] == [0, None]
        # Clearing at run time does not touch the config; a new app starts from it again.
    async with simulator(config) as (_app, http):
        assert await statuses(http, ["siteinfo"]) == [502]
    with pytest.raises(ValueError, match="unknown fault kind"):
        SimulatorConfig(faults=({"kind": "nope"},))  # type: ignore[arg-type]


@pytest.mark.unit
async def test_call_arrival_times_are_recorded_and_exposed() -> None:
    async with simulator() as (app, http):
        before = time.monotonic()
        await http.get("/api/v1/siteinfo")
        await put_faults(http, {"kind": "error", "endpoint": "users/id"})
        await http.get("/api/v1/users/id:1")  # faulted calls have arrival times too
        await http.get("/api/v1/ratelimit")
        after = time.monotonic()
        plain = (await http.get("/_simulator/stats")).json()
        detailed = (await http.get("/_simulator/stats?timestamps=1")).json()
        stamps = app.state.stats.timestamps
        assert [name for _moment, name in stamps] == ["siteinfo", "users/id", "ratelimit"]
        moments = [moment for moment, _name in stamps]
        assert before <= moments[0] <= moments[1] <= moments[2] <= after
        assert "timestamps" not in plain  # the existing stats body is unchanged
        assert detailed["timestamps"] == [[moment, name] for moment, name in stamps]
        assert detailed["total"] == 3
        in_window = [m for m, _ in stamps if moments[0] <= m < moments[0] + 5]
        assert len(in_window) == 3
        await http.post("/_simulator/reset-stats")
        assert app.state.stats.timestamps == []
        cleared = (await http.get("/_simulator/stats", params={"timestamps": "true"})).json()
        assert cleared["timestamps"] == []
