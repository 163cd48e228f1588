"""The Apollo Federation 2 subgraph mode (LMS_GATEWAY_FEDERATION=true): entities, SDL, costs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from gateway.config import Settings
from gateway.providers.talentlms.provider import TalentLmsProvider
from schema import SDL_PATH, SUBGRAPH_SDL_PATH
from schema.federation import ENTITY_LOADERS
from schema.validation.cost import ENTITY_LOOKUPS
from tests.support import (
    EXAMPLES,
    QUERIES,
    RecordingUpstream,
    codes,
    counted,
    gateway_client,
    gid,
    post,
    replaced,
    serve_over_http,
    upstream_settings,
)

NO_CACHE = {"Cache-Control": "no-cache"}

# What a frontend would select on each type, as an entity and through its root lookup.
SELECTIONS = {
    "User": "id name role enrollments(first: 2) { nodes { id status } }",
    "Course": "id title items(first: 2) { nodes { id title } }",
    "CourseItem": "id title type course { id title } parent { id } children { id }",
    "CourseEnrollment": "id status progressPercent user { id name } course { id title }",
    "Group": "id name description members(first: 2) { nodes { id } }",
}
LOOKUP_FIELDS = {"User": "user", **{k: v for k, v in ENTITY_LOOKUPS.items() if k != "User"}}
# Provider ids (remoteId); representations carry the global ids the gateway gives them.
IDS = {
    "User": "8",
    "Course": "101",
    "CourseItem": "101:3002",
    "CourseEnrollment": "8:101",
    "Group": "31",
}

ENTITIES = (
    "query($r: [_Any!]!) { _entities(representations: $r) { __typename "
    + " ".join(f"... on {name} {{ {selection} }}" for name, selection in SELECTIONS.items())
    + " } }"
)


@pytest.fixture
def subgraph(demo_settings: Settings) -> Settings:
    return replaced(demo_settings, federation={"enabled": True})


def refs(type_name: str, ids: Sequence[str]) -> list[dict[str, str]]:
    """Representations of ``type_name``'s records ``ids`` (provider ids), as a router sends
    them: keyed by the global id."""
    return [{"__typename": type_name, "id": gid(type_name, i)} for i in ids]


def lookups(pairs: Sequence[tuple[str, str]]) -> str:
    """The same records through the ordinary root lookups (by provider id), aliased in order."""
    return (
        "{ "
        + " ".join(
            f'e{n}: {LOOKUP_FIELDS[t]}(remoteId: "{i}") {{ {SELECTIONS[t]} }}'
            for n, (t, i) in enumerate(pairs)
        )
        + " }"
    )


def without_typename(entity: dict) -> dict:
    return {k: v for k, v in entity.items() if k != "__typename"}


# --- the SDL ---------------------------------------------------------------------------


@pytest.mark.unit
async def test_service_sdl_declares_the_entities_and_links_federation_2(subgraph):
    async with gateway_client(subgraph) as client:
        body = await post(client, "{ _service { sdl } }")
    sdl = body["data"]["_service"]["sdl"]
    assert sdl.startswith(
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.0", import: ["@key"])'
    )
    for type_name in ENTITY_LOOKUPS:
        assert f'type {type_name} implements Node @key(fields: "id", resolvable: true) {{' in sdl
    assert sdl.count("@key(") == 5
    assert "union _Entity = User | Course | CourseItem | CourseEnrollment | Group" in sdl
    assert sdl + "\n" == SUBGRAPH_SDL_PATH.read_text(encoding="utf-8")
    assert body["extensions"]["upstream"]["calls"] == 0


@pytest.mark.unit
async def test_the_plain_gateway_has_no_federation_fields(demo_settings):
    plain = SDL_PATH.read_text(encoding="utf-8")
    for marker in ("@key", "@link", "_entities", "_service", "_Any", "_Entity"):
        assert marker not in plain
    async with gateway_client(demo_settings) as client:
        body = await post(client, "{ _entities(representations: []) { __typename } }")
        service = await post(client, "{ _service { sdl } }")
    assert codes(body) == codes(service) == ["GRAPHQL_VALIDATION_FAILED"]


@pytest.mark.unit
def test_entity_resolution_and_costing_name_the_same_types():
    assert set(ENTITY_LOADERS) == set(ENTITY_LOOKUPS) == set(SELECTIONS)


# --- _entities -------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize("type_name", list(SELECTIONS))
async def test_each_entity_is_what_its_root_lookup_answers(subgraph, type_name):
    ids = [IDS[type_name]]
    async with gateway_client(subgraph) as client:
        entities = await post(client, ENTITIES, {"r": refs(type_name, ids)})
        plain = (
            await client.post(
                "/graphql", json={"query": lookups([(type_name, ids[0])])}, headers=NO_CACHE
            )
        ).json()
    assert "errors" not in entities, entities["errors"]
    [entity] = entities["data"]["_entities"]
    assert entity["__typename"] == type_name
    assert without_typename(entity) == plain["data"]["e0"]
    assert entity["id"] == gid(type_name, ids[0])
    assert counted(entities["extensions"]["upstream"]) == counted(plain["extensions"]["upstream"])
    cost = entities["extensions"]["cost"]
    assert cost["estimatedCalls"] >= cost["actualCalls"] >= 1


@pytest.mark.unit
async def test_mixed_types_and_duplicates_in_one_request(subgraph):
    pairs = [
        ("User", "8"),
        ("CourseEnrollment", "8:101"),
        ("Course", "101"),
        ("User", "8"),
        ("CourseItem", "101:3002"),
        ("User", "2"),
        ("Course", "101"),
        ("CourseItem", "101:3003"),
    ]
    representations = [{"__typename": t, "id": gid(t, i)} for t, i in pairs]
    async with gateway_client(subgraph) as client:
        entities = await post(client, ENTITIES, {"r": representations})
        plain = (
            await client.post("/graphql", json={"query": lookups(pairs)}, headers=NO_CACHE)
        ).json()
    assert "errors" not in entities, entities["errors"]
    found = entities["data"]["_entities"]
    assert [(e["__typename"], e["id"]) for e in found] == [(t, gid(t, i)) for t, i in pairs]
    assert [without_typename(e) for e in found] == [plain["data"][f"e{n}"] for n in range(8)]
    assert found[0] == found[3]  # a duplicate is the same record, loaded once
    # Two users, one course: the enrollment shares user 8's record, the items course 101's.
    assert counted(entities["extensions"]["upstream"]) == {
        "calls": 3,
        "byEndpoint": {"users/id": 2, "courses/id": 1},
        "cacheHits": 0,
        "retries": 0,
    }
    assert counted(entities["extensions"]["upstream"]) == counted(plain["extensions"]["upstream"])


@pytest.mark.unit
async def test_unknown_ids_are_null_entities_with_coded_errors(subgraph):
    representations = [
        *refs("User", ["99999"]),
        *refs("Course", ["8"]),
        *refs("Course", ["abc"]),  # no TalentLMS id: null without a call
        *refs("CourseItem", ["101:99999"]),
        *refs("CourseEnrollment", ["8:99999"]),
        *refs("User", ["8"]),
    ]
    async with gateway_client(subgraph) as client:
        body = await post(client, ENTITIES, {"r": representations})
    found = body["data"]["_entities"]
    assert found[:5] == [None] * 5
    assert found[5]["name"] == "Ingrid Rossi"
    errors = {tuple(e["path"]): e for e in body["errors"]}
    assert set(errors) == {("_entities", n) for n in range(5)}
    assert {e["extensions"]["code"] for e in errors.values()} == {"NOT_FOUND"}
    assert errors[("_entities", 2)]["message"] == f'No Course has the id "{gid("Course", "abc")}"'
    # users/id:99999 and :8 (which also answers 8:99999), courses/id:8 and :101; never "abc".
    assert counted(body["extensions"]["upstream"])["byEndpoint"] == {
        "users/id": 2,
        "courses/id": 2,
    }


@pytest.mark.unit
async def test_a_failing_upstream_call_nulls_only_its_entities():
    upstream = RecordingUpstream()
    upstream.faults[r"/users/id:2$"] = httpx.Response(
        500, json={"error": {"type": "api_error", "message": "Something went wrong"}}
    )
    settings = upstream_settings(federation={"enabled": True}, retry={"attempts": 1})
    representations = refs("User", ["8", "2"]) + refs("CourseEnrollment", ["2:104", "8:101"])
    async with gateway_client(settings, upstream) as client:
        body = await post(client, ENTITIES, {"r": representations})
    found = body["data"]["_entities"]
    assert found[1] is None and found[2] is None
    assert (found[0]["id"], found[3]["id"]) == (gid("User", 8), gid("CourseEnrollment", "8:101"))
    assert sorted((e["path"][1], e["extensions"]["code"]) for e in body["errors"]) == [
        (1, "UPSTREAM_ERROR"),
        (2, "UPSTREAM_ERROR"),
    ]


@pytest.mark.unit
@pytest.mark.parametrize(
    ("representation", "message"),
    [
        ({"__typename": "Category", "id": gid("Category", 1)}, "__typename must be one of"),
        ({"id": gid("User", 8)}, "__typename must be one of"),
        ({"__typename": "User"}, "referenced by its id"),
        ({"__typename": "User", "id": ["8"]}, "referenced by its id"),
        ({"__typename": "User", "id": True}, "referenced by its id"),
        ("User:8", "must be an object"),
        (8, "must be an object"),
        # A provider id is no key: entities are keyed by the global id.
        ({"__typename": "User", "id": "8"}, "is not an id of this API"),
        ({"__typename": "User", "id": gid("Course", 101)}, "is the id of a Course, not of a User"),
    ],
)
async def test_malformed_representations_are_bad_user_input_without_a_call(
    subgraph, representation, message
):
    async with gateway_client(subgraph) as client:
        body = await post(client, ENTITIES, {"r": [representation, refs("Course", ["101"])[0]]})
    assert body["data"]["_entities"][0] is None
    assert body["data"]["_entities"][1]["title"]
    [error] = body["errors"]
    assert error["path"] == ["_entities", 0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in error["message"]
    assert counted(body["extensions"]["upstream"])["byEndpoint"] == {"courses/id": 1}


@pytest.mark.unit
async def test_representations_may_be_written_inline(subgraph):
    query = (
        f'{{ _entities(representations: [{{__typename: "User", id: "{gid("User", 8)}"}}, '
        f'{{__typename: "Course", id: "{gid("Course", 101)}"}}]) '
        "{ ... on User { name } ... on Course { title } } }"
    )
    async with gateway_client(subgraph) as client:
        body = await post(client, query)
    assert body["data"]["_entities"] == [
        {"name": "Ingrid Rossi"},
        {"title": "Information Security Awareness"},
    ]


@pytest.mark.unit
async def test_the_readme_example_costs_what_the_readme_says(subgraph):
    [example] = [e for e in EXAMPLES if "_entities" in e]
    async with gateway_client(subgraph) as client:
        body = await post(client, example)
    user, item = body["data"]["_entities"]
    assert (user["name"], item["course"]["title"]) == (
        "Ingrid Rossi",
        "Information Security Awareness",
    )
    assert counted(body["extensions"]["upstream"])["byEndpoint"] == {
        "users/id": 1,
        "courses/id": 1,
    }


# --- upstream calls and batching -------------------------------------------------------


@pytest.fixture
def user_batches(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The key lists the user-by-id loader hands to the provider, batch by batch."""
    batches: list[list[str]] = []
    original = TalentLmsProvider.get_users

    async def recording(self: TalentLmsProvider, ids: Sequence[str]) -> list:
        batches.append(list(ids))
        return await original(self, ids)

    monkeypatch.setattr(TalentLmsProvider, "get_users", recording)
    return batches


@pytest.mark.unit
async def test_n_user_references_cost_one_batch_and_what_n_lookups_cost(
    demo_settings, subgraph, user_batches
):
    ids = [str(n) for n in range(1, 11)]
    async with gateway_client(subgraph) as client:
        entities = await post(client, ENTITIES, {"r": refs("User", ids + ids[:3])})
    entity_batches = list(user_batches)
    user_batches.clear()
    async with gateway_client(demo_settings) as client:  # the plain schema, same users
        plain = await post(client, lookups([("User", i) for i in ids]))
    assert "errors" not in entities and "errors" not in plain
    assert entity_batches == user_batches == [ids]
    assert counted(entities["extensions"]["upstream"]) == counted(plain["extensions"]["upstream"])
    assert entities["extensions"]["upstream"]["byEndpoint"] == {"users/id": 10}
    assert entities["extensions"]["cost"]["estimatedCalls"] == 10  # duplicates counted once


@pytest.mark.unit
async def test_enrollment_and_item_references_share_their_user_and_course_calls(subgraph):
    representations = refs("CourseEnrollment", ["8:101", "8:104", "2:104", "2:106"]) + refs(
        "CourseItem", ["101:3002", "101:3003", "101:3006"]
    )
    query = (
        "query($r: [_Any!]!) { _entities(representations: $r) { "
        "... on CourseEnrollment { id status } ... on CourseItem { id title } } }"
    )
    async with gateway_client(subgraph) as client:
        body = await post(client, query, {"r": representations})
    assert "errors" not in body
    assert counted(body["extensions"]["upstream"])["byEndpoint"] == {
        "users/id": 2,
        "courses/id": 1,
    }


# --- demand control and limits ---------------------------------------------------------

COSTED = [
    pytest.param(refs("User", ["8", "2", "3"]), ENTITIES, id="users"),
    pytest.param(
        refs("User", ["8", "2"]) + refs("CourseEnrollment", ["8:101", "3:111"]),
        "query($r: [_Any!]!) { _entities(representations: $r) { ...E } } fragment E on _Entity "
        "{ ... on User { createdAt enrollments(first: 3) { nodes { course { items(first: 2) "
        "{ nodes { title children { title } } } } } } } ...N } fragment N on CourseEnrollment "
        "{ status course { title code categories { name } } }",
        id="nested-fragments",
    ),
    pytest.param(
        refs("CourseItem", ["101:3002", "102:3013"]) + refs("Course", ["101", "103"]),
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on CourseItem { parent "
        "{ title } course { enrollments(first: 5) { nodes { user { name } } } } } "
        "... on Course { enrollments(filter: {status: [COMPLETED]}) { totalCount } } } }",
        id="items-and-rosters",
    ),
]


@pytest.mark.unit
@pytest.mark.parametrize(("representations", "query"), COSTED)
async def test_entity_estimate_is_never_below_the_actual_calls(subgraph, representations, query):
    async with gateway_client(subgraph) as client:
        for headers in ({}, NO_CACHE):  # cold, then warm (list sizes seen) past the cache
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": {"r": representations}},
                headers=headers,
            )
            body = response.json()
            assert "errors" not in body, body["errors"]
            cost = body["extensions"]["cost"]
            assert cost["actualCalls"] == body["extensions"]["upstream"]["calls"]
            assert cost["estimatedCalls"] >= cost["actualCalls"] >= 1


@pytest.mark.unit
async def test_too_many_references_are_refused_before_any_call(subgraph):
    deep = (
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { enrollments"
        "(first: 100) { nodes { course { title code } } } } } }"
    )
    async with gateway_client(subgraph) as client:
        many = await post(client, ENTITIES, {"r": refs("User", [str(n) for n in range(1, 252)])})
        nested = await post(client, deep, {"r": refs("User", ["8", "2", "3"])})
    for body in (many, nested):
        assert codes(body) == ["COST_LIMIT_EXCEEDED"]
        assert body["data"] is None
        assert body["extensions"]["upstream"]["calls"] == 0
    assert many["errors"][0]["extensions"]["cost"]["estimatedCalls"] == 251
    # 3 users/id, then a courses/id per enrollment opened: 3 × 100
    assert nested["errors"][0]["extensions"]["cost"]["estimatedCalls"] == 3 + 300


@pytest.mark.unit
async def test_references_the_resolver_refuses_cost_nothing(subgraph):
    # Provider ids and another type's ids are refused without a call, so 251 of them are
    # BAD_USER_INPUT each, not a COST_LIMIT_EXCEEDED for calls nobody would make.
    wrong = [{"__typename": "User", "id": str(n)} for n in range(1, 200)]
    wrong += [{"__typename": "User", "id": gid("Course", n)} for n in range(1, 53)]
    async with gateway_client(subgraph) as client:
        body = await post(client, ENTITIES, {"r": [*wrong, *refs("User", ["8"])]})
    assert body["extensions"]["cost"]["estimatedCalls"] == 1
    assert body["extensions"]["upstream"]["calls"] == 1
    assert body["data"]["_entities"][-1] is not None
    assert set(codes(body)) == {"BAD_USER_INPUT"} and len(body["errors"]) == len(wrong)


@pytest.mark.unit
async def test_only_the_fragments_of_referenced_types_are_costed(subgraph):
    query = (
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { name } "
        "... on Course { enrollments(filter: {status: [FAILED]}) { totalCount } } ...C } } "
        "fragment C on CourseItem { course { enrollments(first: 50) { nodes { user { name } } "
        "} } }"
    )
    async with gateway_client(subgraph) as client:
        users = await post(client, query, {"r": refs("User", ["8", "2"])})
        courses = await post(client, query, {"r": refs("Course", ["101"])})
    assert users["extensions"]["cost"]["estimatedCalls"] == 2
    # one courses/id, then a users/id per roster member (100 until a roster is seen)
    assert courses["extensions"]["cost"]["estimatedCalls"] == 1 + 100


@pytest.mark.unit
async def test_operation_limits_hold_in_subgraph_mode(subgraph):
    settings = replaced(subgraph, limits={"max_depth": 4, "introspection": False})
    deep = (
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { enrollments "
        "{ nodes { course { title } } } } } }"
    )
    async with gateway_client(settings) as client:
        too_deep = await post(client, deep, {"r": refs("User", ["8"])})
        introspection = await post(client, "{ __schema { types { name } } }")
        service = await post(client, "{ _service { sdl } }")
    assert codes(too_deep) == ["OPERATION_LIMIT_EXCEEDED"]
    assert too_deep["extensions"]["upstream"]["calls"] == 0
    assert codes(introspection) == ["INTROSPECTION_DISABLED"]
    # Routers compose from _service, so it answers with introspection off (as Apollo's own
    # subgraph libraries do); keep subgraphs reachable by the router only.
    assert "@key" in service["data"]["_service"]["sdl"]


@pytest.mark.unit
@pytest.mark.parametrize("path", sorted(QUERIES.glob("*.graphql")), ids=lambda p: p.stem)
async def test_ordinary_operations_answer_the_same_in_subgraph_mode(
    demo_settings, subgraph, path: Path
):
    query = path.read_text(encoding="utf-8")
    async with gateway_client(demo_settings) as client:
        plain = await post(client, query)
    async with gateway_client(subgraph) as client:
        federated = await post(client, query)
    assert "errors" not in federated
    assert federated["data"] == plain["data"]
    assert counted(federated["extensions"]["upstream"]) == counted(plain["extensions"]["upstream"])
    assert federated["extensions"]["cost"] == plain["extensions"]["cost"]


# --- over real HTTP --------------------------------------------------------------------


@pytest.mark.http
def test_a_router_fetch_over_http(subgraph):
    representations = refs("User", ["8", "99999"]) + refs("CourseItem", ["101:3002"])
    with (
        serve_over_http(create_app(subgraph)) as base,
        httpx.Client(base_url=base) as http,
    ):
        response = http.post(
            "/graphql",
            json={
                "query": ENTITIES,
                "variables": {"r": representations},
                "operationName": None,
            },
        )
        sdl = http.post("/graphql", json={"query": "{ _service { sdl } }"}).json()
    assert response.status_code == 200
    body = response.json()
    user, missing, item = body["data"]["_entities"]
    assert (user["__typename"], user["name"]) == ("User", "Ingrid Rossi")
    assert missing is None
    assert (item["__typename"], item["course"]["id"]) == ("CourseItem", gid("Course", 101))
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["_entities", 1], "NOT_FOUND")
    ]
    assert body["extensions"]["upstream"]["byEndpoint"] == {"users/id": 2, "courses/id": 1}
    assert sdl["data"]["_service"]["sdl"] + "\n" == SUBGRAPH_SDL_PATH.read_text(encoding="utf-8")
