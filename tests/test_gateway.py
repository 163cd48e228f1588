"""Gateway behaviour in process: lookups, paging, dates, partial failures and error codes."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import pytest

from gateway.providers.talentlms.portal import users_page_plan
from gateway.simulator import SimulatorConfig, generate_portal
from tests.support import (
    RecordingUpstream,
    codes,
    gateway_client,
    gid,
    post,
    query_text,
    replaced,
    upstream_settings,
)

pytestmark = pytest.mark.unit

PORTAL = generate_portal()


# --- lookups ---------------------------------------------------------------------------


async def test_unknown_ids_are_null_without_errors():
    async with gateway_client() as client:
        body = await post(
            client,
            '{ user(remoteId: "99999") { id } course(remoteId: "99999") { id } '
            'courseEnrollment(remoteId: "2:99999") { id } courseItem(remoteId: "101:1") { id } }',
        )
    assert body["data"] == {
        "user": None,
        "course": None,
        "courseEnrollment": None,
        "courseItem": None,
    }
    assert "errors" not in body


@pytest.mark.parametrize("bad_id", ["abc", "1,course_id:2", "../1", "%2F", "1 ", "x" * 500, "１２"])
async def test_ids_talentlms_cannot_have_are_null_and_never_sent(bad_id):
    async with gateway_client() as client:
        body = await post(
            client,
            "query($id: ID!) { user(remoteId: $id) { id } course(remoteId: $id) { id } "
            "courseEnrollment(remoteId: $id) { id } courseItem(remoteId: $id) { id } }",
            {"id": bad_id},
        )
    assert body["data"] == {
        "user": None,
        "course": None,
        "courseEnrollment": None,
        "courseItem": None,
    }
    assert body["extensions"]["upstream"]["calls"] == 0


async def test_deleted_user_is_reported_as_deleted():
    deleted = PORTAL.deleted_user_ids[0]
    async with gateway_client() as client:
        body = await post(
            client,
            "query($id: ID!) { user(remoteId: $id) { id status enrollments { nodes { id } } } }",
            {"id": deleted},
        )
    assert body["data"]["user"] == {
        "id": gid("User", deleted),
        "status": "DELETED",
        "enrollments": {"nodes": []},
    }


async def test_course_item_lookup_and_links():
    units = PORTAL.course_detail("101")["units"]
    child = next(u for i, u in enumerate(units) if i > 0 and u["type"] != "Section")
    async with gateway_client() as client:
        body = await post(
            client,
            "query($id: ID!) { courseItem(remoteId: $id) "
            "{ id remoteId title parent { title } course { title } } }",
            {"id": f"101:{child['id']}"},
        )
    assert body["data"]["courseItem"] == {
        "id": gid("CourseItem", f"101:{child['id']}"),
        "remoteId": f"101:{child['id']}",
        "title": child["name"],
        "parent": {"title": units[0]["name"]},
        "course": {"title": PORTAL.course_detail("101")["name"]},
    }
    assert body["extensions"]["upstream"]["byEndpoint"] == {"courses/id": 1}


async def test_course_enrollments_needs_a_user_or_a_course():
    async with gateway_client() as client:
        body = await post(client, "{ courseEnrollments(filter: {}) { nodes { id } } }")
        assert codes(body) == ["BAD_USER_INPUT"]
        assert "userId or filter.courseId" in body["errors"][0]["message"]
        assert body["extensions"]["upstream"]["calls"] == 0

        by_user = await post(
            client,
            "query($u: ID!) { courseEnrollments(filter: {userId: $u}) { nodes { remoteId } } }",
            {"u": gid("User", 8)},
        )
        ids = [n["remoteId"] for n in by_user["data"]["courseEnrollments"]["nodes"]]
        assert ids == [f"8:{c['id']}" for c in PORTAL.user_detail("8")["courses"]]

        by_course = await post(
            client,
            "query($c: ID!) { courseEnrollments(filter: {courseId: $c}) { nodes { remoteId } } }",
            {"c": gid("Course", 101)},
        )
        ids = [n["remoteId"] for n in by_course["data"]["courseEnrollments"]["nodes"]]
        assert ids == [f"{u['id']}:101" for u in PORTAL.course_detail("101")["users"]]

        pair = await post(
            client,
            "query($u: ID!, $c: ID!) { courseEnrollments(filter: {userId: $u, courseId: $c}) "
            "{ nodes { id status } } }",
            {"u": gid("User", 8), "c": gid("Course", 104)},
        )
        nodes = pair["data"]["courseEnrollments"]["nodes"]
        assert [n["id"] for n in nodes] == [gid("CourseEnrollment", "8:104")]


async def test_user_detail_only_field_loads_the_detail_once_per_user():
    async with gateway_client() as client:
        listed = await post(
            client, "{ users(first: 4) { nodes { id name organization { name } } } }"
        )
    assert listed["extensions"]["upstream"]["byEndpoint"] == {"users": 1, "users/id": 4}
    first = PORTAL.user_detail(PORTAL.user_ids[0])
    expected = first["branches"][0]["name"] if first["branches"] else None
    org = listed["data"]["users"]["nodes"][0]["organization"]
    assert (org["name"] if org else None) == expected


# --- paging ------------------------------------------------------------------------------


async def test_walking_users_page_by_page_returns_everyone_once_in_order():
    seen, after, pages = [], None, 0
    async with gateway_client() as client:
        while True:
            body = await post(
                client,
                "query($after: String) { users(first: 7, after: $after) "
                "{ nodes { remoteId } pageInfo { hasNextPage endCursor } } }",
                {"after": after},
            )
            page = body["data"]["users"]
            assert body["extensions"]["upstream"]["byEndpoint"] == {"users": 1}
            seen += [n["remoteId"] for n in page["nodes"]]
            pages += 1
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    assert seen == PORTAL.user_ids
    assert pages == -(-len(PORTAL.user_ids) // 7)


@pytest.mark.parametrize(("offset", "count"), [(0, 6), (5, 6), (7, 8), (14, 8), (700, 26), (0, 1)])
def test_users_page_plan_covers_the_window(offset, count):
    plan = users_page_plan(offset, count)
    covered = set()
    for size, number in plan:
        covered |= set(range((number - 1) * size, number * size))
    assert set(range(offset, offset + count)) <= covered
    assert len(plan) == 1


def test_users_page_plan_falls_back_to_two_pages_past_the_largest_page():
    plan = users_page_plan(5, 6, max_size=6)
    assert plan == [(6, 1), (6, 2)]
    covered = {row for size, n in plan for row in range((n - 1) * size, n * size)}
    assert set(range(5, 11)) <= covered


async def test_portal_that_ignores_paging_parameters_still_pages_correctly():
    upstream = RecordingUpstream()
    upstream.rewrites.append((r"^/api/v1/users/page_size:\d+,page_number:\d+$", "/api/v1/users"))
    query = "query($after: String) { users(first: 3, after: $after) { nodes { remoteId } "
    query += "pageInfo { endCursor } } }"
    async with gateway_client(upstream_settings(), upstream) as client:
        first = await post(client, query)
        second = await post(
            client, query, {"after": first["data"]["users"]["pageInfo"]["endCursor"]}
        )
    assert [n["remoteId"] for n in first["data"]["users"]["nodes"]] == PORTAL.user_ids[:3]
    assert [n["remoteId"] for n in second["data"]["users"]["nodes"]] == PORTAL.user_ids[3:6]


async def test_paging_off_downloads_the_list_once():
    upstream = RecordingUpstream()
    settings = upstream_settings(upstream={"users_paging": "none"})
    async with gateway_client(settings, upstream) as client:
        body = await post(client, "{ users(first: 3) { nodes { remoteId } } }")
    assert [p for p in upstream.paths if not p.endswith("/ratelimit")] == ["/api/v1/users"]
    assert [n["remoteId"] for n in body["data"]["users"]["nodes"]] == PORTAL.user_ids[:3]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("first: 101", "first must be between 0 and 100"),
        ("first: -1", "first must be between 0 and 100"),
        ('after: "not-a-cursor"', "invalid cursor"),
        ('after: "Y291cnNlczox"', "belongs to another list"),  # a cursor from `courses`
    ],
)
async def test_bad_paging_arguments_are_bad_user_input(arguments, message):
    async with gateway_client() as client:
        body = await post(client, f"{{ users({arguments}) {{ nodes {{ id }} }} }}")
    assert codes(body) == ["BAD_USER_INPUT"]
    assert message in body["errors"][0]["message"]
    assert body["extensions"]["upstream"]["calls"] == 0


async def test_nested_lists_page_in_the_gateway_with_their_own_cursors():
    async with gateway_client() as client:
        first = await post(
            client,
            '{ course(remoteId: "101") { enrollments(first: 2) '
            "{ edges { cursor node { remoteId } } pageInfo { hasNextPage endCursor } } } }",
        )
        connection = first["data"]["course"]["enrollments"]
        second = await post(
            client,
            'query($after: String) { course(remoteId: "101") '
            "{ enrollments(first: 2, after: $after) { nodes { remoteId } } } }",
            {"after": connection["pageInfo"]["endCursor"]},
        )
    roster = [f"{u['id']}:101" for u in PORTAL.course_detail("101")["users"]]
    assert [e["node"]["remoteId"] for e in connection["edges"]] == roster[:2]
    assert connection["pageInfo"]["hasNextPage"] is True
    assert connection["edges"][-1]["cursor"] == connection["pageInfo"]["endCursor"]
    second_page = second["data"]["course"]["enrollments"]["nodes"]
    assert [n["remoteId"] for n in second_page] == roster[2:4]


# --- dates ------------------------------------------------------------------------------


async def test_siteinfo_is_read_once_per_portal_and_only_when_a_formatted_date_is_selected():
    upstream = RecordingUpstream()
    async with gateway_client(upstream_settings(), upstream) as client:
        await post(client, query_text("learner_dashboard"))
        assert not any(p.endswith("/siteinfo") for p in upstream.paths)
        first = await post(client, "{ users(first: 2) { nodes { createdAt } } }")
        second = await post(client, "{ courses(first: 2) { nodes { createdAt updatedAt } } }")
    assert first["extensions"]["upstream"]["byEndpoint"] == {"siteinfo": 1, "users": 1}
    assert second["extensions"]["upstream"]["byEndpoint"] == {"courses": 1}
    assert [p for p in upstream.paths if p.endswith("/siteinfo")] == ["/api/v1/siteinfo"]


@pytest.mark.parametrize(
    ("date_format", "twelve_hour", "pattern"),
    [
        ("DDMMYYYY", False, "%d/%m/%Y, %H:%M:%S"),
        ("MMDDYYYY", True, "%m/%d/%Y, %I:%M:%S %p"),
        ("YYYYMMDD", True, "%Y/%m/%d, %I:%M:%S %p"),
    ],
)
async def test_formatted_dates_follow_the_portal_date_format(date_format, twelve_hour, pattern):
    config = SimulatorConfig(date_format=date_format, twelve_hour=twelve_hour)
    raw = generate_portal(config).users[0]
    expected = datetime.strptime(raw["created_on"], pattern).replace(tzinfo=UTC)
    upstream = RecordingUpstream(config)
    async with gateway_client(upstream_settings(), upstream) as client:
        body = await post(client, "{ users(first: 1) { nodes { createdAt updatedAt } } }")
    node = body["data"]["users"]["nodes"][0]
    assert node["createdAt"] == expected.isoformat().replace("+00:00", "Z")
    updated = datetime.fromtimestamp(int(raw["last_updated_timestamp"]), UTC)
    assert node["updatedAt"] == updated.isoformat().replace("+00:00", "Z")


async def test_configured_date_format_skips_siteinfo():
    upstream = RecordingUpstream()
    settings = upstream_settings(upstream={"date_format": "DDMMYYYY"})
    async with gateway_client(settings, upstream) as client:
        body = await post(client, "{ users(first: 1) { nodes { createdAt } } }")
    assert body["extensions"]["upstream"]["byEndpoint"] == {"users": 1}
    assert body["data"]["users"]["nodes"][0]["createdAt"] is not None


# --- failures -----------------------------------------------------------------------------


async def test_one_failing_user_leaves_the_rest_of_the_dashboard_intact():
    upstream = RecordingUpstream()
    failing = PORTAL.user_ids[2]
    upstream.faults[rf"/users/id:{failing}$"] = httpx.Response(
        500, json={"error": {"type": "api_error", "message": "Something went wrong"}}
    )
    async with gateway_client(upstream_settings(), upstream) as client:
        body = await post(client, query_text("learner_dashboard"))
    assert codes(body) == ["UPSTREAM_ERROR"]
    assert body["errors"][0]["path"] == ["users", "nodes", 2, "enrollments"]
    users = body["data"]["users"]["nodes"]
    assert users[2]["enrollments"] is None
    assert all(users[i]["enrollments"]["nodes"] for i in (0, 1, 3, 4))


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        (
            httpx.Response(401, html="<p>You need a valid user and password</p>"),
            "UPSTREAM_AUTH_FAILED",
        ),
        (httpx.Response(429, json={"error": {"message": "rate limit"}}), "UPSTREAM_RATE_LIMITED"),
        (httpx.ConnectError("connection refused"), "UPSTREAM_UNAVAILABLE"),
        (httpx.Response(200, text="<html>"), "UPSTREAM_ERROR"),
        (httpx.Response(200, json={"unexpected": "shape"}), "UPSTREAM_ERROR"),
    ],
)
async def test_upstream_failures_become_coded_errors(fault, code):
    upstream = RecordingUpstream()
    upstream.faults[r"/users/page_size"] = fault
    async with gateway_client(upstream_settings(), upstream) as client:
        body = await post(
            client, "{ users(first: 2) { nodes { id } } courses(first: 1) { nodes { id } } }"
        )
    assert codes(body) == [code]
    assert body["errors"][0]["path"] == ["users"]
    assert body["data"]["users"] is None
    assert len(body["data"]["courses"]["nodes"]) == 1  # the other root field still answers


async def test_wrong_api_key_is_upstream_auth_failed_and_never_echoed():
    async with gateway_client(
        upstream_settings(upstream={"api_key": "wrong-key-123"}), RecordingUpstream()
    ) as client:
        response = await client.post("/graphql", json={"query": '{ user(remoteId: "2") { id } }'})
    body = response.json()
    assert codes(body) == ["UPSTREAM_AUTH_FAILED"]
    assert "wrong-key-123" not in response.text


async def test_unexpected_exceptions_are_masked(monkeypatch):
    from gateway.providers.talentlms import provider

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals at /srv/app.py line 3")

    monkeypatch.setattr(provider, "map_course", explode)
    async with gateway_client() as client:
        body = await post(client, "{ courses(first: 1) { nodes { id } } }")
    assert codes(body) == ["INTERNAL"]
    assert body["errors"][0]["message"] == "Internal server error"
    assert "secret" not in str(body)


async def test_invalid_documents_are_refused_before_any_call():
    async with gateway_client() as client:
        unknown = await post(client, "{ users { nodes { nope } } }")
        syntax = await client.post("/graphql", json={"query": "{ users { "})
    assert codes(unknown) == ["GRAPHQL_VALIDATION_FAILED"]
    assert syntax.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert simulator_total(client) == 0


def simulator_total(client: httpx.AsyncClient) -> int:
    return client.app.state.runtime.simulator.state.stats.total


# --- loaders ------------------------------------------------------------------------------


async def test_sibling_loads_run_concurrently():
    upstream = RecordingUpstream(SimulatorConfig(latency_ms=20))
    # The background quota read answers at once, outside the in-flight count: whether it
    # overlaps the users/id calls is a matter of timing, not of batching.
    reset = str(int(time.time()) + 3600)
    quota = {"limit": "2000", "remaining": 2000, "reset": reset}
    upstream.faults[r"/ratelimit$"] = httpx.Response(200, json=quota)
    async with gateway_client(upstream_settings(), upstream) as client:
        await post(client, "{ users(first: 5) { nodes { enrollments { nodes { id } } } } }")
    assert upstream.max_in_flight == 5  # the five users/id calls were in flight together


async def test_one_course_detail_call_serves_items_and_enrollments():
    async with gateway_client() as client:
        body = await post(
            client,
            '{ course(remoteId: "101") { title items { nodes { id children { id } } } '
            "enrollments { nodes { id progressPercent } } } }",
        )
    assert body["extensions"]["upstream"]["byEndpoint"] == {"courses/id": 1}


async def test_upstream_extension_can_be_turned_off(demo_settings):
    settings = replaced(demo_settings, execution={"upstream_extension": False})
    async with gateway_client(settings) as client:
        body = await post(client, '{ user(remoteId: "2") { id } }')
    assert "upstream" not in body.get("extensions", {})
