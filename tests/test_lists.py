"""Lists: pagination, filters, ordering, lookups, partial-vs-full and passthrough."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.domain.pagination import Cursors, PageArgs
from gateway.errors import BadUserInput
from gateway.simulator import generate_portal
from tests.support import (
    RecordingUpstream,
    codes,
    gateway_client,
    gid,
    post,
    query_text,
    upstream_settings,
)

pytestmark = pytest.mark.unit

PORTAL = generate_portal()
USERS = PORTAL.users
PAGE = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"


def remote_ids(connection: dict) -> list[str]:
    """The provider's ids of a connection's ``nodes`` (each selecting ``remoteId``)."""
    return [node["remoteId"] for node in connection["nodes"]]


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


# --- pagination ---------------------------------------------------------------------------


async def test_walking_users_with_total_count_sees_everyone_once_with_few_calls():
    seen, after, calls, hits = [], None, 0, 0
    async with gateway_client() as client:
        while True:
            body = await post(
                client,
                f"query($after: String) {{ users(first: 7, after: $after) "
                f"{{ totalCount nodes {{ remoteId }} {PAGE} }} }}",
                {"after": after},
            )
            page = body["data"]["users"]
            assert page["totalCount"] == len(USERS)
            assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
            calls += body["extensions"]["upstream"]["calls"]
            hits += body["extensions"]["upstream"]["cacheHits"]
            seen += remote_ids(page)
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    assert seen == [u["id"] for u in USERS]
    pages = -(-len(USERS) // 7)
    # One /users/page_size:1000 call for the walk (the later pages read it from the shared
    # cache), against one users/id call per user.
    assert (calls, hits) == (1, pages - 1)


async def test_page_boundaries_and_backwards_paging():
    all_ids = [u["id"] for u in USERS]
    async with gateway_client() as client:
        empty = await post(client, f"{{ users(first: 0) {{ nodes {{ remoteId }} {PAGE} }} }}")
        assert remote_ids(empty["data"]["users"]) == []
        assert empty["data"]["users"]["pageInfo"]["endCursor"] is None

        whole = await post(client, "{ users(first: 100) { edges { cursor node { remoteId } } } }")
        edges = whole["data"]["users"]["edges"]
        assert [e["node"]["remoteId"] for e in edges] == all_ids
        last_cursor = edges[-1]["cursor"]

        past_end = await post(
            client,
            f"query($c: String) {{ users(first: 5, after: $c) {{ nodes {{ remoteId }} {PAGE} }} }}",
            {"c": last_cursor},
        )
        assert remote_ids(past_end["data"]["users"]) == []
        assert past_end["data"]["users"]["pageInfo"]["hasNextPage"] is False

        tail = await post(client, f"{{ users(last: 4) {{ nodes {{ remoteId }} {PAGE} }} }}")
        assert remote_ids(tail["data"]["users"]) == all_ids[-4:]
        assert tail["data"]["users"]["pageInfo"]["hasNextPage"] is False
        assert tail["data"]["users"]["pageInfo"]["hasPreviousPage"] is True

        before = await post(
            client,
            "query($c: String) { users(last: 3, before: $c) { nodes { remoteId } } }",
            {"c": edges[10]["cursor"]},
        )
        assert remote_ids(before["data"]["users"]) == all_ids[7:10]
        # last + before needs only the rows before the cursor: paged upstream, no full list.
        assert before["extensions"]["upstream"]["byEndpoint"] == {"users": 1}

        between = await post(
            client,
            "query($a: String, $b: String) { users(first: 10, after: $a, before: $b) "
            "{ nodes { remoteId } } }",
            {"a": edges[2]["cursor"], "b": edges[6]["cursor"]},
        )
        assert remote_ids(between["data"]["users"]) == all_ids[3:6]

        both = await post(client, "{ users(first: 2, last: 2) { nodes { id } } }")
        assert codes(both) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    "field",
    [
        '{ course(remoteId: "101") { items(first: 100) { nodes { id } } } }',
        '{ course(remoteId: "101") { enrollments(first: 100) { nodes { id } } } }',
        '{ user(remoteId: "8") { enrollments(first: 100) { nodes { id } } } }',
        f'{{ courseEnrollments(filter: {{courseId: "{gid("Course", 101)}"}}, first: 100) '
        "{ nodes { id } } }",
    ],
)
async def test_first_above_the_maximum_is_refused_everywhere(field):
    async with gateway_client() as client:
        ok = await post(client, field)
        refused = await post(client, field.replace("first: 100", "first: 101"))
    assert "errors" not in ok
    assert codes(refused) == ["BAD_USER_INPUT"]
    assert "between 0 and 100" in refused["errors"][0]["message"]


def test_cursors_do_not_cross_lists_filters_or_accounts():
    users = Cursors("acme", "users", None)
    cursor = users.encode(4)
    assert Cursors("acme", "users", None).decode(cursor) == 4  # stable across instances
    for other in (
        Cursors("globex", "users", None),
        Cursors("acme", "courses", None),
        Cursors("acme", "users", {"status": ["active"]}),
        Cursors("acme", "User.enrollments", "8"),
    ):
        with pytest.raises(BadUserInput, match="another list"):
            other.decode(cursor)
    for garbage in ("", "!!!", "bm90LWEtY3Vyc29y", users.encode(4)[:-2]):
        with pytest.raises(BadUserInput):
            users.window(PageArgs(after=garbage), 10)


async def test_a_cursor_from_another_users_enrollments_is_refused():
    async with gateway_client() as client:
        mine = await post(
            client, '{ user(remoteId: "8") { enrollments(first: 1) { pageInfo { endCursor } } } }'
        )
        cursor = mine["data"]["user"]["enrollments"]["pageInfo"]["endCursor"]
        theirs = await post(
            client,
            'query($c: String) { user(remoteId: "4") { enrollments(after: $c) { nodes { id } } } }',
            {"c": cursor},
        )
    assert codes(theirs) == ["BAD_USER_INPUT"]
    assert theirs["errors"][0]["path"] == ["user", "enrollments"]


# --- filters and ordering -----------------------------------------------------------------


async def test_filtered_pages_agree_with_the_filtered_total():
    # "Sales Learner" is a custom user type whose role is learner too.
    expected = [
        u["id"]
        for u in USERS
        if u["status"] == "active" and u["user_type"] in ("Learner-Type", "Sales Learner")
    ]
    seen, after = [], None
    async with gateway_client() as client:
        while True:
            body = await post(
                client,
                "query($after: String) { users(first: 4, after: $after, "
                "filter: {status: ACTIVE, role: [LEARNER]}) { totalCount "
                "nodes { remoteId status role } pageInfo { hasNextPage endCursor } } }",
                {"after": after},
            )
            page = body["data"]["users"]
            assert page["totalCount"] == len(expected)
            assert all(n["status"] == "ACTIVE" and n["role"] == "LEARNER" for n in page["nodes"])
            seen += remote_ids(page)
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    assert seen == expected


@pytest.mark.parametrize(
    ("filter_", "predicate"),
    [
        (
            '{search: "GARCIA"}',
            lambda u: (
                "garcia" in f"{u['first_name']} {u['last_name']} {u['login']} {u['email']}".lower()
            ),
        ),
        ("{status: INACTIVE}", lambda u: u["status"] == "inactive"),
        (
            "{role: [ADMIN, MANAGER]}",
            lambda u: u["user_type"] in ("SuperAdmin", "Admin-Type", "Team-Manager"),
        ),
    ],
)
async def test_user_filters(filter_, predicate):
    async with gateway_client() as client:
        body = await post(
            client, f"{{ users(first: 100, filter: {filter_}) {{ nodes {{ remoteId }} }} }}"
        )
    assert remote_ids(body["data"]["users"]) == [u["id"] for u in USERS if predicate(u)]
    assert remote_ids(body["data"]["users"])  # the filter matched someone


async def test_incremental_sync_by_updated_after():
    data = query_text("users_updated_since")
    stamps = sorted(int(u["last_updated_timestamp"]) for u in USERS)
    since = datetime.fromtimestamp(stamps[len(stamps) // 2], UTC)
    async with gateway_client() as client:
        body = await post(client, data, {"since": iso(since)})
    changed = [u for u in USERS if int(u["last_updated_timestamp"]) >= since.timestamp()]
    # Oldest change first (a stable sort: equal times keep the portal's order).
    expected = [u["id"] for u in sorted(changed, key=lambda u: int(u["last_updated_timestamp"]))]
    nodes = [edge["node"] for edge in body["data"]["users"]["edges"]]
    assert [n["remoteId"] for n in nodes] == expected
    assert [n["id"] for n in nodes] == [gid("User", remote_id) for remote_id in expected]
    assert body["data"]["users"]["totalCount"] == len(expected)
    assert all(n["updatedAt"] >= iso(since) for n in nodes)
    assert body["extensions"]["upstream"]["byEndpoint"] == {"users": 1}


async def test_created_filter_and_order_read_the_portal_date_format_once():
    async with gateway_client() as client:
        body = await post(
            client,
            '{ users(first: 100, filter: {createdBefore: "2024-01-01T00:00:00Z"}, '
            "orderBy: {field: CREATED_AT, direction: DESC}) { nodes { createdAt } } }",
        )
    created = [n["createdAt"] for n in body["data"]["users"]["nodes"]]
    assert created and created == sorted(created, reverse=True)
    assert all(value < "2024-01-01T00:00:00Z" for value in created)
    assert body["extensions"]["upstream"]["byEndpoint"] == {"siteinfo": 1, "users": 1}


async def test_order_users_by_name_both_ways():
    names = sorted(f"{u['first_name']} {u['last_name']}".casefold() for u in USERS)
    async with gateway_client() as client:
        up = await post(client, "{ users(first: 100, orderBy: {field: NAME}) { nodes { name } } }")
        down = await post(
            client,
            "{ users(first: 100, orderBy: {field: NAME, direction: DESC}) { nodes { name } } }",
        )
    assert [n["name"].casefold() for n in up["data"]["users"]["nodes"]] == names
    assert [n["name"].casefold() for n in down["data"]["users"]["nodes"]] == names[::-1]


@pytest.mark.parametrize(
    ("filter_", "predicate", "calls"),
    [
        ("{status: DISABLED}", lambda c: c["status"] == "inactive", {"courses": 1}),
        ('{category: "22"}', lambda c: c["category_id"] == "22", {"courses": 1}),
        (
            '{category: "health & SAFETY"}',
            lambda c: c["category_id"] == "22",
            {"courses": 1, "categories": 1},
        ),
        ('{code: "fire-102"}', lambda c: c["code"] == "FIRE-102", {"courses": 1}),
        ('{search: "safety"}', lambda c: "safety" in c["name"].lower(), {"courses": 1}),
    ],
)
async def test_course_filters(filter_, predicate, calls):
    async with gateway_client() as client:
        body = await post(
            client,
            f"{{ courses(first: 100, filter: {filter_}) {{ totalCount nodes {{ remoteId }} }} }}",
        )
    expected = [c["id"] for c in PORTAL.courses if predicate(c)]
    assert expected and remote_ids(body["data"]["courses"]) == expected
    assert body["data"]["courses"]["totalCount"] == len(expected)
    assert body["extensions"]["upstream"]["byEndpoint"] == calls


async def test_order_courses_by_title_and_updated_at():
    async with gateway_client() as client:
        by_title = await post(client, "{ courses(orderBy: {field: TITLE}) { nodes { title } } }")
        by_update = await post(
            client,
            "{ courses(orderBy: {field: UPDATED_AT, direction: DESC}) { nodes { updatedAt } } }",
        )
    titles = [n["title"] for n in by_title["data"]["courses"]["nodes"]]
    assert titles == sorted(titles, key=str.casefold)
    updated = [n["updatedAt"] for n in by_update["data"]["courses"]["nodes"]]
    assert updated == sorted(updated, reverse=True)


async def test_filtered_roster_overdue_or_failed():
    course = next(
        c
        for c in PORTAL.course_ids
        if any(e.state in ("failed", "expired") for e in PORTAL.enrollments if e.course_id == c)
    )
    roster = PORTAL.course_detail(course)["users"]
    async with gateway_client() as client:
        body = await post(client, query_text("course_attention_needed"), {"courseRemoteId": course})
    expected = [
        gid("CourseEnrollment", f"{e.user_id}:{course}")
        for e in PORTAL.enrollments
        if e.course_id == course and e.state in ("failed", "expired")
    ]
    nodes = body["data"]["course"]["enrollments"]["nodes"]
    assert sorted(n["id"] for n in nodes) == sorted(expected)
    assert {n["status"] for n in nodes} <= {"FAILED", "EXPIRED", "OVERDUE"}
    # The roster has no statuses: one users/id per member, each made once.
    assert body["extensions"]["upstream"]["byEndpoint"] == {
        "courses/id": 1,
        "users/id": len(roster),
    }


async def test_enrollment_filters_on_progress_and_dates():
    raw = PORTAL.user_detail("8")["courses"]
    async with gateway_client() as client:
        body = await post(
            client,
            '{ user(remoteId: "8") { a: enrollments(filter: {minProgress: 50}) '
            "{ nodes { remoteId } } "
            "b: enrollments(filter: {status: [COMPLETED, PASSED], completedAfter: "
            '"2000-01-01T00:00:00Z"}) { totalCount nodes { remoteId } } '
            'c: enrollments(filter: {enrolledBefore: "2000-01-01T00:00:00Z"}) '
            "{ totalCount } } }",
        )
    user = body["data"]["user"]
    assert remote_ids(user["a"]) == [
        f"8:{c['id']}" for c in raw if float(c["completion_percentage"]) >= 50
    ]
    assert remote_ids(user["b"]) == [
        f"8:{c['id']}"
        for c in raw
        if c["completion_status"] in ("completed", "passed") and c["completed_on_timestamp"]
    ]
    assert user["c"]["totalCount"] == 0
    assert body["extensions"]["upstream"]["byEndpoint"] == {"users/id": 1}


# --- lookups ------------------------------------------------------------------------------


async def test_lookup_by_email_and_username_serves_the_rest_of_the_query():
    raw = PORTAL.user_detail("8")
    async with gateway_client() as client:
        by_email = await post(
            client,
            "query($e: String) { user(email: $e) { id enrollments { totalCount } } }",
            {"e": raw["email"].upper()},
        )
        by_name = await post(
            client, "query($u: String) { user(username: $u) { id } }", {"u": raw["login"]}
        )
        nobody = await post(client, '{ user(email: "nobody@example.org") { id } }')
    assert by_email["data"]["user"] == {
        "id": gid("User", 8),
        "enrollments": {"totalCount": len(raw["courses"])},
    }
    assert by_email["extensions"]["upstream"]["byEndpoint"] == {"users/email": 1}
    assert by_name["data"]["user"] == {"id": gid("User", 8)}
    assert nobody["data"] == {"user": None} and "errors" not in nobody


@pytest.mark.parametrize(
    "arguments",
    [
        "",
        'remoteId: "1", email: "a@b.c"',
        'email: "not-an-email"',
        'username: ""',
        'email: " a@b.c"',
    ],
)
async def test_user_lookup_arguments_are_checked_before_any_call(arguments):
    async with gateway_client() as client:
        body = await post(client, f"{{ user({arguments}) {{ id }} }}".replace("()", ""))
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["extensions"]["upstream"]["calls"] == 0


async def test_email_filter_uses_the_lookup_endpoint():
    raw = PORTAL.user_detail("8")
    async with gateway_client() as client:
        body = await post(
            client,
            "query($e: String) { users(filter: {email: $e}) { totalCount nodes { remoteId } } }",
            {"e": raw["email"]},
        )
    assert remote_ids(body["data"]["users"]) == ["8"]
    assert body["extensions"]["upstream"]["byEndpoint"] == {"users/email": 1}


# --- partial vs full ------------------------------------------------------------------------


async def test_list_fields_make_no_detail_calls_and_detail_fields_one_per_user():
    listed = "id name username emails { email } status role timezone customFields remoteData"
    async with gateway_client() as client:
        partial = await post(client, f"{{ users(first: 50) {{ nodes {{ {listed} }} }} }}")
        detailed = f"{{ users(first: 50) {{ nodes {{ {listed} organization {{ id name }} }} }} }}"
        fresh = {"Cache-Control": "no-cache"}  # past the shared cache: count real calls
        full = (await client.post("/graphql", json={"query": detailed}, headers=fresh)).json()
    assert partial["extensions"]["upstream"]["byEndpoint"] == {"users": 1}
    assert full["extensions"]["upstream"]["byEndpoint"] == {"users": 1, "users/id": 50}
    for node, raw_id in zip(full["data"]["users"]["nodes"], PORTAL.user_ids, strict=False):
        branches = PORTAL.user_detail(raw_id)["branches"]
        expected = (
            {"id": gid("Organization", branches[0]["id"]), "name": branches[0]["name"]}
            if branches
            else None
        )
        assert node["organization"] == expected
    remote = partial["data"]["users"]["nodes"][0]["remoteData"]
    assert "courses" not in remote and "login_key" not in remote  # the list form, no secret


async def test_remote_data_of_a_full_record_is_the_detail_form():
    async with gateway_client() as client:
        body = await post(client, '{ user(remoteId: "8") { remoteData } }')
    remote = body["data"]["user"]["remoteData"]
    assert remote["courses"] and "login_key" not in remote


async def test_passthrough_fields_selected_through_fragments_are_mapped():
    # Mapping skips customFields/remoteData when an operation never selects them; selecting
    # them only inside fragments, deep in the tree, must still be seen.
    query = """
    query { course(remoteId: "101") { enrollments(first: 3) { nodes { ...E user { ...U } } } } }
    fragment E on CourseEnrollment { id ... on CourseEnrollment { remoteData } }
    fragment U on User { id remoteId customFields }
    """
    async with gateway_client() as client:
        body = await post(client, query)
    nodes = body["data"]["course"]["enrollments"]["nodes"]
    assert nodes
    for node in nodes:
        assert node["remoteData"]["id"] == node["user"]["remoteId"]  # the roster row as sent
        assert "user_type" in node["user"]["customFields"]
        assert node["user"]["customFields"]["user_type"] is not None


async def test_reference_fields_and_total_count_are_seen_through_fragments():
    # A learner reference answers `id` alone; a field hidden in a spread, an inline fragment
    # or a second selection of the same field must still load the user (one users/id each).
    roster = '{ course(remoteId: "101") { enrollments(first: 2) { %s nodes { user { %s } } } } }'
    spread_u = " fragment U on User { username }"
    spread_t = " fragment T on CourseEnrollmentConnection { totalCount }"
    roster_only, with_users = {"courses/id": 1}, {"courses/id": 1, "users/id": 2}
    cases = [
        (roster % ("", "id"), roster_only, False),
        (roster % ("", "...U") + spread_u, with_users, False),
        (roster % ("", "... on User { id ... on User { username } }"), with_users, False),
        (roster % ("", "id } user { username"), with_users, False),
        (roster % ("...T", "id") + spread_t, roster_only, True),
    ]
    async with gateway_client() as client:
        for query, calls, total in cases:
            fresh = {"Cache-Control": "no-cache"}  # past the shared cache: count real calls
            body = (await client.post("/graphql", json={"query": query}, headers=fresh)).json()
            assert "errors" not in body, body
            assert body["extensions"]["upstream"]["byEndpoint"] == calls, query
            assert ("totalCount" in body["data"]["course"]["enrollments"]) is total


async def test_remembered_selections_belong_to_their_own_document_text():
    # The selection handed to the provider is remembered per document text: repeating one
    # text, or alternating with another, must not give either the other's selection.
    with_remote = '{ user(remoteId: "8") { id remoteData } }'
    without = '{ user(remoteId: "8") { id } }'
    async with gateway_client() as client:
        for query in (with_remote, without, with_remote, without, with_remote):
            user = (await post(client, query))["data"]["user"]
            assert ("remoteData" in user) is (query == with_remote)
            if query == with_remote:
                assert user["remoteData"]["id"] == "8"


# --- passthrough ----------------------------------------------------------------------------


async def test_remote_query_passes_provider_parameters_through_escaped():
    upstream = RecordingUpstream()
    company = "Globex Corporation"
    async with gateway_client(upstream_settings(), upstream) as client:
        body = await post(
            client,
            "query($q: JSON) { users(remoteQuery: $q, first: 100) "
            "{ totalCount nodes { remoteId } } }",
            {"q": {"custom_field_value": company}},
        )
        injected = await post(
            client,
            "query($q: JSON) { users(remoteQuery: $q) { totalCount } }",
            {"q": {"custom_field_value": "x,id:1/../"}},
        )
    expected = [u["id"] for u in USERS if u["custom_field_1"] == company]
    assert sorted(remote_ids(body["data"]["users"]), key=int) == expected
    assert "/api/v1/getusersbycustomfield/custom_field_value:Globex%20Corporation" in upstream.paths
    assert "/api/v1/getusersbycustomfield/custom_field_value:x%2Cid%3A1%2F..%2F" in upstream.paths
    assert injected["data"]["users"]["totalCount"] == 0


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ users(remoteQuery: {page_size: 5}) { totalCount } }", None),
        ("{ courses(remoteQuery: {id: 1}) { totalCount } }", None),
        (
            f'{{ courseEnrollments(filter: {{userId: "{gid("User", 8)}"}}, remoteQuery: {{x: 1}}) '
            "{ totalCount } }",
            None,
        ),
        (
            "query($q: JSON) { users(remoteQuery: $q) { totalCount } }",
            {"q": ["custom_field_value"]},
        ),
        (
            "query($q: JSON) { users(remoteQuery: $q) { totalCount } }",
            {"q": {"custom_field_value": "a\nb"}},
        ),
        (
            "query($q: JSON) { users(remoteQuery: $q) { totalCount } }",
            {"q": {"custom_field_value": {"nested": 1}}},
        ),
    ],
)
async def test_remote_query_outside_the_allow_list_is_refused_without_calls(query, variables):
    async with gateway_client() as client:
        body = await post(client, query, variables)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["extensions"]["upstream"]["calls"] == 0
