"""The LearnWorlds simulator answers like a school's API v2
(``shared/reference/learnworlds-api.md`` §1–§7, §9): the token call in its three encodings,
``Lw-Client`` and Bearer on every call, the ``{data, meta}`` envelope and each endpoint's page
size, both error body shapes, the rate limit's 429, faults through the shared admin interface,
call counts, and a generated school that is the same for the same seed."""

from __future__ import annotations

import json
import math
import re
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette

from gateway.simulator import (
    LearnWorldsConfig,
    SimulatorConfig,
    create_learnworlds_app,
    generate_school,
)
from gateway.simulator.learnworlds import FAULT_KINDS, School
from gateway.simulator.learnworlds.data import (
    PROGRESS_STATUSES,
    UNIT_TYPES,
)
from tests.support import (
    LEARNWORLDS_DENIED as DENIED,
)
from tests.support import (
    LEARNWORLDS_NOT_FOUND as NOT_FOUND,
)
from tests.support import (
    LEARNWORLDS_OBJECT_ID as HEX,
)
from tests.support import (
    LEARNWORLDS_TOO_MANY as TOO_MANY,
)
from tests.support import console_script, free_port, running, serve_over_http

CONFIG = LearnWorldsConfig()
CLIENT = CONFIG.client_id
SECRET = CONFIG.client_secret
STATIC = CONFIG.static_token or ""
API = "/admin/api"
CREDENTIALS = {"client_id": CLIENT, "client_secret": SECRET, "grant_type": "client_credentials"}
UNLIMITED = LearnWorldsConfig(rate_limit=0)


def auth(token: str = STATIC) -> dict[str, str]:
    return {"Lw-Client": CLIENT, "Authorization": f"Bearer {token}"}


def path_id(value: str) -> str:
    """A user id or e-mail as a path segment: URL-encoded, ``@`` and ``+`` included."""
    return quote(value, safe="")


class Clock:
    """Wall and monotonic time a test moves by hand."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def simulator(
    config: LearnWorldsConfig | None = UNLIMITED, **options: Any
) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    """A fresh simulator in process and a client on it (no credentials sent by default)."""
    app = create_learnworlds_app(config, **options)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://school.test") as client:
        yield app, client


async def fetch_token(client: httpx.AsyncClient) -> str:
    response = await client.post(
        f"{API}/oauth2/access_token", headers={"Lw-Client": CLIENT}, json=CREDENTIALS
    )
    assert response.status_code == 200, response.text
    return str(response.json()["tokenData"]["access_token"])


async def put_faults(client: httpx.AsyncClient, *rules: dict[str, Any]) -> httpx.Response:
    return await client.put("/_simulator/faults", json={"faults": list(rules)})


@contextmanager
def live(config: LearnWorldsConfig | None = None) -> Iterator[tuple[Starlette, httpx.Client]]:
    """A fresh simulator behind uvicorn and a client on its base URL."""
    app = create_learnworlds_app(config)
    with serve_over_http(app) as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
        yield app, client


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Starlette, str]]:
    """One read-only simulator without a rate limit, shared by the module's HTTP tests."""
    app = create_learnworlds_app(UNLIMITED)
    with serve_over_http(app) as base_url:
        yield app, base_url


@pytest.fixture
def http(served: tuple[Starlette, str]) -> Iterator[httpx.Client]:
    _app, base_url = served
    with httpx.Client(base_url=base_url + API, headers=auth(), timeout=10) as client:
        yield client


@pytest.fixture
def school(served: tuple[Starlette, str]) -> School:
    app, _base_url = served
    return app.state.school  # type: ignore[no-any-return]


def all_pages(client: httpx.Client, path: str, **params: Any) -> tuple[list[Any], list[dict]]:
    """Every item of a paged list, and each page's meta, walking until ``totalPages``."""
    items: list[Any] = []
    metas: list[dict] = []
    page = 1
    while True:
        body = client.get(path, params={**params, "page": page}).json()
        items += body["data"]
        metas.append(body["meta"])
        if page >= body["meta"]["totalPages"]:
            return items, metas
        page += 1


# --- the token call ---------------------------------------------------------------------------


@pytest.mark.http
@pytest.mark.parametrize("encoding", ["data-field", "json", "form"])
def test_the_token_call_accepts_each_encoding_working_clients_use(encoding: str) -> None:
    config = LearnWorldsConfig(token_lifetime=1234)
    body: dict[str, Any]
    if encoding == "data-field":  # form-urlencoded, one field holding the JSON object
        body = {"data": {"data": json.dumps(CREDENTIALS)}}
    elif encoding == "json":
        body = {"json": CREDENTIALS}
    else:
        body = {"data": CREDENTIALS}
    with live(config) as (_app, client):
        response = client.post(f"{API}/oauth2/access_token", headers={"Lw-Client": CLIENT}, **body)
        assert response.status_code == 200
        answer = response.json()
        assert set(answer) == {"tokenData", "errors", "success"}
        assert answer["errors"] == [] and answer["success"] is True
        data = answer["tokenData"]
        assert set(data) == {"access_token", "token_type", "expires_in"}
        assert data["token_type"] == "Bearer" and data["expires_in"] == 1234
        assert isinstance(data["access_token"], str) and len(data["access_token"]) >= 32
        users = client.get(f"{API}/v2/users", headers=auth(data["access_token"]))
    assert users.status_code == 200


@pytest.mark.http
def test_token_call_failures_answer_body_shape_1() -> None:
    with live() as (_app, client):
        url = f"{API}/oauth2/access_token"
        no_client = client.post(url, json=CREDENTIALS)
        wrong_client = client.post(url, headers={"Lw-Client": "someone-else"}, json=CREDENTIALS)
        wrong_secret = client.post(
            url, headers={"Lw-Client": CLIENT}, json={**CREDENTIALS, "client_secret": "nope"}
        )
        grant = client.post(
            url, headers={"Lw-Client": CLIENT}, json={**CREDENTIALS, "grant_type": "password"}
        )
        missing = client.post(url, headers={"Lw-Client": CLIENT}, json={"client_id": CLIENT})
        garbage = client.post(
            url,
            headers={"Lw-Client": CLIENT, "Content-Type": "application/json"},
            content=b"{not json",
        )
    expected = [
        (no_client, 400, "client_id"),
        (wrong_client, 400, "client_id"),
        (wrong_secret, 401, "invalid_client"),
        (grant, 400, "unsupported_grant_type"),
        (missing, 400, "invalid_request"),
        (garbage, 400, "invalid_request"),
    ]
    for response, status, context in expected:
        assert response.status_code == status
        body = response.json()
        assert body["success"] is False
        [error] = body["errors"]
        assert error["code"] == str(status) and error["context"] == context
        assert isinstance(error["message"], str) and error["message"]
    assert no_client.json()["errors"][0]["message"] == (
        "Missing client_id or client cannot be found."
    )


# --- Lw-Client and Bearer on every call -------------------------------------------------------


@pytest.mark.http
def test_every_call_needs_lw_client_and_a_valid_bearer_token() -> None:
    with live() as (_app, client):
        url = f"{API}/v2/courses"
        static = client.get(url, headers=auth())
        no_client = client.get(url, headers={"Authorization": f"Bearer {STATIC}"})
        wrong_client = client.get(url, headers={**auth(), "Lw-Client": "someone-else"})
        no_token = client.get(url, headers={"Lw-Client": CLIENT})
        bad_token = client.get(url, headers=auth("not-a-token"))
        basic = client.get(url, headers={"Lw-Client": CLIENT}, auth=(CLIENT, SECRET))
    assert static.status_code == 200
    for response in (no_client, wrong_client):
        assert response.status_code == 401
        assert response.json()["errors"][0]["context"] == "client_id"
        assert response.json()["success"] is False
    for response in (no_token, bad_token, basic):
        assert response.status_code == 401
        assert response.json() == DENIED


@pytest.mark.unit
async def test_an_issued_token_expires_after_its_lifetime() -> None:
    clock = Clock()
    async with simulator(LearnWorldsConfig(token_lifetime=60), clock=clock) as (_app, client):
        token = await fetch_token(client)
        clock.now += 59
        assert (await client.get(f"{API}/v2/users", headers=auth(token))).status_code == 200
        clock.now += 1
        expired = await client.get(f"{API}/v2/users", headers=auth(token))
        assert expired.status_code == 401 and expired.json() == DENIED
        fresh = await fetch_token(client)
        assert fresh != token
        assert (await client.get(f"{API}/v2/users", headers=auth(fresh))).status_code == 200
        # The static token does not expire with the clock.
        clock.now += 10 * 365 * 86_400
        assert (await client.get(f"{API}/v2/users", headers=auth())).status_code == 200


@pytest.mark.unit
async def test_without_a_static_token_only_issued_tokens_work() -> None:
    async with simulator(LearnWorldsConfig(static_token=None, rate_limit=0)) as (_app, client):
        assert (await client.get(f"{API}/v2/users", headers=auth())).status_code == 401
        token = await fetch_token(client)
        assert (await client.get(f"{API}/v2/users", headers=auth(token))).status_code == 200


# --- lists, paging and envelopes --------------------------------------------------------------


@pytest.mark.http
def test_users_are_paged_newest_first_in_the_data_meta_envelope(
    http: httpx.Client, school: School
) -> None:
    first = http.get("/v2/users").json()
    assert set(first) == {"data", "meta"}
    visible = [u for u in school.users if not u.suspended]
    assert first["meta"] == {
        "page": 1,
        "totalItems": len(visible),
        "totalPages": math.ceil(len(visible) / 20),
        "itemsPerPage": 20,
    }
    items, metas = all_pages(http, "/v2/users", items_per_page=7)
    assert [m["page"] for m in metas] == list(range(1, math.ceil(len(visible) / 7) + 1))
    assert all(m["itemsPerPage"] == 7 and m["totalItems"] == len(visible) for m in metas)
    assert [u["id"] for u in items] == [u.id for u in visible]
    created = [u["created"] for u in items]
    assert created == sorted(created, reverse=True)
    everyone = http.get("/v2/users", params={"items_per_page": 200}).json()
    assert len(everyone["data"]) == len(visible) and everyone["meta"]["totalPages"] == 1


@pytest.mark.http
def test_page_sizes_are_each_endpoints_own(http: httpx.Client, school: School) -> None:
    learner = max(school.users, key=lambda u: len(school.user_enrollments(u.id)))
    course = max(school.courses, key=lambda c: len(school.course_users(c.id)))
    sizes = {
        "/v2/courses": 50,
        f"/v2/users/{learner.id}/courses": 50,
        "/v2/user_groups": 20,
        f"/v2/users/{learner.id}/progress": 20,
        f"/v2/courses/{course.id}/users": 20,
    }
    for path, size in sizes.items():
        assert http.get(path).json()["meta"]["itemsPerPage"] == size, path
    # items_per_page is honoured where documented and ignored where not.
    assert http.get("/v2/courses", params={"items_per_page": 2}).json()["meta"] == {
        "page": 1,
        "totalItems": len(school.courses),
        "totalPages": 1,
        "itemsPerPage": 50,
    }
    assert (
        http.get("/v2/user_groups", params={"items_per_page": 1}).json()["meta"]["itemsPerPage"]
        == 20
    )
    progress = http.get(f"/v2/users/{learner.id}/progress", params={"items_per_page": 1}).json()
    assert len(progress["data"]) == 1 and progress["meta"]["totalPages"] == len(
        school.user_enrollments(learner.id)
    )
    roster = http.get(f"/v2/courses/{course.id}/users", params={"items_per_page": 2}).json()
    assert len(roster["data"]) == 2


@pytest.mark.http
@pytest.mark.parametrize("value", ["0", "201", "-3", "ten"])
def test_an_out_of_range_items_per_page_is_a_400(http: httpx.Client, value: str) -> None:
    response = http.get("/v2/users", params={"items_per_page": value})
    assert response.status_code == 400
    assert set(response.json()) == {"error"} and "items_per_page" in response.json()["error"]


@pytest.mark.http
def test_past_the_last_page(http: httpx.Client, school: School) -> None:
    # The shared page parameter repeats the last page; the progress list says "no results".
    last = http.get("/v2/users", params={"items_per_page": 15, "page": 3}).json()
    beyond = http.get("/v2/users", params={"items_per_page": 15, "page": 9}).json()
    assert beyond == last and beyond["meta"]["page"] == 3
    learner = max(school.users, key=lambda u: len(school.user_enrollments(u.id)))
    progress = http.get(f"/v2/users/{learner.id}/progress", params={"page": 5}).json()
    assert progress["data"] == [] and progress["meta"]["page"] == 5


@pytest.mark.unit
async def test_empty_lists_keep_the_envelope() -> None:
    async with simulator() as (_app, client):
        body = (await client.get(f"{API}/v2/users?tags=no-such-tag", headers=auth())).json()
        assert body == {
            "data": [],
            "meta": {"page": 1, "totalItems": 0, "totalPages": 0, "itemsPerPage": 20},
        }


# --- single resources and lookups -------------------------------------------------------------


@pytest.mark.http
def test_a_user_is_found_by_id_or_by_url_encoded_email(http: httpx.Client, school: School) -> None:
    plus = next(u for u in school.users if "+" in u.email and not u.suspended)
    by_id = http.get(f"/v2/users/{plus.id}").json()
    by_email = http.get(f"/v2/users/{path_id(plus.email)}").json()
    by_upper = http.get(f"/v2/users/{path_id(plus.email.upper())}").json()
    assert by_id == by_email == by_upper
    assert by_id["id"] == plus.id and HEX.match(by_id["id"])
    courses_by_email = http.get(f"/v2/users/{path_id(plus.email)}/courses").json()
    assert courses_by_email == http.get(f"/v2/users/{plus.id}/courses").json()
    unknown = http.get(f"/v2/users/{path_id('nobody@example.org')}")
    assert unknown.status_code == 404 and unknown.json() == NOT_FOUND


@pytest.mark.http
def test_a_suspended_user_is_hidden_unless_asked_for(http: httpx.Client, school: School) -> None:
    suspended = next(u for u in school.users if u.suspended)
    hidden = http.get(f"/v2/users/{suspended.id}")
    shown = http.get(f"/v2/users/{suspended.id}", params={"include_suspended": "true"})
    assert hidden.status_code == 404 and hidden.json() == NOT_FOUND
    assert shown.status_code == 200 and shown.json()["is_suspended"] is True
    listed = [u["id"] for u in all_pages(http, "/v2/users")[0]]
    with_suspended = all_pages(http, "/v2/users", include_suspended="true")[0]
    assert suspended.id not in listed
    assert suspended.id in [u["id"] for u in with_suspended]
    assert len(with_suspended) == len(school.users)


@pytest.mark.http
def test_user_resource_shape(http: httpx.Client, school: School) -> None:
    users = all_pages(http, "/v2/users", include_suspended="true")[0]
    for user in users:
        assert HEX.match(user["id"])
        assert isinstance(user["created"], float) and not user["created"].is_integer()
        assert user["last_login"] is None or isinstance(user["last_login"], float)
        level = user["role"]["level"]
        assert level in ("admin", "instructor", "reporter", "user")
        assert user["is_admin"] == (level == "admin")
        assert user["is_instructor"] == (level == "instructor")
        assert user["is_reporter"] == (level == "reporter")
        assert isinstance(user["tags"], list) and isinstance(user["fields"], dict)
        assert user["first_name"] or user["last_name"] == user["username"]
    levels = {u["role"]["level"] for u in users}
    assert {"admin", "instructor", "user"} <= levels
    assert {u["role"]["name"] for u in users if u["role"]["level"] == "instructor"} == {
        "Instructor",
        "Course creator",
    }
    assert sum(u["is_suspended"] for u in users) == CONFIG.suspended_users
    assert any(u["first_name"] == "" for u in users)  # named by username only (reference §4.1)


@pytest.mark.http
def test_courses_contents_and_groups(http: httpx.Client, school: School) -> None:
    courses = http.get("/v2/courses").json()["data"]
    assert [c["id"] for c in courses] == [c.id for c in school.courses]
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", c["id"]) for c in courses)
    assert [c["created"] for c in courses] == sorted((c["created"] for c in courses), reverse=True)
    seen_types: set[str] = set()
    for course in courses:
        assert http.get(f"/v2/courses/{course['id']}").json() == course
        contents = http.get(f"/v2/courses/{course['id']}/contents").json()
        assert set(contents) == {"id", "title", "sections"} and contents["id"] == course["id"]
        assert contents["sections"]
        for section in contents["sections"]:
            assert section["id"].startswith(course["id"] + "_")
            assert section["access"] in ("public", "premium", "soon", "private")
            for unit in section["learningUnits"]:
                assert set(unit) == {"id", "type", "icon", "title", "subtitle"}
                assert unit["icon"] == UNIT_TYPES[unit["type"]][0]
                seen_types.add(unit["type"])
                if unit["type"] != "ebook":  # ebook ids are not hex (reference §6)
                    assert HEX.match(unit["id"])
    assert seen_types == set(UNIT_TYPES)
    groups = http.get("/v2/user_groups").json()
    assert groups["meta"]["totalItems"] == CONFIG.groups
    for group in groups["data"]:
        assert HEX.match(group["id"])
        assert http.get(f"/v2/user_groups/{group['id']}").json() == group
        assert set(group["products"]["courses"]) <= {c["id"] for c in courses}


@pytest.mark.http
def test_group_members_and_a_users_groups_agree(http: httpx.Client, school: School) -> None:
    members: dict[str, set[str]] = {}
    for group in school.groups:
        response = http.get(f"/v2/user_groups/{group.id}/users")
        if not group.member_ids:
            assert response.status_code == 404
            assert response.json() == {"error": "Users not found"}
            continue
        body = response.json()
        assert body["meta"]["itemsPerPage"] == 20
        members[group.id] = {u["id"] for u in body["data"]}
        assert members[group.id] == set(group.member_ids)
    assert len(members) >= 3  # groups with members, and one without
    for user in school.users[:15]:
        body = http.get(f"/v2/users/{user.id}/user-groups").json()
        assert set(body) == {"data"} and set(body["data"]) == {"user_groups"}
        listed = body["data"]["user_groups"]
        assert all(set(item) == {"id", "title"} for item in listed)
        assert {item["id"] for item in listed} == {
            gid for gid, ids in members.items() if user.id in ids
        }


# --- enrollments and progress -----------------------------------------------------------------


@pytest.mark.http
def test_enrollments_progress_and_rosters_agree(http: httpx.Client, school: School) -> None:
    statuses: set[str] = set()
    for user in school.users:
        courses = all_pages(http, f"/v2/users/{user.id}/courses")[0]
        response = http.get(f"/v2/users/{user.id}/progress", params={"items_per_page": 200})
        if not courses:
            assert response.status_code == 404 and response.json() == NOT_FOUND  # C9
            continue
        progress = response.json()["data"]
        assert [p["course_id"] for p in progress] == [e["course"]["id"] for e in courses]
        for enrollment, row in zip(courses, progress, strict=True):
            assert isinstance(enrollment["created"], int)
            assert enrollment["expires"] is None or isinstance(enrollment["expires"], int)
            slug = enrollment["course"]["id"]
            single = http.get(f"/v2/users/{user.id}/courses/{slug}/progress").json()
            assert single == {k: v for k, v in row.items() if k != "course_id"}
            check_progress(row)
            statuses.add(row["status"])
            if not user.suspended:
                roster = [u["id"] for u in all_pages(http, f"/v2/courses/{slug}/users")[0]]
                assert user.id in roster
    assert statuses == set(PROGRESS_STATUSES)


def check_progress(row: dict[str, Any]) -> None:
    """status, progress_rate, unit statuses and completed_at tell the same story."""
    units = [u for section in row["progress_per_section_unit"] for u in section["units"]]
    done = [u for u in units if u["unit_status"] == "completed"]
    assert row["status"] in PROGRESS_STATUSES
    assert row["total_units"] == len(units) and row["completed_units"] == len(done)
    assert row["progress_rate"] == pytest.approx(100 * len(done) / len(units), abs=0.01)
    assert row["time_on_course"] == sum(u["time_on_unit"] for u in units)
    if row["status"] == "completed":
        assert row["progress_rate"] == 100 and isinstance(row["completed_at"], int)
    else:
        assert row["completed_at"] is None and row["progress_rate"] < 100
    if row["status"] == "not_started":
        assert row["progress_rate"] == 0 and row["time_on_course"] == 0
    scores = [u["score_on_unit"] for u in done if u["score_on_unit"] is not None]
    expected = sum(scores) / len(scores) if scores else 0
    assert row["average_score_rate"] == pytest.approx(expected, abs=0.01)
    for unit in units:
        assert unit["unit_status"] in ("completed", "not_completed")
        assert 0 <= unit["unit_progress_rate"] <= 100
        assert unit["score_on_unit"] is None or 0 <= unit["score_on_unit"] <= 100
        if unit["unit_status"] == "completed":
            assert unit["unit_progress_rate"] == 100
    # Floats lose a zero fraction, as LearnWorlds sends them (reference §6).
    assert not isinstance(row["progress_rate"], float) or not row["progress_rate"].is_integer()


@pytest.mark.http
def test_progress_404s_for_unknown_or_unenrolled(http: httpx.Client, school: School) -> None:
    user = next(u for u in school.users if school.user_enrollments(u.id))
    enrolled = {e.course_id for e in school.user_enrollments(user.id)}
    other = next((c.id for c in school.courses if c.id not in enrolled), None)
    paths = [
        f"/v2/users/{user.id}/courses/no-such-course/progress",
        "/v2/courses/no-such-course",
        "/v2/courses/no-such-course/contents",
        "/v2/courses/no-such-course/users",
        "/v2/users/000000000000000000000000",
        "/v2/users/000000000000000000000000/progress",
        "/v2/user_groups/000000000000000000000000",
        "/v2/user_groups/000000000000000000000000/users",
        "/v2/enrollments",  # reported as 404 by a live client (C9)
    ]
    if other is not None:
        paths.append(f"/v2/users/{user.id}/courses/{other}/progress")
    for path in paths:
        response = http.get(path)
        assert response.status_code == 404, path
        assert set(response.json()) == {"error"}, path


# --- filters ----------------------------------------------------------------------------------


@pytest.mark.http
def test_user_filters(http: httpx.Client, school: School) -> None:
    def ids(**params: Any) -> set[str]:
        return {u["id"] for u in all_pages(http, "/v2/users", **params)[0]}

    visible = {u.id for u in school.users if not u.suspended}
    assert ids(status="suspended") == {u.id for u in school.users if u.suspended}
    paying, non_paying = ids(status="paying"), ids(status="non_paying")
    assert paying and non_paying and paying | non_paying == visible and not paying & non_paying
    never = ids(status="never_logged_in")
    assert never == {u.id for u in school.users if u.last_login is None and not u.suspended}
    assert ids(role="instructor") == {
        u.id for u in school.users if u.level == "instructor" and not u.suspended
    }
    assert ids(role="admin") and ids(role="license_reporter") == set()
    tagged = {u.id for u in school.users if {"vip", "partner"} & set(u.tags) and not u.suspended}
    assert ids(tags="vip,partner") == tagged
    middle = sorted(u.created for u in school.users)[len(school.users) // 2]
    after, before = ids(registration_after=middle), ids(registration_before=middle)
    assert after == {u.id for u in school.users if u.created > middle and not u.suspended}
    assert before == {u.id for u in school.users if u.created < middle and not u.suspended}
    assert ids(role="user", status="paying") == paying & ids(role="user")  # ANDed
    team = {u.id for u in school.users if u.fields.get("cf_team") == "Blue" and not u.suspended}
    assert ids(cf_team="Blue") == team
    wrong = http.get("/v2/users", params={"status": "active"})
    assert wrong.status_code == 400 and "status" in wrong.json()["error"]


@pytest.mark.http
def test_course_filters(http: httpx.Client, school: School) -> None:
    def ids(**params: Any) -> list[str]:
        return [c["id"] for c in http.get("/v2/courses", params=params).json()["data"]]

    assert ids(categories="data") == [c.id for c in school.courses if "data" in c.categories]
    assert ids(categories="compliance,teaching") == [
        c.id for c in school.courses if {"compliance", "teaching"} & set(c.categories)
    ]
    assert ids(access=["free", "private"]) == [
        c.id for c in school.courses if c.access in ("free", "private")
    ]
    assert http.get("/v2/courses", params={"access": "public"}).status_code == 400


# --- the rate limit ---------------------------------------------------------------------------


@pytest.mark.http
def test_the_rate_limit_answers_429_past_its_calls_per_window() -> None:
    config = LearnWorldsConfig(rate_limit=3, rate_window=30)
    with live(config) as (_app, client):
        statuses = [client.get(f"{API}/v2/courses", headers=auth()).status_code for _ in range(4)]
        refused = client.get(f"{API}/v2/users", headers=auth())
        token = client.post(
            f"{API}/oauth2/access_token", headers={"Lw-Client": CLIENT}, json=CREDENTIALS
        )
    assert statuses == [200, 200, 200, 429]
    assert refused.status_code == 429 and refused.json() == TOO_MANY
    assert "retry-after" not in refused.headers  # not known to be sent by the real API
    assert token.status_code == 429  # the token call counts against the same window


@pytest.mark.unit
async def test_the_rate_window_slides_and_retry_after_is_an_option() -> None:
    ticks = Clock(0.0)
    config = LearnWorldsConfig(rate_limit=2, rate_window=10, retry_after=True)
    async with simulator(config, monotonic=ticks) as (_app, client):
        url = f"{API}/v2/courses"
        assert (await client.get(url, headers=auth())).status_code == 200
        ticks.now = 4
        assert (await client.get(url, headers=auth())).status_code == 200
        ticks.now = 9
        refused = await client.get(url, headers=auth())
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        ticks.now = 10  # the first call has left the window
        assert (await client.get(url, headers=auth())).status_code == 200
        assert (await client.get(url, headers=auth())).status_code == 429
        # Refused calls spend nothing, and unauthenticated ones are refused before the limit.
        assert (await client.get(url)).status_code == 401


@pytest.mark.unit
async def test_a_rate_limit_of_zero_lifts_it() -> None:
    async with simulator(LearnWorldsConfig(rate_limit=0)) as (_app, client):
        statuses = {(await client.get(f"{API}/v2/courses", headers=auth())).status_code}
        for _ in range(60):
            statuses.add((await client.get(f"{API}/v2/courses", headers=auth())).status_code)
    assert statuses == {200}


# --- faults and the admin interface -----------------------------------------------------------


@pytest.mark.http
def test_faults_through_the_shared_admin_interface() -> None:
    with live(UNLIMITED) as (app, client):
        rules = [
            {"kind": "error", "endpoint": "users/{id}", "status": 503, "times": 1},
            {"kind": "rate_limited", "endpoint": "courses", "retry_after": 2, "times": 1},
            {"kind": "malformed_json", "endpoint": "user_groups", "times": 1},
            {"kind": "reset", "endpoint": "courses/{id}", "times": 1},
        ]
        assert client.put("/_simulator/faults", json={"faults": rules}).status_code == 200
        user_id = app.state.school.users[0].id
        slug = app.state.school.courses[0].id
        failed = client.get(f"{API}/v2/users/{user_id}", headers=auth())
        listed = client.get(f"{API}/v2/users", headers=auth())  # the rule names users/{id} only
        again = client.get(f"{API}/v2/users/{user_id}", headers=auth())
        limited = client.get(f"{API}/v2/courses", headers=auth())
        mangled = client.get(f"{API}/v2/user_groups", headers=auth())
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(f"{API}/v2/courses/{slug}", headers=auth())
        left = client.get("/_simulator/faults").json()["faults"]
        unknown_kind = client.put("/_simulator/faults", json={"faults": [{"kind": "html_401"}]})
        still = client.get("/_simulator/faults").json()["faults"]
    assert failed.status_code == 503 and failed.json() == {"error": "Server Error"}
    assert listed.status_code == 200 and again.status_code == 200
    assert limited.status_code == 429 and limited.json() == TOO_MANY
    assert limited.headers["retry-after"] == "2"
    assert mangled.status_code == 200
    with pytest.raises(ValueError):
        mangled.json()
    assert [rule["times"] for rule in left] == [0, 0, 0, 0]
    assert unknown_kind.status_code == 400
    assert "not one the LearnWorlds simulator knows" in unknown_kind.json()["error"]
    assert still == left  # all or nothing


@pytest.mark.unit
async def test_expired_token_fault_expires_the_callers_token_for_good() -> None:
    async with simulator() as (_app, client):
        token = await fetch_token(client)
        await put_faults(client, {"kind": "expired_token", "endpoint": "users", "times": 1})
        expired = await client.get(f"{API}/v2/users", headers=auth(token))
        again = await client.get(f"{API}/v2/courses", headers=auth(token))
        fresh = await fetch_token(client)
        recovered = await client.get(f"{API}/v2/users", headers=auth(fresh))
    assert expired.status_code == 401 and expired.json() == DENIED
    assert again.status_code == 401  # the same token stays expired: only a new one helps
    assert recovered.status_code == 200


@pytest.mark.unit
async def test_revoked_key_fault_refuses_the_token_call_and_the_calls() -> None:
    async with simulator() as (_app, client):
        token = await fetch_token(client)
        await put_faults(client, {"kind": "revoked_key"})  # every call, until cleared
        call = await client.get(f"{API}/v2/users", headers=auth(token))
        refresh = await client.post(
            f"{API}/oauth2/access_token", headers={"Lw-Client": CLIENT}, json=CREDENTIALS
        )
        await client.delete("/_simulator/faults")
        cleared = await client.get(f"{API}/v2/users", headers=auth(token))
    assert call.status_code == 401 and call.json() == DENIED
    assert refresh.status_code == 401
    assert refresh.json()["errors"][0]["context"] == "invalid_client"
    assert cleared.status_code == 200


@pytest.mark.unit
async def test_the_auth_admin_endpoint_expires_tokens_and_rotates_the_secret() -> None:
    async with simulator() as (_app, client):
        token = await fetch_token(client)
        state = (await client.get("/_simulator/auth")).json()
        assert state["clientId"] == CLIENT and state["activeTokens"] == 1
        assert state["staticToken"] == STATIC and state["staticTokenActive"] is True

        await client.post("/_simulator/auth", json={"expire": "issued"})
        assert (await client.get(f"{API}/v2/users", headers=auth(token))).status_code == 401
        assert (await client.get(f"{API}/v2/users", headers=auth())).status_code == 200

        token = await fetch_token(client)
        await client.post("/_simulator/auth", json={"client_secret": "rotated-secret"})
        old_secret = await client.post(
            f"{API}/oauth2/access_token", headers={"Lw-Client": CLIENT}, json=CREDENTIALS
        )
        assert old_secret.status_code == 401
        assert (await client.get(f"{API}/v2/users", headers=auth(token))).status_code == 401
        new = await client.post(
            f"{API}/oauth2/access_token",
            headers={"Lw-Client": CLIENT},
            json={**CREDENTIALS, "client_secret": "rotated-secret"},
        )
        assert new.status_code == 200

        await client.post("/_simulator/auth", json={"expire": "static"})
        assert (await client.get(f"{API}/v2/users", headers=auth())).status_code == 401
        await client.post("/_simulator/auth", json={"static_token": "another-static-token"})
        assert (
            await client.get(f"{API}/v2/users", headers=auth("another-static-token"))
        ).status_code == 200
        bad = await client.post("/_simulator/auth", json={"expire": "soon"})
        assert bad.status_code == 400 and "expire" in bad.json()["error"]
        assert (await client.post("/_simulator/auth", json={"nope": 1})).status_code == 400


@pytest.mark.unit
def test_fault_kinds_are_checked_per_simulator() -> None:
    assert set(FAULT_KINDS) >= {"error", "rate_limited", "revoked_key", "expired_token"}
    assert "html_401" not in FAULT_KINDS and "quota_exhausted" not in FAULT_KINDS
    with pytest.raises(ValueError, match="not one the LearnWorlds simulator knows"):
        LearnWorldsConfig(faults=({"kind": "quota_exhausted"},))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not one the TalentLMS simulator knows"):
        SimulatorConfig(faults=({"kind": "expired_token"},))  # type: ignore[arg-type]
    config = LearnWorldsConfig(faults=({"kind": "error", "endpoint": "courses"},))  # type: ignore[arg-type]
    assert config.faults[0].endpoint == "courses"


@pytest.mark.unit
async def test_faults_from_the_config_apply_from_the_first_call() -> None:
    config = LearnWorldsConfig(
        rate_limit=0,
        faults=({"kind": "error", "endpoint": "oauth2/access_token", "times": 1},),  # type: ignore[arg-type]
    )
    async with simulator(config) as (_app, client):
        first = await client.post(
            f"{API}/oauth2/access_token", headers={"Lw-Client": CLIENT}, json=CREDENTIALS
        )
        assert first.status_code == 500
        assert await fetch_token(client)


# --- call counts and latency ------------------------------------------------------------------


@pytest.mark.unit
async def test_calls_are_counted_per_endpoint_at_the_stats_path() -> None:
    async with simulator() as (app, client):
        school = app.state.school
        user, slug, group = school.users[0], school.courses[0].id, school.groups[0].id
        await fetch_token(client)
        paths = [
            "/v2/users",
            f"/v2/users/{user.id}",
            f"/v2/users/{path_id(user.email)}",
            f"/v2/users/{user.id}/courses",
            f"/v2/users/{user.id}/progress",
            f"/v2/users/{user.id}/courses/{slug}/progress",
            f"/v2/users/{user.id}/user-groups",
            "/v2/courses",
            f"/v2/courses/{slug}",
            f"/v2/courses/{slug}/contents",
            f"/v2/courses/{slug}/users",
            "/v2/user_groups",
            f"/v2/user_groups/{group}",
            f"/v2/user_groups/{group}/users",
        ]
        for path in paths:
            await client.get(API + path, headers=auth())
        await client.get(f"{API}/v2/courses")  # refused calls are calls the gateway made
        stats = (await client.get("/_simulator/stats")).json()
        assert stats == {
            "total": 16,
            "byEndpoint": {
                "courses": 2,
                "courses/{id}": 1,
                "courses/{id}/contents": 1,
                "courses/{id}/users": 1,
                "oauth2/access_token": 1,
                "user_groups": 1,
                "user_groups/{id}": 1,
                "user_groups/{id}/users": 1,
                "users": 1,
                "users/{id}": 2,
                "users/{id}/courses": 1,
                "users/{id}/courses/{course}/progress": 1,
                "users/{id}/progress": 1,
                "users/{id}/user-groups": 1,
            },
        }
        assert app.state.stats.count("users/{id}") == 2
        await client.post("/_simulator/reset-stats")
        assert (await client.get("/_simulator/stats")).json() == {"total": 0, "byEndpoint": {}}
        assert (await client.get("/_simulator/health")).json() == {"ok": True}


@pytest.mark.unit
async def test_latency_is_added_to_every_call() -> None:
    async with simulator(LearnWorldsConfig(latency_ms=80)) as (_app, client):
        started = time.perf_counter()
        await client.get(f"{API}/v2/courses", headers=auth())
        assert time.perf_counter() - started >= 0.08


# --- the generated school ---------------------------------------------------------------------


@pytest.mark.unit
def test_the_same_seed_gives_the_same_school_and_another_seed_another() -> None:
    first, again = generate_school(), generate_school(LearnWorldsConfig())
    assert json.dumps(first.snapshot()) == json.dumps(again.snapshot())
    other = generate_school(LearnWorldsConfig(seed=8))
    assert other.snapshot()["users"] != first.snapshot()["users"]


@pytest.mark.unit
def test_the_demo_school_has_what_the_mapping_needs() -> None:
    school = generate_school()
    counts = school.counts
    assert counts["users"] == 40 and counts["courses"] == 8 and counts["groups"] == 4
    assert counts["suspended_users"] == 3
    assert {school.status(e) for e in school.enrollments} == set(PROGRESS_STATUSES)
    assert {u.level for u in school.users} == {"admin", "instructor", "reporter", "user"}
    assert sum(u.level == "admin" for u in school.users) >= 2
    assert any(not school.user_enrollments(u.id) and u.level == "user" for u in school.users)
    assert any(not school.course_users(c.id) for c in school.courses)  # coming soon
    assert any(e.expires is not None for e in school.enrollments)
    assert [bool(g.member_ids) for g in school.groups].count(True) == 3
    assert all(g.course_ids for g in school.groups)
    for group in school.groups:  # groups that enroll their members did enroll them
        if group.enroll_users_on_courses:
            for member in group.member_ids:
                for slug in group.course_ids:
                    assert school.enrollment(member, slug) is not None
    ids = [u.id for u in school.users] + [g.id for g in school.groups]
    assert all(HEX.match(i) for i in ids) and len(set(ids)) == len(ids)


@pytest.mark.unit
@pytest.mark.parametrize("users", [1, 2, 5])
def test_tiny_schools_still_generate(users: int) -> None:
    school = generate_school(LearnWorldsConfig(users=users, courses=1, groups=1))
    assert school.counts["users"] == users and school.users[-1].level == "admin"


@pytest.mark.unit
async def test_apps_never_share_a_school_or_tokens() -> None:
    school = generate_school()
    async with simulator(school=school) as (app_a, a), simulator(school=school) as (app_b, b):
        assert app_a.state.school is not school and app_a.state.school is not app_b.state.school
        token = await fetch_token(a)
        assert (await b.get(f"{API}/v2/users", headers=auth(token))).status_code == 401
        await a.post("/_simulator/auth", json={"client_secret": "changed"})
        assert await fetch_token(b)


# --- the command line -------------------------------------------------------------------------


@pytest.mark.http
@pytest.mark.slow
def test_the_simulator_command_serves_learnworlds(clean_env: dict[str, str]) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["simulator", "--provider", "learnworlds", "--port", str(port), "--users", "9"]
    args += ["--client-id", "cli-client", "--rate-limit", "0", "--token-lifetime", "90"]
    with running(args, clean_env, f"{base}/_simulator/health") as output:
        token = httpx.post(
            f"{base}{API}/oauth2/access_token",
            headers={"Lw-Client": "cli-client"},
            data={"data": json.dumps({**CREDENTIALS, "client_id": "cli-client"})},
        ).json()["tokenData"]
        users = httpx.get(
            f"{base}{API}/v2/users",
            params={"include_suspended": "true"},
            headers={"Lw-Client": "cli-client", "Authorization": f"Bearer {token['access_token']}"},
        ).json()
    assert token["expires_in"] == 90
    assert users["meta"]["totalItems"] == 9
    assert f"{base}/admin/api" in output.stderr and "cli-client" in output.stderr
    assert SECRET in output.stderr and STATIC in output.stderr


@pytest.mark.http
@pytest.mark.slow
def test_the_simulator_command_refuses_the_other_providers_options(
    clean_env: dict[str, str],
) -> None:
    lw = subprocess.run(
        [*console_script(), "simulator", "--provider", "learnworlds", "--api-key", "k"],
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    tl = subprocess.run(
        [*console_script(), "simulator", "--rate-limit", "5", "--retry-after"],
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert lw.returncode == 2 and "--api-key does not apply to --provider learnworlds" in lw.stderr
    assert tl.returncode == 2
    assert "--rate-limit, --retry-after do not apply to --provider talentlms" in tl.stderr
