"""Groups through the unified model: ``groups``, ``group``, ``User.groups``, a group's members
and courses, their ids, and the exact TalentLMS calls each costs.

Expected values come from the simulator's raw TalentLMS records (the demo gateway's data).
The call plan: the ``/groups`` list once per operation; a group's ``/groups/id:`` record once
per group for its members or courses; a user's groups from their ``users/id:`` record; a
member's fields beyond the id from their ``users/id:`` record, as a roster's learners.
"""

from __future__ import annotations

import httpx
import pytest

from gateway.simulator import generate_portal
from tests.support import (
    RecordingUpstream,
    codes,
    counted,
    gateway_client,
    gid,
    post,
    replaced,
    simulator_stats,
    upstream_settings,
)

pytestmark = pytest.mark.unit

PORTAL = generate_portal()
GROUPS = PORTAL.groups  # /groups items: 31 Sales Staff … 34 Warehouse Team
NO_CACHE = {"Cache-Control": "no-cache"}
READS_SITEINFO = "{ users(first: 1) { nodes { createdAt } } }"  # the portal's totals, once


def members(group_id: str) -> list[str]:
    return [user["id"] for user in PORTAL.group_detail(group_id)["users"]]


def full_name(user_id: str) -> str:
    raw = PORTAL.user_detail(user_id)
    return f"{raw['first_name']} {raw['last_name']}"


async def run(
    client: httpx.AsyncClient, query: str, variables: dict | None = None, headers=None
) -> tuple[dict, dict[str, int]]:
    """The data and the calls by endpoint; the estimate must cover the calls."""
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers or {}
    )
    body = response.json()
    assert "errors" not in body, body["errors"]
    upstream = counted(body["extensions"]["upstream"])
    cost = body["extensions"]["cost"]
    assert cost["actualCalls"] == upstream["calls"] <= cost["estimatedCalls"]
    return body["data"], upstream["byEndpoint"]


async def test_the_groups_list_with_names_and_descriptions_is_one_call():
    query = "{ groups { totalCount nodes { __typename id remoteId name description } } }"
    async with gateway_client() as client:
        data, calls = await run(client, query)
        assert calls == simulator_stats(client) == {"groups": 1}
    assert data["groups"]["totalCount"] == len(GROUPS) == 4
    assert data["groups"]["nodes"] == [
        {
            "__typename": "Group",
            "id": gid("Group", g["id"]),
            "remoteId": g["id"],
            "name": g["name"],
            "description": g["description"],
        }
        for g in GROUPS
    ]


async def test_the_groups_list_pages_and_searches_in_the_gateway():
    page = """query($after: String) {
      groups(first: 2, after: $after, filter: {search: "TEAM"}) {
        totalCount nodes { name } pageInfo { hasNextPage endCursor }
      }
    }"""
    async with gateway_client() as client:
        first, calls = await run(client, page)
        # The custom fields and the record the list gave, without the group's join key.
        extras, _ = await run(client, "{ groups(last: 1) { nodes { customFields remoteData } } }")
        other_filter = await post(
            client,
            "query($after: String) { groups(after: $after) { totalCount } }",
            {"after": first["groups"]["pageInfo"]["endCursor"]},
        )
    assert calls == {"groups": 1}
    assert first["groups"] == {
        "totalCount": 1,
        "nodes": [{"name": "Warehouse Team"}],
        "pageInfo": {"hasNextPage": False, "endCursor": first["groups"]["pageInfo"]["endCursor"]},
    }
    [last] = extras["groups"]["nodes"]
    raw = GROUPS[-1]
    assert last["remoteData"] == {k: v for k, v in raw.items() if k != "key"}
    assert last["customFields"] == {
        "price": 0.0,
        "currency": "$",
        "owner_id": raw["owner_id"],
        "belongs_to_branch": raw["belongs_to_branch"],
        "max_redemptions": None,
        "redemptions_sofar": None,
    }
    assert codes(other_filter) == ["BAD_USER_INPUT"]  # a cursor of another filter


async def test_a_group_by_remote_id_with_members_and_courses_is_one_call():
    query = """{
      group(remoteId: "31") {
        id name
        members(first: 100) { totalCount nodes { __typename id remoteId } }
        courses { totalCount nodes { __typename id remoteId title } }
      }
    }"""
    async with gateway_client() as client:
        data, calls = await run(client, query)
        assert calls == simulator_stats(client) == {"groups/id": 1}
    group, raw = data["group"], PORTAL.group_detail("31")
    assert (group["id"], group["name"]) == (gid("Group", "31"), "Sales Staff")
    assert group["members"]["totalCount"] == len(raw["users"]) == 21
    assert [m["remoteId"] for m in group["members"]["nodes"]] == members("31")
    assert [m["id"] for m in group["members"]["nodes"]] == [gid("User", u) for u in members("31")]
    assert group["courses"]["nodes"] == [
        {
            "__typename": "Course",
            "id": gid("Course", c["id"]),
            "remoteId": c["id"],
            "title": c["name"],
        }
        for c in raw["courses"]
    ]


async def test_members_fields_beyond_the_id_read_the_pages_users_only():
    query = """query($after: String) {
      group(remoteId: "31") {
        members(first: 3, after: $after) {
          nodes { id name emails { email } role } pageInfo { endCursor }
        }
        courses(first: 2) { nodes { title code } }
      }
    }"""
    async with gateway_client() as client:
        data, calls = await run(client, query)
        after = data["group"]["members"]["pageInfo"]["endCursor"]
        second, more = await run(client, query, {"after": after}, NO_CACHE)
    # One groups/id, then only the page's members (users/id) and courses (courses/id).
    assert calls == {"groups/id": 1, "users/id": 3, "courses/id": 2}
    assert more == {"groups/id": 1, "users/id": 3, "courses/id": 2}
    page_one = data["group"]["members"]["nodes"]
    page_two = second["group"]["members"]["nodes"]
    assert [m["name"] for m in page_one + page_two] == [full_name(u) for u in members("31")[:6]]
    assert page_one[0]["emails"] == [{"email": PORTAL.user_detail(members("31")[0])["email"]}]
    courses = [PORTAL.course_detail(c["id"]) for c in PORTAL.group_detail("31")["courses"][:2]]
    assert data["group"]["courses"]["nodes"] == [
        {"title": c["name"], "code": c["code"] or None} for c in courses
    ]


async def test_a_users_groups_with_names_cost_only_the_users_record():
    query = '{ user(remoteId: "2") { name groups { __typename id remoteId name } } }'
    async with gateway_client() as client:
        data, calls = await run(client, query)
    assert calls == {"users/id": 1}
    assert data["user"]["groups"] == [
        {"__typename": "Group", "id": gid("Group", g["id"]), "remoteId": g["id"], "name": g["name"]}
        for g in PORTAL.user_detail("2")["groups"]
    ]
    assert len(data["user"]["groups"]) == 2


async def test_a_users_groups_descriptions_cost_the_groups_list_once():
    query = """{
      a: user(remoteId: "2") { groups { name description } }
      b: user(remoteId: "4") { groups { description } }
      groups(first: 1) { nodes { description } }
    }"""
    async with gateway_client() as client:
        data, calls = await run(client, query)
    assert calls == {"users/id": 2, "groups": 1}  # one /groups answers all three
    by_id = {g["id"]: g for g in GROUPS}
    assert data["a"]["groups"] == [
        {"name": g["name"], "description": by_id[g["id"]]["description"]}
        for g in PORTAL.user_detail("2")["groups"]
    ]


async def test_a_users_groups_courses_cost_each_groups_record_and_no_list():
    query = '{ user(remoteId: "2") { groups { description courses { nodes { id title } } } } }'
    async with gateway_client() as client:
        data, calls = await run(client, query)
    groups = PORTAL.user_detail("2")["groups"]
    assert calls == {"users/id": 1, "groups/id": len(groups)}  # the record has descriptions too
    for group, ref in zip(data["user"]["groups"], groups, strict=True):
        raw = PORTAL.group_detail(ref["id"])
        assert group["description"] == raw["description"]
        assert [c["title"] for c in group["courses"]["nodes"]] == [
            c["name"] for c in raw["courses"]
        ]


async def test_a_dashboard_of_users_their_groups_and_members_has_no_n_plus_one():
    query = """{
      users(first: 5) {
        nodes {
          id name
          groups { id name members(first: 5) { nodes { id name } } }
        }
      }
    }"""
    async with gateway_client() as client:
        await post(client, READS_SITEINFO)  # the portal's totals bound the nested lookups
        data, calls = await run(client, query, headers=NO_CACHE)
    users = PORTAL.user_ids[:5]
    groups = {g["id"] for u in users for g in PORTAL.user_detail(u)["groups"]}
    shown = {m for g in groups for m in members(g)[:5]}
    # The fewest calls TalentLMS v1 allows: one users page; each user's record (their
    # groups); each distinct group's record (its members), once however many users share
    # it; each member's record for the name, once, and none for the five users read already.
    assert calls == {
        "users": 1,
        "users/id": len(set(users) | shown),
        "groups/id": len(groups),
    }
    assert len(groups) == 3 and len(shown - set(users)) > 0
    for user, uid in zip(data["users"]["nodes"], users, strict=True):
        refs = PORTAL.user_detail(uid)["groups"]
        assert [g["name"] for g in user["groups"]] == [g["name"] for g in refs]
        for group, ref in zip(user["groups"], refs, strict=True):
            assert [m["name"] for m in group["members"]["nodes"]] == [
                full_name(m) for m in members(ref["id"])[:5]
            ]


async def test_a_page_of_groups_reads_the_records_of_that_page_only():
    query = "{ groups(first: 2) { nodes { name members { totalCount } } } }"
    async with gateway_client() as client:
        data, calls = await run(client, query)
    assert calls == {"groups": 1, "groups/id": 2}
    assert [g["members"]["totalCount"] for g in data["groups"]["nodes"]] == [
        len(members(g["id"])) for g in GROUPS[:2]
    ]


async def test_node_refetches_a_group_with_the_groups_own_lookup():
    query = """query($id: ID!) {
      node(id: $id) { __typename id ... on Group { remoteId name members { totalCount } } }
      group(id: $id) { id name }
      nodes(ids: [$id]) { id }
    }"""
    async with gateway_client() as client:
        data, calls = await run(client, query, {"id": gid("Group", "33")})
    assert calls == {"groups/id": 1}
    assert data["node"] == {
        "__typename": "Group",
        "id": gid("Group", "33"),
        "remoteId": "33",
        "name": "New Hires 2025",
        "members": {"totalCount": len(members("33"))},
    }
    assert data["group"] == {"id": gid("Group", "33"), "name": "New Hires 2025"}
    assert data["nodes"] == [{"id": gid("Group", "33")}]


@pytest.mark.parametrize(
    ("query", "value", "message"),
    [
        ("query($id: ID!) { user(id: $id) { name } }", gid("Group", "31"), "not of a User"),
        ("query($id: ID!) { group(id: $id) { name } }", gid("User", "8"), "not of a Group"),
        ("query($id: ID!) { group(id: $id) { name } }", "31", "not an id of this API"),
    ],
)
async def test_an_id_of_another_type_is_refused_before_any_call(query, value, message):
    async with gateway_client() as client:
        body = await post(client, query, {"id": value})
        assert simulator_stats(client) == {}
    assert codes(body) == ["BAD_USER_INPUT"]
    assert message in body["errors"][0]["message"]


async def test_an_unknown_group_is_null():
    async with gateway_client() as client:
        data, calls = await run(
            client, '{ a: group(remoteId: "999") { name } b: group(remoteId: "x") { name } }'
        )
        foreign = await post(
            client,
            "query($id: ID!) { group(id: $id) { name } }",
            {"id": gid("Group", "31", "acme")},
        )
    assert data == {"a": None, "b": None}
    assert calls == {"groups/id": 1}  # "x" is no TalentLMS id: no call
    assert foreign["data"] == {"group": None} and "errors" not in foreign


async def test_a_failing_group_record_nulls_only_that_groups_members():
    upstream = RecordingUpstream()
    upstream.faults[r"/groups/id:32$"] = httpx.Response(
        500, json={"error": {"type": "api_error", "message": "Something went wrong"}}
    )
    settings = replaced(upstream_settings(), retry={"attempts": 1})
    query = "{ groups { nodes { name members(first: 1) { nodes { id } } } } }"
    async with gateway_client(settings, upstream) as client:
        body = await post(client, query)
    nodes = body["data"]["groups"]["nodes"]
    assert [g["name"] for g in nodes] == [g["name"] for g in GROUPS]
    assert nodes[1]["members"] is None
    assert [g["members"]["nodes"] for g in nodes[::2]] == [
        [{"id": gid("User", members(g["id"])[0])}] for g in GROUPS[::2]
    ]
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["groups", "nodes", 1, "members"], "UPSTREAM_ERROR")
    ]


async def test_estimates_learn_how_many_groups_users_are_in():
    query = "{ users(first: 5) { nodes { groups { members(first: 5) { nodes { name } } } } } }"
    async with gateway_client() as client:
        cold = await post(client, query)
        await post(client, "{ users(first: 5) { nodes { groups { id } } } }")
        warm = (await client.post("/graphql", json={"query": query}, headers=NO_CACHE)).json()
    # Unseen, a user is assumed to be in up to 10 groups; once users' records were read,
    # the most groups seen on one of them.
    assert codes(cold) == ["COST_LIMIT_EXCEEDED"]
    assert cold["errors"][0]["extensions"]["cost"]["estimatedCalls"] == 1 + 5 + 5 * 10 * (1 + 5)
    assert "errors" not in warm, warm["errors"]
    most = max(len(PORTAL.user_detail(u)["groups"]) for u in PORTAL.user_ids[:5])
    assert warm["extensions"]["cost"]["estimatedCalls"] == 1 + 5 + 5 * most * (1 + 5)
    assert warm["extensions"]["cost"]["actualCalls"] <= warm["extensions"]["cost"]["estimatedCalls"]


@pytest.mark.parametrize(
    ("query", "estimated", "actual"),
    [
        # A group's record lists its members and courses: ids and titles cost nothing more.
        ('{ group(remoteId: "31") { members(first: 3) { nodes { id } } } }', 1, 1),
        ('{ group(remoteId: "31") { courses(first: 3) { edges { node { title } } } } }', 1, 1),
        # Anything else reads each one's record on the page, estimated per reference.
        ('{ group(remoteId: "31") { members(first: 3) { nodes { id name } } } }', 1 + 3, 1 + 3),
        ('{ group(remoteId: "31") { courses(first: 3) { nodes { code } } } }', 1 + 3, 1 + 3),
        # From the list, each group on the page reads its record for its members.
        ("{ groups(first: 2) { nodes { members(first: 1) { nodes { id } } } } }", 1 + 2, 1 + 2),
        # A user's groups: names with the user's record, descriptions with the list.
        ('{ user(remoteId: "2") { groups { name } } }', 1, 1),
        ('{ user(remoteId: "2") { groups { description } } }', 1 + 1, 1 + 1),
    ],
)
async def test_estimates_of_group_fields(query, estimated, actual):
    async with gateway_client() as client:
        body = await post(client, query)
    assert "errors" not in body, body["errors"]
    cost = body["extensions"]["cost"]
    assert (cost["estimatedCalls"], cost["actualCalls"]) == (estimated, actual)
