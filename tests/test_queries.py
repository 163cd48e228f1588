"""Every operation in queries/ against the embedded simulator: results and exact call counts.

Expected values come from the simulator's raw TalentLMS records, so each test states how
many upstream calls the TalentLMS v1 API needs at the least for that query, and why.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.simulator import generate_portal
from tests.support import (
    QUERIES,
    counted,
    gateway_client,
    gid,
    merge_parts,
    multipart_parts,
    query_text,
    simulator_stats,
    without_typenames,
)

pytestmark = pytest.mark.unit

PORTAL = generate_portal()  # the data the demo gateway serves (default seed and sizes)

# Lower-case users/id: tokens → GraphQL enum values (reference §9; the simulator never
# sends an expired enrollment to these queries' defaults, see the status tests elsewhere).
STATUS = {
    "not_attempted": "ENROLLED",
    "incomplete": "IN_PROGRESS",
    "completed": "COMPLETED",
    "passed": "PASSED",
    "failed": "FAILED",
}


# What Apollo Client sends for an operation with @defer: such operations are then answered in
# parts (multipart/mixed), the others as usual.
IN_PARTS = "multipart/mixed;deferSpec=20220824,application/json"


async def run(name: str, variables: dict | None = None, settings=None, accept: str | None = None):
    async with gateway_client(settings) as client:
        response = await client.post(
            "/graphql",
            json={"query": query_text(name), "variables": variables or {}},
            headers={"accept": accept} if accept else {},
        )
        assert response.status_code == 200, response.text
        content_type = response.headers["content-type"]
        if content_type.startswith("multipart/mixed"):
            parts = list(multipart_parts(content_type, [response.content]))
            data, errors = merge_parts(parts)
            body = {"data": data, "extensions": parts[-1]["extensions"]}  # totals: the last
            if errors:
                body["errors"] = errors
        else:
            body = response.json()
        assert "errors" not in body, body["errors"]
        upstream = counted(body["extensions"]["upstream"])
        assert upstream.pop("cacheHits") == 0  # a fresh gateway has nothing cached
        assert upstream.pop("retries") == 0
        # The gateway's own accounting agrees with what the simulator saw.
        assert upstream["byEndpoint"] == simulator_stats(client)
        return body["data"], upstream


def expected_status(entry: dict) -> str:
    if entry.get("expired_on_timestamp") and not entry.get("completed_on_timestamp"):
        return "EXPIRED"
    return STATUS[entry["completion_status"]]


async def test_learner_dashboard_uses_the_fewest_calls_the_api_allows():
    data, upstream = await run("learner_dashboard")
    first_five = PORTAL.user_ids[:5]
    courses = {c["id"] for uid in first_five for c in PORTAL.user_detail(uid)["courses"]}
    # Minimum for TalentLMS v1:
    #   1 × /users/page_size:6,page_number:1  — names, emails and roles of the first five
    #       (the sixth row only says whether a next page exists);
    #   5 × /users/id:{id}    — v1 has no other source of a user's enrollment statuses;
    #   D × /courses/id:{id}  — one per distinct course: its units[] give items and children.
    # Course titles come with users/id courses[]; nothing is fetched twice.
    assert upstream == {
        "calls": 1 + 5 + len(courses),
        "byEndpoint": {"users": 1, "users/id": 5, "courses/id": len(courses)},
    }
    assert len(courses) == 12  # the default portal: user 1 teaches every course but one

    users = data["users"]["nodes"]
    assert [u["name"] for u in users] == [
        f"{PORTAL.user_detail(uid)['first_name']} {PORTAL.user_detail(uid)['last_name']}"
        for uid in first_five
    ]
    for user, uid in zip(users, first_five, strict=True):
        raw = PORTAL.user_detail(uid)
        assert user["id"] == gid("User", uid)
        assert without_typenames(user["emails"]) == [{"email": raw["email"]}]
        entries = raw["courses"]
        nodes = user["enrollments"]["nodes"]
        assert [n["id"] for n in nodes] == [
            gid("CourseEnrollment", f"{uid}:{e['id']}") for e in entries
        ]
        assert [n["course"]["id"] for n in nodes] == [gid("Course", e["id"]) for e in entries]
        assert [n["course"]["title"] for n in nodes] == [e["name"] for e in entries]
        assert [n["status"] for n in nodes] == [expected_status(e) for e in entries]
        assert [n["progressPercent"] for n in nodes] == [
            float(e["completion_percentage"]) for e in entries
        ]
        for node, entry in zip(nodes, entries, strict=True):
            units = PORTAL.course_detail(entry["id"])["units"]
            items = node["course"]["items"]["nodes"]
            assert_outline(items, units)
            if entry["completed_on_timestamp"]:
                assert node["completedAt"].endswith("Z")
            else:
                assert node["completedAt"] is None
    assert users[0]["role"] == "ADMIN" and users[1]["role"] == "LEARNER"


async def test_learner_dashboard_written_with_fragments_is_the_same_data_and_calls():
    # The file's promise: spreading each component's fragment asks for what the one-piece
    # query asks, with the same calls.
    whole = await run("learner_dashboard")
    fragments = await run("learner_dashboard_fragments")
    assert fragments == whole


def assert_outline(items: list[dict], units: list[dict]) -> None:
    """Top-level items are Sections and units before the first Section, in order."""
    top, children_of, current = [], {}, None
    for index, unit in enumerate(units):
        if unit["type"] == "Section":
            current = unit["name"]
            top.append((unit["name"], index))
            children_of[unit["name"]] = []
        elif current is None:
            top.append((unit["name"], index))
        else:
            children_of[current].append(unit["name"])
    assert [(i["title"], i["position"]) for i in items] == top
    for item in items:
        expected = children_of.get(item["title"], []) if item["type"] == "section" else []
        assert [c["title"] for c in item["children"]] == expected


async def test_learner_transcript_is_one_call():
    data, upstream = await run("learner_transcript", {"userRemoteId": "8"})
    # users/id:8 carries the user and every enrollment with its course title.
    assert upstream == {"calls": 1, "byEndpoint": {"users/id": 1}}
    raw = PORTAL.user_detail("8")
    user = data["user"]
    assert user["id"] == gid("User", 8)
    assert user["username"] == raw["login"]
    assert without_typenames(user["emails"]) == [{"email": raw["email"], "isPrimary": True}]
    assert [n["id"] for n in user["enrollments"]["nodes"]] == [
        gid("CourseEnrollment", f"8:{c['id']}") for c in raw["courses"]
    ]
    assert [n["timeSpentSeconds"] for n in user["enrollments"]["nodes"]] == [
        c["total_time_seconds"] for c in raw["courses"]
    ]


async def test_course_roster_reads_statuses_from_each_learner():
    data, upstream = await run("course_roster", {"courseRemoteId": "101"})
    roster = PORTAL.course_detail("101")["users"]
    # courses/id:101 lists the roster but carries no completion status, so each member's
    # status (and name and email) comes from users/id — one call per member, none twice.
    assert upstream == {
        "calls": 1 + len(roster),
        "byEndpoint": {"courses/id": 1, "users/id": len(roster)},
    }
    enrollments = data["course"]["enrollments"]
    assert enrollments["pageInfo"]["hasNextPage"] is False  # the whole roster in one page
    nodes = [edge["node"] for edge in enrollments["edges"]]
    assert [n["user"]["id"] for n in nodes] == [gid("User", u["id"]) for u in roster]
    for node, member in zip(nodes, roster, strict=True):
        raw_user = PORTAL.user_detail(member["id"])
        entry = next(c for c in raw_user["courses"] if c["id"] == "101")
        assert node["status"] == expected_status(entry)
        assert node["user"]["name"] == f"{raw_user['first_name']} {raw_user['last_name']}"


async def test_catalog_page_is_two_calls():
    data, upstream = await run("catalog_page", {"first": 5})
    # /courses (v1 does not page it) and /categories for the category names.
    assert upstream == {"calls": 2, "byEndpoint": {"courses": 1, "categories": 1}}
    published = sorted(
        (c for c in PORTAL.courses if c["status"] == "active"), key=lambda c: c["name"].casefold()
    )
    names = {c["id"]: c["name"] for c in PORTAL.categories}
    edges = data["courses"]["edges"]
    nodes = [edge["node"] for edge in edges]
    assert data["courses"]["totalCount"] == len(published)
    assert [n["title"] for n in nodes] == [c["name"] for c in published[:5]]
    assert [n["remoteId"] for n in nodes] == [c["id"] for c in published[:5]]
    assert [n["id"] for n in nodes] == [gid("Course", c["id"]) for c in published[:5]]
    assert [without_typenames(n["categories"]) for n in nodes] == [
        [{"id": gid("Category", c["category_id"]), "name": names[c["category_id"]]}]
        for c in published[:5]
    ]
    assert data["courses"]["pageInfo"]["hasNextPage"] is True
    assert data["courses"]["pageInfo"]["endCursor"] == edges[-1]["cursor"]


async def test_catalog_categories_by_id_only_cost_nothing_extra():
    async with gateway_client() as client:
        response = await client.post(
            "/graphql", json={"query": "{ courses(first: 3) { nodes { categories { id } } } }"}
        )
    assert response.json()["extensions"]["upstream"]["byEndpoint"] == {"courses": 1}


async def test_course_outline_is_one_call():
    data, upstream = await run("course_outline", {"courseRemoteId": "101"})
    assert upstream == {"calls": 1, "byEndpoint": {"courses/id": 1}}
    units = PORTAL.course_detail("101")["units"]
    assert_outline(data["course"]["items"]["nodes"], units)
    # Every item is one of this course's units (an item's provider id is courseId:unitId).
    unit_ids = {gid("CourseItem", f"101:{unit['id']}") for unit in units}
    for item in data["course"]["items"]["nodes"]:
        assert item["id"] in unit_ids
        for child in item["children"]:
            assert without_typenames(child["parent"]) == {"id": item["id"], "title": item["title"]}
            assert child["id"] in unit_ids


async def test_enrollment_detail_is_one_call():
    data, upstream = await run("enrollment_detail", {"remoteId": "8:104"})
    # users/id:8 has the enrollment, its URL, the learner and the course title.
    assert upstream == {"calls": 1, "byEndpoint": {"users/id": 1}}
    entry = next(c for c in PORTAL.user_detail("8")["courses"] if c["id"] == "104")
    enrollment = data["courseEnrollment"]
    assert enrollment["id"] == gid("CourseEnrollment", "8:104")
    assert enrollment["status"] == expected_status(entry)
    assert without_typenames(enrollment["course"]) == {
        "id": gid("Course", 104),
        "title": entry["name"],
    }
    assert enrollment["user"]["id"] == gid("User", 8)


@pytest.mark.parametrize("path", sorted(QUERIES.glob("*.graphql")), ids=lambda p: p.stem)
async def test_every_example_query_runs_with_its_default_variables(path: Path):
    data, upstream = await run(path.stem)
    assert data and all(value is not None for value in data.values())
    assert upstream["calls"] >= 1
    # A client that reads answers in parts gets the same data with the same calls (in parts
    # where the operation defers some of it).
    assert await run(path.stem, accept=IN_PARTS) == (data, upstream)


async def test_the_deferred_dashboard_is_the_dashboard_with_the_same_calls():
    # Names first, then enrollments, then outlines for a client that reads parts
    # (tests/test_incremental.py); the dashboard, whole, for one that does not.
    dashboard = await run("learner_dashboard")
    assert await run("learner_dashboard_deferred") == dashboard
    assert await run("learner_dashboard_deferred", accept=IN_PARTS) == dashboard


async def test_users_updated_since_lists_the_oldest_change_first():
    # The query's comment promises it, and an incremental sync resumes from the last one.
    data, _ = await run("users_updated_since", {"since": "2000-01-01T00:00:00Z"})
    changed = [edge["node"]["updatedAt"] for edge in data["users"]["edges"]]
    assert len(changed) == min(len(PORTAL.users), 100) > 1
    assert changed == sorted(changed)
