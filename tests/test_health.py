"""``/healthz`` and ``/readyz`` over real HTTP, against the simulator as the portal."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator

import httpx
import pytest

from gateway.app import create_app
from gateway.config import Settings
from gateway.simulator import SimulatorConfig, create_simulator_app
from gateway.tenancy.authorization import hash_key
from tests.support import RecordingUpstream, gateway_client, serve_over_http

PORTAL_KEY = "portal-key-5c1d9e7a"
WRONG_KEY = "revoked-portal-key-0b3f"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("TALENTLMS_", "LMS_GATEWAY_")):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def portal() -> Iterator[tuple[str, object]]:
    """A TalentLMS simulator over HTTP: its base URL, and its app (for its call counts)."""
    app = create_simulator_app(SimulatorConfig(users=5, courses=2, api_key=PORTAL_KEY))
    with serve_over_http(app) as base:
        yield base, app


def portal_calls(app: object) -> dict[str, int]:
    return dict(app.state.stats.by_endpoint)  # type: ignore[attr-defined]


def portal_quota(app: object) -> int:
    return app.state.simulator.limiter.remaining  # type: ignore[attr-defined]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


@pytest.mark.http
def test_demo_gateway_is_ready_and_probes_each_account_with_its_cheapest_call(clean_env):
    app = create_app(Settings(readiness={"cache_seconds": 0}))
    simulator = app.state.runtime.simulator
    school = app.state.runtime.learnworlds_simulator
    quota_before = simulator.state.simulator.limiter.remaining
    with serve_over_http(app) as base, httpx.Client(base_url=base) as http:
        first = http.get("/readyz")
        second = http.get("/readyz")
        live = http.get("/healthz")
    assert first.status_code == second.status_code == 200
    assert live.json() == {"status": "ok"}
    body = first.json()
    assert (body["status"], body["reason"]) == ("ready", None)
    assert body["accounts"] == [
        {
            "id": "default",
            "ready": True,
            "reachable": True,
            "authorized": True,
            "quotaRemaining": quota_before,
            "quotaLimit": 2000,
            "circuit": "closed",
            "reason": "OK",
        },
        {
            "id": "learnworlds",
            "ready": True,
            "reachable": True,
            "authorized": True,
            "quotaRemaining": None,
            "quotaLimit": None,
            "circuit": "closed",
            "reason": "OK",
        },
    ]
    # Without a cache window each probe asks again, and only ever the free /ratelimit of
    # TalentLMS; LearnWorlds has no free call: one course each time, after one token.
    assert dict(simulator.state.stats.by_endpoint) == {"ratelimit": 2}
    assert dict(school.state.stats.by_endpoint) == {"oauth2/access_token": 1, "courses": 2}
    assert simulator.state.simulator.limiter.remaining == quota_before
    assert app.state.runtime.guards["default"].quota.remaining == quota_before
    assert first.headers["cache-control"] == "no-store"


@pytest.mark.http
def test_probes_within_the_cache_window_make_no_new_upstream_call(clean_env, portal):
    base, simulator = portal
    settings = Settings(
        upstream={"base_url": f"{base}/api/v1", "api_key": PORTAL_KEY},
        readiness={"cache_seconds": 300},
    )
    before = portal_calls(simulator).get("ratelimit", 0)
    with serve_over_http(create_app(settings)) as gateway:
        answers = [httpx.get(f"{gateway}/readyz") for _ in range(5)]
    assert [answer.status_code for answer in answers] == [200] * 5
    assert portal_calls(simulator).get("ratelimit", 0) - before == 1


@pytest.mark.http
def test_a_portal_that_rejects_the_key_makes_the_gateway_unready(clean_env, portal):
    base, simulator = portal
    settings = Settings(upstream={"base_url": f"{base}/api/v1", "api_key": WRONG_KEY})
    calls_before, quota_before = portal_calls(simulator), portal_quota(simulator)
    with serve_over_http(create_app(settings)) as gateway:
        answer = httpx.get(f"{gateway}/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert (body["status"], body["reason"]) == ("unready", "NO_ACCOUNT_READY")
    [account] = body["accounts"]
    assert account["reachable"] is True
    assert account["authorized"] is False
    assert account["ready"] is False
    assert account["reason"] == "UPSTREAM_AUTH_FAILED"
    # Nothing secret and nothing about where the portal is.
    assert WRONG_KEY not in answer.text and base.split("//")[1] not in answer.text
    calls = portal_calls(simulator)
    made = {name: n - calls_before.get(name, 0) for name, n in calls.items()}
    assert {name: n for name, n in made.items() if n} == {"ratelimit": 1}
    assert portal_quota(simulator) == quota_before


@pytest.mark.http
def test_an_unreachable_portal_makes_the_gateway_unready(clean_env):
    settings = Settings(
        upstream={"base_url": f"http://127.0.0.1:{closed_port()}/api/v1", "api_key": PORTAL_KEY}
    )
    with serve_over_http(create_app(settings)) as gateway:
        answer = httpx.get(f"{gateway}/readyz")
        alive = httpx.get(f"{gateway}/healthz")
    assert answer.status_code == 503
    [account] = answer.json()["accounts"]
    assert (account["reachable"], account["authorized"]) == (False, None)
    assert account["reason"] == "UPSTREAM_UNAVAILABLE"
    assert alive.status_code == 200  # liveness never asks the portal


class _Silent(httpx.AsyncBaseTransport):
    """A portal that accepts the request and never answers."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


@pytest.mark.unit
async def test_a_portal_that_does_not_answer_is_cut_off_by_the_readiness_timeout(clean_env):
    silent = _Silent()
    settings = Settings(
        upstream={"base_url": "http://upstream.test/api/v1", "api_key": PORTAL_KEY},
        readiness={"timeout_seconds": 0.2},
    )
    async with gateway_client(settings, silent) as client:
        answer = await client.get("/readyz")
    assert answer.status_code == 503
    [account] = answer.json()["accounts"]
    assert (account["reachable"], account["reason"]) == (False, "TIMEOUT")
    assert silent.paths == ["/api/v1/ratelimit"]


@pytest.mark.http
def test_one_bad_account_of_two_is_degraded_not_down(clean_env, portal, tmp_path, monkeypatch):
    base, _ = portal
    monkeypatch.setenv("GOOD_KEY", PORTAL_KEY)
    monkeypatch.setenv("BAD_KEY", WRONG_KEY)
    ops_key = "lmsg_ops_key_for_readiness_0001"
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        f"""
[[accounts]]
id = "good"
provider = "talentlms"
base_url = "{base}/api/v1"
api_key_env = "GOOD_KEY"

[[accounts]]
id = "bad"
provider = "talentlms"
base_url = "{base}/api/v1"
api_key_env = "BAD_KEY"

[[api_keys]]
name = "ops"
sha256 = "{hash_key(ops_key)}"
accounts = ["*"]
""",
        encoding="utf-8",
    )
    settings = Settings(tenancy={"accounts_file": accounts})
    with serve_over_http(create_app(settings)) as gateway:
        answer = httpx.get(f"{gateway}/readyz")  # no gateway key: probes need none
    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["reason"]) == ("degraded", "SOME_ACCOUNTS_UNREADY")
    by_id = {account["id"]: account for account in body["accounts"]}
    assert by_id["good"]["ready"] and by_id["good"]["reason"] == "OK"
    assert not by_id["bad"]["ready"] and by_id["bad"]["reason"] == "UPSTREAM_AUTH_FAILED"
    assert PORTAL_KEY not in answer.text and WRONG_KEY not in answer.text


@pytest.mark.unit
async def test_draining_gateway_is_unready_without_asking_the_portal(clean_env):
    async with gateway_client(Settings(readiness={"cache_seconds": 0})) as client:
        app = client.app  # type: ignore[attr-defined]
        stats = app.state.runtime.simulator.state.stats
        assert (await client.get("/readyz")).status_code == 200
        app.state.readiness.drain()
        answer = await client.get("/readyz")
        alive = await client.get("/healthz")
    assert answer.status_code == 503
    assert (answer.json()["status"], answer.json()["reason"]) == ("unready", "SHUTTING_DOWN")
    assert dict(stats.by_endpoint) == {"ratelimit": 1}
    assert alive.status_code == 200


@pytest.mark.unit
async def test_before_the_lifespan_starts_the_gateway_is_not_ready(clean_env):
    app = create_app(Settings())
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")
    async with client:
        answer = await client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["reason"] == "NOT_STARTED"
    assert dict(app.state.runtime.simulator.state.stats.by_endpoint) == {}


@pytest.mark.unit
async def test_concurrent_probes_share_one_check(clean_env):
    upstream = RecordingUpstream(SimulatorConfig(users=3, courses=1, latency_ms=50))
    settings = Settings(
        upstream={"base_url": "http://upstream.test/api/v1", "api_key": SimulatorConfig().api_key},
        readiness={"cache_seconds": 300},
    )
    async with gateway_client(settings, upstream) as client:
        answers = await asyncio.gather(*(client.get("/readyz") for _ in range(5)))
    assert [answer.status_code for answer in answers] == [200] * 5
    assert upstream.paths == ["/api/v1/ratelimit"]
