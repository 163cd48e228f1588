"""Demand control: the estimate bounds the real calls, and costly operations are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import QUERIES, gateway_client
from tests.test_gateway import codes, post

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
    settings = demo_settings.model_copy(update={"lms_gateway_max_upstream_calls": 5})
    async with gateway_client(settings) as client:
        refused = await post(client, '{ course(id: "101") { enrollments { nodes { status } } } }')
        allowed = await post(client, '{ course(id: "101") { items { nodes { id } } } }')
    assert codes(refused) == ["COST_LIMIT_EXCEEDED"]
    assert refused["errors"][0]["extensions"]["cost"]["maxCalls"] == 5
    assert "errors" not in allowed


async def test_estimates_learn_list_sizes_from_the_portal():
    query = '{ course(id: "101") { enrollments(filter: {status: [FAILED]}) { totalCount } } }'
    async with gateway_client() as client:
        cold = await post(client, query)
        warm = (await client.post("/graphql", json={"query": query}, headers=NO_CACHE)).json()
    roster = warm["extensions"]["upstream"]["calls"] - 1
    # Unseen, a roster is assumed to have 100 members; once seen, its real size is used.
    assert cold["extensions"]["cost"]["estimatedCalls"] == 1 + 100
    assert warm["extensions"]["cost"]["estimatedCalls"] == 1 + roster


async def test_a_validated_document_is_still_costed_on_every_request(monkeypatch):
    """Validation of a known text is remembered; the cost rule (variables) is not."""
    import schema.extensions

    full = 0
    validate_document = schema.extensions.validate_document

    def counting(*args, **kwargs):
        nonlocal full
        full += 1
        return validate_document(*args, **kwargs)

    monkeypatch.setattr(schema.extensions, "validate_document", counting)
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
