"""The LearnWorlds HTTP client on hand-written answers (no simulator): headers, the token's
life (one token call for many callers, renewal before expiry, one renewal and one retry on a
401), the error bodies of docs/learnworlds-mapping.md, the list envelope and its paging, and
the same guard and cache as TalentLMS. The bodies are the reference's (§1–§5), not the
simulator's; tests/test_learnworlds_upstream.py runs the client against the simulator over
real HTTP."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from gateway.config import AccountConfig, LearnWorldsCredentials, PaceLimit, Settings, TokenEncoding
from gateway.errors import (
    CircuitOpen,
    ErrorCode,
    UpstreamAuthFailed,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamForbidden,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamRejected,
)
from gateway.providers.learnworlds.client import (
    TOKEN_ENDPOINT,
    LearnWorldsAuth,
    LearnWorldsClient,
    error_for_response,
    read_list_envelope,
)
from gateway.runtime import upstream_guard
from gateway.upstream.breaker import CircuitBreaker
from gateway.upstream.cache import MemoryCacheStore, UpstreamCache
from gateway.upstream.guard import UpstreamGuard
from gateway.upstream.pacer import Pacer
from gateway.upstream.quota import QuotaTracker
from gateway.upstream.retry import RetryPolicy
from gateway.upstream.usage import UpstreamUsage

pytestmark = pytest.mark.unit

BASE = "https://school.learnworlds.com/admin/api"
CLIENT_ID = "64b7f0c2a1e4d93b2c0f1a00"
SECRET = "s3cret-client-secret"
STATIC = "static-admin-panel-token"

Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


def token_answer(token: str, expires_in: object = 8000) -> httpx.Response:
    """The token call's answer, as O5 and every working client read it (reference §1)."""
    data: dict[str, Any] = {"access_token": token, "token_type": "Bearer"}
    if expires_in is not None:
        data["expires_in"] = expires_in
    return httpx.Response(200, json={"tokenData": data, "errors": [], "success": True})


def shape1(status: int, context: str | None, message: str, code: object = None) -> httpx.Response:
    error = {"code": str(status) if code is None else code, "context": context, "message": message}
    return httpx.Response(status, json={"errors": [error], "success": False})


def shape2(status: int, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error": message}, headers=headers)


def envelope(rows: list[Any], page: int, pages: int, total: int, size: int) -> httpx.Response:
    meta = {"page": page, "totalItems": total, "totalPages": pages, "itemsPerPage": size}
    return httpx.Response(200, json={"data": rows, "meta": meta})


def token_fields(request: httpx.Request) -> dict[str, Any]:
    """The token call's three fields, in whichever encoding they came."""
    body = request.content.decode()
    if request.headers.get("content-type", "").startswith("application/json"):
        return dict(json.loads(body))
    form = {key: values[0] for key, values in parse_qs(body).items()}
    return dict(json.loads(form["data"])) if set(form) == {"data"} else form


class School:
    """A scripted LearnWorlds school: ``routes`` answer API paths (below ``/admin/api/v2/``),
    tokens are issued as ``token-1``, ``token-2``…, and ``valid`` decides which are accepted.
    Every request is kept."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.tokens = 0
        self.valid: set[str] = set()
        self.static = STATIC
        self.expires_in: object = 8000
        self.token_delay = 0.0
        self.call_delay = 0.0
        self.token_override: Callable[[httpx.Request], httpx.Response | None] | None = None
        self.routes: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self.transport = httpx.MockTransport(self.handle)

    @property
    def token_calls(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith("/" + TOKEN_ENDPOINT)]

    @property
    def api_calls(self) -> list[httpx.Request]:
        return [r for r in self.requests if "/v2/" in r.url.path]

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/" + TOKEN_ENDPOINT):
            if self.token_delay:
                await asyncio.sleep(self.token_delay)
            override = self.token_override(request) if self.token_override else None
            if override is not None:
                return override
            self.tokens += 1
            token = f"token-{self.tokens}"
            self.valid.add(token)
            return token_answer(token, self.expires_in)
        if self.call_delay:
            await asyncio.sleep(self.call_delay)
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if bearer not in self.valid and bearer != self.static:
            return shape1(401, "access_denied", "The resource owner denied the request.")
        path = request.url.raw_path.decode().split("?")[0].split("/v2/", 1)[1]
        route = self.routes.get(path)
        if route is None:
            return shape2(404, "Sorry the resource your trying to access does not exist.")
        return route(request)


def auth(**options: Any) -> LearnWorldsAuth:
    options.setdefault("client_secret", None if "access_token" in options else SECRET)
    return LearnWorldsAuth(client_id=CLIENT_ID, token_url=f"{BASE}/{TOKEN_ENDPOINT}", **options)


def guard(*, attempts: int = 3, max_calls: int = 1000) -> UpstreamGuard:
    return UpstreamGuard(
        retry=RetryPolicy(attempts=attempts, base_delay=0.0, max_delay=0.0),
        breaker=CircuitBreaker(failure_threshold=3, cool_down=30.0, service="LearnWorlds"),
        pacer=Pacer(max_calls=max_calls, window=10.0, service="LearnWorlds"),
        quota=QuotaTracker(),
        rng=random.Random(0),
    )


class Harness:
    """What lives as long as the app (the school's auth, guard and cache, one HTTP client)
    and a new ``LearnWorldsClient`` per operation, as the runtime builds them."""

    def __init__(self, school: School, http: httpx.AsyncClient, **auth_options: Any) -> None:
        self.school = school
        self.http = http
        self.auth = auth(**auth_options)
        self.guard: UpstreamGuard | None = None
        self.cache: UpstreamCache | None = None

    def client(self, usage: UpstreamUsage | None = None, **options: Any) -> LearnWorldsClient:
        return LearnWorldsClient(
            self.http,
            base_url=BASE,
            auth=self.auth,
            usage=usage or UpstreamUsage(),
            guard=self.guard,
            cache=self.cache,
            cache_scope="school",
            **options,
        )


@pytest.fixture
async def school() -> Any:
    yield School()


@pytest.fixture
async def harness(school: School) -> Any:
    async with httpx.AsyncClient(transport=school.transport) as http:
        yield Harness(school, http)


def course_route(request: httpx.Request) -> httpx.Response:
    slug = request.url.raw_path.decode().split("/v2/courses/", 1)[1]
    return httpx.Response(200, json={"id": slug, "title": "Intro"})


# --- headers and the token call -------------------------------------------------------------


async def test_every_call_carries_lw_client_and_the_bearer_token(harness: Harness) -> None:
    harness.school.routes["courses/intro-to-statistics"] = course_route
    course = await harness.client().course("intro-to-statistics")
    assert course == {"id": "intro-to-statistics", "title": "Intro"}
    token_call, call = harness.school.requests
    assert token_call.method == "POST"
    assert str(token_call.url) == f"{BASE}/oauth2/access_token"
    assert token_call.headers["lw-client"] == CLIENT_ID
    assert "authorization" not in token_call.headers  # there is no token yet
    # The encoding most working clients use: a form field `data` holding the JSON object.
    assert token_call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert set(parse_qs(token_call.content.decode())) == {"data"}
    assert token_fields(token_call) == {
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "grant_type": "client_credentials",
    }
    assert str(call.url) == f"{BASE}/v2/courses/intro-to-statistics"
    assert call.headers["lw-client"] == CLIENT_ID
    assert call.headers["authorization"] == "Bearer token-1"
    assert call.headers["accept"] == "application/json"


def test_the_client_id_is_required_for_the_lw_client_header() -> None:
    with pytest.raises(ValueError, match="Lw-Client"):
        LearnWorldsAuth(client_id=" ", token_url=f"{BASE}/x", client_secret=SECRET)
    with pytest.raises(ValueError, match="client id"):
        LearnWorldsCredentials(client_id="", client_secret=SECRET)
    with pytest.raises(ValueError, match="exactly one"):
        LearnWorldsAuth(client_id=CLIENT_ID, token_url=f"{BASE}/x")


async def test_a_missing_or_unknown_client_id_is_an_auth_error_not_a_token_renewal(
    harness: Harness,
) -> None:
    # C8 (live): a call without a known Lw-Client is a 400 with context client_id.
    harness.school.routes["courses"] = lambda _: shape1(
        400, "client_id", "Missing client_id or client cannot be found.", code=400
    )
    with pytest.raises(UpstreamAuthFailed) as caught:
        await harness.client().courses()
    assert caught.value.code == ErrorCode.UPSTREAM_AUTH_FAILED
    assert "client id (Lw-Client)" in caught.value.message
    assert len(harness.school.token_calls) == 1 and len(harness.school.api_calls) == 1


async def test_one_token_call_for_many_concurrent_callers(harness: Harness) -> None:
    harness.school.token_delay = 0.02  # every caller arrives while the token call is out
    harness.school.routes["courses/intro"] = course_route
    clients = [harness.client() for _ in range(5)]  # five operations, ten calls each
    results = await asyncio.gather(*(c.course("intro") for c in clients for _ in range(10)))
    assert len(results) == 50
    assert len(harness.school.token_calls) == 1
    assert {r.headers["authorization"] for r in harness.school.api_calls} == {"Bearer token-1"}


async def test_the_token_is_renewed_a_margin_before_it_expires(school: School) -> None:
    now = [1000.0]
    school.routes["courses/intro"] = course_route
    async with httpx.AsyncClient(transport=school.transport) as http:
        harness = Harness(school, http, margin=60.0, clock=lambda: now[0])
        await harness.client().course("intro")
        now[0] += 8000 - 61  # a second before the margin: the token is kept
        await harness.client().course("intro")
        assert len(school.token_calls) == 1
        now[0] += 2  # inside the margin: renewed before the call, which never sees a 401
        await harness.client().course("intro")
    assert len(school.token_calls) == 2
    assert [r.headers["authorization"] for r in school.api_calls] == [
        "Bearer token-1",
        "Bearer token-1",
        "Bearer token-2",
    ]


@pytest.mark.parametrize("expires_in", [None, "soon", 0, -5, True])
async def test_a_token_without_a_usable_lifetime_lives_the_configured_default(
    school: School, expires_in: object
) -> None:
    now = [0.0]
    school.expires_in = expires_in
    school.routes["courses/intro"] = course_route
    async with httpx.AsyncClient(transport=school.transport) as http:
        harness = Harness(school, http, default_lifetime=3600.0, margin=60.0, clock=lambda: now[0])
        await harness.client().course("intro")
        now[0] = 3539
        await harness.client().course("intro")
        assert len(school.token_calls) == 1
        now[0] = 3541
        await harness.client().course("intro")
    assert len(school.token_calls) == 2


async def test_a_short_lived_token_is_not_renewed_on_every_call(school: School) -> None:
    now = [0.0]
    school.expires_in = 30  # shorter than the margin: renewed at half its life instead
    school.routes["courses/intro"] = course_route
    async with httpx.AsyncClient(transport=school.transport) as http:
        harness = Harness(school, http, margin=60.0, clock=lambda: now[0])
        for moment in (0.0, 5.0, 14.0):
            now[0] = moment
            await harness.client().course("intro")
        assert len(school.token_calls) == 1
        now[0] = 15.0
        await harness.client().course("intro")
    assert len(school.token_calls) == 2


async def test_an_expired_token_gets_one_renewal_and_one_retry(harness: Harness) -> None:
    harness.school.routes["courses/intro"] = course_route
    usage = UpstreamUsage()
    client = harness.client(usage)
    await client.course("intro")
    harness.school.valid.clear()  # token-1 expires mid-operation
    assert await client.course("intro") == {"id": "intro", "title": "Intro"}
    assert len(harness.school.token_calls) == 2
    assert [r.headers["authorization"] for r in harness.school.api_calls] == [
        "Bearer token-1",
        "Bearer token-1",
        "Bearer token-2",
    ]
    assert usage.by_endpoint == {"oauth2/access_token": 2, "courses/{id}": 3}


async def test_a_401_after_the_renewal_is_an_auth_error_never_a_loop(harness: Harness) -> None:
    harness.school.routes["courses/intro"] = lambda _: shape1(401, None, "Invalid object ID")
    with pytest.raises(UpstreamAuthFailed) as caught:
        await harness.client().course("intro")
    assert caught.value.code == ErrorCode.UPSTREAM_AUTH_FAILED
    assert "just issued" in caught.value.message
    assert len(harness.school.api_calls) == 2 and len(harness.school.token_calls) == 2


async def test_callers_rejected_together_share_one_renewal(harness: Harness) -> None:
    harness.school.routes["courses/intro"] = course_route
    clients = [harness.client() for _ in range(8)]
    await clients[0].course("intro")
    harness.school.valid.clear()
    harness.school.call_delay = 0.01  # the eight calls are out together when they fail
    harness.school.token_delay = 0.02
    await asyncio.gather(*(c.course("intro") for c in clients))
    assert len(harness.school.token_calls) == 2
    # Each call once with the expired token, once with the new one: no more.
    assert len(harness.school.api_calls) == 1 + 8 + 8


async def test_a_revoked_client_secret_is_an_auth_error_after_one_token_call(
    harness: Harness,
) -> None:
    harness.school.routes["courses/intro"] = course_route
    client = harness.client()
    await client.course("intro")
    harness.school.valid.clear()
    harness.school.token_override = lambda _: shape1(
        401, "invalid_client", "Client authentication failed"
    )
    with pytest.raises(UpstreamAuthFailed) as caught:
        await client.course("intro")
    assert caught.value.code == ErrorCode.UPSTREAM_AUTH_FAILED
    assert caught.value.endpoint == TOKEN_ENDPOINT
    assert "invalid_client" in caught.value.message and SECRET not in caught.value.message
    assert len(harness.school.token_calls) == 2  # no retry of a refused token call
    assert len(harness.school.api_calls) == 2


async def test_a_static_token_makes_no_token_call_and_cannot_be_renewed(school: School) -> None:
    school.routes["courses/intro"] = course_route
    async with httpx.AsyncClient(transport=school.transport) as http:
        harness = Harness(school, http, access_token=STATIC)
        assert harness.auth.static and "static" in repr(harness.auth)
        assert STATIC not in repr(harness.auth)
        await harness.client().course("intro")
        assert school.api_calls[0].headers["authorization"] == f"Bearer {STATIC}"
        school.static = "revoked"
        with pytest.raises(UpstreamAuthFailed) as caught:
            await harness.client().course("intro")
    assert "static access token" in caught.value.message
    assert school.token_calls == [] and len(school.api_calls) == 2


# --- the token call's body encodings --------------------------------------------------------


def refuses(*encodings: str) -> Callable[[httpx.Request], httpx.Response | None]:
    def answer(request: httpx.Request) -> httpx.Response | None:
        content_type = request.headers.get("content-type", "")
        body = request.content.decode()
        encoding = (
            "json"
            if content_type.startswith("application/json")
            else "data"
            if body.startswith("data=")
            else "form"
        )
        if encoding in encodings:
            return shape1(400, "invalid_request", "The request is missing a required parameter")
        return None

    return answer


async def test_auto_tries_the_next_encoding_on_a_400_and_keeps_the_one_that_worked(
    school: School,
) -> None:
    school.token_override = refuses("data")
    school.routes["courses/intro"] = course_route
    async with httpx.AsyncClient(transport=school.transport) as http:
        harness = Harness(school, http)
        await harness.client().course("intro")
        assert [token_fields(r)["grant_type"] for r in school.token_calls] == [
            "client_credentials"
        ] * 2
        assert school.token_calls[1].content.decode().startswith("client_id=")  # plain form
        school.valid.clear()
        await harness.client().course("intro")  # the renewal goes straight to the form
    assert len(school.token_calls) == 3
    assert school.token_calls[2].content.decode().startswith("client_id=")


async def test_a_configured_encoding_is_the_only_one_tried(school: School) -> None:
    school.token_override = refuses("json")
    async with httpx.AsyncClient(transport=school.transport) as http:
        harness = Harness(school, http, encoding=TokenEncoding.JSON)
        with pytest.raises(UpstreamAuthFailed) as caught:
            await harness.client().course("intro")
    assert len(school.token_calls) == 1
    assert school.token_calls[0].headers["content-type"] == "application/json"
    assert "token_encoding" in caught.value.message


async def test_a_token_400_about_the_client_id_tries_no_other_encoding(school: School) -> None:
    school.token_override = lambda _: shape1(
        400, "client_id", "Missing client_id or client cannot be found.", code=400
    )
    async with httpx.AsyncClient(transport=school.transport) as http:
        with pytest.raises(UpstreamAuthFailed) as caught:
            await Harness(school, http).client().courses()
    assert len(school.token_calls) == 1 and school.api_calls == []
    assert "client_id" in caught.value.message


@pytest.mark.parametrize(
    ("answer", "error", "fragment"),
    [
        (httpx.Response(200, json={"success": True}), UpstreamBadResponse, "tokenData"),
        (httpx.Response(200, text="<html>"), UpstreamBadResponse, "not JSON"),
        (
            httpx.Response(200, json={"tokenData": None, "errors": ["no"], "success": False}),
            UpstreamAuthFailed,
            "did not issue a token",
        ),
        (
            shape2(404, "Sorry the resource your trying to access does not exist."),
            UpstreamBadResponse,
            "token URL",
        ),
        (httpx.Response(404, text="Not Found"), UpstreamBadResponse, "token URL"),
        (shape2(500, "Server Error"), UpstreamError, "Server Error"),
        (shape2(429, "Too many requests"), UpstreamRateLimited, "Too many requests"),
    ],
)
async def test_token_call_failures(school: School, answer, error, fragment) -> None:
    school.token_override = lambda _: answer
    async with httpx.AsyncClient(transport=school.transport) as http:
        harness = Harness(school, http)
        harness.guard = guard()
        with pytest.raises(error) as caught:
            await harness.client().course("intro")
    assert fragment in caught.value.message
    assert len(school.token_calls) == 1  # the token call is never retried blindly
    assert school.api_calls == []


async def test_a_top_level_access_token_is_read_too(school: School) -> None:
    school.token_override = lambda _: httpx.Response(
        200, json={"access_token": "flat", "expires_in": "900"}
    )
    school.valid.add("flat")
    school.routes["courses/intro"] = course_route
    async with httpx.AsyncClient(transport=school.transport) as http:
        await Harness(school, http).client().course("intro")
    assert school.api_calls[0].headers["authorization"] == "Bearer flat"


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "headers", "error", "code", "fragment"),
    [
        # Shape 1, code as a string (the spec) or a number (C3, C8), context null (O1).
        (
            401,
            {
                "errors": [{"code": "401", "context": None, "message": "Invalid object ID"}],
                "success": False,
            },
            {},
            UpstreamAuthFailed,
            "UPSTREAM_AUTH_FAILED",
            "Invalid object ID",
        ),
        (
            403,
            {
                "errors": [{"code": 403, "context": "access_denied", "message": "No access"}],
                "success": False,
            },
            {},
            UpstreamForbidden,
            "UPSTREAM_AUTH_FAILED",
            "No access",
        ),
        (
            400,
            {
                "errors": [
                    {
                        "code": 400,
                        "context": "client_id",
                        "message": "Missing client_id or client cannot be found.",
                    }
                ],
                "success": False,
            },
            {},
            UpstreamAuthFailed,
            "UPSTREAM_AUTH_FAILED",
            "Lw-Client",
        ),
        # Shape 2.
        (
            404,
            {"error": "Sorry the resource your trying to access does not exist."},
            {},
            UpstreamNotFound,
            "NOT_FOUND",
            "does not exist",
        ),
        (404, {"error": "Users not found"}, {}, UpstreamNotFound, "NOT_FOUND", "Users not found"),
        (
            429,
            {"error": "Too many requests"},
            {},
            UpstreamRateLimited,
            "UPSTREAM_RATE_LIMITED",
            "Too many requests",
        ),
        (500, {"error": "Server Error"}, {}, UpstreamError, "UPSTREAM_ERROR", "Server Error"),
        (
            422,
            {"error": "The email has already been taken."},
            {},
            UpstreamRejected,
            "UPSTREAM_ERROR",
            "already been taken",
        ),
        # Shape 3, the spec's reusable responses.
        (
            422,
            {
                "statusCode": 422,
                "error": "Validation Failed",
                "message": "email is invalid",
                "errors": {"email": [{"0": "invalid"}]},
            },
            {},
            UpstreamRejected,
            "UPSTREAM_ERROR",
            "Validation Failed: email is invalid",
        ),
        (
            401,
            {"statusCode": 401, "error": "Not Authorized"},
            {},
            UpstreamAuthFailed,
            "UPSTREAM_AUTH_FAILED",
            "Not Authorized",
        ),
        (
            404,
            {"statusCode": 404, "error": "Not Found"},
            {},
            UpstreamNotFound,
            "NOT_FOUND",
            "Not Found",
        ),
        # No JSON at all.
        (404, None, {}, UpstreamBadResponse, "UPSTREAM_ERROR", "/admin/api"),
        (502, None, {}, UpstreamError, "UPSTREAM_ERROR", "HTTP 502"),
        (401, None, {}, UpstreamAuthFailed, "UPSTREAM_AUTH_FAILED", "HTTP 401"),
        (418, None, {}, UpstreamRejected, "UPSTREAM_ERROR", "HTTP 418"),
    ],
)
def test_every_error_body_shape_maps_onto_the_error_tree(
    status, body, headers, error, code, fragment
) -> None:
    found = error_for_response(status, body, "users/{id}", headers)
    assert type(found) is error or (error is UpstreamAuthFailed and isinstance(found, error))
    assert found.code == code
    assert fragment in found.message
    assert (found.provider, found.endpoint, found.status_code) == (
        "learnworlds",
        "users/{id}",
        status,
    )


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("7", 7.0), ("2.5", 2.5), ("0", 0.0), ("date", 90.0), ("soon", None), (None, None)],
)
def test_retry_after_is_read_when_present(value, seconds) -> None:
    if value == "date":  # an HTTP date 90 s from now
        value = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    headers = {} if value is None else {"Retry-After": value}
    error = error_for_response(429, {"error": "Too many requests"}, "users", httpx.Headers(headers))
    assert isinstance(error, UpstreamRateLimited)
    if seconds is None:
        assert error.retry_after is None
    else:
        assert error.retry_after == pytest.approx(seconds, abs=2)


async def test_a_non_json_success_is_a_bad_response_and_a_204_is_none(harness: Harness) -> None:
    harness.school.routes["courses/a"] = lambda _: httpx.Response(200, text="<html>")
    harness.school.routes["courses/b"] = lambda _: httpx.Response(204)
    with pytest.raises(UpstreamBadResponse, match="not JSON"):
        await harness.client().course("a")
    assert await harness.client().course("b") is None


# --- the guard: retries, breaker, rate limits ---------------------------------------------------


async def test_reads_are_retried_on_5xx_through_the_shared_guard(harness: Harness) -> None:
    answers = iter([shape2(503, "Server Error"), shape2(502, "Server Error")])
    harness.school.routes["courses/intro"] = lambda r: next(answers, None) or course_route(r)
    harness.guard = guard(attempts=3)
    usage = UpstreamUsage()
    assert (await harness.client(usage).course("intro"))["id"] == "intro"
    assert usage.retries == 2
    assert usage.by_endpoint == {"oauth2/access_token": 1, "courses/{id}": 3}
    assert harness.guard.breaker.failures == 0


async def test_the_breaker_opens_on_a_failing_school_and_fails_fast(harness: Harness) -> None:
    harness.school.routes["courses/intro"] = lambda _: shape2(500, "Server Error")
    harness.guard = guard(attempts=1)
    for _ in range(3):
        with pytest.raises(UpstreamError):
            await harness.client().course("intro")
    calls = len(harness.school.api_calls)
    with pytest.raises(CircuitOpen) as caught:
        await harness.client().course("intro")
    assert caught.value.message.startswith("LearnWorlds is failing")
    assert len(harness.school.api_calls) == calls


async def test_a_429_burst_is_rate_limited_without_a_retry_storm(harness: Harness) -> None:
    harness.school.routes["courses/intro"] = lambda _: shape2(429, "Too many requests")
    harness.guard = guard(attempts=2)
    results = await asyncio.gather(
        *(harness.client().course("intro") for _ in range(10)), return_exceptions=True
    )
    assert all(isinstance(r, UpstreamRateLimited) for r in results)
    assert {r.code for r in results if isinstance(r, UpstreamRateLimited)} == {
        ErrorCode.UPSTREAM_RATE_LIMITED
    }
    assert len(harness.school.api_calls) == 10 * 2  # each read tried at most twice
    assert harness.guard.breaker.state == "closed"  # a 429 is an answer, not an outage


async def test_a_429_with_retry_after_holds_the_schools_calls(harness: Harness) -> None:
    harness.school.routes["courses/intro"] = lambda _: shape2(
        429, "Too many requests", **{"Retry-After": "20"}
    )
    harness.guard = guard(attempts=3)
    with pytest.raises(UpstreamRateLimited) as caught:
        await harness.client(deadline=time.monotonic() + 1.0).course("intro")
    assert caught.value.retry_after == 20.0
    assert len(harness.school.api_calls) == 1  # 20 s would outlast the deadline: no retry
    with pytest.raises(UpstreamRateLimited):  # held by the pacer: no call at all
        await harness.client(deadline=time.monotonic() + 1.0).course("intro")
    assert len(harness.school.api_calls) == 1


def test_a_learnworlds_account_is_paced_at_30_calls_in_10_seconds() -> None:
    settings = Settings()
    account = AccountConfig(
        id="school",
        provider="learnworlds",
        base_url=BASE,
        learnworlds=LearnWorldsCredentials(client_id=CLIENT_ID, client_secret=SECRET),
    )
    pacer = upstream_guard(settings, account).pacer.snapshot()
    assert (pacer["maxCalls"], pacer["windowSeconds"]) == (30, 10.0)
    own = AccountConfig(
        id="fast",
        provider="learnworlds",
        base_url=BASE,
        learnworlds=LearnWorldsCredentials(client_id=CLIENT_ID, client_secret=SECRET),
        pacing=PaceLimit(25, 10.0),
    )
    assert upstream_guard(settings, own).pacer.snapshot()["maxCalls"] == 25
    talentlms = AccountConfig(id="acme", provider="talentlms", base_url="https://a/api/v1")
    assert upstream_guard(settings, talentlms).pacer.snapshot()["maxCalls"] == 200


# --- the envelope and paging ---------------------------------------------------------------------


def users_pages(rows: list[dict[str, Any]], size: int) -> Callable[[httpx.Request], httpx.Response]:
    """``/v2/users`` over ``rows``, ``size`` a page; past the end the last page again (the
    spec's shared ``page`` text)."""
    pages = max(1, -(-len(rows) // size))

    def answer(request: httpx.Request) -> httpx.Response:
        page = min(int(request.url.params.get("page", "1")), pages)
        chunk = rows[(page - 1) * size : page * size]
        return envelope(chunk, page, pages, len(rows), size)

    return answer


async def test_a_list_is_read_across_all_its_pages(harness: Harness) -> None:
    rows = [{"id": f"{n:024x}", "email": f"u{n}@example.org"} for n in range(45)]
    harness.school.routes["users"] = users_pages(rows, 20)  # a school that ignores the size
    usage = UpstreamUsage()
    users = await harness.client(usage).users([("role", "user")])
    assert users == rows
    assert usage.by_endpoint["users"] == 3
    params = [dict(r.url.params) for r in harness.school.api_calls]
    assert sorted(p["page"] for p in params) == ["1", "2", "3"]
    assert {p["items_per_page"] for p in params} == {"200"}
    assert {p["role"] for p in params} == {"user"}


async def test_paging_stops_at_an_empty_page_and_drops_a_repeated_last_page(
    harness: Harness,
) -> None:
    rows = [{"id": str(n)} for n in range(3)]
    answers = {
        "1": envelope(rows[:2], 1, 3, 3, 2),
        "2": envelope(rows[2:], 2, 3, 3, 2),
        "3": envelope(rows[2:], 2, 3, 3, 2),  # the last page served again
    }
    harness.school.routes["user_groups"] = lambda r: answers[r.url.params["page"]]
    assert await harness.client().user_groups() == rows
    answers["2"] = envelope([], 2, 3, 3, 2)  # an empty page ends the list
    answers["3"] = envelope([{"id": "late"}], 3, 3, 3, 2)
    assert await harness.client().user_groups() == rows[:2]


async def test_a_row_a_shifted_page_repeats_is_kept_once(harness: Harness) -> None:
    answers = {
        "1": envelope([{"id": "a"}, {"id": "b"}], 1, 2, 4, 2),
        "2": envelope([{"id": "b"}, {"id": "c"}], 2, 2, 4, 2),  # a new user pushed "b" down
    }
    harness.school.routes["users"] = lambda r: answers[r.url.params["page"]]
    assert [u["id"] for u in await harness.client().users()] == ["a", "b", "c"]


async def test_a_list_without_meta_is_one_page(harness: Harness) -> None:
    members = [{"id": "u1"}, {"id": "u2"}]
    harness.school.routes["user_groups/g1/users"] = lambda _: httpx.Response(200, json=members)
    harness.school.routes["user-roles"] = lambda _: httpx.Response(200, json={"data": members})
    assert await harness.client().user_group_users("g1") == members
    assert len(harness.school.api_calls) == 1
    rows = await harness.client().read_all(("user-roles",), "user-roles")
    assert rows == members


async def test_a_404_on_a_sub_list_is_no_rows_only_when_the_parent_exists(
    harness: Harness,
) -> None:
    harness.school.routes["user_groups/g1/users"] = lambda _: shape2(404, "Users not found")
    assert await harness.client().user_group_users("g1", group_exists=True) == []
    with pytest.raises(UpstreamNotFound, match="Users not found"):
        await harness.client().user_group_users("g1")
    # A user with no enrollment (C9), and a filter nobody matches (C1).
    harness.school.routes["users/u1/progress"] = lambda _: shape2(404, "Sorry, not found")
    assert await harness.client().user_progress("u1", user_exists=True) == []
    harness.school.routes["users"] = lambda _: shape2(404, "Sorry, not found")
    assert await harness.client().users([("status", "suspended")]) == []
    # A 404 that is not the API's own answer is never "no rows".
    harness.school.routes["courses/c1/users"] = lambda _: httpx.Response(404, text="<html>")
    with pytest.raises(UpstreamBadResponse):
        await harness.client().course_users("c1", course_exists=True)


async def test_a_page_that_fails_fails_the_list(harness: Harness) -> None:
    answers = {
        "1": envelope([{"id": "a"}], 1, 3, 3, 1),
        "2": shape2(500, "Server Error"),
        "3": envelope([{"id": "c"}], 3, 3, 3, 1),
    }
    harness.school.routes["courses"] = lambda r: answers[r.url.params["page"]]
    with pytest.raises(UpstreamError, match="Server Error"):
        await harness.client().courses()


def test_the_envelope_reader() -> None:
    page = read_list_envelope(
        {
            "data": [{"id": "a"}],
            "meta": {"page": 1, "totalItems": 57, "totalPages": 3, "itemsPerPage": 20},
        }
    )
    assert page.rows == [{"id": "a"}]
    assert (page.meta.page, page.meta.total_pages, page.meta.items_per_page) == (1, 3, 20)
    assert not page.last and page.meta.total == 57
    # totalItems that cannot be the list's total (the spec calls it "items in this page").
    assert (
        read_list_envelope(
            {"data": [], "meta": {"page": 1, "totalItems": 20, "totalPages": 3, "itemsPerPage": 20}}
        ).meta.total
        is None
    )
    second_of_two = {"data": [{"id": "a"}], "meta": {"page": "2", "totalPages": 2.0}}
    assert read_list_envelope(second_of_two).last
    bare = read_list_envelope([{"id": "a"}, {"id": "b"}])
    assert bare.rows == [{"id": "a"}, {"id": "b"}] and bare.last
    assert read_list_envelope({"data": [{"id": "a"}]}).last
    with pytest.raises(UpstreamBadResponse):
        read_list_envelope({"data": {"user_groups": []}}, "user_groups")


# --- ids, paths and the other shapes ----------------------------------------------------------


async def test_ids_are_strings_and_emails_are_url_encoded_in_paths(harness: Harness) -> None:
    harness.school.routes["users/ann%2Bx%40example.org"] = lambda _: httpx.Response(
        200, json={"id": "u"}
    )
    assert await harness.client().user("ann+x@example.org") == {"id": "u"}
    with pytest.raises(UpstreamNotFound):
        await harness.client().course("../users/u1")  # a slug cannot add a path segment
    paths = [r.url.raw_path.decode() for r in harness.school.api_calls]
    assert paths == [
        "/admin/api/v2/users/ann%2Bx%40example.org",
        "/admin/api/v2/courses/..%2Fusers%2Fu1",
    ]


async def test_a_suspended_user_is_asked_for_explicitly(harness: Harness) -> None:
    harness.school.routes["users/u1"] = lambda r: httpx.Response(200, json=dict(r.url.params))
    assert await harness.client().user("u1") == {}
    assert await harness.client().user("u1", include_suspended=True) == {
        "include_suspended": "true"
    }


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"user_groups": [{"id": "g1", "title": "Partners"}]}},  # O1
        {"data": [{"id": "g1", "title": "Partners"}], "meta": {"page": 1, "totalPages": 1}},
        [{"id": "g1", "title": "Partners"}],  # O2: a bare array
        {"id": "g1", "title": "Partners"},  # O2: one object
    ],
)
async def test_a_users_groups_in_every_documented_shape(harness: Harness, body) -> None:
    harness.school.routes["users/u1/user-groups"] = lambda _: httpx.Response(200, json=body)
    assert await harness.client().user_user_groups("u1") == [{"id": "g1", "title": "Partners"}]


# --- the shared cache --------------------------------------------------------------------------


async def test_reads_are_cached_across_operations_and_the_token_never(harness: Harness) -> None:
    harness.school.routes["courses/intro/contents"] = lambda _: httpx.Response(
        200, json={"sections": []}
    )
    harness.cache = UpstreamCache(MemoryCacheStore())
    first, second = UpstreamUsage(), UpstreamUsage()
    await harness.client(first).course_contents("intro")
    await harness.client(second).course_contents("intro")
    assert first.by_endpoint == {"oauth2/access_token": 1, "courses/{id}/contents": 1}
    assert second.by_endpoint == {} and second.cache_hits == {"courses/{id}/contents": 1}
    assert harness.client().cached(("courses", "intro", "contents"), "courses/{id}/contents")
    fresh = UpstreamUsage()
    await harness.client(fresh, fresh=True).course_contents("intro")
    assert fresh.by_endpoint == {"courses/{id}/contents": 1}
    assert len(harness.school.token_calls) == 1


async def test_a_caller_that_goes_away_does_not_take_the_token_call_from_the_others(
    harness: Harness,
) -> None:
    harness.school.token_delay = 0.05
    harness.school.routes["courses/intro"] = course_route
    leaving = asyncio.ensure_future(harness.client().course("intro"))
    await asyncio.sleep(0.01)  # its token call is out
    staying = asyncio.ensure_future(harness.client().course("intro"))
    await asyncio.sleep(0.01)
    leaving.cancel()
    assert (await staying)["id"] == "intro"
    assert leaving.cancelled()
    assert len(harness.school.token_calls) == 1
