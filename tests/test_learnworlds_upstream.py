"""The LearnWorlds client against the LearnWorlds simulator over real HTTP (uvicorn on
127.0.0.1, the gateway's own aiohttp transport): every read, the token's life as the school
sees it (``/_simulator/stats`` counts ``oauth2/access_token``; ``/_simulator/auth`` expires
tokens and rotates the secret), faults, the rate limit, and the runtime's wiring of a
LearnWorlds account (its guard, its token, the shared cache)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.config import (
    AccountConfig,
    LearnWorldsCredentials,
    LearnWorldsSettings,
    Settings,
    UpstreamSettings,
)
from gateway.errors import (
    ErrorCode,
    UpstreamAuthFailed,
    UpstreamNotFound,
    UpstreamRateLimited,
)
from gateway.providers.learnworlds.client import LearnWorldsAuth, LearnWorldsClient
from gateway.providers.learnworlds.provider import LearnWorldsProvider
from gateway.providers.learnworlds.school import LearnWorldsSchool
from gateway.runtime import Runtime, learnworlds_auths, upstream_guard
from gateway.simulator import FaultRule, LearnWorldsConfig, create_learnworlds_app
from gateway.tenancy.accounts import Tenancy
from gateway.upstream.breaker import CircuitBreaker
from gateway.upstream.cache import UpstreamCache
from gateway.upstream.guard import UpstreamGuard
from gateway.upstream.pacer import Pacer
from gateway.upstream.quota import QuotaTracker
from gateway.upstream.retry import RetryPolicy
from gateway.upstream.transport import upstream_http_client
from gateway.upstream.usage import UpstreamUsage
from tests.support import serve_over_http

pytestmark = pytest.mark.http

CONFIG = LearnWorldsConfig()  # the simulator's credentials


@contextmanager
def served(**options: Any) -> Iterator[tuple[Starlette, str]]:
    """A simulated school over HTTP: the app (its state) and the API URL to configure."""
    app = create_learnworlds_app(LearnWorldsConfig(**options))
    with serve_over_http(app) as origin:
        yield app, f"{origin}/admin/api"


def stats(app: Starlette) -> dict[str, int]:
    return dict(app.state.stats.by_endpoint)


def guard(*, attempts: int = 3, max_calls: int = 1000, window: float = 10.0) -> UpstreamGuard:
    return UpstreamGuard(
        retry=RetryPolicy(attempts=attempts, base_delay=0.0, max_delay=0.0),
        breaker=CircuitBreaker(service="LearnWorlds"),
        pacer=Pacer(max_calls=max_calls, window=window, service="LearnWorlds"),
        quota=QuotaTracker(),
        rng=random.Random(0),
    )


class School:
    """One account's long-lived pieces, and a client per operation."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, auth: LearnWorldsAuth) -> None:
        self.http = http
        self.base_url = base_url
        self.auth = auth
        self.guard: UpstreamGuard | None = guard()

    def client(self, usage: UpstreamUsage | None = None) -> LearnWorldsClient:
        return LearnWorldsClient(
            self.http,
            base_url=self.base_url,
            auth=self.auth,
            usage=usage or UpstreamUsage(),
            guard=self.guard,
            account_id="school",
        )


@asynccontextmanager
async def school(base_url: str, **auth_options: Any) -> AsyncIterator[School]:
    if "access_token" not in auth_options:
        auth_options.setdefault("client_secret", CONFIG.client_secret)
    auth = LearnWorldsAuth(
        client_id=CONFIG.client_id, token_url=f"{base_url}/oauth2/access_token", **auth_options
    )
    async with upstream_http_client(UpstreamSettings()) as http:
        yield School(http, base_url, auth)


async def admin(app_url: str, body: dict[str, Any]) -> dict[str, Any]:
    origin = app_url.removesuffix("/admin/api")
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{origin}/_simulator/auth", json=body)
    response.raise_for_status()
    return dict(response.json())


async def test_every_read_against_the_simulated_school() -> None:
    with served(rate_limit=0) as (app, base_url):
        data = app.state.school
        learner = next(u for u in data.users if data.user_enrollments(u.id) and not u.suspended)
        idle = next(u for u in data.users if not data.user_enrollments(u.id) and not u.suspended)
        suspended = next(u for u in data.users if u.suspended)
        enrollment = data.user_enrollments(learner.id)[0]
        empty = next(g for g in data.groups if not data.group_members(g.id))
        full = next(g for g in data.groups if data.group_members(g.id))
        async with school(base_url) as lw:
            usage = UpstreamUsage()
            api = lw.client(usage)
            users = await api.users()
            assert len(users) == len(data.users) - 3  # suspended users are hidden
            assert len(await api.users([("include_suspended", "true")])) == len(data.users)
            page = await api.users_page(1)
            assert (page.meta.page, page.meta.total_pages, page.meta.items_per_page) == (1, 1, 200)
            assert (await api.user(learner.email))["id"] == learner.id
            with pytest.raises(UpstreamNotFound):
                await api.user(suspended.id)
            assert (await api.user(suspended.id, include_suspended=True))["is_suspended"]
            courses = await api.user_courses(learner.id, user_exists=True)
            assert enrollment.course_id in {row["course"]["id"] for row in courses}
            progress = await api.user_progress(learner.id, user_exists=True)
            assert len(progress) == len(courses)
            assert await api.user_progress(idle.id, user_exists=True) == []
            one = await api.user_course_progress(learner.id, enrollment.course_id)
            assert one["status"] in ("not_started", "not_completed", "completed")
            assert isinstance(await api.user_user_groups(learner.id), list)
            catalog = await api.courses()
            assert len(catalog) == len(data.courses)
            slug = catalog[0]["id"]
            assert (await api.course(slug))["id"] == slug
            assert (await api.course_contents(slug))["sections"]
            assert isinstance(await api.course_users(slug, course_exists=True), list)
            assert len(await api.user_groups()) == len(data.groups)
            assert (await api.user_group(full.id))["id"] == full.id
            assert len(await api.user_group_users(full.id)) == len(data.group_members(full.id))
            assert await api.user_group_users(empty.id, group_exists=True) == []
            with pytest.raises(UpstreamNotFound) as unknown:
                await api.course("no-such-course")
            assert unknown.value.code == ErrorCode.NOT_FOUND
    counted = stats(app)
    assert counted.pop("oauth2/access_token") == 1  # one token for the whole run
    assert counted == {k: v for k, v in usage.by_endpoint.items() if k != "oauth2/access_token"}


async def test_one_token_for_many_concurrent_operations() -> None:
    with served(rate_limit=0, latency_ms=20) as (app, base_url):
        slug = app.state.school.courses[0].id
        async with school(base_url) as lw:
            clients = [lw.client() for _ in range(6)]
            await asyncio.gather(*(c.course(slug) for c in clients for _ in range(5)))
    assert stats(app) == {"oauth2/access_token": 1, "courses/{id}": 30}


async def test_a_token_is_renewed_before_it_expires() -> None:
    now = [0.0]
    with served(rate_limit=0) as (app, base_url):
        slug = app.state.school.courses[0].id
        async with school(base_url, clock=lambda: now[0]) as lw:
            await lw.client().course(slug)
            now[0] = CONFIG.token_lifetime - 30  # inside the 60 s margin
            await lw.client().course(slug)
    # Renewed before the call: no call ever went out with a token about to expire.
    assert stats(app) == {"oauth2/access_token": 2, "courses/{id}": 2}


async def test_token_expiry_mid_operation_costs_one_renewal_and_one_retry() -> None:
    with served(rate_limit=0) as (app, base_url):
        slug = app.state.school.courses[0].id
        async with school(base_url) as lw:
            usage = UpstreamUsage()
            api = lw.client(usage)
            await api.course(slug)
            await admin(base_url, {"expire": "issued"})
            assert (await api.course_contents(slug))["id"] == slug
            # The simulator's own fault: the token expires on this very call.
            app.state.faults.replace(
                [FaultRule(kind="expired_token", endpoint="courses/{id}", times=1)]
            )
            assert (await api.course(slug))["id"] == slug
    assert stats(app) == {
        "oauth2/access_token": 3,
        "courses/{id}": 3,
        "courses/{id}/contents": 2,
    }
    assert usage.by_endpoint == stats(app)


async def test_a_rotated_client_secret_is_a_coded_error_without_a_loop() -> None:
    with served(rate_limit=0) as (app, base_url):
        slug = app.state.school.courses[0].id
        async with school(base_url) as lw:
            await lw.client().course(slug)
            await admin(base_url, {"client_secret": "rotated-secret"})
            with pytest.raises(UpstreamAuthFailed) as caught:
                await lw.client().course(slug)
            assert caught.value.code == ErrorCode.UPSTREAM_AUTH_FAILED
            assert "invalid_client" in caught.value.message
            assert CONFIG.client_secret not in caught.value.message
            assert lw.guard is not None and lw.guard.breaker.state == "closed"
    assert stats(app) == {"oauth2/access_token": 2, "courses/{id}": 2}


async def test_revoked_credentials_are_a_coded_error() -> None:
    revoked = [{"kind": "revoked_key", "endpoint": "oauth2/access_token"}]
    with served(rate_limit=0, faults=revoked) as (app, base_url):
        async with school(base_url) as lw:
            with pytest.raises(UpstreamAuthFailed):
                await lw.client().courses()
    assert stats(app) == {"oauth2/access_token": 1}


async def test_a_static_token_makes_no_token_call_until_it_is_revoked() -> None:
    with served(rate_limit=0) as (app, base_url):
        slug = app.state.school.courses[0].id
        async with school(base_url, access_token=CONFIG.static_token) as lw:
            await lw.client().course(slug)
            await admin(base_url, {"expire": "static"})
            with pytest.raises(UpstreamAuthFailed, match="static access token"):
                await lw.client().course(slug)
    assert stats(app) == {"courses/{id}": 2}


async def test_a_429_burst_is_rate_limited_without_a_retry_storm() -> None:
    # Pacing off: the school's own limit (4 calls a second here) answers the burst.
    with served(rate_limit=4, rate_window=1.0) as (app, base_url):
        slug = app.state.school.courses[0].id
        async with school(base_url) as lw:
            lw.guard = guard(attempts=2)
            results = await asyncio.gather(
                *(lw.client().course(slug) for _ in range(12)), return_exceptions=True
            )
    refused = [r for r in results if isinstance(r, Exception)]
    assert refused and all(isinstance(r, UpstreamRateLimited) for r in refused)
    assert {r.code for r in refused} == {ErrorCode.UPSTREAM_RATE_LIMITED}
    counted = stats(app)
    assert counted["oauth2/access_token"] == 1
    assert counted["courses/{id}"] <= 12 * 2  # each read tried at most twice


@pytest.mark.slow
async def test_pacing_at_the_schools_limit_avoids_the_429s() -> None:
    # The same burst paced at the school's limit: every call answered, none refused.
    with served(rate_limit=6, rate_window=0.5) as (app, base_url):
        slug = app.state.school.courses[0].id
        async with school(base_url) as lw:
            lw.guard = guard(attempts=1, max_calls=6, window=0.5)
            usage = UpstreamUsage()
            results = await asyncio.gather(*(lw.client(usage).course(slug) for _ in range(14)))
    assert {r["id"] for r in results} == {slug}
    assert stats(app) == {"oauth2/access_token": 1, "courses/{id}": 14}
    assert usage.retries == 0


# --- the runtime's wiring ----------------------------------------------------------------------


async def test_the_runtime_wires_a_learnworlds_account_to_its_client_and_provider() -> None:
    with served(rate_limit=0) as (app, base_url):
        slug = app.state.school.courses[0].id
        account = AccountConfig(
            id="school",
            provider="learnworlds",
            base_url=base_url,
            learnworlds=LearnWorldsCredentials(
                client_id=CONFIG.client_id, client_secret=CONFIG.client_secret
            ),
        )
        settings = Settings(learnworlds=LearnWorldsSettings())
        tenancy = Tenancy(accounts={"school": account})
        runtime = Runtime(
            settings=settings,
            tenancy=tenancy,
            schema=None,  # type: ignore[arg-type]  # not needed to build clients
            simulator=None,
            schools={"school": LearnWorldsSchool(account)},
            guards={"school": upstream_guard(settings, account)},
            auths=learnworlds_auths(settings, tenancy),
            cache=UpstreamCache.from_settings(settings.cache),
        )
        assert runtime.guards["school"].pacer.snapshot()["maxCalls"] == 30
        async with upstream_http_client(settings.upstream) as http:
            runtime.http = http
            first, second = UpstreamUsage(), UpstreamUsage()
            one = runtime.upstream_client(account, usage=first)
            two = runtime.upstream_client(account, usage=second)
            assert isinstance(one, LearnWorldsClient) and isinstance(two, LearnWorldsClient)
            await one.course_contents(slug)
            await two.course_contents(slug)  # the shared cache, and the account's token
            await runtime.probe(account)  # /readyz's probe: one call, outside the cache
            context = runtime.context_for(account)
            assert isinstance(context.provider, LearnWorldsProvider)
            assert context.provider.cost_table.record_bounds() == {}
            runtime.http = None
    assert first.by_endpoint == {"oauth2/access_token": 1, "courses/{id}/contents": 1}
    assert second.by_endpoint == {} and second.cache_hits == {"courses/{id}/contents": 1}
    assert stats(app) == {"oauth2/access_token": 1, "courses/{id}/contents": 1, "courses": 1}


@pytest.mark.parametrize("credential", ["client_secret", "static_token"])
def test_a_school_from_the_environment_alone_is_served_over_http(
    clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, credential: str
) -> None:
    from gateway.app import create_app

    query = "{ users(first: 3) { nodes { remoteId name enrollments { nodes { status } } } } }"
    with served(rate_limit=0) as (school_app, api_url):
        monkeypatch.setenv("LMS_GATEWAY_LEARNWORLDS_URL", api_url)
        monkeypatch.setenv("LMS_GATEWAY_LEARNWORLDS_CLIENT_ID", CONFIG.client_id)
        if credential == "client_secret":
            monkeypatch.setenv("LMS_GATEWAY_LEARNWORLDS_CLIENT_SECRET", CONFIG.client_secret)
        else:
            assert CONFIG.static_token is not None
            monkeypatch.setenv("LMS_GATEWAY_LEARNWORLDS_ACCESS_TOKEN", CONFIG.static_token)
        with serve_over_http(create_app(Settings())) as gateway:
            response = httpx.post(f"{gateway}/graphql", json={"query": query}, timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    users = school_app.state.school.users[:3]
    nodes = body["data"]["users"]["nodes"]
    assert [n["remoteId"] for n in nodes] == [u.id for u in users]
    for node, user in zip(nodes, users, strict=True):
        enrolled = school_app.state.school.user_enrollments(user.id)
        assert len(node["enrollments"]["nodes"]) == len(enrolled)
    # One users page, each user's courses, the progress of those enrolled somewhere; a token
    # call only with the client secret (a static token is used as it is).
    with_courses = sum(1 for u in users if school_app.state.school.user_enrollments(u.id))
    expected = {"users": 1, "users/{id}/courses": 3}
    if with_courses:
        expected["users/{id}/progress"] = with_courses
    if credential == "client_secret":
        expected["oauth2/access_token"] = 1
    assert stats(school_app) == expected
    assert body["extensions"]["upstream"]["byEndpoint"] == expected
