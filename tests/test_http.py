"""Over real HTTP, as users run it: uvicorn on 127.0.0.1, and the console script itself."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from gateway.app import create_app
from gateway.config import Settings
from gateway.simulator import SimulatorConfig, create_simulator_app
from tests.support import (
    console_script,
    free_port,
    gid,
    query_text,
    running,
    serve_over_http,
)

pytestmark = pytest.mark.http

DASHBOARD = query_text("learner_dashboard")


def test_demo_gateway_speaks_graphql_over_http(clean_env):
    with serve_over_http(create_app(Settings())) as base, httpx.Client(base_url=base) as http:
        assert http.get("/healthz").json() == {"status": "ok"}

        posted = http.post("/graphql", json={"query": DASHBOARD})
        assert posted.status_code == 200
        assert posted.headers["content-type"].startswith("application/json")
        body = posted.json()
        assert len(body["data"]["users"]["nodes"]) == 5
        assert body["extensions"]["upstream"]["calls"] == 18

        fetched = http.get("/graphql", params={"query": '{ user(remoteId: "8") { name } }'})
        assert fetched.status_code == 200
        assert fetched.json()["data"]["user"]["name"]

        page = http.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        assert "graphiql" in page.text.lower()

        not_json = http.post(
            "/graphql", content=b"{ users", headers={"Content-Type": "application/json"}
        )
        assert not_json.status_code == 400


def test_the_root_redirects_to_graphql_with_its_query_string(clean_env):
    with serve_over_http(create_app(Settings())) as base, httpx.Client(base_url=base) as http:
        bare = http.get("/")
        asked = http.get("/", params={"query": '{ user(remoteId: "8") { name } }'})
        followed = http.get(
            "/", params={"query": '{ user(remoteId: "8") { name } }'}, follow_redirects=True
        )
        browser = http.get("/", headers={"Accept": "text/html"}, follow_redirects=True)
        posted = http.post("/", json={"query": "{ __typename }"})
    assert (bare.status_code, bare.headers["location"]) == (307, "graphql")
    assert asked.status_code == 307
    assert asked.headers["location"] == (
        "graphql?query=%7B+user%28remoteId%3A+%228%22%29+%7B+name+%7D+%7D"
    )
    assert followed.json()["data"]["user"]["name"] == "Ingrid Rossi"
    assert str(browser.url) == f"{base}/graphql" and "graphiql" in browser.text.lower()
    assert posted.status_code == 405  # only GET (and HEAD) is redirected


def test_graphiql_can_be_switched_off(clean_env):
    app = create_app(Settings(graphiql={"enabled": False}))
    with serve_over_http(app) as base:
        page = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"})
    assert "graphiql" not in page.text.lower()


def test_gateway_pointed_at_a_talentlms_server_over_http(clean_env):
    """TALENTLMS_BASE_URL at any v1 server: here the simulator, served by uvicorn too."""
    config = SimulatorConfig(date_format="MMDDYYYY", twelve_hour=True)
    with serve_over_http(create_simulator_app(config)) as simulator:
        settings = Settings(upstream={"base_url": f"{simulator}/api/v1", "api_key": config.api_key})
        with serve_over_http(create_app(settings)) as gateway:
            body = httpx.post(f"{gateway}/graphql", json={"query": DASHBOARD}).json()
            dated = httpx.post(
                f"{gateway}/graphql", json={"query": "{ courses { nodes { createdAt } } }"}
            ).json()
        stats = httpx.get(f"{simulator}/_simulator/stats").json()
    assert "errors" not in body and "errors" not in dated
    assert body["extensions"]["upstream"]["byEndpoint"] == {
        "courses/id": 12,
        "users": 1,
        "users/id": 5,
    }
    assert all(node["createdAt"].endswith("Z") for node in dated["data"]["courses"]["nodes"])
    stats["byEndpoint"].pop("ratelimit", None)  # the quota watch, in the background
    assert stats["byEndpoint"] == {
        "courses": 1,
        "courses/id": 12,
        "siteinfo": 1,
        "users": 1,
        "users/id": 5,
    }


def test_a_base_url_the_api_is_not_under_is_an_error_not_a_missing_record(clean_env):
    # The API is not under /wrong/api/v1: the simulator's host answers a plain 404 there,
    # which is not TalentLMS saying "The requested user does not exist".
    config = SimulatorConfig()
    with serve_over_http(create_simulator_app(config)) as simulator:
        settings = Settings(
            upstream={"base_url": f"{simulator}/wrong/api/v1", "api_key": config.api_key},
            retry={"attempts": 1},
        )
        with serve_over_http(create_app(settings)) as gateway:
            body = httpx.post(
                f"{gateway}/graphql", json={"query": '{ user(remoteId: "2") { id } }'}
            )
    assert body.status_code == 200
    (error,) = body.json()["errors"]
    assert body.json()["data"] == {"user": None}
    assert error["extensions"]["code"] == "UPSTREAM_ERROR"
    assert "404" in error["message"] and "/api/v1" in error["message"]


@pytest.mark.slow
def test_a_base_url_without_api_v1_is_a_clear_startup_error(clean_env):
    env = {
        **clean_env,
        "TALENTLMS_BASE_URL": "http://127.0.0.1:8001",
        "TALENTLMS_API_KEY": "portal-key-not-to-be-shown",
    }
    result = failed_start(env)
    (line,) = result.stderr.splitlines()
    assert "TALENTLMS_BASE_URL" in line and "/api/v1" in line
    assert "portal-key-not-to-be-shown" not in result.stderr + result.stdout


@pytest.mark.slow
def test_lms_gateway_serve_shows_demo_data_out_of_the_box(clean_env):
    port = free_port()
    with running(
        ["serve", "--port", str(port)], clean_env, f"http://127.0.0.1:{port}/healthz"
    ) as p:
        body = httpx.post(
            f"http://127.0.0.1:{port}/graphql", json={"query": DASHBOARD}, timeout=10
        ).json()
        page = httpx.get(f"http://127.0.0.1:{port}/graphql", headers={"Accept": "text/html"})
    banner = p.stderr
    assert "DEMO DATA" in banner and f"http://127.0.0.1:{port}/graphql" in banner
    assert len(body["data"]["users"]["nodes"]) == 5
    assert "graphiql" in page.text.lower()


def test_lms_gateway_simulator_command(clean_env):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running(
        ["simulator", "--port", str(port), "--users", "9"], clean_env, f"{url}/_simulator/health"
    ):
        users = httpx.get(f"{url}/api/v1/users", auth=(SimulatorConfig().api_key, ""))
        anonymous = httpx.get(f"{url}/api/v1/users")
    assert len(users.json()) == 9
    assert anonymous.status_code == 401


@pytest.mark.slow
def test_incomplete_credentials_are_a_clear_startup_error(clean_env):
    env = {**clean_env, "TALENTLMS_API_KEY": "abc"}
    result = failed_start(env)
    assert "TALENTLMS_DOMAIN" in result.stderr
    assert "Traceback" not in result.stderr
    assert "abc" not in result.stderr


@pytest.mark.slow
def test_demo_bound_to_all_interfaces_without_keys_warns_loudly(clean_env):
    port = free_port()
    with running(
        ["serve", "--host", "0.0.0.0", "--port", str(port)],
        clean_env,
        f"http://127.0.0.1:{port}/healthz",
    ) as output:
        body = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": '{ user(remoteId: "2") { id remoteId } }'},
        ).json()
    assert body["data"] == {"user": {"id": gid("User", 2), "remoteId": "2"}}
    assert "ANYONE WHO CAN REACH IT CAN QUERY IT" in output.stderr


@pytest.mark.slow
def test_real_portal_on_all_interfaces_without_keys_is_refused(clean_env):
    env = {
        **clean_env,
        "TALENTLMS_BASE_URL": "http://127.0.0.1:9/api/v1",
        "TALENTLMS_API_KEY": "portal-key-not-to-be-shown",
    }
    result = subprocess.run(
        [*console_script(), "serve", "--host", "0.0.0.0", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "without gateway API keys" in result.stderr
    assert "portal-key-not-to-be-shown" not in result.stderr + result.stdout


@pytest.mark.slow
def test_hash_key_command(clean_env):
    from gateway.tenancy.authorization import hash_key

    hashed = subprocess.run(
        [*console_script(), "hash-key"],
        input="my-secret-key\n",
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    generated = subprocess.run(
        [*console_script(), "hash-key", "--generate"],
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert hashed.stdout.strip() == hash_key("my-secret-key")
    key_line, hash_line = generated.stdout.splitlines()
    key = key_line.split()[-1]
    assert len(key) > 40 and hash_line.split()[-1] == hash_key(key)


def failed_start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``lms-gateway serve`` under ``env``, which must refuse to start (exit status 2)."""
    result = subprocess.run(
        [*console_script(), "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2, result.stderr
    return result


def test_the_simulator_command_sets_its_hourly_and_burst_limits(clean_env):
    # Load tests need more than 2,000 calls an hour; --burst-limit 2 makes the cap visible.
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["simulator", "--port", str(port), "--hourly-limit", "5", "--burst-limit", "2"]
    key = SimulatorConfig().api_key
    with (
        running(args, clean_env, f"{base}/_simulator/health"),
        httpx.Client(base_url=f"{base}/api/v1", auth=(key, ""), timeout=10) as api,
    ):
        quota = api.get("/ratelimit").json()
        statuses = [api.get("/courses").status_code for _ in range(3)]
        retry_after = api.get("/courses").headers.get("retry-after")
    assert quota["limit"] == "5"
    assert statuses == [200, 200, 429]  # the third call in 5 s is over the burst cap
    assert retry_after is not None and int(retry_after) >= 1
