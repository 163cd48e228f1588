"""The demo's LearnWorlds school (``X-LMS-Account: learnworlds``) through the whole gateway:
every operation in queries/ with exact call counts, one gateway serving both accounts, ids and
cursors that stay in their account, failures, and the users and courses filters LearnWorlds
applies itself.

Expected values come from the school the demo generates
(``generate_school(demo_learnworlds_config(settings))``, rendered as the API renders it), so
each test states how many LearnWorlds API v2 calls its operation needs at the least, and why.
A gateway takes one token (``oauth2/access_token``) for its lifetime, counted like any call.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.config import DEMO_LEARNWORLDS_ACCOUNT, Settings
from gateway.runtime import demo_learnworlds_config, demo_simulator_config
from gateway.simulator import School, generate_portal, generate_school
from gateway.simulator.learnworlds.data import Course, Enrollment, User
from gateway.tenancy.accounts import DEFAULT_ACCOUNT_ID
from tests.support import (
    QUERIES,
    counted,
    gateway_client,
    gid,
    merge_parts,
    multipart_parts,
    query_text,
    replaced,
    simulator_stats,
    without_typenames,
)

pytestmark = pytest.mark.unit

ACCOUNT = DEMO_LEARNWORLDS_ACCOUNT  # "learnworlds"
TOKEN = "oauth2/access_token"
# What Apollo Client sends for an operation with @defer (answered in parts).
IN_PARTS = "multipart/mixed;deferSpec=20220824,application/json"
# A progress row's status → the GraphQL enum (docs/learnworlds-mapping.md); an unfinished
# enrollment whose access period has ended is EXPIRED instead.
STATUS = {"not_started": "ENROLLED", "not_completed": "IN_PROGRESS", "completed": "COMPLETED"}
ROLE = {"admin": "ADMIN", "instructor": "INSTRUCTOR", "user": "LEARNER", "reporter": "OTHER"}
# Every operation of queries/ has its test below (test_every_example_operation_is_covered).
COVERED = {
    "learner_dashboard",
    "learner_dashboard_fragments",
    "learner_dashboard_deferred",
    "learner_transcript",
    "course_outline",
    "catalog_page",
    "enrollment_detail",
    "course_roster",
    "course_attention_needed",
    "users_updated_since",
}


# --- helpers ------------------------------------------------------------------------------


@dataclass
class Answer:
    data: Any
    errors: list[dict[str, Any]]
    upstream: dict[str, Any]  # extensions.upstream without the quota
    cost: dict[str, Any]

    @property
    def calls(self) -> dict[str, int]:
        return dict(self.upstream["byEndpoint"])


class RecordRequests:
    """ASGI middleware for the school: every request's path and query, in order."""

    def __init__(self, app: ASGIApp, seen: list[tuple[str, str]]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append((scope["path"], scope["query_string"].decode()))
        await self.app(scope, receive, send)


class Gateway:
    """A demo gateway in process, its two simulators, and what each operation cost."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.requests: list[tuple[str, str]] = []

    @property
    def school_app(self) -> Starlette:
        app: Starlette = self.client.app.state.runtime.learnworlds_simulator  # type: ignore[attr-defined]
        return app

    def school_calls(self) -> Counter[str]:
        return Counter(self.school_app.state.stats.by_endpoint)

    def portal_calls(self) -> Counter[str]:
        return Counter(simulator_stats(self.client))

    def record_requests(self) -> None:
        """From now on, ``requests`` lists the school's requests, path and query string
        (only before its first request: a started app takes no middleware)."""
        self.school_app.add_middleware(RecordRequests, seen=self.requests)

    async def run(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        account: str = ACCOUNT,
        accept: str | None = None,
    ) -> Answer:
        """One operation; its ``byEndpoint`` must be what the account's simulator counted
        meanwhile, and the other account's simulator must not have been called."""
        school, portal = self.school_calls(), self.portal_calls()
        headers = {} if account == DEFAULT_ACCOUNT_ID else {"X-LMS-Account": account}
        if accept:
            headers["accept"] = accept
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        content_type = response.headers["content-type"]
        if content_type.startswith("multipart/mixed"):
            parts = list(multipart_parts(content_type, [response.content]))
            data, errors = merge_parts(parts)
            extensions = parts[-1]["extensions"]  # the totals come with the last part
        else:
            body = response.json()
            data, errors, extensions = body.get("data"), body.get("errors", []), body["extensions"]
        upstream = counted(extensions["upstream"])
        school_made = self.school_calls() - school
        portal_made = self.portal_calls() - portal
        if account == ACCOUNT:
            assert upstream["byEndpoint"] == dict(school_made)
            assert not portal_made
        else:
            assert upstream["byEndpoint"] == dict(portal_made)
            assert not school_made
        assert upstream["calls"] == sum(upstream["byEndpoint"].values())
        return Answer(data, errors, upstream, extensions["cost"])

    async def admin(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """The school's ``/_simulator`` admin interface."""
        transport = httpx.ASGITransport(app=self.school_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://school") as http:
            response = await http.request(method, f"/_simulator/{path}", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())


@asynccontextmanager
async def demo_gateway(settings: Settings) -> AsyncIterator[Gateway]:
    async with gateway_client(settings) as client:
        yield Gateway(client)


async def run_once(
    settings: Settings, name: str, variables: dict[str, Any] | None = None, **options: Any
) -> Answer:
    """``queries/{name}.graphql`` on the school, on a fresh gateway: it must succeed, with
    nothing from a cache, no retry, and an estimate that bounds what it cost."""
    async with demo_gateway(settings) as gateway:
        answer = await gateway.run(query_text(name), variables, **options)
    assert not answer.errors, answer.errors
    assert answer.upstream["cacheHits"] == 0 and answer.upstream["retries"] == 0
    assert answer.cost["actualCalls"] == answer.upstream["calls"]
    assert answer.cost["estimatedCalls"] >= answer.cost["actualCalls"], answer.cost
    return answer


@pytest.fixture
def school(demo_settings: Settings) -> School:
    """The demo school's data, as the embedded simulator generates it."""
    return generate_school(demo_learnworlds_config(demo_settings))


def name_of(user: User) -> str:
    """A user's name: first and last name, blanks left out; the username without either."""
    return " ".join(part for part in (user.first_name, user.last_name) if part) or user.username


def iso(seconds: float) -> str:
    """Whole Unix seconds as the gateway writes a DateTime."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def progress_of(school: School, enrollment: Enrollment) -> dict[str, Any]:
    """The enrollment's row of ``GET /v2/users/{id}/progress``."""
    return school.render_progress(enrollment, with_course_id=True)


def expected_status(school: School, enrollment: Enrollment, now: float) -> str:
    status = STATUS[progress_of(school, enrollment)["status"]]
    if enrollment.expires is not None and enrollment.expires < now and status != "COMPLETED":
        return "EXPIRED"
    return status


def assert_progress(node: dict[str, Any], school: School, enrollment: Enrollment) -> None:
    """The progress fields an enrollment node selected, against its progress row."""
    progress = progress_of(school, enrollment)
    if "progressPercent" in node:
        assert node["progressPercent"] == float(progress["progress_rate"])
    if "completedAt" in node:
        done = progress["completed_at"]
        assert node["completedAt"] == (iso(done) if done is not None else None)
    if "timeSpentSeconds" in node:
        assert node["timeSpentSeconds"] == progress["time_on_course"]
    if "enrolledAt" in node:
        assert node["enrolledAt"] == iso(enrollment.created)


def assert_outline(items: list[dict[str, Any]], course: Course) -> None:
    """Sections are the top-level items and their units the children, in course order;
    positions count sections and units together from 0; ids are ``{slug}:{itemId}``."""
    assert len(items) == len(course.sections)
    position = 0
    for item, section in zip(items, course.sections, strict=True):
        assert item["id"] == gid("CourseItem", f"{course.id}:{section.id}", ACCOUNT)
        assert (item["title"], item["type"], item["position"]) == (
            section.title,
            "section",
            position,
        )
        assert [(c["id"], c["title"]) for c in item["children"]] == [
            (gid("CourseItem", f"{course.id}:{unit.id}", ACCOUNT), unit.title)
            for unit in section.units
        ]
        for offset, child in enumerate(item["children"], start=1):
            if "position" in child:
                assert child["position"] == position + offset
            if "parent" in child:
                assert without_typenames(child["parent"]) == {
                    "id": item["id"],
                    "title": section.title,
                }
        position += 1 + len(section.units)


def learner_with(school: School, wanted: Callable[[User, list[Enrollment]], bool]) -> User:
    """The first user, in the school's order, whose enrollments satisfy ``wanted``."""
    return next(u for u in school.users if wanted(u, school.user_enrollments(u.id)))


def shape(value: Any) -> dict[tuple[str, ...], set[str]]:
    """Every path of a GraphQL result (list positions dropped), with the ``__typename``s
    found at the paths that hold objects."""
    paths: dict[tuple[str, ...], set[str]] = {}

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            paths.setdefault(path, set()).add(str(node.get("__typename")))
            for key, item in node.items():
                walk(item, (*path, key))
        elif isinstance(node, list):
            for item in node:
                walk(item, (*path, "[]"))
        else:
            paths.setdefault(path, set())

    walk(value, ())
    return paths


def test_every_example_operation_is_covered():
    assert {path.stem for path in QUERIES.glob("*.graphql")} == COVERED


async def test_the_demo_school_is_the_generated_one(demo_settings: Settings, school: School):
    async with demo_gateway(demo_settings) as gateway:
        assert gateway.school_app.state.school.snapshot() == school.snapshot()


# --- every operation of queries/ ----------------------------------------------------------


async def test_learner_dashboard_uses_the_fewest_calls_the_api_allows(
    demo_settings: Settings, school: School
):
    now = time.time()
    answer = await run_once(demo_settings, "learner_dashboard")
    first_five = school.users[:5]  # the list's order: newest first, suspended users too
    enrolled = [u for u in first_five if school.user_enrollments(u.id)]
    courses = {e.course_id for u in first_five for e in school.user_enrollments(u.id)}
    # Minimum for LearnWorlds v2:
    #   1 × /users (200 a page): names, e-mails and roles of the first five, and a sixth row
    #       that says whether a next page exists;
    #   5 × /users/{id}/courses: a User object names no course; each row embeds its whole
    #       course, so the titles need no /courses/{slug};
    #   E × /users/{id}/progress: statuses, progress and completion dates of all of a user's
    #       courses at once, for each of the E users whose course list is not empty (an
    #       empty list already says there is nothing to ask);
    #   D × /courses/{slug}/contents: the only source of a course's sections and units, once
    #       for each of the D distinct courses;
    #   1 × the token.
    assert answer.calls == {
        TOKEN: 1,
        "users": 1,
        "users/{id}/courses": 5,
        "users/{id}/progress": len(enrolled),
        "courses/{id}/contents": len(courses),
    }
    assert (len(enrolled), len(courses)) == (4, 7)  # the demo school: its owner takes none

    users = answer.data["users"]["nodes"]
    assert [u["id"] for u in users] == [gid("User", u.id, ACCOUNT) for u in first_five]
    assert [u["name"] for u in users] == [name_of(u) for u in first_five]
    assert [u["role"] for u in users] == [ROLE[u.level] for u in first_five]
    assert [without_typenames(u["emails"]) for u in users] == [
        [{"email": u.email}] for u in first_five
    ]
    by_slug = {c.id: c for c in school.courses}
    for node, user in zip(users, first_five, strict=True):
        enrollments = school.user_enrollments(user.id)  # newest first, as /courses lists them
        nodes = node["enrollments"]["nodes"]
        assert [n["id"] for n in nodes] == [
            gid("CourseEnrollment", f"{user.id}:{e.course_id}", ACCOUNT) for e in enrollments
        ]
        assert [n["status"] for n in nodes] == [
            expected_status(school, e, now) for e in enrollments
        ]
        for enrollment_node, enrollment in zip(nodes, enrollments, strict=True):
            assert_progress(enrollment_node, school, enrollment)
            course = by_slug[enrollment.course_id]
            assert enrollment_node["course"]["id"] == gid("Course", course.id, ACCOUNT)
            assert enrollment_node["course"]["title"] == course.title
            assert_outline(enrollment_node["course"]["items"]["nodes"], course)
    statuses = {n["status"] for u in users for n in u["enrollments"]["nodes"]}
    assert {"COMPLETED", "IN_PROGRESS", "EXPIRED"} <= statuses


@pytest.mark.parametrize(
    ("name", "accept"),
    [
        ("learner_dashboard_fragments", None),
        ("learner_dashboard_deferred", None),
        ("learner_dashboard_deferred", IN_PARTS),
    ],
)
async def test_the_dashboard_s_other_forms_are_the_same_data_and_calls(
    demo_settings: Settings, name: str, accept: str | None
):
    dashboard = await run_once(demo_settings, "learner_dashboard")
    other = await run_once(demo_settings, name, accept=accept)
    assert other.data == dashboard.data
    assert other.upstream == dashboard.upstream


async def test_learner_transcript_is_three_calls(demo_settings: Settings, school: School):
    now = time.time()
    # A suspended learner with an expired enrollment: the lookup must ask for suspended users.
    user = learner_with(
        school,
        lambda u, es: u.suspended and any(expected_status(school, e, now) == "EXPIRED" for e in es),
    )
    enrollments = school.user_enrollments(user.id)
    answer = await run_once(demo_settings, "learner_transcript", {"userRemoteId": user.id})
    # /users/{id} for the user's own fields (username, status: no list row is at hand),
    # /users/{id}/courses for the courses, titles and enrollment dates, /users/{id}/progress
    # for every status and progress at once; and the token.
    assert answer.calls == {
        TOKEN: 1,
        "users/{id}": 1,
        "users/{id}/courses": 1,
        "users/{id}/progress": 1,
    }
    data = answer.data["user"]
    assert data["id"] == gid("User", user.id, ACCOUNT)
    assert (data["name"], data["username"], data["status"], data["role"]) == (
        name_of(user),
        user.username,
        "SUSPENDED",
        "LEARNER",
    )
    assert without_typenames(data["emails"]) == [{"email": user.email, "isPrimary": True}]
    nodes = data["enrollments"]["nodes"]
    titles = {c.id: c.title for c in school.courses}
    assert [without_typenames(n["course"]) for n in nodes] == [
        {"id": gid("Course", e.course_id, ACCOUNT), "title": titles[e.course_id]}
        for e in enrollments
    ]
    assert [n["status"] for n in nodes] == [expected_status(school, e, now) for e in enrollments]
    assert "EXPIRED" in [n["status"] for n in nodes]
    for node, enrollment in zip(nodes, enrollments, strict=True):
        assert node["id"] == gid("CourseEnrollment", f"{user.id}:{enrollment.course_id}", ACCOUNT)
        assert_progress(node, school, enrollment)


async def test_course_outline_is_one_call(demo_settings: Settings, school: School):
    course = school.courses[0]
    answer = await run_once(demo_settings, "course_outline", {"courseRemoteId": course.id})
    # /courses/{slug}/contents names the course and holds its sections and units: the
    # course's own record would add nothing the query asks for.
    assert answer.calls == {TOKEN: 1, "courses/{id}/contents": 1}
    data = answer.data["course"]
    assert (data["id"], data["title"]) == (gid("Course", course.id, ACCOUNT), course.title)
    assert_outline(data["items"]["nodes"], course)


async def test_a_course_item_is_one_outline_call(demo_settings: Settings, school: School):
    course = school.courses[-1]
    section = course.sections[-1]
    unit = section.units[-1]
    query = """query($id: ID!) {
      courseItem(remoteId: $id) { id remoteId title parent { id title } course { id title } }
    }"""
    async with demo_gateway(demo_settings) as gateway:
        answer = await gateway.run(query, {"id": f"{course.id}:{unit.id}"})
    assert not answer.errors, answer.errors
    assert answer.calls == {TOKEN: 1, "courses/{id}/contents": 1}
    assert answer.cost["estimatedCalls"] >= answer.cost["actualCalls"]
    assert answer.data["courseItem"] == {
        "id": gid("CourseItem", f"{course.id}:{unit.id}", ACCOUNT),
        "remoteId": f"{course.id}:{unit.id}",
        "title": unit.title,
        "parent": {
            "id": gid("CourseItem", f"{course.id}:{section.id}", ACCOUNT),
            "title": section.title,
        },
        "course": {"id": gid("Course", course.id, ACCOUNT), "title": course.title},
    }


async def test_catalog_page_is_one_call(demo_settings: Settings, school: School):
    answer = await run_once(demo_settings, "catalog_page", {"first": 4})
    # /courses?access=paid&access=free&access=private: LearnWorlds filters the published
    # courses itself; categories are names the courses carry (there is no category call).
    assert answer.calls == {TOKEN: 1, "courses": 1}
    published = sorted(
        school.filter_courses(access=("paid", "free", "private")), key=lambda c: c.title.casefold()
    )
    courses = answer.data["courses"]
    assert courses["totalCount"] == len(published) == 6
    nodes = [edge["node"] for edge in courses["edges"]]
    assert [without_typenames(n) for n in nodes] == [
        {
            "id": gid("Course", c.id, ACCOUNT),
            "remoteId": c.id,
            "title": c.title,
            "code": None,
            "status": "PUBLISHED",
            "level": None,
            "description": c.description,
            "categories": [
                {"id": gid("Category", name, ACCOUNT), "name": name} for name in c.categories
            ],
            "urls": [],
        }
        for c in published[:4]
    ]
    assert courses["pageInfo"] == {
        "__typename": "PageInfo",
        "hasNextPage": True,
        "endCursor": courses["edges"][-1]["cursor"],
    }


async def test_enrollment_detail_is_three_calls(demo_settings: Settings, school: School):
    # An unfinished enrollment in the course with an access period: it has expired.
    enrollment = next(
        e
        for e in school.enrollments
        if e.expires is not None and progress_of(school, e)["status"] == "not_completed"
    )
    user = school.user(enrollment.user_id)
    course = school.course(enrollment.course_id)
    remote_id = f"{user.id}:{course.id}"
    now = time.time()
    answer = await run_once(demo_settings, "enrollment_detail", {"remoteId": remote_id})
    # LearnWorlds has no enrollment record: /users/{id}/courses has its date, expiry and
    # course title, /users/{id}/courses/{slug}/progress its status and progress (one course:
    # as cheap as the user's whole progress), and /users/{id} the learner's name and e-mail.
    assert answer.calls == {
        TOKEN: 1,
        "users/{id}": 1,
        "users/{id}/courses": 1,
        "users/{id}/courses/{course}/progress": 1,
    }
    data = answer.data["courseEnrollment"]
    assert data["id"] == gid("CourseEnrollment", remote_id, ACCOUNT)
    assert data["status"] == expected_status(school, enrollment, now) == "EXPIRED"
    assert_progress(data, school, enrollment)
    assert data["completedAt"] is None and data["urls"] == []
    assert without_typenames(data["user"]) == {
        "id": gid("User", user.id, ACCOUNT),
        "name": name_of(user),
        "emails": [{"email": user.email}],
    }
    assert without_typenames(data["course"]) == {
        "id": gid("Course", course.id, ACCOUNT),
        "title": course.title,
    }


async def test_course_roster_completes_only_the_page_s_members(
    demo_settings: Settings, school: School
):
    course = school.course("gdpr-fundamentals")
    members = school.course_users(course.id)  # newest first, suspended ones too
    first = 5
    now = time.time()
    answer = await run_once(
        demo_settings, "course_roster", {"courseRemoteId": course.id, "first": first}
    )
    # /courses/{slug} for the title, /courses/{slug}/users for the roster (whole Users: names
    # and e-mails), and for each member on the page the enrollment's row (its expiry decides
    # EXPIRED) and its progress in this course: a roster row has neither.
    assert answer.calls == {
        TOKEN: 1,
        "courses/{id}": 1,
        "courses/{id}/users": 1,
        "users/{id}/courses": first,
        "users/{id}/courses/{course}/progress": first,
    }
    assert len(members) > first
    data = answer.data["course"]
    assert (data["id"], data["title"]) == (gid("Course", course.id, ACCOUNT), course.title)
    connection = data["enrollments"]
    assert connection["pageInfo"]["hasNextPage"] is True
    assert connection["pageInfo"]["endCursor"] == connection["edges"][-1]["cursor"]
    nodes = [edge["node"] for edge in connection["edges"]]
    assert [without_typenames(n["user"]) for n in nodes] == [
        {"id": gid("User", u.id, ACCOUNT), "name": name_of(u), "emails": [{"email": u.email}]}
        for u in members[:first]
    ]
    for node, member in zip(nodes, members[:first], strict=True):
        enrollment = school.enrollment(member.id, course.id)
        assert enrollment is not None
        assert node["id"] == gid("CourseEnrollment", f"{member.id}:{course.id}", ACCOUNT)
        assert node["status"] == expected_status(school, enrollment, now)
        assert_progress(node, school, enrollment)


@pytest.mark.slow  # more calls than LearnWorlds's 30 in 10 s: the gateway waits for the pace
async def test_course_attention_needed_reads_every_member_s_status(
    demo_settings: Settings, school: School
):
    course = next(c for c in school.courses if c.expires is not None)  # access for 6 months
    members = school.course_users(course.id)
    now = time.time()
    answer = await run_once(demo_settings, "course_attention_needed", {"courseRemoteId": course.id})
    # The status filter needs every member's status before the page is cut: the course's
    # record (title), its roster, and each member's row (expiry) and course progress.
    # LearnWorlds has no way to ask for the roster's statuses in fewer calls.
    assert answer.calls == {
        TOKEN: 1,
        "courses/{id}": 1,
        "courses/{id}/users": 1,
        "users/{id}/courses": len(members),
        "users/{id}/courses/{course}/progress": len(members),
    }
    assert answer.upstream["calls"] > 30  # paced, not refused: no retry (run_once checks it)
    wanted = []
    for member in members:
        enrollment = school.enrollment(member.id, course.id)
        assert enrollment is not None
        if expected_status(school, enrollment, now) in ("OVERDUE", "EXPIRED", "FAILED"):
            wanted.append((member, enrollment))
    data = answer.data["course"]
    assert data["title"] == course.title
    nodes = data["enrollments"]["nodes"]
    assert data["enrollments"]["totalCount"] == len(nodes) == len(wanted) > 0
    for node, (member, enrollment) in zip(nodes, wanted, strict=True):
        assert node["id"] == gid("CourseEnrollment", f"{member.id}:{course.id}", ACCOUNT)
        assert node["status"] == "EXPIRED"
        assert_progress(node, school, enrollment)
        assert node["user"]["name"] == name_of(member)


async def test_users_updated_since_makes_no_call(demo_settings: Settings):
    answer = await run_once(demo_settings, "users_updated_since", {"since": "2000-01-01T00:00:00Z"})
    # LearnWorlds records no update time for a user: no user can match, and nothing is
    # asked (not even a token).
    assert answer.calls == {}
    assert answer.data["users"]["totalCount"] == 0
    assert answer.data["users"]["edges"] == []
    assert answer.data["users"]["pageInfo"]["hasNextPage"] is False


# --- one gateway, two accounts --------------------------------------------------------------


async def test_one_gateway_answers_the_dashboard_alike_for_both_accounts(
    demo_settings: Settings, school: School
):
    portal = generate_portal(demo_simulator_config(demo_settings))
    query = query_text("learner_dashboard")
    async with demo_gateway(demo_settings) as gateway:
        talentlms = await gateway.run(query, account=DEFAULT_ACCOUNT_ID)
        learnworlds = await gateway.run(query)
        again = await gateway.run(query, account=DEFAULT_ACCOUNT_ID)
    for answer in (talentlms, learnworlds):
        assert not answer.errors, answer.errors
        assert answer.cost["estimatedCalls"] >= answer.cost["actualCalls"]
    # Each account with its own provider's minimum (test_queries.py for TalentLMS's).
    tl_courses = {
        c["id"] for uid in portal.user_ids[:5] for c in portal.user_detail(uid)["courses"]
    }
    assert talentlms.calls == {"users": 1, "users/id": 5, "courses/id": len(tl_courses)}
    first_five = school.users[:5]
    lw_courses = {e.course_id for u in first_five for e in school.user_enrollments(u.id)}
    assert learnworlds.calls == {
        TOKEN: 1,
        "users": 1,
        "users/{id}/courses": 5,
        "users/{id}/progress": sum(1 for u in first_five if school.user_enrollments(u.id)),
        "courses/{id}/contents": len(lw_courses),
    }
    # The same keys, nesting and types on both, and each account's own ids.
    assert shape(learnworlds.data) == shape(talentlms.data)
    assert {u["id"] for u in learnworlds.data["users"]["nodes"]} == {
        gid("User", u.id, ACCOUNT) for u in first_five
    }
    assert {u["id"] for u in talentlms.data["users"]["nodes"]} == {
        gid("User", uid) for uid in portal.user_ids[:5]
    }
    # The other account's operation in between changed nothing of this one's.
    assert again.data == talentlms.data


# --- ids and cursors stay in their account ----------------------------------------------------


async def test_an_id_or_cursor_of_one_account_names_nothing_in_the_other(
    demo_settings: Settings, school: School
):
    user = learner_with(school, lambda u, es: bool(es))
    lookups = """query($user: ID!, $course: ID!) {
      user(id: $user) { name }
      node(id: $course) { id }
      nodes(ids: [$user, $course]) { id }
      courseEnrollments(filter: {userId: $user}) { totalCount nodes { id } }
    }"""
    async with demo_gateway(demo_settings) as gateway:
        # Ids and cursors as each account gave them.
        transcript = await gateway.run(query_text("learner_transcript"), {"userRemoteId": user.id})
        lw_user = transcript.data["user"]["id"]
        lw_course = transcript.data["user"]["enrollments"]["nodes"][0]["course"]["id"]
        lw_catalog = await gateway.run(query_text("catalog_page"), {"first": 2})
        lw_cursor = lw_catalog.data["courses"]["pageInfo"]["endCursor"]
        tl_transcript = await gateway.run(
            query_text("learner_transcript"), account=DEFAULT_ACCOUNT_ID
        )
        tl_user = tl_transcript.data["user"]["id"]
        tl_course = tl_transcript.data["user"]["enrollments"]["nodes"][0]["course"]["id"]
        tl_catalog = await gateway.run(
            query_text("catalog_page"), {"first": 2}, account=DEFAULT_ACCOUNT_ID
        )
        tl_cursor = tl_catalog.data["courses"]["pageInfo"]["endCursor"]
        assert lw_user == gid("User", user.id, ACCOUNT) != gid("User", user.id)

        on_school = await gateway.run(lookups, {"user": tl_user, "course": tl_course})
        on_portal = await gateway.run(
            lookups, {"user": lw_user, "course": lw_course}, account=DEFAULT_ACCOUNT_ID
        )
        for answer in (on_school, on_portal):
            # Another account's record is no record here: nulls and an empty list, no call.
            assert not answer.errors, answer.errors
            assert answer.data == {
                "user": None,
                "node": None,
                "nodes": [None, None],
                "courseEnrollments": {"totalCount": 0, "nodes": []},
            }
            assert answer.calls == {}

        for cursor, account in ((tl_cursor, ACCOUNT), (lw_cursor, DEFAULT_ACCOUNT_ID)):
            refused = await gateway.run(
                query_text("catalog_page"), {"first": 2, "after": cursor}, account=account
            )
            assert [e["extensions"]["code"] for e in refused.errors] == ["BAD_USER_INPUT"]
            assert "another list, filter or account" in refused.errors[0]["message"]
            assert refused.errors[0]["path"] == ["courses"]
            assert refused.data == {"courses": None}
            assert refused.calls == {}

        # Its own account takes the cursor: the next page (the catalog is in the cache).
        page_two = await gateway.run(query_text("catalog_page"), {"first": 2, "after": lw_cursor})
    assert not page_two.errors, page_two.errors
    published = sorted(
        school.filter_courses(access=("paid", "free", "private")), key=lambda c: c.title.casefold()
    )
    assert [e["node"]["remoteId"] for e in page_two.data["courses"]["edges"]] == [
        c.id for c in published[2:4]
    ]
    assert page_two.calls == {} and page_two.upstream["cacheHits"] == 1


# --- failures -------------------------------------------------------------------------------


async def test_a_token_that_expires_mid_operation_is_renewed_once(
    demo_settings: Settings, school: School
):
    user = learner_with(school, lambda u, es: len(es) > 1)
    transcript = query_text("learner_transcript")
    clean = await run_once(demo_settings, "learner_transcript", {"userRemoteId": user.id})
    async with demo_gateway(demo_settings) as gateway:
        # The token dies on the operation's last call, after /users/{id} and /courses
        # used it (the progress call waits for the course rows).
        rule = {"kind": "expired_token", "endpoint": "users/{id}/progress", "times": 1}
        await gateway.admin("PUT", "faults", {"faults": [rule]})
        answer = await gateway.run(transcript, {"userRemoteId": user.id})
        auth = await gateway.admin("GET", "auth", {})
        after = await gateway.run(transcript, {"userRemoteId": user.id})
    assert not answer.errors, answer.errors
    assert answer.data == clean.data
    # One 401, one token call, one retry of the refused call: nothing else twice.
    assert answer.calls == {
        TOKEN: 2,
        "users/{id}": 1,
        "users/{id}/courses": 1,
        "users/{id}/progress": 2,
    }
    assert (auth["issuedTokens"], auth["activeTokens"]) == (2, 1)
    # The new token is kept for the next operation (everything else from the cache).
    assert TOKEN not in after.calls and not after.errors
    assert after.data == clean.data


async def test_calls_refused_together_share_one_token_renewal(
    demo_settings: Settings, school: School
):
    # 50 ms a call: the five learners' course lists are all in flight when the token dies
    # on the first of them, so all five are refused with it.
    settings = replaced(demo_settings, simulator={"latency_ms": 50})
    first_five = school.users[:5]
    async with demo_gateway(settings) as gateway:
        rule = {"kind": "expired_token", "endpoint": "users/{id}/courses", "times": 1}
        await gateway.admin("PUT", "faults", {"faults": [rule]})
        answer = await gateway.run(query_text("learner_dashboard"))
    assert not answer.errors, answer.errors
    assert [u["name"] for u in answer.data["users"]["nodes"]] == [name_of(u) for u in first_five]
    # One renewal for the five refusals, each refused call tried again once.
    assert answer.calls == {
        TOKEN: 2,
        "users": 1,
        "users/{id}/courses": 2 * 5,
        "users/{id}/progress": sum(1 for u in first_five if school.user_enrollments(u.id)),
        "courses/{id}/contents": len(
            {e.course_id for u in first_five for e in school.user_enrollments(u.id)}
        ),
    }


async def test_a_rotated_client_secret_is_a_coded_error_on_the_school_s_fields_only(
    demo_settings: Settings, school: School
):
    first, second = school.courses[0], school.courses[1]
    query = """query($slug: ID!) {
      course(remoteId: $slug) { title items { nodes { title } } }
      users(filter: {updatedAfter: "2020-01-01T00:00:00Z"}) { totalCount }
      archived: courses(filter: {status: [ARCHIVED]}) { totalCount }
    }"""
    async with demo_gateway(demo_settings) as gateway:
        before = await gateway.run(query, {"slug": first.id})
        secret = "rotated-client-secret-fedcba9876543210"
        summary = await gateway.admin("POST", "auth", {"client_secret": secret})
        assert summary["secretRotations"] == 1
        answer = await gateway.run(query, {"slug": second.id})
        portal = await gateway.run(query_text("course_outline"), account=DEFAULT_ACCOUNT_ID)
    assert not before.errors and before.data["course"]["title"] == first.title
    assert [e["extensions"]["code"] for e in answer.errors] == ["UPSTREAM_AUTH_FAILED"]
    (error,) = answer.errors
    assert error["path"] == ["course"]
    original = demo_learnworlds_config(demo_settings).client_secret
    assert secret not in error["message"] and original not in error["message"]
    # What needed no call is answered.
    assert answer.data == {
        "course": None,
        "users": {"totalCount": 0},
        "archived": {"totalCount": 0},
    }
    # The kept token is refused (401), its renewal refused (401 invalid_client): no loop.
    assert answer.calls == {"courses/{id}/contents": 1, TOKEN: 1}
    # The other account is untouched.
    assert not portal.errors and portal.data["course"] is not None


async def test_a_429_burst_is_a_coded_error_on_the_affected_paths_only(
    demo_settings: Settings, school: School
):
    learners = [u for u in school.users if school.user_enrollments(u.id)][:2]
    course = school.courses[0]
    query = """query($a: ID!, $b: ID!, $slug: ID!) {
      a: user(remoteId: $a) { name enrollments { nodes { status course { title } } } }
      b: user(remoteId: $b) { name enrollments { nodes { status course { title } } } }
      course(remoteId: $slug) { title }
    }"""
    variables = {"a": learners[0].id, "b": learners[1].id, "slug": course.id}
    attempts = demo_settings.retry.attempts
    async with demo_gateway(demo_settings) as gateway:
        # A burst of 429s on every progress call: as many as both learners' tries.
        rule = {"kind": "rate_limited", "endpoint": "users/{id}/progress", "times": 2 * attempts}
        await gateway.admin("PUT", "faults", {"faults": [rule]})
        answer = await gateway.run(query, variables)
        faults = await gateway.admin("GET", "faults", {})
        later = await gateway.run(query, variables)
    assert sorted((e["path"], e["extensions"]["code"]) for e in answer.errors) == [
        (["a", "enrollments"], "UPSTREAM_RATE_LIMITED"),
        (["b", "enrollments"], "UPSTREAM_RATE_LIMITED"),
    ]
    assert answer.data == {
        "a": {"name": name_of(learners[0]), "enrollments": None},
        "b": {"name": name_of(learners[1]), "enrollments": None},
        "course": {"title": course.title},
    }
    # Each progress call tried `attempts` times, nothing else retried.
    assert answer.calls == {
        TOKEN: 1,
        "users/{id}": 2,
        "users/{id}/courses": 2,
        "users/{id}/progress": 2 * attempts,
        "courses/{id}": 1,
    }
    assert answer.upstream["retries"] == 2 * (attempts - 1)
    assert faults["faults"][0]["times"] == 0  # the burst is spent
    # The burst is over (and a 429 opens no circuit): the progress calls now succeed.
    assert not later.errors, later.errors
    assert later.calls == {"users/{id}/progress": 2}
    for key, learner in zip("ab", learners, strict=True):
        nodes = later.data[key]["enrollments"]["nodes"]
        assert len(nodes) == len(school.user_enrollments(learner.id))


async def test_an_unknown_course_slug_is_no_course_and_no_enrollment(
    demo_settings: Settings, school: School
):
    user = learner_with(school, lambda u, es: bool(es))
    query = """query($slug: ID!, $enrollment: ID!, $user: ID!) {
      outline: course(remoteId: $slug) { id title items { nodes { id } } }
      record: course(remoteId: $slug) { id title status }
      courseEnrollment(remoteId: $enrollment) { id status }
      user(remoteId: $user) { name }
    }"""
    slug = "no-such-course"
    variables = {"slug": slug, "enrollment": f"{user.id}:{slug}", "user": user.id}
    async with demo_gateway(demo_settings) as gateway:
        answer = await gateway.run(query, variables)
    assert not answer.errors, answer.errors
    assert answer.data == {
        "outline": None,
        "record": None,
        "courseEnrollment": None,
        "user": {"name": name_of(user)},
    }
    # The course's record (404; status is more than its outline names) answers both course
    # fields; the enrollment asks the user's course rows and its progress together (404).
    assert answer.calls == {
        TOKEN: 1,
        "courses/{id}": 1,
        "users/{id}": 1,
        "users/{id}/courses": 1,
        "users/{id}/courses/{course}/progress": 1,
    }


# --- LearnWorlds's own filters ----------------------------------------------------------------

USERS = """query($filter: UserFilter) {
  users(filter: $filter, first: 100) { totalCount nodes { remoteId name status role } }
}"""
LIST = "/admin/api/v2/users"
PAGE = [("page", "1"), ("items_per_page", "200")]
WITH_SUSPENDED = [("include_suspended", "true")]


UserCase = tuple[dict[str, Any], list[tuple[str, list[tuple[str, str]]]], Callable[[User], bool]]


def user_filter_cases(school: School) -> dict[str, UserCase]:
    """By name: (filter, the school's requests after the token's, which users match)."""
    pivot = sorted(school.users, key=lambda u: u.created)[len(school.users) // 2]
    whole, _, fraction = repr(pivot.created).partition(".")
    since = datetime.fromtimestamp(int(whole), UTC).replace(microsecond=int(fraction.ljust(6, "0")))
    someone = school.users[3]
    return {
        "suspended only": (
            {"status": ["SUSPENDED"]},
            [(LIST, [*WITH_SUSPENDED, ("status", "suspended"), *PAGE])],
            lambda u: u.suspended,
        ),
        # Without SUSPENDED, the list's default leaves suspended users out.
        "active": ({"status": ["ACTIVE"]}, [(LIST, PAGE)], lambda u: not u.suspended),
        "active or inactive": (
            {"status": ["ACTIVE", "INACTIVE"]},
            [(LIST, PAGE)],
            lambda u: not u.suspended,
        ),
        "active or suspended": (
            {"status": ["ACTIVE", "SUSPENDED"]},
            [(LIST, [*WITH_SUSPENDED, *PAGE])],
            lambda u: True,
        ),
        "one role": (
            {"role": ["INSTRUCTOR"]},
            [(LIST, [*WITH_SUSPENDED, ("role", "instructor"), *PAGE])],
            lambda u: u.level == "instructor",
        ),
        "role and status": (
            {"role": ["LEARNER"], "status": ["SUSPENDED"]},
            [(LIST, [*WITH_SUSPENDED, ("role", "user"), ("status", "suspended"), *PAGE])],
            lambda u: u.level == "user" and u.suspended,
        ),
        # LearnWorlds takes one role: for two, the gateway filters the whole list.
        "two roles": (
            {"role": ["ADMIN", "INSTRUCTOR"]},
            [(LIST, [*WITH_SUSPENDED, *PAGE])],
            lambda u: u.level in ("admin", "instructor"),
        ),
        # A second wider than asked (LearnWorlds's bound is exclusive), exact afterwards.
        "created after": (
            {"createdAfter": since.isoformat()},
            [
                (
                    LIST,
                    [
                        *WITH_SUSPENDED,
                        ("registration_after", str(math.floor(pivot.created) - 1)),
                        *PAGE,
                    ],
                )
            ],
            lambda u: u.created >= pivot.created,
        ),
        # LearnWorlds records no update time: no call at all (not even the token's).
        "updated after": ({"updatedAfter": "2000-01-01T00:00:00Z"}, [], lambda u: False),
        # The API takes an e-mail address in place of the id: one lookup, any case.
        "e-mail": (
            {"email": someone.email.upper()},
            [(f"{LIST}/{someone.email.upper()}", WITH_SUSPENDED)],
            lambda u: u is someone,
        ),
        "unknown e-mail": (
            {"email": "nobody@example.org"},
            [(f"{LIST}/nobody@example.org", WITH_SUSPENDED)],
            lambda u: False,
        ),
    }


USER_CASES = [
    "suspended only",
    "active",
    "active or inactive",
    "active or suspended",
    "one role",
    "role and status",
    "two roles",
    "created after",
    "updated after",
    "e-mail",
    "unknown e-mail",
]


@pytest.mark.parametrize("case", USER_CASES)
async def test_users_filters_use_learnworlds_s_own(
    demo_settings: Settings, school: School, case: str
):
    cases = user_filter_cases(school)
    assert list(cases) == USER_CASES
    user_filter, requests, matches = cases[case]
    async with demo_gateway(demo_settings) as gateway:
        gateway.record_requests()
        answer = await gateway.run(USERS, {"filter": user_filter})
    assert not answer.errors, answer.errors
    sent = [(path, sorted(parse_qsl(query))) for path, query in gateway.requests]
    expected = [(path, sorted(params)) for path, params in requests]
    assert sent == ([("/admin/api/oauth2/access_token", [])] if requests else []) + expected
    endpoint = "users/{id}" if "email" in user_filter else "users"
    assert answer.calls == ({TOKEN: 1, endpoint: 1} if requests else {})
    assert answer.cost["estimatedCalls"] >= answer.cost["actualCalls"]
    wanted = [u for u in school.users if matches(u)]
    assert wanted or case in ("updated after", "unknown e-mail")
    users = answer.data["users"]
    assert users["totalCount"] == len(users["nodes"]) == len(wanted)
    assert users["nodes"] == [
        {
            "remoteId": u.id,
            "name": name_of(u),
            "status": "SUSPENDED" if u.suspended else "ACTIVE",
            "role": ROLE[u.level],
        }
        for u in wanted
    ]


@pytest.mark.parametrize(
    ("statuses", "access"),
    [
        (["PUBLISHED"], ["free", "paid", "private"]),
        (["DRAFT", "DISABLED"], ["coming_soon", "draft", "enrollment_closed"]),
        (["ARCHIVED"], None),  # LearnWorlds has no archived course: no call
    ],
)
async def test_courses_status_filter_sends_access_values(
    demo_settings: Settings, school: School, statuses: list[str], access: list[str] | None
):
    query = """query($status: [CourseStatus!]) {
      courses(filter: {status: $status}) { totalCount nodes { remoteId status } }
    }"""
    async with demo_gateway(demo_settings) as gateway:
        gateway.record_requests()
        answer = await gateway.run(query, {"status": statuses})
    assert not answer.errors, answer.errors
    if access is None:
        assert answer.calls == {} and gateway.requests == []
        assert answer.data["courses"] == {"totalCount": 0, "nodes": []}
        return
    assert answer.calls == {TOKEN: 1, "courses": 1}
    (_token, (path, sent)) = gateway.requests
    assert path == "/admin/api/v2/courses"
    assert sorted(parse_qsl(sent)) == sorted([*(("access", a) for a in access), *PAGE])
    wanted = school.filter_courses(access=access)
    assert answer.data["courses"]["totalCount"] == len(wanted) > 0
    assert [n["remoteId"] for n in answer.data["courses"]["nodes"]] == [c.id for c in wanted]
    assert {n["status"] for n in answer.data["courses"]["nodes"]} <= set(statuses)


async def test_a_category_named_beside_a_status_filter_costs_no_catalog_call(
    demo_settings: Settings, school: School
):
    query = """{
      courses(filter: {status: [PUBLISHED], category: "DATA"}) {
        totalCount nodes { remoteId categories { id name } }
      }
    }"""
    async with demo_gateway(demo_settings) as gateway:
        answer = await gateway.run(query)
    assert not answer.errors, answer.errors
    # The status is LearnWorlds's access filter: one /courses call. A category's id is its
    # name, and the courses that call read carry theirs: reading the whole catalog again to
    # name them would add a call (one the estimate does not count either).
    assert answer.calls == {TOKEN: 1, "courses": 1}
    assert answer.cost["estimatedCalls"] >= answer.cost["actualCalls"]
    wanted = [
        c
        for c in school.filter_courses(access=("paid", "free", "private"))
        if "data" in c.categories
    ]
    nodes = answer.data["courses"]["nodes"]
    assert answer.data["courses"]["totalCount"] == len(nodes) == len(wanted) > 0
    assert [n["remoteId"] for n in nodes] == [c.id for c in wanted]
    assert [n["categories"] for n in nodes] == [
        [{"id": gid("Category", name, ACCOUNT), "name": name} for name in c.categories]
        for c in wanted
    ]


# --- groups -------------------------------------------------------------------------------

GROUPS = """
query Groups {
  groups(first: 10) {
    nodes {
      remoteId name description
      members(first: 50) { nodes { remoteId name emails { email } } }
      courses(first: 20) { nodes { remoteId title } }
    }
  }
}
"""

USER_GROUPS = """
query UserGroups($id: ID!) {
  user(remoteId: $id) { name groups { remoteId name description } }
}
"""


async def test_groups_with_members_and_courses_use_the_group_calls_only(
    demo_settings: Settings, school: School
):
    async with demo_gateway(demo_settings) as gateway:
        answer = await gateway.run(GROUPS)
    assert not answer.errors, answer.errors
    groups = school.groups
    with_members = [g for g in groups if school.group_members(g.id)]
    # /user_groups lists every group with its course slugs; each group's members are one
    # /user_groups/{id}/users call (whole Users: their names cost nothing more); the courses'
    # titles one /courses/{slug} per distinct course, as no catalog was read.
    slugs = {slug for g in groups for slug in g.course_ids}
    assert answer.calls == {
        TOKEN: 1,
        "user_groups": 1,
        "user_groups/{id}/users": len(groups),
        **({"courses/{id}": len(slugs)} if slugs else {}),
    }
    assert answer.cost["estimatedCalls"] >= answer.cost["actualCalls"]
    assert with_members, "the demo school has groups with members"
    nodes = answer.data["groups"]["nodes"]
    assert [n["remoteId"] for n in nodes] == [g.id for g in groups]
    for node, group in zip(nodes, groups, strict=True):
        assert (node["name"], node["description"]) == (group.title, group.description)
        members = school.group_members(group.id)
        assert [m["remoteId"] for m in node["members"]["nodes"]] == [u.id for u in members]
        assert [m["name"] for m in node["members"]["nodes"]] == [name_of(u) for u in members]
        titles = {c.id: c.title for c in school.courses}
        assert [(c["remoteId"], c["title"]) for c in node["courses"]["nodes"]] == [
            (slug, titles[slug]) for slug in group.course_ids
        ]


async def test_a_user_s_groups_are_one_call_and_their_descriptions_one_list(
    demo_settings: Settings, school: School
):
    member = next(u for u in school.users if school.user_groups(u.id))
    async with demo_gateway(demo_settings) as gateway:
        answer = await gateway.run(USER_GROUPS, {"id": member.id})
    assert not answer.errors, answer.errors
    # The user, their /user-groups (ids and titles), and the group list once for the
    # descriptions: never one call per group.
    assert answer.calls == {
        TOKEN: 1,
        "users/{id}": 1,
        "users/{id}/user-groups": 1,
        "user_groups": 1,
    }
    assert answer.cost["estimatedCalls"] >= answer.cost["actualCalls"]
    assert answer.data["user"]["groups"] == [
        {"remoteId": g.id, "name": g.title, "description": g.description}
        for g in school.user_groups(member.id)
    ]
