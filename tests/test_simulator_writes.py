"""The TalentLMS simulator's write endpoints (reference ``talentlms-api.md`` §3): their answers,
their exact errors, and the state they leave behind for every read endpoint.

In process through ``ASGITransport`` unless a test says otherwise; one test drives the whole
demo story over real HTTP. Time is a fake clock wherever a test checks a timestamp.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest
from starlette.applications import Starlette

from gateway.simulator import Portal, SimulatorConfig, create_simulator_app
from tests.support import serve_over_http

KEY = SimulatorConfig().api_key
DOMAIN = SimulatorConfig().domain
ERROR_TYPE = "invalid_request_error"
INVALID = "Invalid arguments provided"
NO_USER = "The requested user does not exist"
NO_COURSE = "The requested course does not exist"
GONE = "The requested user is no longer available"
ALREADY_ENROLLED = "The requested user is already enrolled in this course"
NOT_ENROLLED = "The requested user is not enrolled in this course"
EMAIL_TAKEN = "A user with the same email address already exists"
LOGIN_TAKEN = "A user with the same login already exists"
WEAK_PASSWORD = (
    "Password is not strong enough (should have at least (1) upper case letter, at least (1) "
    "lower case letter, at least (1) number, at least (8) characters in length)"
)
PASSWORD = "Tr0ub4dor&3x"
GOTO_URL = re.compile(rf"https://{re.escape(DOMAIN)}/index/autologin/key:([0-9a-f]{{40}})/(.*)")


class Clock:
    """A settable clock for the app, so written timestamps can be compared exactly."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def simulator(
    config: SimulatorConfig | None = None, clock: Callable[[], float] = time.time
) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    """A fresh simulator in process; the client's base URL is the host (``/api/v1`` and
    ``/_simulator`` are both reachable)."""
    app = create_simulator_app(config, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sim", auth=(KEY, "")
    ) as http:
        yield app, http


def api(path: str) -> str:
    return f"/api/v1{path}"


def assert_error(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"error": {"type": ERROR_TYPE, "message": message}}


def portal_of(app: Starlette) -> Portal:
    portal: Portal = app.state.portal
    return portal


def outsider(portal: Portal, course_id: str) -> str:
    """A live user without an enrollment in ``course_id``."""
    enrolled = {e.user_id for e in portal.enrollments if e.course_id == course_id}
    return next(u for u in portal.user_ids if u not in enrolled)


def learner(portal: Portal, state: str) -> Any:
    return next(e for e in portal.enrollments if e.role == "learner" and e.state == state)


def signup_form(**changes: str) -> dict[str, str]:
    form = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada.lovelace@analytical.example",
        "login": "ada.lovelace",
        "password": PASSWORD,
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value != "<omit>"}


async def get_json(http: httpx.AsyncClient, path: str) -> Any:
    response = await http.get(api(path))
    assert response.status_code == 200, response.text
    return response.json()


async def total_users(http: httpx.AsyncClient) -> int:
    return int((await get_json(http, "/siteinfo"))["total_users"])


# --- addusertocourse ---------------------------------------------------------------------------


@pytest.mark.unit
async def test_add_user_to_course_answers_one_element_and_every_read_shows_it() -> None:
    clock = Clock(SimulatorConfig().now_ts + 5000.0)
    async with simulator(clock=clock) as (app, http):
        portal = portal_of(app)
        user_id = outsider(portal, "104")
        added = await http.post(
            api("/addusertocourse"), data={"user_id": user_id, "course_id": "104"}
        )
        assert added.status_code == 200, added.text
        assert added.json() == [{"user_id": user_id, "course_id": "104", "role": "learner"}]

        enrolled_at = str(int(clock.now))
        courses = (await get_json(http, f"/users/id:{user_id}"))["courses"]
        mine = next(c for c in courses if c["id"] == "104")
        assert mine == {
            "id": "104",
            "name": portal.course("104").name,
            "role": "learner",
            "enrolled_on": mine["enrolled_on"],
            "enrolled_on_timestamp": enrolled_at,
            "completed_on": "",
            "completed_on_timestamp": None,
            "completion_status": "not_attempted",
            "completion_status_formatted": "Not started",
            "completion_percentage": "0",
            "expired_on": "",
            "expired_on_timestamp": None,
            "total_time": None,
            "total_time_seconds": 0,
            "last_accessed_unit_url": "",
        }
        assert re.fullmatch(r"\d\d/\d\d/\d{4}, \d\d:\d\d:\d\d", mine["enrolled_on"])

        roster = (await get_json(http, "/courses/id:104"))["users"]
        row = next(u for u in roster if u["id"] == user_id)
        user = portal.user(user_id)
        assert row["name"] == f"{user.first_name[0]}. {user.last_name}"
        assert (row["role"], row["enrolled_on_timestamp"]) == ("learner", enrolled_at)
        assert (row["completion_percentage"], row["total_time"]) == ("0", None)

        status = await get_json(http, f"/getuserstatusincourse/course_id:104,user_id:{user_id}")
        assert (status["role"], status["completion_status"]) == ("learner", "Not attempted")
        assert (status["completion_percentage"], status["enrolled_on_timestamp"]) == (
            "0",
            enrolled_at,
        )
        for unit in status["units"]:
            expected = "" if unit["type"] == "Section" else "Not attempted"
            assert unit["completion_status"] == expected

        unit_id = portal.course("104").learning_units[0].id
        progress = await get_json(http, f"/getusersprogressinunits/unit_id:{unit_id}")
        assert {"user_id": user_id, "status": "Not attempted", "score": 0} in progress


@pytest.mark.unit
async def test_add_user_to_course_as_instructor() -> None:
    async with simulator() as (app, http):
        user_id = outsider(portal_of(app), "102")
        form = {"user_id": user_id, "course_id": "102", "role": "instructor"}
        added = await http.post(api("/addusertocourse"), data=form)
        assert added.json() == [{"user_id": user_id, "course_id": "102", "role": "instructor"}]
        roster = (await get_json(http, "/courses/id:102"))["users"]
        assert next(u for u in roster if u["id"] == user_id)["role"] == "instructor"
        status = await get_json(http, f"/getuserstatusincourse/course_id:102,user_id:{user_id}")
        assert status["role"] == "instructor"


@pytest.mark.unit
async def test_add_user_to_course_accepts_a_multipart_form() -> None:
    async with simulator() as (app, http):
        user_id = outsider(portal_of(app), "101")
        fields = {"user_id": (None, user_id), "course_id": (None, "101")}
        added = await http.post(api("/addusertocourse"), files=fields)
        assert added.status_code == 200, added.text
        assert portal_of(app).enrollment(user_id, "101") is not None


@pytest.mark.unit
@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"user_id": "99999", "course_id": "101"}, 404, NO_USER),
        ({"user_id": "{outsider}", "course_id": "999"}, 404, NO_COURSE),
        ({"user_id": "{deleted}", "course_id": "101"}, 404, GONE),
        ({"user_id": "{enrolled}", "course_id": "{enrolled_course}"}, 400, ALREADY_ENROLLED),
        ({"user_id": "{outsider}"}, 400, INVALID),
        ({"course_id": "101"}, 400, INVALID),
        ({"user_id": "{outsider}", "course_id": "101", "role": "admin"}, 400, INVALID),
        ({"user_id": "{outsider}", "course_id": "101", "role": ""}, 400, INVALID),
        ({"user_id": "abc", "course_id": "101"}, 400, INVALID),
        ({"user_id": "{outsider}", "course_id": "101", "status": "x"}, 400, INVALID),
    ],
)
async def test_add_user_to_course_errors(form: dict[str, str], status: int, message: str) -> None:
    async with simulator() as (app, http):
        portal = portal_of(app)
        existing = learner(portal, "completed")
        values = {
            "{outsider}": outsider(portal, "101"),
            "{deleted}": portal.deleted_user_ids[0],
            "{enrolled}": existing.user_id,
            "{enrolled_course}": existing.course_id,
        }
        sent = {key: values.get(value, value) for key, value in form.items()}
        before = portal.counts["enrollments"]
        assert_error(await http.post(api("/addusertocourse"), data=sent), status, message)
        assert portal.counts["enrollments"] == before


@pytest.mark.unit
async def test_writes_take_form_bodies_only() -> None:
    """JSON bodies fail on the real API without a clear message (reference §1, S4, S13): the
    simulator answers ``Invalid arguments provided``; so do a wrong method and path
    parameters on a POST endpoint."""
    async with simulator() as (app, http):
        portal = portal_of(app)
        user_id = outsider(portal, "101")
        enroll = {"user_id": user_id, "course_id": "101"}
        users = await total_users(http)
        attempts = [
            http.post(api("/addusertocourse"), json=enroll),
            http.post(
                api("/addusertocourse"),
                content=b"user_id=1",
                headers={"content-type": "text/plain"},
            ),
            http.get(api("/addusertocourse")),
            http.post(api(f"/addusertocourse/user_id:{user_id},course_id:101"), data=enroll),
            http.post(api("/usersignup"), json=signup_form()),
            http.get(api("/usersignup")),
            http.post(api("/edituser"), json={"user_id": user_id, "first_name": "Zed"}),
            http.post(api("/edituser"), content=b""),
        ]
        for attempt in attempts:
            assert_error(await attempt, 400, INVALID)
        assert portal.enrollment(user_id, "101") is None
        assert await total_users(http) == users
        assert portal.user(user_id).first_name != "Zed"


# --- removeuserfromcourse ------------------------------------------------------------------------


@pytest.mark.unit
async def test_remove_user_from_course_and_every_read_forgets_it() -> None:
    async with simulator() as (app, http):
        portal = portal_of(app)
        enrollment = learner(portal, "incomplete")
        user_id, course_id = enrollment.user_id, enrollment.course_id
        pair = f"user_id:{user_id},course_id:{course_id}"
        removed = await http.get(api(f"/removeuserfromcourse/{pair}"))
        assert removed.status_code == 200, removed.text
        assert removed.json() == {
            "user_id": user_id,
            "course_id": course_id,
            "course_name": portal.course(course_id).name,
        }
        courses = (await get_json(http, f"/users/id:{user_id}"))["courses"]
        assert course_id not in {c["id"] for c in courses}
        roster = (await get_json(http, f"/courses/id:{course_id}"))["users"]
        assert user_id not in {u["id"] for u in roster}
        status = await http.get(
            api(f"/getuserstatusincourse/course_id:{course_id},user_id:{user_id}")
        )
        assert_error(status, 400, NOT_ENROLLED)
        unit_id = portal.course(course_id).learning_units[0].id
        progress = await get_json(http, f"/getusersprogressinunits/unit_id:{unit_id}")
        assert user_id not in {p["user_id"] for p in progress}
        assert_error(await http.get(api(f"/removeuserfromcourse/{pair}")), 400, NOT_ENROLLED)

        # Enrolled again, the learner starts over: the old progress went with the enrollment.
        form = {"user_id": user_id, "course_id": course_id}
        assert (await http.post(api("/addusertocourse"), data=form)).status_code == 200
        again = await get_json(
            http, f"/getuserstatusincourse/course_id:{course_id},user_id:{user_id}"
        )
        assert (again["completion_status"], again["completion_percentage"]) == (
            "Not attempted",
            "0",
        )


@pytest.mark.unit
@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ("user_id:99999,course_id:101", 404, NO_USER),
        ("user_id:1,course_id:999", 404, NO_COURSE),
        ("user_id:1", 400, INVALID),
        ("user_id:x,course_id:101", 400, INVALID),
        ("user_id:{outsider},course_id:101", 400, NOT_ENROLLED),
    ],
)
async def test_remove_user_from_course_errors(params: str, status: int, message: str) -> None:
    async with simulator() as (app, http):
        portal = portal_of(app)
        path = params.replace("{outsider}", outsider(portal, "101"))
        before = portal.counts["enrollments"]
        assert_error(await http.get(api(f"/removeuserfromcourse/{path}")), status, message)
        assert portal.counts["enrollments"] == before


# --- usersignup ----------------------------------------------------------------------------------


@pytest.mark.unit
async def test_user_signup_answers_the_full_user_with_numeric_id_and_timestamp() -> None:
    clock = Clock(SimulatorConfig().now_ts + 7200.0)
    async with simulator(clock=clock) as (app, http):
        portal = portal_of(app)
        next_id = max(int(u) for u in [*portal.user_ids, *portal.deleted_user_ids]) + 1
        existing = await get_json(http, "/users/id:1")
        created = await http.post(api("/usersignup"), data=signup_form())
        assert created.status_code == 200, created.text
        body = created.json()
        assert PASSWORD not in created.text
        assert list(body) == list(existing)  # the single-user shape, key for key
        assert body["id"] == next_id and type(body["id"]) is int
        assert body["last_updated_timestamp"] == int(clock.now)
        assert type(body["last_updated_timestamp"]) is int
        assert body["created_on"] == body["last_updated"]
        assert {key: body[key] for key in ("login", "first_name", "last_name", "email")} == {
            "login": "ada.lovelace",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada.lovelace@analytical.example",
        }
        assert (body["status"], body["user_type"], body["restrict_email"]) == (
            "active",
            "Learner-Type",
            "0",
        )
        assert (body["level"], body["points"], body["deactivation_date"]) == ("1", "0", "")
        assert (body["bio"], body["custom_field_1"], body["custom_field_2"]) == (None, None, "off")
        assert re.fullmatch(
            rf"https://{re.escape(DOMAIN)}/index/autologin/key:[0-9a-f]{{40}}", body["login_key"]
        )
        for key in ("courses", "branches", "groups", "certifications", "badges"):
            assert body[key] == []
        owner = portal.user("1")
        assert (body["timezone"], body["language"]) == (owner.timezone, owner.language)

        # Every read shows the new user, with the usual string id and timestamp.
        detail = await get_json(http, f"/users/id:{next_id}")
        assert detail == {
            **body,
            "id": str(next_id),
            "last_updated_timestamp": str(int(clock.now)),
        }
        listed = await get_json(http, "/users")
        assert listed[-1] == {
            k: v
            for k, v in detail.items()
            if k not in ("courses", "branches", "groups", "certifications", "badges")
        }
        assert (await get_json(http, "/users/email:ADA.LOVELACE%40analytical.example"))[
            "id"
        ] == str(next_id)
        assert (await get_json(http, "/users/username:ada.lovelace"))["id"] == str(next_id)
        assert await total_users(http) == len(portal.user_ids) == len(listed)


@pytest.mark.unit
async def test_user_signup_options_show_in_memberships_and_custom_fields() -> None:
    async with simulator() as (_app, http):
        form = signup_form(
            user_type="Instructor",
            branch_id="42",
            group_id="33",
            restrict_email="on",
            custom_field_1="Analytical Engines Ltd",
            custom_field_2="on",
        )
        created = await http.post(api("/usersignup"), data=form)
        assert created.status_code == 200, created.text
        body = created.json()
        user_id = str(body["id"])
        assert (body["user_type"], body["restrict_email"]) == ("Trainer-Type", "1")
        assert (body["custom_field_1"], body["custom_field_2"]) == ("Analytical Engines Ltd", "on")
        assert body["branches"] == [{"id": "42", "name": "north-america"}]
        assert body["groups"] == [{"id": "33", "name": "New Hires 2025"}]
        branch = await get_json(http, "/branches/id:42")
        group = await get_json(http, "/groups/id:33")
        assert {"id": user_id, "name": "A. Lovelace"} in branch["users"]
        assert {"id": user_id, "name": "A. Lovelace"} in group["users"]
        found = await get_json(
            http, "/getusersbycustomfield/custom_field_value:Analytical%20Engines%20Ltd"
        )
        assert list(found) == [user_id]

        custom = signup_form(
            email="b@analytical.example", login="b.custom", user_type="sales learner"
        )
        second = await http.post(api("/usersignup"), data=custom)
        assert second.json()["user_type"] == "Sales Learner"
        assert second.json()["id"] == body["id"] + 1


@pytest.mark.unit
@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"email": "{taken_email}"}, 400, EMAIL_TAKEN),
        ({"email": "{deleted_email}"}, 400, EMAIL_TAKEN),
        ({"login": "{taken_login}"}, 400, LOGIN_TAKEN),
        ({"password": "Short1A"}, 400, WEAK_PASSWORD),
        ({"password": "alllowercase1"}, 400, WEAK_PASSWORD),
        ({"password": "ALLUPPERCASE1"}, 400, WEAK_PASSWORD),
        ({"password": "NoDigitsHere"}, 400, WEAK_PASSWORD),
        ({"email": "not-an-email"}, 400, INVALID),
        ({"email": "ada lovelace@example.org"}, 400, INVALID),
        ({"email": "ada@localhost"}, 400, INVALID),
        ({"login": "ada lovelace"}, 400, INVALID),
        ({"first_name": "   "}, 400, INVALID),
        ({"last_name": ""}, 400, INVALID),
        ({"password": "<omit>"}, 400, INVALID),
        ({"email": "<omit>"}, 400, INVALID),
        ({"custom_field_9": "x"}, 400, INVALID),
        ({"role": "learner"}, 400, INVALID),
        ({"restrict_email": "yes"}, 400, INVALID),
        ({"custom_field_2": "maybe"}, 400, INVALID),
        ({"user_type": "SuperAdmin"}, 400, INVALID),
        ({"user_type": "Wizard"}, 400, INVALID),
        ({"branch_id": "x"}, 400, INVALID),
        ({"branch_id": "999"}, 404, "The requested branch does not exist"),
        ({"group_id": "999"}, 404, "The requested group does not exist"),
        # Argument errors come before the password check, the password before duplicates.
        ({"email": "nope", "password": "weak"}, 400, INVALID),
        ({"email": "{taken_email}", "password": "weak"}, 400, WEAK_PASSWORD),
        ({"email": "{taken_email}", "login": "{taken_login}"}, 400, EMAIL_TAKEN),
    ],
)
async def test_user_signup_errors(changes: dict[str, str], status: int, message: str) -> None:
    async with simulator() as (app, http):
        portal = portal_of(app)
        someone = portal.user(portal.user_ids[3])
        gone = portal.deleted_user_ids[0]
        deleted_email = portal.deleted_user(gone).email  # a deleted user keeps it
        values = {
            "{taken_email}": someone.email.upper(),
            "{deleted_email}": deleted_email,
            "{taken_login}": someone.login.upper(),
        }
        form = signup_form(**{key: values.get(value, value) for key, value in changes.items()})
        users = await total_users(http)
        assert_error(await http.post(api("/usersignup"), data=form), status, message)
        assert await total_users(http) == users
        assert_error(await http.get(api("/users/username:ada.lovelace")), 404, NO_USER)


# --- edituser ------------------------------------------------------------------------------------


@pytest.mark.unit
async def test_edit_user_changes_every_view_and_bumps_last_updated() -> None:
    clock = Clock(SimulatorConfig().now_ts + 3600.0)
    async with simulator(clock=clock) as (app, http):
        portal = portal_of(app)
        enrollment = learner(portal, "completed")
        user_id = enrollment.user_id
        before = await get_json(http, f"/users/id:{user_id}")
        clock.now += 60
        form = {
            "user_id": user_id,
            "first_name": "Grace",
            "last_name": "Hopper",
            "email": "grace.hopper@navy.example",
            "login": "grace.hopper",
            "password": PASSWORD,
            "bio": "Wrote the first compiler.",
            "timezone": "(GMT -05:00) Eastern Time (US & Canada)",
            "credits": "25",
            "custom_field_1": "US Navy",
            "custom_field_2": "on",
        }
        edited = await http.post(api("/edituser"), data=form)
        assert edited.status_code == 200, edited.text
        body = edited.json()
        assert PASSWORD not in edited.text
        assert list(body) == list(before)
        assert body["id"] == user_id  # a string here, as in the source's example
        assert body["last_updated_timestamp"] == int(clock.now)
        changed = {
            "first_name": "Grace",
            "last_name": "Hopper",
            "email": "grace.hopper@navy.example",
            "login": "grace.hopper",
            "bio": "Wrote the first compiler.",
            "timezone": "(GMT -05:00) Eastern Time (US & Canada)",
            "custom_field_1": "US Navy",
            "custom_field_2": "on",
        }
        assert {key: body[key] for key in changed} == changed
        untouched = set(before) - set(changed) - {"last_updated", "last_updated_timestamp"}
        assert {key: body[key] for key in untouched} == {key: before[key] for key in untouched}
        assert portal.user(user_id).credits == "25"

        detail = await get_json(http, f"/users/id:{user_id}")
        assert detail == {**body, "last_updated_timestamp": str(int(clock.now))}
        assert (await get_json(http, "/users/username:grace.hopper"))["id"] == user_id
        assert (await get_json(http, "/users/email:grace.hopper%40navy.example"))["id"] == user_id
        old_login = await http.get(api(f"/users/username:{before['login']}"))
        assert_error(old_login, 404, NO_USER)
        roster = (await get_json(http, f"/courses/id:{enrollment.course_id}"))["users"]
        assert next(u for u in roster if u["id"] == user_id)["name"] == "G. Hopper"

        # The user's own address, in another case, is not a duplicate.
        again = await http.post(
            api("/edituser"), data={"user_id": user_id, "email": "Grace.Hopper@navy.example"}
        )
        assert again.status_code == 200, again.text
        assert again.json()["email"] == "Grace.Hopper@navy.example"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"email": "{other_email}"}, 400, EMAIL_TAKEN),
        ({"login": "{other_login}"}, 400, LOGIN_TAKEN),
        ({"first_name": "Zed", "password": "weakpass"}, 400, WEAK_PASSWORD),
        ({"first_name": "Zed", "email": "zed@"}, 400, INVALID),
        ({}, 400, INVALID),
        ({"status": "inactive"}, 400, INVALID),
        ({"bio": ""}, 400, INVALID),
        ({"timezone": "Europe/Athens"}, 400, INVALID),
        ({"credits": "-5"}, 400, INVALID),
        ({"custom_field_2": "yes"}, 400, INVALID),
        ({"user_id": "99999", "first_name": "Zed"}, 404, NO_USER),
        ({"user_id": "{deleted}", "first_name": "Zed"}, 404, GONE),
        ({"user_id": "seven", "first_name": "Zed"}, 400, INVALID),
        ({"user_id": "<omit>", "first_name": "Zed"}, 400, INVALID),
    ],
)
async def test_edit_user_errors(form: dict[str, str], status: int, message: str) -> None:
    async with simulator() as (app, http):
        portal = portal_of(app)
        user_id, other = portal.user_ids[5], portal.user(portal.user_ids[6])
        values = {
            "{other_email}": other.email,
            "{other_login}": other.login,
            "{deleted}": portal.deleted_user_ids[0],
        }
        sent = {"user_id": user_id, **{k: values.get(v, v) for k, v in form.items()}}
        sent = {key: value for key, value in sent.items() if value != "<omit>"}
        before = await get_json(http, f"/users/id:{user_id}")
        assert_error(await http.post(api("/edituser"), data=sent), status, message)
        assert await get_json(http, f"/users/id:{user_id}") == before


# --- usersetstatus -------------------------------------------------------------------------------


@pytest.mark.unit
async def test_user_set_status_shows_in_detail_and_list() -> None:
    clock = Clock(SimulatorConfig().now_ts + 100.0)
    async with simulator(clock=clock) as (app, http):
        user_id = next(
            u
            for u in portal_of(app).user_ids
            if portal_of(app).user(u).status == "active" and u != "1"
        )
        answer = await http.get(api(f"/usersetstatus/user_id:{user_id},status:inactive"))
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"user_id": user_id, "status": "inactive"}
        detail = await get_json(http, f"/users/id:{user_id}")
        assert (detail["status"], detail["last_updated_timestamp"]) == (
            "inactive",
            str(int(clock.now)),
        )
        listed = next(u for u in await get_json(http, "/users") if u["id"] == user_id)
        assert listed["status"] == "inactive"
        clock.now += 10
        back = await get_json(http, f"/userSetStatus/user_id:{user_id},status:active")
        assert back == {"user_id": user_id, "status": "active"}
        assert (await get_json(http, f"/users/id:{user_id}"))["status"] == "active"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ("user_id:2,status:disabled", 400, INVALID),
        ("user_id:2,status:Inactive", 400, INVALID),
        ("user_id:2", 400, INVALID),
        ("user_id:99999,status:inactive", 404, NO_USER),
        ("user_id:{deleted},status:inactive", 404, GONE),
    ],
)
async def test_user_set_status_errors(params: str, status: int, message: str) -> None:
    async with simulator() as (app, http):
        portal = portal_of(app)
        path = params.replace("{deleted}", portal.deleted_user_ids[0])
        before = portal.user("2").status
        assert_error(await http.get(api(f"/usersetstatus/{path}")), status, message)
        assert portal.user("2").status == before


# --- gotocourse ----------------------------------------------------------------------------------


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.unit
async def test_goto_course_gives_a_fresh_autologin_link_into_the_course() -> None:
    async with simulator() as (app, http):
        portal = portal_of(app)
        enrollment = learner(portal, "incomplete")
        pair = f"user_id:{enrollment.user_id},course_id:{enrollment.course_id}"
        snapshot = portal.snapshot()
        first = await get_json(http, f"/gotocourse/{pair}")
        second = await get_json(http, f"/gotocourse/{pair}")
        assert list(first) == ["goto_url"]
        keys = []
        for answer in (first, second):
            match = GOTO_URL.fullmatch(answer["goto_url"])
            assert match, answer
            assert match.group(2) == f"course_id:{enrollment.course_id}"
            keys.append(match.group(1))
        assert keys[0] != keys[1]  # one-time keys
        assert portal.snapshot() == snapshot  # a link changes nothing

        logout, done = "https://intranet.example/bye?from=lms", "https://intranet.example/done"
        params = (
            f"{pair},logout_redirect:{quote(b64(logout), safe='')},"
            f"course_completed_redirect:{quote(b64(done), safe='')},"
            "header_hidden_options:logo;courses"
        )
        link = (await get_json(http, f"/gotocourse/{params}"))["goto_url"]
        match = GOTO_URL.fullmatch(link)
        assert match, link
        parts = dict(part.split(":", 1) for part in match.group(2).split("/"))
        assert parts["course_id"] == enrollment.course_id
        assert base64.b64decode(unquote(parts["logout_redirect"])).decode() == logout
        assert base64.b64decode(unquote(parts["course_completed_redirect"])).decode() == done
        assert parts["header_hidden_options"] == "logo;courses"


@pytest.mark.unit
async def test_goto_course_follows_enrollments_made_and_removed() -> None:
    async with simulator() as (app, http):
        user_id = outsider(portal_of(app), "105")
        pair = f"user_id:{user_id},course_id:105"
        assert_error(await http.get(api(f"/gotocourse/{pair}")), 400, NOT_ENROLLED)
        await http.post(api("/addusertocourse"), data={"user_id": user_id, "course_id": "105"})
        assert GOTO_URL.fullmatch((await get_json(http, f"/gotocourse/{pair}"))["goto_url"])
        await http.get(api(f"/removeuserfromcourse/{pair}"))
        assert_error(await http.get(api(f"/gotocourse/{pair}")), 400, NOT_ENROLLED)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ("user_id:99999,course_id:101", 404, NO_USER),
        ("user_id:{user},course_id:999", 404, NO_COURSE),
        ("user_id:{deleted},course_id:101", 404, GONE),
        ("user_id:{user}", 400, INVALID),
        ("user_id:{user},course_id:{course},logout_redirect:%21%21%21", 400, INVALID),
        ("user_id:{user},course_id:{course},logout_redirect:" + b64("not a url"), 400, INVALID),
        ("user_id:{user},course_id:{course},header_hidden_options:a%20b", 400, INVALID),
        (
            "user_id:{user},course_id:{course},redirect_url:" + b64("https://x.example"),
            400,
            INVALID,
        ),
    ],
)
async def test_goto_course_errors(params: str, status: int, message: str) -> None:
    async with simulator() as (app, http):
        portal = portal_of(app)
        enrollment = learner(portal, "completed")
        path = (
            params.replace("{user}", enrollment.user_id)
            .replace("{course}", enrollment.course_id)
            .replace("{deleted}", portal.deleted_user_ids[0])
        )
        assert_error(await http.get(api(f"/gotocourse/{path}")), status, message)


# --- counting, limits, faults, concurrency, secrecy ----------------------------------------------


@pytest.mark.unit
async def test_writes_are_counted_under_their_endpoint_names() -> None:
    async with simulator() as (app, http):
        portal = portal_of(app)
        user_id = outsider(portal, "101")
        await http.post(api("/addusertocourse"), data={"user_id": user_id, "course_id": "101"})
        await http.post(api("/addUserToCourse"), data={"user_id": user_id, "course_id": "101"})
        await http.get(api(f"/gotocourse/user_id:{user_id},course_id:101"))
        await http.get(api(f"/removeuserfromcourse/user_id:{user_id},course_id:101"))
        await http.post(api("/usersignup"), data=signup_form())
        await http.post(api("/usersignup"), json=signup_form())  # refused, still a call
        await http.post(api("/edituser"), data={"user_id": user_id, "bio": "Hello"})
        await http.get(api(f"/usersetstatus/user_id:{user_id},status:inactive"))
        await http.get(api("/resetuserprogress/user_id:1,course_id:101"))
        stats = (await http.get("/_simulator/stats")).json()
        assert stats == {
            "total": 9,
            "byEndpoint": {
                "addusertocourse": 2,
                "edituser": 1,
                "gotocourse": 1,
                "removeuserfromcourse": 1,
                "resetuserprogress": 1,
                "usersetstatus": 1,
                "usersignup": 2,
            },
        }


@pytest.mark.unit
async def test_writes_spend_the_hourly_quota_and_are_refused_past_it() -> None:
    async with simulator(SimulatorConfig(hourly_limit=2)) as (app, http):
        portal = portal_of(app)
        user_id = outsider(portal, "101")
        assert (await http.post(api("/usersignup"), data=signup_form())).status_code == 200
        assert (await get_json(http, "/ratelimit"))["remaining"] == 1
        form = {"user_id": user_id, "course_id": "101"}
        assert (await http.post(api("/addusertocourse"), data=form)).status_code == 200
        limited = await http.post(
            api("/usersignup"), data=signup_form(email="x@y.example", login="x")
        )
        assert limited.status_code == 429
        assert "rate limit" in limited.json()["error"]["message"]
        refused = await http.get(api(f"/removeuserfromcourse/user_id:{user_id},course_id:101"))
        assert refused.status_code == 429
        assert portal.enrollment(user_id, "101") is not None
        assert len(portal.user_ids) == SimulatorConfig().users + 1


@pytest.mark.unit
async def test_writes_meet_the_burst_cap() -> None:
    async with simulator(SimulatorConfig(burst_limit=1, burst_window=60)) as (app, http):
        user_id = outsider(portal_of(app), "101")
        assert (
            await http.get(api(f"/usersetstatus/user_id:{user_id},status:inactive"))
        ).status_code == 200
        capped = await http.post(api("/edituser"), data={"user_id": user_id, "first_name": "Zed"})
        assert capped.status_code == 429 and int(capped.headers["Retry-After"]) >= 1
        assert portal_of(app).user(user_id).first_name != "Zed"


@pytest.mark.unit
async def test_fault_injected_writes_change_nothing_until_they_get_through() -> None:
    async with simulator() as (app, http):
        portal = portal_of(app)
        faults = [
            {"kind": "error", "endpoint": "usersignup", "status": 503, "times": 1},
            {"kind": "revoked_key", "endpoint": "addusertocourse", "times": 1},
        ]
        assert (await http.put("/_simulator/faults", json={"faults": faults})).status_code == 200
        users = await total_users(http)
        failed = await http.post(api("/usersignup"), data=signup_form())
        assert failed.status_code == 503
        assert failed.json() == {"error": {"type": "api_error", "message": "Internal server error"}}
        assert await total_users(http) == users
        retried = await http.post(api("/usersignup"), data=signup_form())
        assert retried.status_code == 200, retried.text
        assert await total_users(http) == users + 1

        user_id = str(retried.json()["id"])
        form = {"user_id": user_id, "course_id": "101"}
        assert_error(
            await http.post(api("/addusertocourse"), data=form), 401, "Invalid API key provided"
        )
        assert portal.enrollment(user_id, "101") is None
        assert (await http.post(api("/addusertocourse"), data=form)).status_code == 200
        stats = (await http.get("/_simulator/stats")).json()["byEndpoint"]
        assert (stats["usersignup"], stats["addusertocourse"]) == (2, 2)


@pytest.mark.unit
async def test_a_write_delayed_by_a_timeout_fault_still_happens() -> None:
    async with simulator() as (app, http):
        user_id = outsider(portal_of(app), "101")
        rule = {"kind": "timeout", "endpoint": "edituser", "delay_s": 0.05, "times": 1}
        await http.put("/_simulator/faults", json={"faults": [rule]})
        edited = await http.post(api("/edituser"), data={"user_id": user_id, "first_name": "Late"})
        assert edited.status_code == 200, edited.text
        assert portal_of(app).user(user_id).first_name == "Late"


@pytest.mark.unit
async def test_concurrent_writes_never_interleave() -> None:
    async with simulator(SimulatorConfig(latency_ms=5, burst_limit=None)) as (app, http):
        portal = portal_of(app)
        users = len(portal.user_ids)
        same_email = [
            http.post(api("/usersignup"), data=signup_form(login=f"racer{n}")) for n in range(20)
        ]
        answers = await asyncio.gather(*same_email)
        assert sorted(a.status_code for a in answers) == [200] + [400] * 19
        for answer in answers:
            if answer.status_code == 400:
                assert answer.json()["error"]["message"] == EMAIL_TAKEN

        distinct = [
            http.post(api("/usersignup"), data=signup_form(email=f"p{n}@x.example", login=f"p{n}"))
            for n in range(20)
        ]
        ids = [a.json()["id"] for a in await asyncio.gather(*distinct)]
        assert sorted(ids) == list(range(max(ids) - 19, max(ids) + 1))
        assert len(portal.user_ids) == users + 21

        user_id = outsider(portal, "106")
        form = {"user_id": user_id, "course_id": "106"}
        enrolls = await asyncio.gather(
            *(http.post(api("/addusertocourse"), data=form) for _ in range(10))
        )
        assert sorted(a.status_code for a in enrolls) == [200] + [400] * 9
        roster = (await get_json(http, "/courses/id:106"))["users"]
        assert [u["id"] for u in roster].count(user_id) == 1


@pytest.mark.unit
async def test_passwords_are_never_echoed_stored_or_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    weak = "weakpass-secret"
    caplog.set_level(logging.DEBUG)
    async with simulator() as (app, http):
        created = await http.post(api("/usersignup"), data=signup_form())
        refused = await http.post(
            api("/usersignup"), data=signup_form(login="b", email="b@x.example", password=weak)
        )
        user_id = str(created.json()["id"])
        edited = await http.post(
            api("/edituser"), data={"user_id": user_id, "password": "N3wPassword"}
        )
        texts = [created.text, refused.text, edited.text, caplog.text]
        user = portal_of(app).user(user_id)
        texts += [repr(user), repr(portal_of(app).snapshot())]
        for secret in (PASSWORD, weak, "N3wPassword"):
            assert not any(secret in text for text in texts)
        assert user.password_digest and "N3wPassword" not in user.password_digest


# --- over real HTTP -----------------------------------------------------------------------------


@pytest.mark.http
def test_the_demo_story_over_real_http() -> None:
    """Sign someone up, enroll them, open the course, rename them, unenroll them: each step
    over a socket with form bodies, each visible to the reads a dashboard makes."""
    app = create_simulator_app()
    with (
        serve_over_http(app) as base_url,
        httpx.Client(base_url=base_url, auth=(KEY, ""), timeout=10) as http,
    ):
        created = http.post(api("/usersignup"), data=signup_form())
        assert created.status_code == 200, created.text
        user_id = str(created.json()["id"])
        enrolled = http.post(api("/addusertocourse"), data={"user_id": user_id, "course_id": "103"})
        assert enrolled.json() == [{"user_id": user_id, "course_id": "103", "role": "learner"}]
        courses = http.get(api(f"/users/id:{user_id}")).json()["courses"]
        assert [(c["id"], c["completion_status"]) for c in courses] == [("103", "not_attempted")]
        roster = http.get(api("/courses/id:103")).json()["users"]
        assert {"id": user_id, "name": "A. Lovelace"}.items() <= next(
            u for u in roster if u["id"] == user_id
        ).items()
        link = http.get(api(f"/gotocourse/user_id:{user_id},course_id:103")).json()["goto_url"]
        assert GOTO_URL.fullmatch(link) and link.endswith("/course_id:103")
        renamed = http.post(api("/edituser"), data={"user_id": user_id, "first_name": "Augusta"})
        assert renamed.json()["first_name"] == "Augusta"
        assert http.get(api("/users")).json()[-1]["first_name"] == "Augusta"
        removed = http.get(api(f"/removeuserfromcourse/user_id:{user_id},course_id:103"))
        assert removed.json()["course_id"] == "103"
        assert http.get(api(f"/users/id:{user_id}")).json()["courses"] == []
        assert_error(http.post(api("/usersignup"), data=signup_form()), 400, EMAIL_TAKEN)
        stats = http.get("/_simulator/stats").json()["byEndpoint"]
        assert {
            name: stats[name]
            for name in (
                "usersignup",
                "addusertocourse",
                "gotocourse",
                "edituser",
                "removeuserfromcourse",
            )
        } == {
            "usersignup": 2,
            "addusertocourse": 1,
            "gotocourse": 1,
            "edituser": 1,
            "removeuserfromcourse": 1,
        }
