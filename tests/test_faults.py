"""The fault matrix: a misbehaving TalentLMS, reached over real HTTP.

For each kind of fault the nested dashboard query keeps what it can (partial data), puts a
typed error at each failing path, never answers with a gateway 5xx, retries a bounded
number of times (counted at the simulator), and the gateway stays healthy afterwards.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest

from gateway.config import Settings
from gateway.simulator import SimulatorConfig, create_simulator_app
from tests.support import gateway_client, replaced, serve_over_http

pytestmark = pytest.mark.http

KEY = SimulatorConfig().api_key
DASHBOARD = (
    "{ users(first: 3) { nodes { name enrollments { nodes { status course { title } } } } } }"
)
ATTEMPTS = 3
# Estimated at 1 + 3 + 3 × 25 calls: every enrollment may open another course.
COSTLY = "{ users(first: 3) { nodes { enrollments { nodes { course { title code } } } } } }"


@pytest.fixture(scope="module")
def simulator() -> Iterator[str]:
    with serve_over_http(create_simulator_app(SimulatorConfig())) as url:
        yield url


def settings_for(simulator: str, **overrides: Mapping[str, Any]) -> Settings:
    settings = Settings(
        upstream={"base_url": f"{simulator}/api/v1", "api_key": KEY, "timeout_seconds": 0.3},
        retry={"attempts": ATTEMPTS, "base_delay_seconds": 0.01, "max_delay_seconds": 0.02},
        breaker={"failures": 1000},  # the breaker has its own test
        cache={"enabled": False},  # count every call at the simulator
    )
    return replaced(settings, **overrides)


def admin(simulator: str, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, f"{simulator}/_simulator/{path}", json=body, timeout=5)
    response.raise_for_status()
    return response.json()


@pytest.fixture
def faults(simulator: str) -> Iterator[Any]:
    admin(simulator, "DELETE", "faults")
    admin(simulator, "POST", "reset-stats")
    yield lambda *rules: admin(simulator, "PUT", "faults", {"faults": list(rules)})
    admin(simulator, "DELETE", "faults")
    admin(simulator, "POST", "quota", {"remaining": 2000})


def calls(simulator: str, endpoint: str) -> int:
    return admin(simulator, "GET", "stats")["byEndpoint"].get(endpoint, 0)


@pytest.mark.parametrize(
    ("rule", "code", "tries"),
    [
        ({"kind": "error", "status": 503}, "UPSTREAM_ERROR", ATTEMPTS),
        ({"kind": "error", "status": 500}, "UPSTREAM_ERROR", ATTEMPTS),
        ({"kind": "rate_limited", "retry_after": 0.01}, "UPSTREAM_RATE_LIMITED", ATTEMPTS),
        ({"kind": "rate_limited"}, "UPSTREAM_RATE_LIMITED", ATTEMPTS),
        pytest.param(
            {"kind": "timeout", "delay_s": 2},
            "UPSTREAM_UNAVAILABLE",
            ATTEMPTS,
            marks=pytest.mark.slow,
        ),
        ({"kind": "reset"}, "UPSTREAM_UNAVAILABLE", ATTEMPTS),
        # Answers that will not get better by asking again are not retried.
        ({"kind": "malformed_json"}, "UPSTREAM_ERROR", 1),
        ({"kind": "html_401"}, "UPSTREAM_AUTH_FAILED", 1),
        ({"kind": "revoked_key"}, "UPSTREAM_AUTH_FAILED", 1),
    ],
    ids=lambda value: (
        value["kind"] + str(value.get("status", "")) if isinstance(value, dict) else str(value)
    ),
)
async def test_fault_matrix(simulator, faults, rule, code, tries):
    faults({**rule, "endpoint": "users/id"})
    async with gateway_client(settings_for(simulator)) as client:
        response = await client.post("/graphql", json={"query": DASHBOARD})
        assert response.status_code == 200  # never a gateway 5xx
        body = response.json()
        # The users list still answered: names are there, each user's enrollments failed.
        users = body["data"]["users"]["nodes"]
        assert len(users) == 3 and all(user["name"] for user in users)
        assert all(user["enrollments"] is None for user in users)
        assert sorted(tuple(e["path"]) for e in body["errors"]) == [
            ("users", "nodes", i, "enrollments") for i in range(3)
        ]
        assert {e["extensions"]["code"] for e in body["errors"]} == {code}
        # Retries are bounded: each user's record was asked for at most `tries` times.
        assert calls(simulator, "users/id") == 3 * tries
        assert body["extensions"]["upstream"]["retries"] == 3 * (tries - 1)
        faults()  # the portal recovers; the gateway is healthy and answers fully
        assert (await client.get("/healthz")).status_code == 200
        healed = (await client.post("/graphql", json={"query": DASHBOARD})).json()
    assert "errors" not in healed


async def test_a_transient_failure_is_retried_away(simulator, faults):
    faults({"kind": "error", "status": 502, "endpoint": "users/id", "times": 2})
    async with gateway_client(settings_for(simulator)) as client:
        body = (await client.post("/graphql", json={"query": DASHBOARD})).json()
    assert "errors" not in body
    assert body["extensions"]["upstream"]["retries"] == 2


@pytest.mark.parametrize("kind", ["latency", "slow_body"])
async def test_slow_answers_still_arrive(simulator, faults, kind):
    faults({"kind": kind, "endpoint": "users/id", "latency_ms": 50, "delay_s": 0.2})
    async with gateway_client(settings_for(simulator)) as client:
        body = (await client.post("/graphql", json={"query": DASHBOARD})).json()
    assert "errors" not in body
    assert body["extensions"]["upstream"]["retries"] == 0


async def test_writes_are_never_retried(simulator, faults):
    from gateway.providers.talentlms.client import TalentLmsClient
    from gateway.upstream.usage import UpstreamUsage

    faults({"kind": "error", "status": 503, "endpoint": "addusertocourse"})
    async with gateway_client(settings_for(simulator)) as client:
        runtime = client.app.state.runtime
        account = runtime.tenancy.accounts["default"]
        api = TalentLmsClient(
            runtime.http,
            base_url=account.base_url,
            api_key=account.api_key,
            usage=UpstreamUsage(),
            guard=runtime.guards["default"],
        )
        with pytest.raises(Exception, match="TalentLMS failed"):
            await api.add_user_to_course(user_id="8", course_id="101")
    assert calls(simulator, "addusertocourse") == 1


async def test_the_circuit_opens_fails_fast_and_recovers(simulator, faults):
    faults({"kind": "error", "status": 503, "endpoint": "users/id"})
    settings = settings_for(simulator, breaker={"failures": 3, "cool_down_seconds": 60})
    query = {"query": '{ user(remoteId: "8") { name } }'}
    async with gateway_client(settings) as client:
        # The breaker's clock is moved by hand: a busy machine cannot let the cool-down pass
        # between two requests, and the test needs no real waiting.
        breaker = client.app.state.runtime.guards["default"].breaker
        skew = [0.0]
        breaker._clock = lambda: time.monotonic() + skew[0]
        first = (await client.post("/graphql", json=query)).json()  # 3 failed tries: open
        tried = calls(simulator, "users/id")
        fast = (await client.post("/graphql", json=query)).json()
        assert calls(simulator, "users/id") == tried  # failed fast: no call went out
        assert fast["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
        assert fast["extensions"]["upstream"]["circuit"]["state"] == "open"
        faults()
        skew[0] = 61.0  # the cool-down passes; the next call is a probe
        healed = (await client.post("/graphql", json=query)).json()
    assert first["errors"][0]["extensions"]["code"] == "UPSTREAM_ERROR"
    assert "errors" not in healed and "circuit" not in healed["extensions"]["upstream"]


@pytest.fixture
def capped_simulator() -> Iterator[str]:
    """A portal that enforces a burst cap of 10 calls per second, as TalentLMS enforces its
    200 per 5 s: a gateway that sends more gets 429s, not only a high count."""
    config = SimulatorConfig(burst_limit=10, burst_window=1.0, latency_ms=5)
    with serve_over_http(create_simulator_app(config)) as url:
        yield url


def arrivals(simulator: str) -> list[float]:
    """When the portal received each counted call (``/ratelimit`` does not count)."""
    stamps = admin(simulator, "GET", "stats?timestamps=1")["timestamps"]
    return sorted(t for t, name in stamps if name != "ratelimit")


def busiest_window(stamps: list[float], window: float) -> int:
    return max((sum(1 for t in stamps if s <= t < s + window) for s in stamps), default=0)


@pytest.mark.slow
async def test_pacing_keeps_every_window_at_the_portal_under_the_cap(capped_simulator):
    # Decided by what the portal received, with no margin: a call holds its pacing slot
    # until its answer arrives, so however unevenly calls travel (a busy machine), no
    # window of arrivals can hold more than the cap, and the portal refuses none.
    settings = settings_for(
        capped_simulator,
        pacing={"max_calls": 10, "window_seconds": 1.0},
        upstream={"timeout_seconds": 10.0},
    )
    query = {"query": "{ users(first: 30) { nodes { organization { id } } } }"}
    async with gateway_client(settings) as client:
        bodies = [
            r.json()
            for r in await asyncio.gather(*(client.post("/graphql", json=query) for _ in range(3)))
        ]
    for body in bodies:
        assert "errors" not in body, body["errors"][:1]
        assert body["extensions"]["upstream"]["retries"] == 0
    stamps = arrivals(capped_simulator)
    assert len(stamps) == 3 * 31  # a users page and 30 user records each, none refused
    assert busiest_window(stamps, 1.0) <= 10
    assert stamps[-1] - stamps[0] >= 8.0  # 93 calls at 10 per second take nine windows


@pytest.mark.slow
async def test_at_the_cap_admitted_operations_complete_and_the_rest_are_refused_up_front(
    capped_simulator,
):
    # 32 clients at once want far more than a 10-per-second portal can serve before their
    # 3 s deadline. Operations are admitted whole: those admitted finish complete, the rest
    # are refused before spending a call (UPSTREAM_RATE_LIMITED with a retry time), and
    # none is left partial with the portal's budget spent on it.
    settings = settings_for(
        capped_simulator,
        pacing={"max_calls": 10, "window_seconds": 1.0},
        upstream={"timeout_seconds": 10.0},
        execution={"deadline_seconds": 3.0},
    )
    query = {"query": DASHBOARD}
    async with gateway_client(settings) as client:
        bodies = [
            r.json()
            for r in await asyncio.gather(*(client.post("/graphql", json=query) for _ in range(32)))
        ]
    complete = [b for b in bodies if "errors" not in b]
    refused = [b for b in bodies if b.get("data") is None]
    partial = [b for b in bodies if b.get("data") is not None and "errors" in b]
    assert not partial, partial[0]["errors"][:2]
    assert complete and refused
    for body in refused:
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "UPSTREAM_RATE_LIMITED"
        assert error["extensions"]["retryAfter"] >= 0
    stamps = arrivals(capped_simulator)
    assert busiest_window(stamps, 1.0) <= 10
    # Every call the portal received went into a complete answer.
    assert len(stamps) == sum(b["extensions"]["upstream"]["calls"] for b in complete)


@pytest.mark.slow
async def test_a_rate_limit_pauses_calls_without_opening_the_circuit(simulator, faults):
    # Two 429s with Retry-After: 2 (issue 11, point 3): the client sees UPSTREAM_RATE_LIMITED
    # with the portal's retry time; the breaker stays closed (one failure would open it
    # here), and the next calls wait the two seconds instead of failing as unavailable.
    faults({"kind": "rate_limited", "retry_after": 2, "endpoint": "courses/id", "times": 2})
    settings = settings_for(simulator, breaker={"failures": 1}, retry={"attempts": 1})
    async with gateway_client(settings) as client:
        limited = await asyncio.gather(
            *(
                client.post(
                    "/graphql", json={"query": f'{{ course(remoteId: "{i}") {{ title }} }}'}
                )
                for i in (101, 102)
            )
        )
        unrelated = (await client.post("/graphql", json={"query": DASHBOARD})).json()
        breaker = client.app.state.runtime.guards["default"].breaker.state
    for response in limited:
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == "UPSTREAM_RATE_LIMITED"
        assert error["extensions"]["retryAfter"] == 2
    assert "errors" not in unrelated
    assert breaker == "closed"
    stamps = admin(simulator, "GET", "stats?timestamps=1")["timestamps"]
    refused_at = max(t for t, name in stamps if name == "courses/id")
    resumed_at = min(t for t, name in stamps if name == "users")
    assert resumed_at >= refused_at + 2.0  # calls resumed when Retry-After said


async def test_an_exhausted_quota_refuses_costly_queries_early(simulator, faults):
    admin(simulator, "POST", "quota", {"remaining": 5})
    settings = settings_for(simulator, quota={"refresh_seconds": 0.01})
    async with gateway_client(settings) as client:
        await client.post("/graphql", json={"query": '{ user(remoteId: "8") { name } }'})
        quota = client.app.state.runtime.guards["default"].quota
        for _ in range(200):  # the quota is read in the background
            if quota.remaining is not None:
                break
            await asyncio.sleep(0.01)
        before = calls(simulator, "users/id")
        costly = (await client.post("/graphql", json={"query": COSTLY})).json()
        small = (
            await client.post("/graphql", json={"query": '{ user(remoteId: "9") { name } }'})
        ).json()
    error = costly["errors"][0]
    assert error["extensions"]["code"] == "UPSTREAM_RATE_LIMITED"
    assert error["extensions"]["retryAt"].endswith("Z")
    assert costly["data"] is None
    assert calls(simulator, "users/id") == before + 1  # only the small query's call
    assert "errors" not in small
    assert small["extensions"]["upstream"]["quotaRemaining"] is not None


async def test_quota_exhausted_upstream_is_rate_limited_not_retried_forever(simulator, faults):
    faults({"kind": "quota_exhausted", "endpoint": "users/id", "times": 1})
    async with gateway_client(settings_for(simulator)) as client:
        body = (
            await client.post("/graphql", json={"query": '{ user(remoteId: "8") { name } }'})
        ).json()
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_RATE_LIMITED"
    assert calls(simulator, "users/id") <= ATTEMPTS
