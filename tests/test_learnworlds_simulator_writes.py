"""The LearnWorlds simulator's writes answer as the API v2 does (spec snapshots O1–O3 and the
clients of docs/learnworlds-mapping.md): enroll and unenroll, create and update a user,
suspend and unsuspend one, each with its status, body and refusals; every read shows what they
changed; they need the same credentials, spend the same rate limit, meet the same faults, are
counted under their own names and stay whole when they race."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from gateway.simulator import LearnWorldsConfig, create_learnworlds_app
from gateway.simulator.learnworlds import School
from gateway.simulator.learnworlds.data import (
    DEFAULT_NOW,
    MSG_ALREADY_OWNED,
    MSG_EMAIL_TAKEN,
    MSG_NOT_ENROLLED,
    MSG_USERNAME_TAKEN,
    PROFILE_KEYS,
    User,
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
from tests.support import serve_over_http

CONFIG = LearnWorldsConfig(rate_limit=0)
CLIENT = CONFIG.client_id
STATIC = CONFIG.static_token or ""
API = "/admin/api/v2"
DAY = 86_400
WRITE_TIME = DEFAULT_NOW + 3 * DAY + 0.25  # the wall clock the in-process tests run at


def auth(token: str = STATIC) -> dict[str, str]:
    return {"Lw-Client": CLIENT, "Authorization": f"Bearer {token}"}


def path_id(value: str) -> str:
    return quote(value, safe="")


def invalid(*keys: str) -> dict[str, Any]:
    """The spec's validation body (shape 3) naming exactly ``keys``; messages checked apart."""
    return {"statusCode": 422, "error": "Validation Failed", "keys": sorted(keys)}


def shape3(response: httpx.Response) -> dict[str, Any]:
    """A 422's body reduced to what ``invalid`` describes; every message a non-empty string."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"statusCode", "error", "message", "errors"}
    assert isinstance(body["message"], str) and body["message"]
    for entries in body["errors"].values():
        [entry] = entries
        assert set(entry) == {"0"} and isinstance(entry["0"], str) and entry["0"]
    return {
        "statusCode": body["statusCode"],
        "error": body["error"],
        "keys": sorted(body["errors"]),
    }


@asynccontextmanager
async def simulator(
    config: LearnWorldsConfig = CONFIG, *, now: float = WRITE_TIME
) -> AsyncIterator[tuple[School, httpx.AsyncClient]]:
    """A fresh simulator in process, its school and a client sending the static token."""
    app = create_learnworlds_app(config, clock=lambda: now)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://school.test", headers=auth()
    ) as client:
        yield app.state.school, client


def idle_learner(school: School) -> User:
    """The generated learner with no enrollment at all (the school always has one)."""
    return next(
        u
        for u in school.users
        if u.level == "user" and not u.suspended and not school.user_enrollments(u.id)
    )


def enrollment(slug: str, **extra: Any) -> dict[str, Any]:
    return {"productId": slug, "productType": "course", "price": 0, **extra}


async def every_page(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict]:
    rows: list[dict] = []
    page = 1
    while True:
        body = (await client.get(path, params={**params, "page": page})).json()
        rows += body["data"]
        if page >= body["meta"]["totalPages"]:
            return rows
        page += 1


async def ids(client: httpx.AsyncClient, path: str, **params: Any) -> set[str]:
    return {row["id"] for row in await every_page(client, path, **params)}


# --- enroll -----------------------------------------------------------------------------------


@pytest.mark.unit
async def test_enrolling_answers_success_and_every_read_shows_a_new_enrollment() -> None:
    async with simulator() as (school, client):
        learner = idle_learner(school)
        slug = "intro-to-statistics"
        assert (await client.get(f"{API}/users/{learner.id}/progress")).status_code == 404
        assert learner.id not in await ids(client, f"{API}/courses/{slug}/users")

        response = await client.post(
            f"{API}/users/{path_id(learner.email)}/enrollment",
            json=enrollment(
                slug, justification="Added by LMS gateway", send_enrollment_email=False
            ),
        )
        assert response.status_code == 200
        assert response.json() == {"success": True}

        [row] = (await client.get(f"{API}/users/{learner.id}/courses")).json()["data"]
        assert row == {
            "created": int(WRITE_TIME),
            "expires": None,
            "course": (await client.get(f"{API}/courses/{slug}")).json(),
        }
        progress = (await client.get(f"{API}/users/{learner.id}/progress")).json()
        assert progress["meta"]["totalItems"] == 1
        [mine] = progress["data"]
        units = [u for s in mine["progress_per_section_unit"] for u in s["units"]]
        assert {k: v for k, v in mine.items() if k != "progress_per_section_unit"} == {
            "course_id": slug,
            "status": "not_started",
            "progress_rate": 0,
            "average_score_rate": 0,
            "time_on_course": 0,
            "total_units": len(units),
            "completed_units": 0,
            "completed_at": None,
        }
        assert units and all(u["unit_status"] == "not_completed" for u in units)
        assert all(u["time_on_unit"] == 0 and u["unit_progress_rate"] == 0 for u in units)
        single = await client.get(f"{API}/users/{learner.id}/courses/{slug}/progress")
        assert single.json() == {k: v for k, v in mine.items() if k != "course_id"}
        assert learner.id in await ids(client, f"{API}/courses/{slug}/users")
        # A free grant does not make the learner paying.
        assert learner.id in await ids(client, f"{API}/users", status="non_paying")


@pytest.mark.unit
async def test_a_paid_enrollment_makes_a_paying_user_and_an_access_period_an_expiry() -> None:
    async with simulator() as (school, client):
        learner = idle_learner(school)
        timed = next(c for c in school.courses if c.expires is not None)
        assert (timed.expires, timed.expires_type) == (6, "months")
        response = await client.post(
            f"{API}/users/{learner.id}/enrollment", json=enrollment(timed.id, price="79.50")
        )
        assert response.status_code == 200
        [row] = (await client.get(f"{API}/users/{learner.id}/courses")).json()["data"]
        assert row["expires"] == int(WRITE_TIME) + 6 * 30 * DAY
        assert learner.id in await ids(client, f"{API}/users", status="paying")
        assert learner.id not in await ids(client, f"{API}/users", status="non_paying")


@pytest.mark.unit
async def test_enrollment_refusals_change_nothing() -> None:
    async with simulator() as (school, client):
        learner = idle_learner(school)
        enrolled = school.enrollments[0]
        before = len(school.enrollments)
        url = f"{API}/users/{learner.id}/enrollment"

        async def post(body: Any, user: str = learner.id) -> httpx.Response:
            return await client.post(f"{API}/users/{user}/enrollment", json=body)

        unknown_user = await post(enrollment("intro-to-statistics"), "000000000000000000000000")
        unknown_email = await post(enrollment("intro-to-statistics"), path_id("no@example.org"))
        unknown_course = await post(enrollment("no-such-course"))
        bundle = await post(
            {"productId": "intro-to-statistics", "productType": "bundle", "price": 1}
        )
        subscription = await post(
            {
                "productId": "monthly",
                "productType": "subscription",
                "price": 9,
                "duration": 2,
                "duration_type": "months",
            }
        )
        already = await post(
            enrollment(enrolled.course_id), enrolled.user_id
        )  # a generated enrollment
        for response in (unknown_user, unknown_email, unknown_course, bundle, subscription):
            assert response.status_code == 404 and response.json() == NOT_FOUND
        assert already.status_code == 400 and already.json() == {"error": MSG_ALREADY_OWNED}

        assert shape3(await post({})) == invalid("productId", "productType", "price")
        assert shape3(await post({"productId": "intro-to-statistics", "price": 0})) == invalid(
            "productType"
        )
        assert shape3(await post(enrollment("intro-to-statistics", productType="path"))) == (
            invalid("productType")
        )
        for price in ("free", -1, True, None, [0]):
            wrong = await post(enrollment("intro-to-statistics", price=price))
            assert shape3(wrong) == invalid("price"), price
        extra = await post(enrollment("intro-to-statistics", coupon="X"))  # a sixth key (C13)
        assert shape3(extra) == invalid("coupon")
        typed = await post(
            enrollment(
                "intro-to-statistics",
                justification=5,
                send_enrollment_email="yes",
                duration=0,
                duration_type="years",
            )
        )
        assert shape3(typed) == invalid(
            "justification", "send_enrollment_email", "duration", "duration_type"
        )
        not_json = await client.post(
            url, content=b"productId=x", headers={"Content-Type": "application/json"}
        )
        a_list = await client.post(url, json=[enrollment("intro-to-statistics")])
        for response in (not_json, a_list):
            assert response.status_code == 400 and set(response.json()) == {"error"}
        assert len(school.enrollments) == before
        assert (await client.get(f"{API}/users/{learner.id}/progress")).status_code == 404


@pytest.mark.unit
async def test_the_documented_optional_keys_are_accepted_on_a_course() -> None:
    async with simulator() as (school, client):
        learner = idle_learner(school)
        body = enrollment(
            "gdpr-fundamentals",
            justification=None,
            send_enrollment_email=None,
            duration=3,
            duration_type="weeks",
        )
        response = await client.post(f"{API}/users/{learner.id}/enrollment", json=body)
        assert response.status_code == 200 and response.json() == {"success": True}
        assert school.enrollment(learner.id, "gdpr-fundamentals") is not None


# --- unenroll ---------------------------------------------------------------------------------


@pytest.mark.unit
async def test_unenrolling_answers_204_without_a_body_and_the_reads_forget_it() -> None:
    async with simulator() as (school, client):
        learner = max(
            (u for u in school.users if not u.suspended),
            key=lambda u: len(school.user_enrollments(u.id)),
        )
        slugs = [e.course_id for e in school.user_enrollments(learner.id)]
        gone, kept = slugs[0], slugs[1:]
        body = {"productId": gone, "productType": "course"}

        response = await client.request("DELETE", f"{API}/users/{learner.id}/enrollment", json=body)
        assert response.status_code == 204 and response.content == b""
        assert "content-type" not in response.headers

        rows = (await client.get(f"{API}/users/{learner.id}/courses")).json()["data"]
        assert [r["course"]["id"] for r in rows] == kept
        progress = (await client.get(f"{API}/users/{learner.id}/progress")).json()["data"]
        assert [p["course_id"] for p in progress] == kept
        single = await client.get(f"{API}/users/{learner.id}/courses/{gone}/progress")
        assert single.status_code == 404 and single.json() == NOT_FOUND
        assert learner.id not in await ids(client, f"{API}/courses/{gone}/users")

        again = await client.request("DELETE", f"{API}/users/{learner.id}/enrollment", json=body)
        assert again.status_code == 400 and again.json() == {"error": MSG_NOT_ENROLLED}
        # Enrolling again starts over: not started, whatever the progress was.
        await client.post(f"{API}/users/{learner.id}/enrollment", json=enrollment(gone))
        fresh = await client.get(f"{API}/users/{learner.id}/courses/{gone}/progress")
        assert fresh.json()["status"] == "not_started" and fresh.json()["progress_rate"] == 0


@pytest.mark.unit
async def test_the_last_unenrollment_leaves_a_user_without_progress() -> None:
    async with simulator() as (school, client):
        learner = idle_learner(school)
        url = f"{API}/users/{learner.id}/enrollment"
        await client.post(url, json=enrollment("gdpr-fundamentals"))
        assert (await client.get(f"{API}/users/{learner.id}/progress")).status_code == 200
        body = {"productId": "gdpr-fundamentals", "productType": "course"}
        assert (await client.request("DELETE", url, json=body)).status_code == 204
        after = await client.get(f"{API}/users/{learner.id}/progress")
        assert after.status_code == 404 and after.json() == NOT_FOUND  # as before (C9)


@pytest.mark.unit
async def test_unenrollment_refusals() -> None:
    async with simulator() as (school, client):
        learner = idle_learner(school)
        before = len(school.enrollments)

        async def delete(body: Any, user: str = learner.id) -> httpx.Response:
            return await client.request("DELETE", f"{API}/users/{user}/enrollment", json=body)

        course = {"productId": "intro-to-statistics", "productType": "course"}
        unknown_user = await delete(course, "000000000000000000000000")
        unknown_course = await delete({**course, "productId": "no-such-course"})
        bundle = await delete({**course, "productType": "bundle"})
        for response in (unknown_user, unknown_course, bundle):
            assert response.status_code == 404 and response.json() == NOT_FOUND
        not_enrolled = await delete(course)
        assert not_enrolled.status_code == 400 and not_enrolled.json() == {
            "error": MSG_NOT_ENROLLED
        }
        no_body = await client.delete(f"{API}/users/{learner.id}/enrollment")
        assert shape3(no_body) == invalid("productId", "productType")
        assert shape3(await delete({"productId": "intro-to-statistics"})) == invalid("productType")
        assert shape3(await delete({**course, "price": 0})) == invalid("price")
        assert len(school.enrollments) == before


# --- create a user ----------------------------------------------------------------------------


@pytest.mark.unit
async def test_creating_a_user_answers_201_and_the_user_is_the_newest() -> None:
    async with simulator() as (school, client):
        total = (await client.get(f"{API}/users")).json()["meta"]["totalItems"]
        some = (await client.get(f"{API}/users/{school.users[0].id}?include_suspended=true")).json()
        body = {
            "email": "Nia.Okoro@Example.org",
            "username": "Nia Okoro",
            "password": "s3cret-pass",
            "send_registration_email": False,
            "subscribed_for_marketing_emails": True,
            "fields": {"company": "Acme", "cf_team": "Blue"},
            "tags": ["cohort-9", " cohort-9 ", "", "vip"],
        }
        response = await client.post(f"{API}/users", json=body)
        assert response.status_code == 201
        user = response.json()
        assert set(user) == set(some)  # the User resource, every key
        assert HEX.match(user["id"]) and user["id"] not in {u.id for u in school.users[1:]}
        assert int(user["id"][:8], 16) == int(WRITE_TIME)  # an ObjectId's creation time
        expected = {
            "email": "Nia.Okoro@Example.org",
            "username": "Nia Okoro",
            "first_name": "",
            "last_name": "Nia Okoro",  # the spec's examples: the whole name in last_name
            "subscribed_for_marketing_emails": True,
            "is_admin": False,
            "is_instructor": False,
            "is_suspended": False,
            "is_reporter": False,
            "role": {"level": "user", "name": "User"},
            "last_login": None,
            "tags": ["cohort-9", "vip"],
        }
        assert {k: user[k] for k in expected} == expected
        assert user["created"] == pytest.approx(WRITE_TIME)
        assert user["fields"] == {
            **dict.fromkeys(PROFILE_KEYS),
            "cf_team": "Blue",
            "cf_employee_id": None,
            "company": "Acme",
        }
        assert "password" not in str(user)

        listed = (await client.get(f"{API}/users")).json()
        assert listed["meta"]["totalItems"] == total + 1
        assert listed["data"][0] == user  # newest first
        assert (await client.get(f"{API}/users/{user['id']}")).json() == user
        assert (await client.get(f"{API}/users/{path_id('nia.okoro@example.org')}")).json() == user
        assert user["id"] in await ids(client, f"{API}/users", status="never_logged_in")
        assert user["id"] in await ids(client, f"{API}/users", cf_team="Blue", tags="vip")
        no_progress = await client.get(f"{API}/users/{user['id']}/progress")
        assert no_progress.status_code == 404
        assert (await client.get(f"{API}/users/{user['id']}/courses")).json()["data"] == []
        enrolled = await client.post(
            f"{API}/users/{user['id']}/enrollment", json=enrollment("gdpr-fundamentals")
        )
        assert enrolled.status_code == 200
        assert user["id"] in await ids(client, f"{API}/courses/gdpr-fundamentals/users")


@pytest.mark.unit
async def test_a_created_user_keeps_given_names_and_can_be_an_admin() -> None:
    async with simulator() as (_school, client):
        first = await client.post(
            f"{API}/users",
            json={"email": "a@example.org", "username": "ana", "first_name": "Ana"},
        )
        admin = await client.post(
            f"{API}/users",
            json={
                "email": "b@example.org",
                "username": "Boss",
                "first_name": "Bo",
                "last_name": "Ss",
                "is_admin": True,
            },
        )
        assert first.status_code == admin.status_code == 201
        assert (first.json()["first_name"], first.json()["last_name"]) == ("Ana", "")
        assert first.json()["subscribed_for_marketing_emails"] is None  # the spec's default
        assert admin.json()["role"] == {"level": "admin", "name": "Admin"}
        assert admin.json()["is_admin"] is True
        assert (admin.json()["first_name"], admin.json()["last_name"]) == ("Bo", "Ss")
        # Created one after the other at the same wall time: still newest first, distinct.
        listed = (await client.get(f"{API}/users")).json()["data"]
        assert [u["id"] for u in listed[:2]] == [admin.json()["id"], first.json()["id"]]
        assert listed[0]["created"] > listed[1]["created"]


@pytest.mark.unit
async def test_user_creation_refusals_change_nothing() -> None:
    async with simulator() as (school, client):
        taken = school.users[0]
        count = len(school.users)

        async def create(body: Any) -> httpx.Response:
            return await client.post(f"{API}/users", json=body)

        same_email = await create({"email": taken.email.upper(), "username": "Someone New"})
        same_name = await create({"email": "new@example.org", "username": taken.username.lower()})
        assert same_email.status_code == 400 and same_email.json() == {"error": MSG_EMAIL_TAKEN}
        assert same_name.status_code == 400 and same_name.json() == {"error": MSG_USERNAME_TAKEN}

        assert shape3(await create({})) == invalid("email", "username")
        assert shape3(await create({"email": "x@example.org", "username": "  "})) == invalid(
            "username"
        )
        for email in ("not-an-email", "a@b", "two@@example.org", "sp ace@example.org", 7):
            wrong = await create({"email": email, "username": "Valid Name"})
            assert shape3(wrong) == invalid("email"), email
        typed = await create(
            {
                "email": "ok@example.org",
                "username": "Okay",
                "tags": "vip",
                "fields": {"nope": "x", "company": 3},
                "utms": {"fc_utm_source": "x", "bogus": "y"},
                "is_admin": "yes",
                "subscribed_for_marketing_emails": 1,
                "password": 123,
            }
        )
        assert shape3(typed) == invalid(
            "tags",
            "fields.nope",
            "fields.company",
            "utms.bogus",
            "is_admin",
            "subscribed_for_marketing_emails",
            "password",
        )
        not_object = await client.post(f"{API}/users", json=["ok@example.org"])
        assert not_object.status_code == 400 and set(not_object.json()) == {"error"}
        assert len(school.users) == count


# --- update a user ----------------------------------------------------------------------------


@pytest.mark.unit
async def test_updating_a_user_answers_200_with_the_user_and_reads_show_it() -> None:
    async with simulator() as (school, client):
        user = next(
            u
            for u in school.users
            if u.level == "user" and not u.suspended and school.user_enrollments(u.id)
        )
        old_email = user.email
        before = (await client.get(f"{API}/users/{user.id}")).json()
        changes = {
            "email": "renamed@example.org",
            "username": "Renamed Learner",
            "first_name": "Renamed",
            "last_name": "Learner",
            "subscribed_for_marketing_emails": None,
            "fields": {"company": "Initech", "cf_team": None},
            "tags": ["alumni"],
            "utms": {"fc_utm_source": "newsletter"},
            "signup_validation_rules": False,
            "unknown_key": "ignored",
        }
        response = await client.put(f"{API}/users/{path_id(old_email)}", json=changes)
        assert response.status_code == 200
        after = response.json()
        assert after == {
            **before,
            "email": "renamed@example.org",
            "username": "Renamed Learner",
            "first_name": "Renamed",
            "last_name": "Learner",
            "subscribed_for_marketing_emails": None,
            "fields": {**before["fields"], "company": "Initech", "cf_team": None},
            "tags": ["alumni"],
            "utms": {**before["utms"], "fc_utm_source": "newsletter"},
        }
        assert (await client.get(f"{API}/users/{user.id}")).json() == after
        by_new = await client.get(f"{API}/users/{path_id('RENAMED@example.org')}")
        by_old = await client.get(f"{API}/users/{path_id(old_email)}")
        assert by_new.json() == after and by_old.status_code == 404
        listed = {u["id"]: u for u in await every_page(client, f"{API}/users")}
        assert listed[user.id] == after
        for row in school.user_enrollments(user.id)[:1]:
            roster = await every_page(client, f"{API}/courses/{row.course_id}/users")
            assert {u["id"]: u for u in roster}[user.id] == after
        # An empty update changes nothing; the same e-mail in another case is no conflict.
        assert (await client.put(f"{API}/users/{user.id}", json={})).json() == after
        recased = await client.put(f"{API}/users/{user.id}", json={"email": "Renamed@Example.org"})
        assert recased.status_code == 200 and recased.json()["email"] == "Renamed@Example.org"


@pytest.mark.unit
async def test_a_name_derived_from_the_username_follows_it_and_admin_rights_change() -> None:
    async with simulator() as (_school, client):
        created = (
            await client.post(f"{API}/users", json={"email": "d@example.org", "username": "dee"})
        ).json()
        renamed = await client.put(f"{API}/users/{created['id']}", json={"username": "Dee Dee"})
        assert (renamed.json()["first_name"], renamed.json()["last_name"]) == ("", "Dee Dee")
        promoted = await client.put(f"{API}/users/{created['id']}", json={"is_admin": True})
        assert promoted.json()["role"] == {"level": "admin", "name": "Admin"}
        assert created["id"] in await ids(client, f"{API}/users", role="admin")
        demoted = await client.put(f"{API}/users/{created['id']}", json={"is_admin": False})
        assert demoted.json()["role"] == {"level": "user", "name": "User"}
        assert demoted.json()["is_admin"] is False


@pytest.mark.unit
async def test_user_update_refusals_change_nothing() -> None:
    async with simulator() as (school, client):
        user = school.users[3]
        other = next(
            u
            for u in school.users
            if u.username.lower() != user.username.lower() and u.email != user.email
        )
        before = (await client.get(f"{API}/users/{user.id}?include_suspended=true")).json()
        url = f"{API}/users/{user.id}"
        email = await client.put(url, json={"email": other.email, "tags": ["x"]})
        name = await client.put(url, json={"username": other.username.upper()})
        assert email.status_code == 400 and email.json() == {"error": MSG_EMAIL_TAKEN}
        assert name.status_code == 400 and name.json() == {"error": MSG_USERNAME_TAKEN}
        unknown = await client.put(f"{API}/users/000000000000000000000000", json={"tags": []})
        assert unknown.status_code == 404 and unknown.json() == NOT_FOUND
        assert shape3(await client.put(url, json={"email": "nope", "tags": ["y"]})) == invalid(
            "email"
        )
        assert shape3(await client.put(url, json={"email": None})) == invalid("email")
        assert shape3(await client.put(url, json={"username": ""})) == invalid("username")
        assert shape3(await client.put(url, json={"fields": []})) == invalid("fields")
        after = (await client.get(f"{API}/users/{user.id}?include_suspended=true")).json()
        assert after == before  # all or nothing: the tags sent with a refused e-mail stayed out


# --- suspend and unsuspend --------------------------------------------------------------------


@pytest.mark.unit
async def test_suspending_hides_a_user_and_unsuspending_brings_them_back() -> None:
    async with simulator() as (school, client):
        user = next(
            u
            for u in school.users
            if u.level == "user" and not u.suspended and school.user_enrollments(u.id)
        )
        slug = school.user_enrollments(user.id)[0].course_id
        suspended = await client.put(f"{API}/users/{user.id}/suspend")
        assert suspended.status_code == 200
        body = suspended.json()
        assert body["id"] == user.id and body["is_suspended"] is True

        hidden = await client.get(f"{API}/users/{user.id}")
        assert hidden.status_code == 404 and hidden.json() == NOT_FOUND
        shown = await client.get(f"{API}/users/{user.id}", params={"include_suspended": "true"})
        assert shown.json() == body
        assert user.id not in await ids(client, f"{API}/users")
        assert user.id in await ids(client, f"{API}/users", status="suspended")
        assert user.id in await ids(client, f"{API}/users", include_suspended="true")
        assert user.id not in await ids(client, f"{API}/courses/{slug}/users")
        roster = await ids(client, f"{API}/courses/{slug}/users", include_suspended="true")
        assert user.id in roster
        # Enrollments stay; suspending twice changes nothing.
        assert (await client.get(f"{API}/users/{user.id}/courses")).json()["data"]
        twice = await client.put(f"{API}/users/{path_id(user.email)}/suspend")
        assert twice.status_code == 200 and twice.json() == body

        back = await client.put(f"{API}/users/{user.id}/unsuspend")
        assert back.status_code == 200 and back.json() == {**body, "is_suspended": False}
        assert (await client.get(f"{API}/users/{user.id}")).json() == back.json()
        assert user.id in await ids(client, f"{API}/users")
        assert user.id not in await ids(client, f"{API}/users", status="suspended")
        assert user.id in await ids(client, f"{API}/courses/{slug}/users")
        for action in ("suspend", "unsuspend"):
            unknown = await client.put(f"{API}/users/000000000000000000000000/{action}")
            assert unknown.status_code == 404 and unknown.json() == NOT_FOUND


@pytest.mark.unit
async def test_a_suspended_user_can_still_be_updated_and_enrolled() -> None:
    async with simulator() as (school, client):
        user = next(u for u in school.users if u.suspended)
        slug = next(c.id for c in school.courses if school.enrollment(user.id, c.id) is None)
        updated = await client.put(f"{API}/users/{user.id}", json={"tags": ["paused"]})
        assert updated.status_code == 200 and updated.json()["is_suspended"] is True
        assert updated.json()["tags"] == ["paused"]
        enrolled = await client.post(f"{API}/users/{user.id}/enrollment", json=enrollment(slug))
        assert enrolled.status_code == 200
        assert school.enrollment(user.id, slug) is not None


# --- credentials, counts, the rate limit, faults ----------------------------------------------


def every_write(school: School) -> list[tuple[str, str, dict[str, Any] | None]]:
    """One call of each write: (method, path below /v2, JSON body)."""
    learner = idle_learner(school)
    return [
        ("POST", "/users", {"email": "w@example.org", "username": "Writer"}),
        ("PUT", f"/users/{learner.id}", {"tags": ["written"]}),
        ("POST", f"/users/{learner.id}/enrollment", enrollment("gdpr-fundamentals")),
        (
            "DELETE",
            f"/users/{learner.id}/enrollment",
            {"productId": "gdpr-fundamentals", "productType": "course"},
        ),
        ("PUT", f"/users/{learner.id}/suspend", None),
        ("PUT", f"/users/{learner.id}/unsuspend", None),
    ]


@pytest.mark.unit
async def test_writes_need_lw_client_and_a_valid_bearer_token() -> None:
    async with simulator() as (school, client):
        before = school.snapshot()
        for method, path, body in every_write(school):
            for headers, status, context in (
                ({"Lw-Client": "", "Authorization": f"Bearer {STATIC}"}, 401, "client_id"),
                ({"Lw-Client": "someone-else"}, 401, "client_id"),
                ({"Authorization": ""}, 401, "access_denied"),
                ({"Authorization": "Bearer not-a-token"}, 401, "access_denied"),
            ):
                response = await client.request(
                    method, API + path, json=body, headers={**auth(), **headers}
                )
                assert response.status_code == status, (method, path, headers)
                assert response.json()["success"] is False
                assert response.json()["errors"][0]["context"] == context
                if context == "access_denied":
                    assert response.json() == DENIED
        assert school.snapshot() == before


@pytest.mark.unit
async def test_writes_are_counted_under_their_method_and_template() -> None:
    async with simulator() as (school, client):
        for method, path, body in every_write(school):
            response = await client.request(method, API + path, json=body)
            assert response.status_code < 300, (method, path, response.text)
        learner = idle_learner(school)
        await client.get(f"{API}/users/{learner.id}")  # the read keeps its plain name
        await client.get(f"{API}/users/{learner.id}/enrollment")  # no such read: 405
        await client.delete(f"{API}/courses")  # no such write: 405
        await client.post(f"{API}/users/{learner.id}/enrollment")  # refused calls count too
        stats = (await client.get("/_simulator/stats")).json()
    assert stats == {
        "total": 10,
        "byEndpoint": {
            "DELETE courses": 1,
            "DELETE users/{id}/enrollment": 1,
            "POST users": 1,
            "POST users/{id}/enrollment": 2,
            "PUT users/{id}": 1,
            "PUT users/{id}/suspend": 1,
            "PUT users/{id}/unsuspend": 1,
            "users/{id}": 1,
            "users/{id}/enrollment": 1,
        },
    }


@pytest.mark.unit
async def test_a_method_an_endpoint_does_not_serve_is_405() -> None:
    async with simulator() as (school, client):
        learner = idle_learner(school)
        for method, path in (
            ("GET", f"/users/{learner.id}/enrollment"),
            ("GET", f"/users/{learner.id}/suspend"),
            ("DELETE", "/courses"),
            ("PATCH", f"/users/{learner.id}"),
            ("POST", f"/users/{learner.id}"),
        ):
            response = await client.request(method, API + path)
            assert response.status_code == 405, (method, path)
            assert response.json() == {"error": "Method Not Allowed"}
        unknown = await client.post(f"{API}/enrollments", json={})
        assert unknown.status_code == 404 and unknown.json() == NOT_FOUND


@pytest.mark.unit
async def test_writes_spend_the_rate_limit_and_a_refused_write_changes_nothing() -> None:
    config = LearnWorldsConfig(rate_limit=3, rate_window=60)
    async with simulator(config) as (school, client):
        learner = idle_learner(school)
        url = f"{API}/users/{learner.id}/enrollment"
        statuses = [
            (await client.post(url, json=enrollment(slug))).status_code
            for slug in ("gdpr-fundamentals", "intro-to-statistics", "python-for-analysts")
        ]
        refused = await client.post(url, json=enrollment("customer-onboarding-essentials"))
        read = await client.get(f"{API}/users/{learner.id}/courses")
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429 and refused.json() == TOO_MANY
    assert read.status_code == 429  # reads and writes share the window
    assert school.enrollment(learner.id, "customer-onboarding-essentials") is None
    assert len(school.user_enrollments(learner.id)) == 3


@pytest.mark.unit
async def test_a_fault_on_a_write_answers_in_its_place_and_changes_nothing() -> None:
    async with simulator() as (school, client):
        learner = idle_learner(school)
        rules = [
            {"kind": "error", "endpoint": "POST users/{id}/enrollment", "status": 503, "times": 1},
            {"kind": "rate_limited", "endpoint": "post users", "retry_after": 2, "times": 1},
            {"kind": "error", "endpoint": "users/{id}", "status": 500},  # reads only
        ]
        assert (await client.put("/_simulator/faults", json={"faults": rules})).status_code == 200
        url = f"{API}/users/{learner.id}/enrollment"
        failed = await client.post(url, json=enrollment("gdpr-fundamentals"))
        assert failed.status_code == 503 and failed.json() == {"error": "Server Error"}
        assert school.enrollment(learner.id, "gdpr-fundamentals") is None
        retried = await client.post(url, json=enrollment("gdpr-fundamentals"))
        assert retried.status_code == 200
        assert school.enrollment(learner.id, "gdpr-fundamentals") is not None

        count = len(school.users)
        limited = await client.post(
            f"{API}/users", json={"email": "f@example.org", "username": "F"}
        )
        assert limited.status_code == 429 and limited.json() == TOO_MANY
        assert limited.headers["retry-after"] == "2" and len(school.users) == count
        created = await client.post(
            f"{API}/users", json={"email": "f@example.org", "username": "F"}
        )
        assert created.status_code == 201

        # A rule on the read leaves the write on the same path alone, and the other way round.
        assert (await client.get(f"{API}/users/{learner.id}")).status_code == 500
        updated = await client.put(f"{API}/users/{learner.id}", json={"tags": ["ok"]})
        assert updated.status_code == 200 and updated.json()["tags"] == ["ok"]
        left = (await client.get("/_simulator/faults")).json()["faults"]
        assert [rule["times"] for rule in left] == [0, 0, None]


@pytest.mark.unit
async def test_an_expired_token_fault_on_a_write_refuses_it() -> None:
    async with simulator() as (school, client):
        learner = idle_learner(school)
        rule = {"kind": "expired_token", "endpoint": "PUT users/{id}/suspend", "times": 1}
        await client.put("/_simulator/faults", json={"faults": [rule]})
        token = (
            await client.post(
                "/admin/api/oauth2/access_token",
                json={
                    "client_id": CLIENT,
                    "client_secret": CONFIG.client_secret,
                    "grant_type": "client_credentials",
                },
            )
        ).json()["tokenData"]["access_token"]
        refused = await client.put(f"{API}/users/{learner.id}/suspend", headers=auth(token))
        assert refused.status_code == 401 and refused.json() == DENIED
        assert learner.suspended is False


# --- concurrency and persistence --------------------------------------------------------------


@pytest.mark.unit
async def test_racing_writes_apply_once() -> None:
    async with simulator() as (school, client):
        learner = idle_learner(school)
        count = len(school.users)
        url = f"{API}/users/{learner.id}/enrollment"
        enrolls = await asyncio.gather(
            *(client.post(url, json=enrollment("gdpr-fundamentals")) for _ in range(12))
        )
        creates = await asyncio.gather(
            *(
                client.post(f"{API}/users", json={"email": "race@example.org", "username": f"R{i}"})
                for i in range(12)
            )
        )
    assert sorted(r.status_code for r in enrolls) == [200] + [400] * 11
    assert sorted(r.status_code for r in creates) == [201] + [400] * 11
    assert {r.json()["error"] for r in creates if r.status_code == 400} == {MSG_EMAIL_TAKEN}
    assert len(school.users) == count + 1
    assert [e.course_id for e in school.user_enrollments(learner.id)] == ["gdpr-fundamentals"]


@pytest.mark.unit
async def test_apps_keep_their_own_writes_and_the_generated_school_stays_the_same() -> None:
    async with simulator() as (school_a, a), simulator() as (school_b, b):
        pristine = school_b.snapshot()
        user = {"email": "same@example.org", "username": "Same Person"}
        first_a = (await a.post(f"{API}/users", json=user)).json()
        learner = idle_learner(school_a)
        await a.post(f"{API}/users/{learner.id}/enrollment", json=enrollment("gdpr-fundamentals"))
        assert school_a.snapshot() != pristine
        assert school_b.snapshot() == pristine  # the other app saw nothing
        assert (await b.get(f"{API}/users/{learner.id}/progress")).status_code == 404
        # The same write at the same time on the same seed gives the same user, id included.
        first_b = (await b.post(f"{API}/users", json=user)).json()
        assert first_b == first_a
        second_b = (
            await b.post(
                f"{API}/users", json={**user, "email": "o@example.org", "username": "Other"}
            )
        ).json()
        assert HEX.match(second_b["id"]) and second_b["id"] != first_b["id"]


# --- over real HTTP ---------------------------------------------------------------------------


@pytest.mark.http
def test_writes_over_real_http_persist_and_race_safely() -> None:
    app = create_learnworlds_app(CONFIG)
    school: School = app.state.school
    with serve_over_http(app) as base_url:

        def client() -> httpx.Client:
            return httpx.Client(base_url=base_url + API, headers=auth(), timeout=10)

        with client() as http:
            body = {"email": "http@example.org", "username": "Over Http"}
            created = http.post("/users", json=body)
            assert created.status_code == 201
            user_id = created.json()["id"]
            assert http.get("/users").json()["data"][0]["id"] == user_id

        url = f"/users/{user_id}/enrollment"
        barrier = threading.Barrier(8)

        def enroll(_: int) -> int:
            with client() as http:
                barrier.wait(timeout=10)
                return http.post(url, json=enrollment("intro-to-statistics")).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = sorted(pool.map(enroll, range(8)))
        assert statuses == [200] + [400] * 7

        with client() as http:
            progress = http.get(f"/users/{user_id}/courses/intro-to-statistics/progress")
            assert progress.json()["status"] == "not_started"
            assert progress.json()["progress_rate"] == 0
            gone = {"productId": "intro-to-statistics", "productType": "course"}
            removed = http.request("DELETE", url, json=gone)  # a JSON body on DELETE
            assert removed.status_code == 204 and removed.content == b""
            assert http.get(f"/users/{user_id}/courses").json()["data"] == []
            suspended = http.put(f"/users/{user_id}/suspend")
            assert suspended.status_code == 200 and suspended.json()["is_suspended"] is True
            assert http.get(f"/users/{user_id}").status_code == 404
    stats = app.state.stats.by_endpoint
    assert stats["POST users"] == 1 and stats["POST users/{id}/enrollment"] == 8
    assert stats["DELETE users/{id}/enrollment"] == 1 and stats["PUT users/{id}/suspend"] == 1
    assert school.enrollment(user_id, "intro-to-statistics") is None
    assert len(school.users) == CONFIG.users + 1
