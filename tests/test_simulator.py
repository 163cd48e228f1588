"""The TalentLMS v1 simulator, exercised over real HTTP (uvicorn) and in process.

The gateway's adapter is tested against this simulator, so these tests pin the v1 quirks the
reference documents (``talentlms-api.md`` §17.3) rather than convenient behaviour.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette

from gateway.simulator import (
    CallStats,
    Portal,
    SimulatorConfig,
    create_simulator_app,
    generate_portal,
    parse_api_path,
)
from tests.support import serve_over_http as serve

KEY = SimulatorConfig().api_key
ERROR_TYPE = "invalid_request_error"
LOWER_TOKENS = {"not_attempted", "incomplete", "completed", "passed", "failed"}
TITLE = {
    "not_attempted": "Not attempted",
    "incomplete": "Incomplete",
    "completed": "Completed",
    "passed": "Passed",
    "failed": "Failed",
}


@contextmanager
def live_client(
    config: SimulatorConfig | None = None,
) -> Iterator[tuple[Starlette, httpx.Client]]:
    """A fresh simulator behind uvicorn plus an authenticated client on ``/api/v1``."""
    app = create_simulator_app(config)
    with (
        serve(app) as base_url,
        httpx.Client(base_url=f"{base_url}/api/v1", auth=(KEY, ""), timeout=10) as client,
    ):
        yield app, client


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Starlette, str]]:
    """One read-only default simulator shared by the module (tests must not mutate it)."""
    app = create_simulator_app()
    with serve(app) as base_url:
        yield app, base_url


@pytest.fixture
def client(server: tuple[Starlette, str]) -> Iterator[httpx.Client]:
    _app, base_url = server
    with httpx.Client(base_url=f"{base_url}/api/v1", auth=(KEY, ""), timeout=10) as http:
        yield http


@pytest.fixture
def portal(server: tuple[Starlette, str]) -> Portal:
    """The shared app's own data, to choose ids that the HTTP answers are checked against."""
    app, _base_url = server
    return app.state.portal


@pytest.fixture
def fresh() -> Iterator[tuple[Starlette, httpx.Client]]:
    """A private simulator for tests that mutate data or count calls."""
    with live_client() as pair:
        yield pair


def assert_error(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"error": {"type": ERROR_TYPE, "message": message}}


def learner_enrollment(portal: Portal, state: str) -> Any:
    return next(e for e in portal.enrollments if e.role == "learner" and e.state == state)


# --- authentication ---------------------------------------------------------------------------


@pytest.mark.http
def test_missing_authorization_gets_the_html_401(server: tuple[Starlette, str]) -> None:
    _app, base_url = server
    response = httpx.get(f"{base_url}/api/v1/users")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert "You need a valid user and password" in response.text


@pytest.mark.http
@pytest.mark.parametrize(
    "auth_header",
    ["Basic " + "d3Jvbmc6", "Bearer " + KEY, "Basic not-base64!"],  # "wrong:"
)
def test_wrong_key_gets_the_json_401(server: tuple[Starlette, str], auth_header: str) -> None:
    _app, base_url = server
    response = httpx.get(f"{base_url}/api/v1/siteinfo", headers={"Authorization": auth_header})
    assert_error(response, 401, "Invalid API key provided")


@pytest.mark.http
def test_basic_auth_with_key_as_user_name_works(client: httpx.Client) -> None:
    response = client.get("/siteinfo")
    assert response.status_code == 200
    info = response.json()
    assert info["total_users"] == "60"
    assert info["total_courses"] == "12"
    assert isinstance(info["monthly_active_users"], int)
    assert info["date_format"] == "DDMMYYYY"


# --- path parameters ---------------------------------------------------------------------------


@pytest.mark.unit
def test_parse_api_path_splits_raw_commas_and_first_colons_only() -> None:
    parsed = parse_api_path("/api/v1/getUserStatusInCourse/course_id:3,user_id:7")
    assert (parsed.endpoint, parsed.params) == (
        "getuserstatusincourse",
        {"course_id": "3", "user_id": "7"},
    )
    encoded = parse_api_path("/api/v1/users/email:a%2Cid%3A1")
    assert encoded.params == {"email": "a,id:1"}
    assert parse_api_path("/api/v1/gotocourse/x:a:b").params == {"x": "a:b"}
    assert parse_api_path("/api/v1/users/id:1/more").error == "Invalid arguments provided"
    assert parse_api_path("/api/v1/users/id1").error == "Invalid arguments provided"
    assert parse_api_path("/api/v1/users/id:1,id:2").error == "Invalid arguments provided"


@pytest.mark.http
def test_encoded_separators_stay_inside_the_value(client: httpx.Client, portal: Portal) -> None:
    user = portal.users[4]
    by_email = client.get(f"/users/email:{quote(user['email'], safe='')}")
    assert by_email.status_code == 200
    assert by_email.json()["id"] == user["id"]
    # Were %2C / %3A decoded before splitting, this would be a two-key lookup (400) or user 1.
    assert_error(client.get("/users/email:a%2Cid%3A1"), 404, "The requested user does not exist")
    assert_error(client.get("/users/username:a%2Fb"), 404, "The requested user does not exist")
    assert_error(client.get("/users/username:a/b"), 400, "Invalid arguments provided")


@pytest.mark.http
def test_endpoint_names_are_case_insensitive(client: httpx.Client, portal: Portal) -> None:
    unit_id = portal.course_units(portal.course_ids[0])[1]["id"]
    lower = client.get(f"/getusersprogressinunits/unit_id:{unit_id}")
    camel = client.get(f"/getUsersProgressInUnits/unit_id:{unit_id}")
    assert lower.status_code == camel.status_code == 200
    assert lower.json() == camel.json()
    assert client.get("/SiteInfo").json() == client.get("/siteinfo").json()


@pytest.mark.http
def test_username_lookup_and_users_by_custom_field(client: httpx.Client, portal: Portal) -> None:
    user = portal.users[2]
    assert client.get(f"/users/username:{user['login']}").json()["email"] == user["email"]
    by_field = client.get("/getusersbycustomfield/custom_field_value:Contoso%20Ltd").json()
    assert by_field and all(item["custom_field_1"] == "Contoso Ltd" for item in by_field.values())
    assert all(key == item["id"] for key, item in by_field.items())


# --- users -------------------------------------------------------------------------------------


@pytest.mark.http
def test_users_list_items_are_abridged_and_string_typed(
    client: httpx.Client, portal: Portal
) -> None:
    users = client.get("/users").json()
    assert isinstance(users, list)
    assert [u["id"] for u in users] == [str(i) for i in range(1, 61)]
    assert str(61) not in {u["id"] for u in users}  # the deleted user is not listed
    for user in users:
        assert "courses" not in user and "branches" not in user
        assert user["login_key"].startswith("https://demo.talentlms.local/index/autologin/key:")
        assert user["deactivation_date"] == ""
        assert user["custom_field_2"] in ("on", "off")
        for key, value in user.items():
            assert isinstance(value, str) or (key == "custom_field_1" and value is None), key
    types = Counter(u["user_type"] for u in users)
    assert users[0]["user_type"] == "SuperAdmin" and types["SuperAdmin"] == 1
    assert {"Learner-Type", "Trainer-Type", "Admin-Type", "Team-Manager", "Sales Learner"} <= set(
        types
    )
    assert users == portal.users


@pytest.mark.http
def test_users_paging_returns_plain_arrays(client: httpx.Client) -> None:
    everyone = client.get("/users").json()
    pages = [client.get(f"/users/page_size:25,page_number:{n}").json() for n in (1, 2, 3)]
    assert [len(page) for page in pages] == [25, 25, 10]
    assert [u for page in pages for u in page] == everyone
    assert client.get("/users/page_size:25,page_number:4").json() == []
    assert len(client.get("/users/page_size:").json()) == 20  # page_size without a value
    assert_error(client.get("/users/page_size:0"), 400, "Invalid arguments provided")
    assert_error(client.get("/users/page_size:x"), 400, "Invalid arguments provided")


@pytest.mark.unit
async def test_default_page_size_caps_a_bare_users_call() -> None:
    app = create_simulator_app(SimulatorConfig(default_page_size=20))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sim/api/v1", auth=(KEY, "")
    ) as http:
        bare = (await http.get("/users")).json()
        second = (await http.get("/users/page_size:20,page_number:2")).json()
    assert [u["id"] for u in bare] == [str(i) for i in range(1, 21)]
    assert [u["id"] for u in second] == [str(i) for i in range(21, 41)]


@pytest.mark.http
def test_user_detail_uses_lower_case_tokens_and_status_endpoint_title_case(
    client: httpx.Client, portal: Portal
) -> None:
    seen: set[str] = set()
    for enrollment in (learner_enrollment(portal, s) for s in ("incomplete", "passed", "failed")):
        detail = client.get(f"/users/id:{enrollment.user_id}").json()
        assert {"courses", "branches", "groups", "certifications", "badges"} <= set(detail)
        course = next(c for c in detail["courses"] if c["id"] == enrollment.course_id)
        assert course["completion_status"] in LOWER_TOKENS
        assert isinstance(course["total_time_seconds"], int)
        assert isinstance(course["completion_percentage"], str)
        assert isinstance(course["enrolled_on_timestamp"], str)
        status = client.get(
            f"/getuserstatusincourse/course_id:{enrollment.course_id},user_id:{enrollment.user_id}"
        ).json()
        assert status["completion_status"] == TITLE[course["completion_status"]]
        assert status["completion_percentage"] == course["completion_percentage"]
        seen.add(course["completion_status"])
        unit_types = [u["type"] for u in status["units"]]
        assert unit_types == [u["type"] for u in portal.course_units(enrollment.course_id)]
        for unit in status["units"]:
            if unit["type"] == "Section":
                assert (unit["completion_status"], unit["completed_on"], unit["score"]) == (
                    "",
                    "",
                    "",
                )
                assert unit["completed_on_timestamp"] is None
            else:
                assert unit["completion_status"] in {*TITLE.values(), "Pending"}
    assert seen == {"incomplete", "passed", "failed"}


@pytest.mark.http
def test_not_completed_enrollments_render_empty_dates(client: httpx.Client, portal: Portal) -> None:
    enrollment = learner_enrollment(portal, "not_attempted")
    detail = client.get(f"/users/id:{enrollment.user_id}").json()
    course = next(c for c in detail["courses"] if c["id"] == enrollment.course_id)
    assert course["completion_status"] == "not_attempted"
    assert (course["completed_on"], course["completed_on_timestamp"]) == ("", None)
    assert (course["total_time"], course["total_time_seconds"]) == (None, 0)
    assert course["completion_percentage"] == "0"


@pytest.mark.http
def test_deleted_user_is_no_longer_available(client: httpx.Client, portal: Portal) -> None:
    assert portal.deleted_user_ids == ["61"]
    assert portal.counts["users"] == 60 and portal.counts["deleted_users"] == 1
    assert_error(client.get("/users/id:61"), 404, "The requested user is no longer available")
    assert_error(client.get("/users/id:62"), 404, "The requested user does not exist")


# --- courses, units, categories, groups, branches ----------------------------------------------


@pytest.mark.http
def test_course_list_items_and_price_entity(client: httpx.Client) -> None:
    courses = client.get("/courses").json()
    assert len(courses) == 12
    for course in courses:
        assert "users" not in course and "units" not in course
        assert re.fullmatch(r"&#36;\d+\.\d\d", course["price"])
        assert course["status"] in ("active", "inactive")
        assert course["time_limit"] == "0" and course["start_datetime"] is None
        assert isinstance(course["id"], str) and course["id"].isdigit()
        assert course["hide_from_catalog"] in ("0", "1")
    assert Counter(c["status"] for c in courses)["inactive"] == 1
    categories = client.get("/categories").json()
    assert all(c["price"].startswith("&#36;") for c in categories)
    assert {c["parent_category_id"] for c in categories} >= {None, "21"}


@pytest.mark.http
def test_course_detail_users_have_no_status_and_include_the_creator(
    client: httpx.Client, portal: Portal
) -> None:
    for course_id in portal.course_ids:
        course = client.get(f"/courses/id:{course_id}").json()
        assert {"users", "units", "rules", "prerequisites"} <= set(course)
        users = {u["id"]: u for u in course["users"]}
        assert users[course["creator_id"]]["role"] == "instructor"
        for user in course["users"]:
            assert "completion_status" not in user
            assert re.fullmatch(r".\. .+", user["name"])
            assert isinstance(user["total_time_seconds"], int)
            started = user["total_time"] is not None
            assert started or user["total_time_seconds"] == 0
        for unit in course["units"]:
            assert {"id", "type", "name", "url"} <= set(unit)
            assert unit["url"].startswith("https://demo.talentlms.local/")


@pytest.mark.http
def test_units_are_flat_with_section_headers(client: httpx.Client, portal: Portal) -> None:
    layouts = []
    all_ids: list[str] = []
    for course_id in portal.course_ids:
        units = client.get(f"/courses/id:{course_id}").json()["units"]
        types = [u["type"] for u in units]
        all_ids += [u["id"] for u in units]
        if "Section" not in types:
            layouts.append("none")
        else:
            layouts.append("first" if types[0] == "Section" else "after")
    assert {"none", "first", "after"} <= set(layouts)
    assert layouts.count("first") > len(layouts) // 2
    assert len(all_ids) == len(set(all_ids))  # unit ids are unique portal-wide
    seen_types = {u["type"] for c in portal.course_ids for u in portal.course_units(c)}
    assert {
        "SCORM | xAPI | cmi5",
        "Test",
        "Content",
        "Unit",
        "Instructor-led training",
    } <= seen_types


@pytest.mark.http
def test_units_progress_object_or_array(client: httpx.Client, portal: Portal) -> None:
    enrollment = learner_enrollment(portal, "completed")
    unit = portal.course(enrollment.course_id).learning_units[0]
    one = client.get(f"/getusersprogressinunits/unit_id:{unit.id},user_id:{enrollment.user_id}")
    assert one.json()["user_id"] == enrollment.user_id
    assert one.json()["status"] in ("Completed", "Passed")
    many = client.get(f"/getusersprogressinunits/unit_id:{unit.id}").json()
    assert isinstance(many, list)
    enrolled = {e.user_id for e in portal.enrollments if e.course_id == enrollment.course_id}
    assert {item["user_id"] for item in many} == enrolled


@pytest.mark.http
def test_groups_and_branches_match_user_memberships(client: httpx.Client, portal: Portal) -> None:
    detail = next(
        d for d in (portal.user_detail(u) for u in portal.user_ids) if d["groups"] and d["branches"]
    )
    group = client.get(f"/groups/id:{detail['groups'][0]['id']}").json()
    branch = client.get(f"/branches/id:{detail['branches'][0]['id']}").json()
    assert detail["id"] in {u["id"] for u in group["users"]}
    assert detail["id"] in {u["id"] for u in branch["users"]}
    assert "users" not in client.get("/groups").json()[0]
    category = client.get("/categories/id:22").json()
    assert category["courses"] and all("units" not in c for c in category["courses"])


@pytest.mark.http
@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/nosuchaction", 404, "The requested API action does not exist"),
        ("/users/id:9999", 404, "The requested user does not exist"),
        ("/users/id:abc", 400, "Invalid arguments provided"),
        ("/users/id:1,email:x", 400, "Invalid arguments provided"),
        ("/users/shoe_size:9", 400, "Invalid arguments provided"),
        ("/courses/id:9999", 404, "The requested course does not exist"),
        ("/categories/id:9999", 404, "The requested category does not exist"),
        ("/groups/id:9999", 404, "The requested group does not exist"),
        ("/branches/id:9999", 404, "The requested branch does not exist"),
        ("/getusersprogressinunits/unit_id:9", 404, "The requested unit does not exist"),
        ("/getuserstatusincourse/course_id:101", 400, "Invalid arguments provided"),
        (
            "/getuserstatusincourse/course_id:9999,user_id:2",
            404,
            "The requested course does not exist",
        ),
        (
            "/getuserstatusincourse/course_id:101,user_id:9999",
            404,
            "The requested user does not exist",
        ),
        ("/siteinfo/id:1", 400, "Invalid arguments provided"),
    ],
)
def test_error_messages_and_status_codes(
    client: httpx.Client, path: str, status: int, message: str
) -> None:
    assert_error(client.get(path), status, message)


@pytest.mark.http
def test_not_enrolled_message(client: httpx.Client, portal: Portal) -> None:
    enrolled = {e.user_id for e in portal.enrollments if e.course_id == "101"}
    outsider = next(u for u in portal.user_ids if u not in enrolled)
    response = client.get(f"/getuserstatusincourse/course_id:101,user_id:{outsider}")
    assert_error(response, 400, "The requested user is not enrolled in this course")


# --- mutations -----------------------------------------------------------------------------------


@pytest.mark.http
def test_add_user_to_course_is_form_only_and_visible_afterwards(
    fresh: tuple[Starlette, httpx.Client],
) -> None:
    app, client = fresh
    portal: Portal = app.state.portal
    enrolled = {e.user_id for e in portal.enrollments if e.course_id == "103"}
    user_id = next(u for u in portal.user_ids if u not in enrolled)
    form = {"user_id": user_id, "course_id": "103", "role": "learner"}
    assert_error(client.post("/addusertocourse", json=form), 400, "Invalid arguments provided")
    assert_error(client.get("/addusertocourse"), 400, "Invalid arguments provided")
    added = client.post("/addusertocourse", data=form)
    assert added.status_code == 200
    assert added.json() == [{"user_id": user_id, "course_id": "103", "role": "learner"}]
    course = next(
        c for c in client.get(f"/users/id:{user_id}").json()["courses"] if c["id"] == "103"
    )
    assert (course["completion_status"], course["completion_percentage"]) == ("not_attempted", "0")
    assert course["role"] == "learner"
    status = client.get(f"/getuserstatusincourse/course_id:103,user_id:{user_id}").json()
    assert status["completion_status"] == "Not attempted"
    again = client.post("/addusertocourse", data=form)
    assert_error(again, 400, "The requested user is already enrolled in this course")


@pytest.mark.http
def test_remove_user_from_course(fresh: tuple[Starlette, httpx.Client]) -> None:
    app, client = fresh
    enrollment = learner_enrollment(app.state.portal, "completed")
    pair = f"user_id:{enrollment.user_id},course_id:{enrollment.course_id}"
    removed = client.get(f"/removeuserfromcourse/{pair}")
    assert removed.status_code == 200
    assert removed.json() == {
        "user_id": enrollment.user_id,
        "course_id": enrollment.course_id,
        "course_name": app.state.portal.course(enrollment.course_id).name,
    }
    courses = client.get(f"/users/id:{enrollment.user_id}").json()["courses"]
    assert enrollment.course_id not in {c["id"] for c in courses}
    not_enrolled = "The requested user is not enrolled in this course"
    assert_error(client.get(f"/removeuserfromcourse/{pair}"), 400, not_enrolled)


@pytest.mark.unit
async def test_apps_never_share_state() -> None:
    portal = generate_portal()
    first, second = create_simulator_app(portal=portal), create_simulator_app(portal=portal)
    enrolled = {e.user_id for e in portal.enrollments if e.course_id == "101"}
    user_id = next(u for u in portal.user_ids if u not in enrolled)
    for app in (first, second):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://sim/api/v1", auth=(KEY, "")
        ) as http:
            response = await http.post(
                "/addusertocourse", data={"user_id": user_id, "course_id": "101"}
            )
            assert response.status_code == 200  # the other app's enrollment is invisible here
    assert portal.enrollment(user_id, "101") is None


# --- dates, rate limits, stats, latency --------------------------------------------------------


@pytest.mark.unit
async def test_mmddyyyy_twelve_hour_dates_in_process() -> None:
    """In process through ASGITransport: the portal's date_format governs every formatted date."""
    app = create_simulator_app(SimulatorConfig(date_format="MMDDYYYY", twelve_hour=True))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sim/api/v1", auth=(KEY, "")
    ) as http:
        assert (await http.get("/siteinfo")).json()["date_format"] == "MMDDYYYY"
        users = (await http.get("/users")).json()
        limits = (await http.get("/ratelimit")).json()
        course = (await http.get("/courses/id:101")).json()
    for user in users:
        moment = datetime.fromtimestamp(int(user["last_updated_timestamp"]), tz=UTC)
        assert user["last_updated"] == moment.strftime("%m/%d/%Y, %I:%M:%S %p")
    assert any(u["last_updated"].endswith("PM") for u in users)
    assert any(u["last_updated"].endswith("AM") for u in users)
    assert re.fullmatch(r"\d\d/\d\d/\d{4}, \d\d:\d\d:\d\d [AP]M", course["creation_date"])
    assert re.fullmatch(r"\d\d/\d\d/\d{4}, \d\d:\d\d [AP]M", limits["formatted_reset"])


@pytest.mark.http
def test_default_dates_are_ddmmyyyy_24_hour(client: httpx.Client, portal: Portal) -> None:
    enrollment = learner_enrollment(portal, "completed")
    detail = client.get(f"/users/id:{enrollment.user_id}").json()
    course = next(c for c in detail["courses"] if c["id"] == enrollment.course_id)
    moment = datetime.fromtimestamp(int(course["completed_on_timestamp"]), tz=UTC)
    assert course["completed_on"] == moment.strftime("%d/%m/%Y, %H:%M:%S")


@pytest.mark.http
def test_rate_limit_counts_down_and_answers_429_when_exhausted() -> None:
    with live_client(SimulatorConfig(hourly_limit=3)) as (_app, client):
        first = client.get("/ratelimit").json()
        assert first["limit"] == "3" and first["remaining"] == 3
        assert first["reset"].isdigit()
        assert re.fullmatch(r"\d\d/\d\d/\d{4}, \d\d:\d\d", first["formatted_reset"])
        assert client.get("/ratelimit").json()["remaining"] == 3  # /ratelimit is free
        assert client.get("/siteinfo").status_code == 200
        assert client.get("/ratelimit").json()["remaining"] == 2
        assert client.get("/users/id:9999").status_code == 404  # failed calls count too
        assert client.get("/courses").status_code == 200
        assert client.get("/ratelimit").json()["remaining"] == 0
        limited = client.get("/siteinfo")
        assert limited.status_code == 429
        assert limited.json()["error"]["type"] == ERROR_TYPE
        assert "rate limit" in limited.json()["error"]["message"]
        assert client.get("/ratelimit").status_code == 200


@pytest.mark.unit
async def test_rate_limit_window_resets_after_an_hour() -> None:
    now = [1_000_000.0]
    app = create_simulator_app(SimulatorConfig(hourly_limit=1), clock=lambda: now[0])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sim/api/v1", auth=(KEY, "")
    ) as http:
        assert (await http.get("/siteinfo")).status_code == 200
        assert (await http.get("/siteinfo")).status_code == 429
        assert (await http.get("/ratelimit")).json()["reset"] == str(1_000_000 + 3600)
        now[0] += 3600
        assert (await http.get("/siteinfo")).status_code == 200


@pytest.mark.http
def test_call_stats_use_the_shared_endpoint_names(fresh: tuple[Starlette, httpx.Client]) -> None:
    app, client = fresh
    stats: CallStats = app.state.stats
    base = str(client.base_url).rstrip("/").removesuffix("/api/v1")
    client.get("/users")
    client.get("/users/page_size:10,page_number:1")
    client.get("/users/id:1")
    client.get("/users/id:9999")
    client.get("/users/email:nobody%40example.org")
    client.get("/courses/id:101")
    client.get("/getUserStatusInCourse/course_id:101,user_id:1")
    client.get("/ratelimit")
    client.get("/siteinfo")
    client.post("/addusertocourse", data={"user_id": "1", "course_id": "101"})
    httpx.get(f"{base}/api/v1/siteinfo")  # a 401 counts as well
    assert stats.by_endpoint == {
        "addusertocourse": 1,
        "courses/id": 1,
        "getuserstatusincourse": 1,
        "ratelimit": 1,
        "siteinfo": 2,
        "users": 2,
        "users/email": 1,
        "users/id": 2,
    }
    assert stats.total == 11
    assert httpx.get(f"{base}/_simulator/stats").json() == {
        "total": 11,
        "byEndpoint": stats.by_endpoint,
    }
    assert httpx.get(f"{base}/_simulator/health").json() == {"ok": True}
    assert httpx.post(f"{base}/_simulator/reset-stats").status_code == 200
    assert stats.total == 0 and stats.by_endpoint == {}


@pytest.mark.unit
async def test_latency_delays_api_answers() -> None:
    app = create_simulator_app(SimulatorConfig(latency_ms=100))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sim", auth=(KEY, "")
    ) as http:
        started = time.perf_counter()
        assert (await http.get("/api/v1/siteinfo")).status_code == 200
        assert time.perf_counter() - started >= 0.095
        started = time.perf_counter()
        assert (await http.get("/_simulator/health")).status_code == 200
        assert time.perf_counter() - started < 0.09


# --- data ----------------------------------------------------------------------------------------


@pytest.mark.unit
def test_generation_is_deterministic_per_seed() -> None:
    first = json.dumps(generate_portal(SimulatorConfig()).snapshot(), sort_keys=True)
    again = json.dumps(generate_portal(SimulatorConfig()).snapshot(), sort_keys=True)
    other = json.dumps(generate_portal(SimulatorConfig(seed=8)).snapshot(), sort_keys=True)
    assert first == again
    assert first != other


@pytest.mark.http
def test_two_servers_with_the_same_seed_answer_identically(client: httpx.Client) -> None:
    with live_client() as (_app, other):
        for path in ("/users", "/courses/id:104", "/users/id:7", "/categories"):
            assert other.get(path).json() == client.get(path).json()


@pytest.mark.http
def test_every_enrollment_state_is_present(client: httpx.Client, portal: Portal) -> None:
    states = Counter(e.state for e in portal.enrollments if e.role == "learner")
    assert set(states) == {
        "not_attempted",
        "incomplete",
        "completed",
        "passed",
        "failed",
        "expired",
    }
    tokens: set[str] = set()
    expired = 0
    for user_id in portal.user_ids:
        for course in client.get(f"/users/id:{user_id}").json()["courses"]:
            tokens.add(course["completion_status"])
            if course["expired_on_timestamp"] and not course["completed_on_timestamp"]:
                assert int(course["expired_on_timestamp"]) < portal.now
                assert course["expired_on"] != ""
                expired += 1
    assert tokens == LOWER_TOKENS
    assert expired == states["expired"]


@pytest.mark.unit
def test_small_configs_still_generate_a_consistent_portal() -> None:
    portal = generate_portal(SimulatorConfig(users=3, courses=1, units_per_course=2, seed=1))
    assert portal.user_ids == ["1", "2", "3"]
    assert len(portal.course_units("101")) >= 2
    assert portal.course_detail("101")["users"][0]["role"] == "instructor"
    json.dumps(portal.snapshot())
