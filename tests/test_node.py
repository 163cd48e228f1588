"""Global object identification (the Relay spec): ``Node``, ``node``/``nodes``, global ids,
``remoteId`` lookups, and what an id of another type or account does."""

from __future__ import annotations

import base64

import pytest

from gateway.simulator import generate_portal
from tests.support import codes, counted, gateway_client, gid, post, simulator_stats

pytestmark = pytest.mark.unit

PORTAL = generate_portal()  # the demo gateway's data: users 1…, categories 21…, courses 101…
NODE_TYPES = {
    "User",
    "Course",
    "CourseItem",
    "CourseEnrollment",
    "Category",
    "Organization",
    "Group",
}


async def test_every_record_with_an_id_is_a_node():
    async with gateway_client() as client:
        body = await post(
            client,
            '{ __type(name: "Node") { kind fields { name } possibleTypes { name } } }',
        )
    node = body["data"]["__type"]
    assert node["kind"] == "INTERFACE" and [f["name"] for f in node["fields"]] == ["id"]
    assert {t["name"] for t in node["possibleTypes"]} == NODE_TYPES


async def test_records_of_different_types_with_the_same_provider_id_have_different_ids():
    # Users and categories share numbers (user 23, category 23): Relay's store keys records
    # by id alone, so equal ids would make one read the other's name.
    query = """{
      user(remoteId: "23") { __typename id remoteId name }
      category(remoteId: "23") { __typename id remoteId name }
    }"""
    async with gateway_client() as client:
        data = (await post(client, query))["data"]
    user, category = data["user"], data["category"]
    assert user["remoteId"] == category["remoteId"] == "23"
    assert user["id"] != category["id"]
    assert (user["id"], category["id"]) == (gid("User", 23), gid("Category", 23))
    assert category["name"] == next(c["name"] for c in PORTAL.categories if c["id"] == "23")


async def test_ids_are_opaque_and_name_neither_type_nor_number_in_clear():
    async with gateway_client() as client:
        data = (await post(client, '{ user(remoteId: "8") { id } }'))["data"]
    assert "User" not in data["user"]["id"] and data["user"]["id"] != "8"
    assert data["user"]["id"].isascii() and "=" not in data["user"]["id"]  # URL-safe as it is


@pytest.mark.parametrize(
    ("type_name", "remote_id", "field", "value"),
    [
        ("User", "8", "name", None),
        ("Course", "104", "title", None),
        ("CourseItem", None, "title", None),
        ("CourseEnrollment", "8:104", "status", None),
        ("Category", "21", "name", None),
        ("Organization", "41", "name", "emea"),
        ("Group", "31", "name", "Sales Staff"),
    ],
)
async def test_node_refetches_each_type_by_its_id(type_name, remote_id, field, value):
    async with gateway_client() as client:
        if remote_id is None:  # a course item's provider id is {courseId}:{unitId}
            outline = await post(
                client, '{ course(remoteId: "104") { items(first: 1) { nodes { remoteId } } } }'
            )
            remote_id = outline["data"]["course"]["items"]["nodes"][0]["remoteId"]
        query = f"""query($id: ID!) {{
          node(id: $id) {{ __typename id ... on {type_name} {{ remoteId {field} }} }}
        }}"""
        body = await post(client, query, {"id": gid(type_name, remote_id)})
    assert "errors" not in body, body["errors"]
    node = body["data"]["node"]
    assert node["__typename"] == type_name
    assert node["id"] == gid(type_name, remote_id) and node["remoteId"] == remote_id
    assert node[field] is not None
    if value is not None:
        assert node[field] == value


async def test_node_agrees_with_the_type_s_own_lookup():
    query = """query($id: ID!) {
      byLookup: user(id: $id) { id name emails { email } }
      byNode: node(id: $id) { id ... on User { name emails { email } } }
      byRemoteId: user(remoteId: "8") { id name emails { email } }
    }"""
    async with gateway_client() as client:
        body = await post(client, query, {"id": gid("User", 8)})
        calls = simulator_stats(client)
    data = body["data"]
    assert data["byLookup"] == data["byNode"] == data["byRemoteId"]
    assert calls == {"users/id": 1}  # the three ask one loader for one record


async def test_nodes_answer_in_the_order_asked_with_one_call_per_record():
    ids = [gid("Course", 104), gid("User", 2), gid("User", 3), gid("User", 2), gid("User", 999)]
    query = """query($ids: [ID!]!) {
      nodes(ids: $ids) { __typename id ... on User { name } ... on Course { title } }
    }"""
    async with gateway_client() as client:
        body = await post(client, query, {"ids": ids})
        calls = simulator_stats(client)
    nodes = body["data"]["nodes"]
    assert [n and n["__typename"] for n in nodes] == ["Course", "User", "User", "User", None]
    assert [n and n["id"] for n in nodes] == [*ids[:4], None]
    assert nodes[1] == nodes[3]
    assert calls == {"courses/id": 1, "users/id": 3}  # users 2, 3 and 999 (who is nobody)


async def test_nodes_refuses_more_ids_than_its_limit_before_any_call():
    async with gateway_client() as client:
        body = await post(
            client,
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            {"ids": [gid("User", n) for n in range(1, 102)]},
        )
        calls = simulator_stats(client)
    assert codes(body) == ["BAD_USER_INPUT"] and "at most 100" in body["errors"][0]["message"]
    assert calls == {}


@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        (
            "query($id: ID!) { user(id: $id) { name } }",
            {"id": gid("Course", 104)},
            "id is the id of a Course, not of a User",
        ),
        (
            "query($id: ID!) { course(id: $id) { title } }",
            {"id": "104"},
            "id is not an id of this API",
        ),
        (
            "query($id: ID!) { node(id: $id) { id } }",
            {"id": "not-an-id"},
            "id is not an id of this API",
        ),
        (
            "query($id: ID!) { courseEnrollments(filter: {userId: $id}) { totalCount } }",
            {"id": gid("Course", 104)},
            "filter.userId is the id of a Course, not of a User",
        ),
        (
            'query($id: ID!) { user(remoteId: "8") { enrollments(filter: {courseId: $id}) '
            "{ totalCount } } }",
            {"id": gid("User", 8)},
            "filter.courseId is the id of a User, not of a Course",
        ),
        (
            'query($id: ID!) { user(id: $id, remoteId: "8") { name } }',
            {"id": gid("User", 8)},
            "user needs exactly one of id, remoteId, email or username",
        ),
        ("{ course { title } }", {}, "course needs exactly one of id or remoteId"),
    ],
)
async def test_an_id_of_another_type_or_of_no_type_is_a_clear_error(query, variables, message):
    async with gateway_client() as client:
        body = await post(client, query, variables)
        calls = simulator_stats(client)
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert message in body["errors"][0]["message"]
    assert calls == {}  # refused before any upstream call


async def test_an_id_of_another_account_names_nothing_here():
    # Another account's user 8 has the same provider id as this account's user 8.
    foreign_user, foreign_course = gid("User", 8, "acme"), gid("Course", 104, "acme")
    query = """query($user: ID!, $course: ID!) {
      user(id: $user) { name }
      node(id: $course) { id }
      nodes(ids: [$user, $course]) { id }
      courseEnrollments(filter: {userId: $user}) { totalCount nodes { id } }
    }"""
    async with gateway_client() as client:
        body = await post(client, query, {"user": foreign_user, "course": foreign_course})
        calls = simulator_stats(client)
    assert "errors" not in body, body["errors"]
    data = body["data"]
    assert data["user"] is None and data["node"] is None and data["nodes"] == [None, None]
    assert data["courseEnrollments"] == {"totalCount": 0, "nodes": []}
    assert calls == {}


async def test_a_foreign_category_filters_out_every_course():
    query = "query($c: String!) { courses(filter: {category: $c}) { totalCount } }"
    async with gateway_client() as client:
        foreign = await post(client, query, {"c": gid("Category", 21, "acme")})
        own = await post(client, query, {"c": gid("Category", 21)})
        by_remote_id = await post(client, query, {"c": "21"})
    assert foreign["data"]["courses"]["totalCount"] == 0
    expected = sum(1 for c in PORTAL.courses if c["category_id"] == "21")
    assert own["data"]["courses"]["totalCount"] == by_remote_id["data"]["courses"]["totalCount"]
    assert own["data"]["courses"]["totalCount"] == expected > 0


async def test_enrollment_filters_take_global_ids_with_the_calls_of_before():
    query = """query($user: ID!, $course: ID!) {
      courseEnrollments(filter: {userId: $user, courseId: $course}) {
        nodes { id remoteId course { remoteId } user { remoteId } }
      }
    }"""
    async with gateway_client() as client:
        body = await post(client, query, {"user": gid("User", 8), "course": gid("Course", 104)})
        upstream = counted(body["extensions"]["upstream"])
    (enrollment,) = body["data"]["courseEnrollments"]["nodes"]
    assert enrollment["remoteId"] == "8:104"
    assert enrollment["id"] == gid("CourseEnrollment", "8:104")
    assert enrollment["user"] == {"remoteId": "8"} and enrollment["course"] == {"remoteId": "104"}
    assert upstream["byEndpoint"] == {"users/id": 1}


def test_a_global_id_is_the_url_safe_base64_of_type_account_scope_and_provider_id():
    # Documented in docs/api.md as opaque; this pins the format so a change is deliberate
    # (a change breaks every id clients hold).
    raw = gid("CourseItem", "104:7").encode()
    decoded = base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4)).decode()
    type_name, scope, remote_id = decoded.split(":", 2)
    assert (type_name, remote_id) == ("CourseItem", "104:7")
    assert len(scope) == 8 and int(scope, 16) >= 0
    assert gid("CourseItem", "104:7", "acme") != gid("CourseItem", "104:7")
