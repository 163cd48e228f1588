"""Demand control: the estimate bounds the real calls, and costly operations are refused."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.config import Settings
from gateway.providers.talentlms.portal import TOTALS_MAX_AGE, TalentLmsPortal, with_margin
from gateway.simulator import SimulatorConfig
from tests.support import (
    QUERIES,
    RecordingUpstream,
    codes,
    gateway_client,
    gid,
    post,
    replaced,
    upstream_settings,
)

pytestmark = pytest.mark.unit

NO_CACHE = {"Cache-Control": "no-cache"}
DEEP = (
    "query($n: Int) { users(first: $n) { nodes { enrollments(first: $n) "
    "{ nodes { course { items { nodes { id } } } } } } } }"
)


@pytest.mark.parametrize("path", sorted(QUERIES.glob("*.graphql")), ids=lambda p: p.stem)
async def test_estimate_is_never_below_the_actual_calls(path: Path):
    async with gateway_client() as client:
        # Twice: cold (nothing seen of the portal yet) and warm (list sizes observed), the
        # second time past the cache so that real calls are made again.
        for headers in ({}, NO_CACHE):
            response = await client.post(
                "/graphql", json={"query": path.read_text(encoding="utf-8")}, headers=headers
            )
            body = response.json()
            assert "errors" not in body, body["errors"]
            cost = body["extensions"]["cost"]
            assert cost["actualCalls"] == body["extensions"]["upstream"]["calls"]
            assert cost["estimatedCalls"] >= cost["actualCalls"] >= 1
            assert cost["maxCalls"] == 250


async def test_costly_operation_is_refused_before_any_call():
    async with gateway_client() as client:
        body = await post(client, DEEP, {"n": 100})
        cheap = await post(client, DEEP, {"n": 2})
    assert codes(body) == ["COST_LIMIT_EXCEEDED"]
    error = body["errors"][0]
    # 1 users page + 100 users/id + 100 × 100 courses/id
    assert error["extensions"]["cost"] == {
        "estimatedCalls": 1 + 100 + 100 * 100,
        "estimatedFields": error["extensions"]["cost"]["estimatedFields"],
        "maxCalls": 250,
    }
    assert "10101 upstream calls" in error["message"]
    assert body["data"] is None
    assert body["extensions"]["upstream"]["calls"] == 0
    assert "errors" not in cheap
    assert cheap["extensions"]["cost"]["estimatedCalls"] == 1 + 2 + 2 * 2


@pytest.mark.parametrize(
    "query",
    [
        # the same costly shape through a named fragment, an inline fragment and nesting
        "{ users(first: 100) { ...U } } fragment U on UserConnection { nodes { enrollments"
        "(first: 100) { nodes { course { ...C } } } } } fragment C on Course { items { nodes "
        "{ id } } }",
        "{ users(first: 100) { nodes { ... on User { enrollments(first: 100) { nodes { course "
        "{ ... on Course { items { nodes { id } } } } } } } } } }",
        "{ a: users(first: 100) { nodes { enrollments(first: 3) { nodes { course { title "
        "code } } } } } b: users(first: 100) { nodes { organization { id } } } }",
    ],
)
async def test_fragments_and_aliases_are_costed(query):
    async with gateway_client() as client:
        body = await post(client, query)
    assert codes(body) == ["COST_LIMIT_EXCEEDED"]
    assert body["extensions"]["upstream"]["calls"] == 0


async def test_the_limit_is_configurable(demo_settings):
    settings = replaced(demo_settings, execution={"max_upstream_calls": 5})
    async with gateway_client(settings) as client:
        refused = await post(
            client, '{ course(remoteId: "101") { enrollments { nodes { status } } } }'
        )
        allowed = await post(client, '{ course(remoteId: "101") { items { nodes { id } } } }')
    assert codes(refused) == ["COST_LIMIT_EXCEEDED"]
    assert refused["errors"][0]["extensions"]["cost"]["maxCalls"] == 5
    assert "errors" not in allowed


async def test_estimates_learn_list_sizes_from_the_portal():
    query = '{ course(remoteId: "101") { enrollments(filter: {status: [FAILED]}) { totalCount } } }'
    async with gateway_client() as client:
        cold = await post(client, query)
        warm = (await client.post("/graphql", json={"query": query}, headers=NO_CACHE)).json()
    roster = warm["extensions"]["upstream"]["calls"] - 1
    # Unseen, a roster is assumed to have 100 members; once seen, its real size is used.
    assert cold["extensions"]["cost"]["estimatedCalls"] == 1 + 100
    assert warm["extensions"]["cost"]["estimatedCalls"] == 1 + roster


async def test_a_users_enrollments_are_costed_as_one_lookup_of_the_user():
    # The cost table reads arguments by their GraphQL names: filtered by userId, enrollments
    # come from one users/id call, not from a course roster whose members are each read.
    query = (
        "query($u: ID!) { courseEnrollments(filter: {userId: $u, status: [COMPLETED]}) "
        "{ totalCount } }"
    )
    async with gateway_client() as client:
        body = await post(client, query, {"u": gid("User", 8)})
    assert "errors" not in body, body["errors"]
    assert body["extensions"]["cost"]["estimatedCalls"] == 1
    assert body["extensions"]["upstream"]["calls"] == 1


async def test_a_validated_document_is_still_costed_on_every_request(monkeypatch):
    """Validation of a known text is remembered; the cost rule (variables) is not."""
    import schema.validation.extensions

    full = 0
    validate_document = schema.validation.extensions.validate_document

    def counting(*args, **kwargs):
        nonlocal full
        full += 1
        return validate_document(*args, **kwargs)

    monkeypatch.setattr(schema.validation.extensions, "validate_document", counting)
    async with gateway_client() as client:
        cheap = await post(client, DEEP, {"n": 2})
        again = await post(client, DEEP, {"n": 2})
        costly = await post(client, DEEP, {"n": 100})
        invalid = [await post(client, "{ users { nodes { nope } } }") for _ in range(2)]
    assert "errors" not in cheap and "errors" not in again
    # Refused by the cost rule: over the call limit, or (the portal's quota now known) over
    # what is left of it this hour.
    assert codes(costly) in (["COST_LIMIT_EXCEEDED"], ["UPSTREAM_RATE_LIMITED"])
    assert "data" not in costly or costly["data"] is None
    assert all(codes(body) == ["GRAPHQL_VALIDATION_FAILED"] for body in invalid)
    assert full == 3  # DEEP once, the invalid text every time


# --- the portal's size bounds lookups of records ---------------------------------------------

# 1 users page + 100 users/id + 100 × 100 courses/id before deduplication; on a portal of U
# users and C courses the loaders make at most 1 + U + C calls.
WIDE = (
    "{ users(first: 100) { nodes { enrollments(first: 100) { nodes { course "
    "{ items(first: 100) { nodes { id } } } } } } } }"
)
READS_SITEINFO = "{ users(first: 1) { nodes { createdAt } } }"
# A quota far above any estimate here: the quota check must not answer before the limit.
SMALL = SimulatorConfig(users=6, courses=4, hourly_limit=1_000_000)
NESTED = [
    WIDE,
    "{ courses(first: 100) { nodes { title enrollments(first: 100) { nodes { status user "
    "{ name enrollments { nodes { course { title items { nodes { id children { id } } } } } } } "
    "} } } } }",
    "{ courses(first: 100) { nodes { enrollments(filter: {status: [COMPLETED, IN_PROGRESS]}) "
    "{ totalCount nodes { urls { url } user { name organization { id } } } } } } }",
    "{ users(first: 100) { nodes { organization { id } enrollments { nodes { status course "
    "{ enrollments(first: 100) { nodes { status user { name } } } } } } } } }",
    '{ user(remoteId: "2") { enrollments { nodes { course { enrollments { nodes { user { '
    "enrollments { nodes { status course { items { nodes { id } } } } } } } } } } } } }",
    "{ users(first: 100) { nodes { groups { description members(first: 100) { nodes { name "
    "groups { courses(first: 100) { nodes { title code } } } } } } } } }",
    "{ groups(first: 100) { nodes { courses(first: 100) { nodes { code enrollments(first: 100) "
    "{ nodes { user { groups { name } } } } } } members(first: 100) { nodes { organization "
    "{ id } } } } } }",
]


@asynccontextmanager
async def portal_gateway(
    config: SimulatorConfig | None, **settings: Mapping[str, Any]
) -> AsyncIterator[httpx.AsyncClient]:
    """The demo gateway (``None``), or one in front of a simulated portal of that shape."""
    if config is None:
        async with gateway_client(Settings(**settings)) as client:
            yield client
    else:
        upstream = RecordingUpstream(config)
        async with gateway_client(upstream_settings(**settings), upstream) as client:
            yield client


def portal_of(client: httpx.AsyncClient) -> TalentLmsPortal:
    return client.app.state.runtime.portals["default"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("config", [None, SMALL], ids=["demo", "small"])
async def test_the_portal_size_bounds_the_estimate_once_its_totals_are_known(config):
    users, courses = (config or SimulatorConfig()).users, (config or SimulatorConfig()).courses
    async with portal_gateway(config) as client:
        unknown = await post(client, WIDE)
        await post(client, READS_SITEINFO)
        known = (await client.post("/graphql", json={"query": WIDE}, headers=NO_CACHE)).json()
    # Totals unknown: the estimate is the old one, and refused.
    assert codes(unknown) == ["COST_LIMIT_EXCEEDED"]
    assert unknown["errors"][0]["extensions"]["cost"]["estimatedCalls"] == 1 + 100 + 100 * 100
    assert "errors" not in known, known["errors"]
    cost = known["extensions"]["cost"]
    assert cost["actualCalls"] == known["extensions"]["upstream"]["calls"]
    assert 1 <= cost["actualCalls"] <= 1 + users + courses
    assert cost["actualCalls"] <= cost["estimatedCalls"]
    assert cost["estimatedCalls"] == 1 + with_margin(users) + with_margin(courses)


@pytest.mark.parametrize(
    "config",
    [pytest.param(None, id="demo", marks=pytest.mark.slow), pytest.param(SMALL, id="small")],
)
async def test_bounded_estimates_are_never_below_the_actual_calls(config):
    # Hundreds of calls in a few seconds: no pacing (it only delays them).
    async with portal_gateway(config, pacing={"max_calls": 100_000}) as client:
        await post(client, READS_SITEINFO)
        for query in NESTED:
            for headers in ({}, NO_CACHE):  # cold, then warm past the cache
                response = await client.post("/graphql", json={"query": query}, headers=headers)
                body = response.json()
                assert "errors" not in body, (query, body["errors"])
                cost = body["extensions"]["cost"]
                assert cost["actualCalls"] == body["extensions"]["upstream"]["calls"]
                assert cost["estimatedCalls"] >= cost["actualCalls"], query


async def test_lookups_named_by_the_query_are_not_bounded_by_the_portal_size():
    """Ids in arguments may name nobody: each is a call however small the portal."""
    many = "{ " + " ".join(f'u{i}: user(remoteId: "{i}") {{ id }}' for i in range(300)) + " }"
    limits = {f"max_{name}": 10_000 for name in ("aliases", "root_fields", "tokens")}
    async with portal_gateway(SMALL, limits=limits) as client:
        await post(client, READS_SITEINFO)
        body = await post(client, many)
    assert codes(body) == ["COST_LIMIT_EXCEEDED"]
    assert body["errors"][0]["extensions"]["cost"]["estimatedCalls"] == 300
    assert body["extensions"]["upstream"]["calls"] == 0


async def test_a_query_over_the_limit_even_when_bounded_is_still_refused():
    async with portal_gateway(SMALL, execution={"max_upstream_calls": 20}) as client:
        await post(client, READS_SITEINFO)
        body = await post(client, WIDE)
    assert codes(body) == ["COST_LIMIT_EXCEEDED"]
    cost = body["errors"][0]["extensions"]["cost"]
    assert cost["estimatedCalls"] == 1 + with_margin(6) + with_margin(4) > 20
    assert body["extensions"]["upstream"]["calls"] == 0


@pytest.mark.parametrize(
    "site_info",
    [
        {"total_users": "lots", "total_courses": None},
        {"total_users": "-3", "total_courses": [4]},
        {},
    ],
)
async def test_junk_or_missing_totals_keep_the_unbounded_estimate(site_info):
    upstream = RecordingUpstream(SMALL)
    upstream.faults[r"/siteinfo$"] = httpx.Response(
        200, json={"date_format": "DDMMYYYY", **site_info}
    )
    async with gateway_client(upstream_settings(), upstream) as client:
        dated = await post(client, READS_SITEINFO)
        body = await post(client, WIDE)
    assert "errors" not in dated
    assert codes(body) == ["COST_LIMIT_EXCEEDED"]
    assert body["errors"][0]["extensions"]["cost"]["estimatedCalls"] == 1 + 100 + 100 * 100


async def test_totals_given_as_numbers_count_too():
    upstream = RecordingUpstream(SMALL)
    upstream.faults[r"/siteinfo$"] = httpx.Response(
        200, json={"date_format": "DDMMYYYY", "total_users": 6, "total_courses": " 4 "}
    )
    async with gateway_client(upstream_settings(), upstream) as client:
        await post(client, READS_SITEINFO)
        body = await post(client, WIDE)
    assert body["extensions"]["cost"]["estimatedCalls"] == 1 + with_margin(6) + with_margin(4)


async def test_old_totals_are_not_trusted_and_are_read_again():
    async with portal_gateway(SMALL) as client:
        await post(client, READS_SITEINFO)
        portal = portal_of(client)
        later = time.monotonic() + TOTALS_MAX_AGE + 1
        portal.clock = lambda: later
        stale = await post(client, WIDE)
        reread = await post(client, "{ users(first: 1) { nodes { id createdAt } } }")
        fresh = await post(client, WIDE)
    assert codes(stale) == ["COST_LIMIT_EXCEEDED"]
    # The next operation that reads the date format also reads the totals again.
    assert reread["extensions"]["upstream"]["byEndpoint"]["siteinfo"] == 1
    assert reread["extensions"]["cost"]["estimatedCalls"] >= 2
    assert "errors" not in fresh


def test_a_portal_seen_to_be_larger_than_its_totals_is_bounded_by_what_was_seen():
    portal = TalentLmsPortal(upstream_settings().upstream.default_account())
    assert portal.record_bounds() == {}
    portal.take_totals({"total_users": "6", "total_courses": "4"})
    assert portal.record_bounds() == {"users/id": with_margin(6), "courses/id": with_margin(4)}
    portal.observe("users", 40)  # a users list longer than siteinfo said: the portal grew
    assert portal.record_bounds()["users/id"] == with_margin(40)
    portal.take_totals({"total_users": "50", "total_courses": "x"})
    assert portal.record_bounds() == {"users/id": with_margin(50)}


# --- the quota check ---------------------------------------------------------------------------


def low_quota(client: httpx.AsyncClient, remaining: int) -> None:
    quota = client.app.state.runtime.guards["default"].quota  # type: ignore[attr-defined]
    # A fresh read (no background refresh for a while).
    quota.update({"limit": "10000", "remaining": remaining, "reset": str(int(time.time()) + 3600)})


async def test_the_quota_check_uses_the_bounded_estimate():
    async with portal_gateway(SMALL) as client:
        await post(client, READS_SITEINFO)
        low_quota(client, 40)
        body = await post(client, WIDE)
    assert "errors" not in body, body["errors"]
    assert body["extensions"]["cost"]["estimatedCalls"] <= 40


CACHEABLE = '{ users(first: 5) { nodes { id name } } course(remoteId: "101") { title } }'


async def test_a_cached_answer_is_not_refused_for_calls_it_will_not_make():
    async with gateway_client() as client:
        first = await post(client, CACHEABLE)
        low_quota(client, 0)
        cached = await post(client, CACHEABLE)
        uncached = await post(client, '{ course(remoteId: "102") { title } }')
        fresh = (await client.post("/graphql", json={"query": CACHEABLE}, headers=NO_CACHE)).json()
    assert first["extensions"]["cost"]["actualCalls"] == 2
    assert "errors" not in cached, cached["errors"]
    assert cached["extensions"]["cost"]["actualCalls"] == 0
    assert codes(uncached) == ["UPSTREAM_RATE_LIMITED"]
    assert codes(fresh) == ["UPSTREAM_RATE_LIMITED"]  # no-cache: every call is made
