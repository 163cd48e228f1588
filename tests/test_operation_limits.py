"""Operation limits as configured on a running gateway, with fragments in every form."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import httpx
import pytest

from gateway.providers.talentlms.client import TalentLmsClient
from gateway.providers.talentlms.portal import TalentLmsPortal
from gateway.providers.talentlms.provider import TalentLmsProvider
from gateway.upstream.usage import UpstreamUsage
from tests.support import codes, gateway_client, post, replaced, upstream_settings

pytestmark = pytest.mark.unit

# Each over-limit shape written plainly, through a named fragment, an inline fragment and a
# fragment named `__schema` (which some limiters wrongly skip as introspection).
SHAPES = {
    "depth": (
        {"max_depth": 3},
        [
            '{ user(remoteId: "2") { enrollments { nodes { id } } } }',
            '{ user(remoteId: "2") { ...F } } fragment F on User { enrollments { nodes { id } } }',
            '{ user(remoteId: "2") { ... on User { enrollments { ... { nodes { id } } } } } }',
            '{ user(remoteId: "2") { ...__schema } } '
            "fragment __schema on User { enrollments { nodes { id } } }",
        ],
    ),
    "aliases": (
        {"max_aliases": 2},
        [
            '{ user(remoteId: "2") { a: id b: id c: id } }',
            '{ user(remoteId: "2") { ...F } } fragment F on User { a: id b: id c: id }',
            '{ user(remoteId: "2") { ... on User { a: id b: id c: id } } }',
            '{ user(remoteId: "2") { ...__schema } } '
            "fragment __schema on User { a: id b: id c: id }",
        ],
    ),
    "directives": (
        {"max_directives": 2},
        [
            '{ user(remoteId: "2") { id @skip(if: false) name @skip(if: false) '
            "role @skip(if: false) } }",
            '{ user(remoteId: "2") { ...F } } fragment F on User '
            "{ id @skip(if: false) name @skip(if: false) role @skip(if: false) }",
            '{ user(remoteId: "2") { ... on User @skip(if: false) { id @skip(if: false) '
            "name @skip(if: false) } } }",
            '{ user(remoteId: "2") { ...__schema } } fragment __schema on User '
            "{ id @skip(if: false) name @skip(if: false) role @skip(if: false) }",
        ],
    ),
    "root_fields": (
        {"max_root_fields": 2},
        [
            '{ a: user(remoteId: "2") { id } b: user(remoteId: "3") { id } '
            'c: user(remoteId: "4") { id } }',
            '{ ...F } fragment F on Query { a: user(remoteId: "2") { id } '
            'b: user(remoteId: "3") { id } c: user(remoteId: "4") { id } }',
            '{ ... on Query { a: user(remoteId: "2") { id } b: user(remoteId: "3") { id } '
            'c: user(remoteId: "4") { id } } }',
            '{ ...__schema } fragment __schema on Query { a: user(remoteId: "2") { id } '
            'b: user(remoteId: "3") { id } c: user(remoteId: "4") { id } }',
        ],
    ),
}


@pytest.mark.parametrize(
    ("limit", "form"),
    [(limit, form) for limit in SHAPES for form in range(4)],
    ids=lambda value: str(value),
)
async def test_configured_limits_refuse_every_form(demo_settings, limit, form):
    limits, queries = SHAPES[limit]
    relaxed = {"max_aliases": 15, "max_root_fields": 10}  # keep the other limits out of the way
    async with gateway_client(replaced(demo_settings, limits={**relaxed, **limits})) as client:
        body = await post(client, queries[form])
        default = await post(client, queries[form].replace("__schema", "Plain"))
    errors = [e for e in body["errors"] if e["extensions"].get("limit") == limit]
    assert errors and errors[0]["extensions"]["code"] == "OPERATION_LIMIT_EXCEEDED"
    assert body["extensions"]["upstream"]["calls"] == 0
    assert default["errors"]  # the same shape under another fragment name is refused too


async def test_within_the_limits_the_same_shapes_run(demo_settings):
    async with gateway_client(demo_settings) as client:
        for _limits, queries in SHAPES.values():
            for query in queries:
                body = await post(client, query)
                assert "errors" not in body, (query, body.get("errors"))


async def test_introspection_that_cycles_through_types_is_refused(demo_settings):
    # Introspection subtrees do not count for depth (so GraphiQL's query passes), but a
    # query that cycles fields → type → fields multiplies its result at every turn: it is
    # bounded by graphql-core's MaxIntrospectionDepthRule (list fields nested over 3 deep).
    cycle = "{ __schema { types { fields { type { fields { type { fields { type {"
    cycle += " fields { name } } } } } } } } } }"
    within = "{ __schema { types { fields { type { fields { name } } } } } }"
    async with gateway_client(demo_settings) as client:
        refused = await post(client, cycle)
        allowed = await post(client, within)
    assert codes(refused) == ["GRAPHQL_VALIDATION_FAILED"]
    assert refused["errors"][0]["message"] == "Maximum introspection depth exceeded"
    assert "errors" not in allowed and allowed["data"]["__schema"]["types"]


async def test_token_limit_is_checked_before_parsing(demo_settings):
    async with gateway_client(replaced(demo_settings, limits={"max_tokens": 20})) as client:
        body = await post(client, "{ " + "__typename " * 30 + "}")
        ok = await post(client, "{ __typename }")
    assert codes(body) == ["OPERATION_LIMIT_EXCEEDED"]
    assert body["errors"][0]["extensions"]["limit"] == "tokens"
    assert "errors" not in ok


async def test_token_limit_error_has_the_documented_extensions_and_counts_comments(
    demo_settings,
):
    # Comments count (graphql-core's max_tokens): a document padded with them is not read
    # to its end. The error has every extension docs/api.md documents, `actual` included.
    padded = "{ __typename }\n" + "# padding\n" * 30
    async with gateway_client(replaced(demo_settings, limits={"max_tokens": 20})) as client:
        plain = await post(client, "{ " + "__typename " * 30 + "}")
        commented = await post(client, padded)
        again = await post(client, padded)  # the second time the parse is remembered
    for body in (plain, commented, again):
        assert body["data"] is None
        assert body["errors"] == [
            {
                "message": "Query token count exceeds the maximum of 20",
                "extensions": {
                    "code": "OPERATION_LIMIT_EXCEEDED",
                    "limit": "tokens",
                    "max": 20,
                    "actual": 21,
                },
            }
        ]


async def test_body_size_limit(demo_settings):
    async with gateway_client(replaced(demo_settings, http={"max_body_bytes": 2048})) as client:
        big = await client.post(
            "/graphql", json={"query": "{ __typename }", "variables": {"x": "y" * 3000}}
        )
        small = await client.post("/graphql", json={"query": "{ __typename }"})
    assert big.status_code == 413
    assert big.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert small.status_code == 200


async def test_batches_run_each_operation_with_its_own_accounting(demo_settings):
    batch = [
        {"query": '{ user(remoteId: "2") { name } }'},
        {"query": '{ course(remoteId: "101") { title } }'},
    ]
    async with gateway_client(replaced(demo_settings, http={"max_batch_operations": 2})) as client:
        ok = await client.post("/graphql", json=batch)
        flood = await client.post("/graphql", json=batch + batch[:1])
    results = ok.json()
    assert [r["extensions"]["upstream"]["byEndpoint"] for r in results] == [
        {"users/id": 1},
        {"courses/id": 1},
    ]
    assert flood.status_code == 400
    assert flood.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_execution_deadline(demo_settings):
    slow = replaced(
        demo_settings, execution={"deadline_seconds": 0.1}, simulator={"latency_ms": 400}
    )
    async with gateway_client(slow) as client:
        body = await post(client, '{ user(remoteId: "2") { name } }')
        health = await client.get("/healthz")
    assert codes(body) == ["DEADLINE_EXCEEDED"]
    assert health.status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "{ __schema { types { name } } }",
        '{ __type(name: "User") { name } }',
        "{ ...F } fragment F on Query { __schema { queryType { name } } }",
        '{ ... on Query { __type(name: "User") { fields { name } } } }',
    ],
)
async def test_introspection_can_be_switched_off(demo_settings, query):
    async with gateway_client(replaced(demo_settings, limits={"introspection": False})) as client:
        refused = await post(client, query)
        typename = await post(client, "{ __typename }")
    async with gateway_client(demo_settings) as client:
        allowed = await post(client, query)
    assert codes(refused) == ["INTROSPECTION_DISABLED"]
    assert typename["data"] == {"__typename": "Query"}
    assert "errors" not in allowed


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ users { nodes { nmae } } }", None),
        ("{ users(frist: 5) { totalCount } }", None),
        ("{ users { nodes { ...F } } } fragment F on Usr { id }", None),
        ("{ users(filter: {status: ACTIV}) { totalCount } }", None),
        ("{ users(filter: {stauts: ACTIVE}) { totalCount } }", None),
        ("{ users { nodes { manager } } }", None),
        (
            "query($f: UserFilter) { users(filter: $f) { totalCount } }",
            {"f": {"stauts": "ACTIVE"}},
        ),
    ],
)
async def test_suggestions_can_be_hidden(demo_settings, query, variables):
    async with gateway_client(replaced(demo_settings, limits={"hide_suggestions": True})) as client:
        hidden = await post(client, query, variables)
    async with gateway_client(demo_settings) as client:
        shown = await post(client, query, variables)
    assert "Did you mean" not in json.dumps(hidden)
    assert "Did you mean" in json.dumps(shown)
    assert hidden["errors"][0]["message"]


async def test_calls_in_flight_at_the_deadline_are_cancelled():
    started = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        started.set()
        await asyncio.sleep(30)
        return httpx.Response(200, json=[])

    account = upstream_settings().upstream.default_account()
    async with httpx.AsyncClient(transport=httpx.MockTransport(hang)) as http:
        client = TalentLmsClient(
            http, base_url=account.base_url, api_key=account.api_key, usage=UpstreamUsage()
        )
        provider = TalentLmsProvider(TalentLmsPortal(account), client, now=datetime.now(UTC))
        listing = asyncio.ensure_future(provider.list_users(0, 5))
        await started.wait()
        provider.close()  # what the deadline does when it ends the operation
        with pytest.raises(asyncio.CancelledError):
            await listing
