"""Mutations: enroll and unenroll, safe to retry. Over real HTTP where a client's retry is
the point (the gateway and the TalentLMS simulator each under uvicorn), in process elsewhere.
Every test counts the writes the simulator received: a write must happen once."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.app import create_app
from gateway.config import Settings
from gateway.simulator import SimulatorConfig, create_simulator_app, generate_portal
from gateway.tenancy.authorization import hash_key
from schema.types.node import decode_global_id
from tests.support import (
    ROOT,
    Captured,
    codes,
    gateway_client,
    gid,
    replaced,
    serve_over_http,
    talentlms_over_http,
)

pytestmark = pytest.mark.http

PORTAL = generate_portal()
WRITER, READER = "writer-key-0123456789", "reader-key-0123456789"
ENROLL = """
mutation Enroll($user: ID!, $course: ID!, $role: EnrollmentRole = LEARNER) {
  enrollUser(input: {userId: $user, courseId: $course, role: $role, clientMutationId: "m1"}) {
    clientMutationId
    enrollment { id status progressPercent course { remoteId title } user { remoteId } }
    userErrors { code field message }
  }
}
"""
UNENROLL = """
mutation Unenroll($user: ID!, $course: ID!) {
  unenrollUser(input: {userId: $user, courseId: $course}) {
    unenrolledEnrollmentId
    userErrors { code field message }
  }
}
"""
ENROLLMENTS = """
query Enrollments($user: ID!) {
  user(id: $user) { enrollments { nodes { course { remoteId } status } } }
}
"""


def not_enrolled(user_id: str) -> str:
    """A course the demo portal's user is not enrolled in."""
    enrolled = {entry["id"] for entry in PORTAL.user_detail(user_id)["courses"]}
    return next(c for c in PORTAL.course_ids if c not in enrolled)


def ids(user: str, course: str) -> dict[str, str]:
    return {"user": gid("User", user), "course": gid("Course", course)}


def keyed(tmp_path: Path, simulator_url: str, **overrides: Any) -> Settings:
    """A real portal (not demo mode) behind two gateway keys: one may write, one only read."""
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        f'[[api_keys]]\nname = "writer"\nsha256 = "{hash_key(WRITER)}"\naccounts = ["*"]\n'
        'scopes = ["read", "write"]\n\n'
        f'[[api_keys]]\nname = "reader"\nsha256 = "{hash_key(READER)}"\naccounts = ["*"]\n',
        encoding="utf-8",
    )
    portal = {"base_url": f"{simulator_url}/api/v1", "api_key": SimulatorConfig().api_key}
    settings = Settings(upstream=portal, tenancy={"accounts_file": accounts})
    return replaced(settings, **overrides) if overrides else settings


def bearer(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


# --- the whole story, over real HTTP ----------------------------------------------


def test_enroll_is_seen_at_once_and_a_retry_with_its_key_writes_nothing(tmp_path: Path):
    user = "8"
    course = not_enrolled(user)
    variables = ids(user, course)
    with (
        talentlms_over_http() as (url, calls),
        serve_over_http(create_app(keyed(tmp_path, url))) as base,
        httpx.Client(base_url=base, headers=bearer(WRITER)) as http,
    ):
        before = http.post("/graphql", json={"query": ENROLLMENTS, "variables": variables})
        first = http.post(
            "/graphql",
            json={"query": ENROLL, "variables": variables},
            headers={"Idempotency-Key": "enroll-8-once"},
        )
        after = http.post("/graphql", json={"query": ENROLLMENTS, "variables": variables})
        again = http.post(
            "/graphql",
            json={"query": ENROLL, "variables": variables},
            headers={"Idempotency-Key": "enroll-8-once"},
        )
        writes_after_replay = calls().get("addusertocourse", 0)
        without_key = http.post("/graphql", json={"query": ENROLL, "variables": variables})

    cached = [
        n["course"]["remoteId"] for n in before.json()["data"]["user"]["enrollments"]["nodes"]
    ]
    assert course not in cached
    payload = first.json()["data"]["enrollUser"]
    assert payload["userErrors"] == [] and payload["clientMutationId"] == "m1"
    assert payload["enrollment"]["id"] == gid("CourseEnrollment", f"{user}:{course}")
    assert payload["enrollment"]["status"] == "ENROLLED"
    assert payload["enrollment"]["course"]["remoteId"] == course
    # The next query shows the enrollment: the cached user record was dropped by the write.
    nodes = after.json()["data"]["user"]["enrollments"]["nodes"]
    assert {"course": {"remoteId": course}, "status": "ENROLLED"} in nodes
    # The same key again: the first answer, byte for byte, and no second write.
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert writes_after_replay == 1
    # Without a key, the gateway writes again and TalentLMS refuses: a userError, as data.
    assert without_key.status_code == 200
    assert without_key.json()["data"]["enrollUser"] == {
        "clientMutationId": "m1",
        "enrollment": None,
        "userErrors": [
            {
                "code": "ALREADY_ENROLLED",
                "field": None,
                "message": "The requested user is already enrolled in this course",
            }
        ],
    }


def test_a_mutation_under_a_dropped_connection_is_answered_to_its_retry(tmp_path: Path):
    user = "9"
    course = not_enrolled(user)
    payload = {"query": ENROLL, "variables": ids(user, course)}
    key = "dropped-connection-1"
    # Each portal call takes 300 ms: the client is gone long before the write is made.
    with (
        talentlms_over_http(latency_ms=300) as (url, calls),
        serve_over_http(create_app(keyed(tmp_path, url))) as base,
    ):
        address = urlsplit(base)
        body = json.dumps(payload).encode()
        connection = socket.create_connection((address.hostname, address.port))
        connection.sendall(
            (
                f"POST /graphql HTTP/1.1\r\nHost: {address.netloc}\r\n"
                f"Authorization: Bearer {WRITER}\r\nIdempotency-Key: {key}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body
        )
        connection.close()  # the client's connection drops: it never sees an answer
        deadline = time.monotonic() + 20
        while calls().get("users/id", 0) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)  # the write, then its read back, reached the portal
        with httpx.Client(base_url=base, headers=bearer(WRITER), timeout=30) as http:
            retry = http.post("/graphql", json=payload, headers={"Idempotency-Key": key})
        made = calls()
    assert made.get("addusertocourse") == 1
    assert retry.headers["idempotent-replayed"] == "true"
    enrollment = retry.json()["data"]["enrollUser"]["enrollment"]
    assert enrollment["id"] == gid("CourseEnrollment", f"{user}:{course}")


# --- who may write ---------------------------------------------------------------------------


async def test_a_read_only_key_is_forbidden_before_any_call(tmp_path: Path):
    simulator = create_simulator_app(SimulatorConfig())
    settings = keyed(tmp_path, "http://upstream.test")
    upstream = httpx.ASGITransport(app=simulator)
    variables = ids("8", not_enrolled("8"))
    async with gateway_client(settings, upstream) as client:
        response = await client.post(
            "/graphql", json={"query": ENROLL, "variables": variables}, headers=bearer(READER)
        )
        readable = await client.post(
            "/graphql",
            json={"query": ENROLLMENTS, "variables": variables},
            headers=bearer(READER),
        )
    body = response.json()
    assert codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["path"] == ["enrollUser"] and body["data"] is None
    assert body["extensions"]["upstream"]["calls"] == 0
    assert "errors" not in readable.json()  # the same key reads


async def test_without_keys_a_real_portal_is_read_only_and_the_demo_writable(tmp_path: Path):
    simulator = create_simulator_app(SimulatorConfig())
    portal_settings = Settings(
        upstream={"base_url": "http://upstream.test/api/v1", "api_key": SimulatorConfig().api_key}
    )
    variables = ids("8", not_enrolled("8"))
    query = {"query": ENROLL, "variables": variables}
    async with gateway_client(portal_settings, httpx.ASGITransport(app=simulator)) as client:
        anonymous = (await client.post("/graphql", json=query)).json()
    async with gateway_client(Settings()) as demo:
        enrolled = (await demo.post("/graphql", json=query)).json()
    assert codes(anonymous) == ["FORBIDDEN"]
    assert enrolled["data"]["enrollUser"]["userErrors"] == []


def test_api_key_scopes_are_checked_in_the_accounts_file(tmp_path: Path):
    from gateway.errors import AccountsError
    from gateway.tenancy.accounts import load_tenancy

    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        f'[[api_keys]]\nname = "k"\nsha256 = "{hash_key(WRITER)}"\naccounts = ["*"]\n'
        'scopes = ["read", "admin"]\n',
        encoding="utf-8",
    )
    portal_settings = Settings(upstream={"domain": "acme.talentlms.com", "api_key": "x" * 30})
    with pytest.raises(AccountsError, match="scopes must be a non-empty list of"):
        load_tenancy(portal_settings, {}, accounts_file=accounts)


# --- expected failures are data; limits ------------------------------------------------------


async def test_unknown_and_foreign_ids_are_user_errors_without_a_call(demo_settings: Settings):
    async with gateway_client(demo_settings) as client:
        foreign = {
            "user": gid("User", "8", "another-account"),
            "course": gid("Course", "101"),
        }
        unknown_course = ids("8", "99999")
        one = (await client.post("/graphql", json={"query": ENROLL, "variables": foreign})).json()
        two = (
            await client.post("/graphql", json={"query": ENROLL, "variables": unknown_course})
        ).json()
        bad = (
            await client.post(
                "/graphql",
                json={"query": ENROLL, "variables": {"user": "not-an-id", "course": "x"}},
            )
        ).json()
    assert one["data"]["enrollUser"]["userErrors"] == [
        {
            "code": "USER_NOT_FOUND",
            "field": ["input", "userId"],
            "message": "No user of this account has this id",
        }
    ]
    assert one["extensions"]["upstream"]["calls"] == 0
    # A course id of this account that TalentLMS does not know: its own message, mapped.
    assert two["data"]["enrollUser"]["userErrors"] == [
        {
            "code": "COURSE_NOT_FOUND",
            "field": ["input", "courseId"],
            "message": "The requested course does not exist",
        }
    ]
    assert two["extensions"]["upstream"]["byEndpoint"] == {"addusertocourse": 1}
    assert codes(bad) == ["BAD_USER_INPUT"]


async def test_unenroll_then_not_enrolled(demo_settings: Settings):
    user, course = "8", PORTAL.user_detail("8")["courses"][0]["id"]
    async with gateway_client(demo_settings) as client:
        first = (
            await client.post("/graphql", json={"query": UNENROLL, "variables": ids(user, course)})
        ).json()
        second = (
            await client.post("/graphql", json={"query": UNENROLL, "variables": ids(user, course)})
        ).json()
        after = (
            await client.post(
                "/graphql", json={"query": ENROLLMENTS, "variables": ids(user, course)}
            )
        ).json()
    assert first["data"]["unenrollUser"] == {
        "unenrolledEnrollmentId": gid("CourseEnrollment", f"{user}:{course}"),
        "userErrors": [],
    }
    assert second["data"]["unenrollUser"]["userErrors"][0]["code"] == "NOT_ENROLLED"
    remaining = [n["course"]["remoteId"] for n in after["data"]["user"]["enrollments"]["nodes"]]
    assert course not in remaining


async def test_mutations_per_operation_are_limited_and_run_in_order(demo_settings: Settings):
    user = "8"
    courses = PORTAL.course_ids[:6]
    fields = " ".join(
        f'm{i}: unenrollUser(input: {{userId: "{gid("User", user)}", courseId: '
        f'"{gid("Course", course)}"}}) {{ userErrors {{ code }} }}'
        for i, course in enumerate(courses)
    )
    settings = replaced(demo_settings, limits={"max_mutations": 5})
    async with gateway_client(settings) as client:
        refused = (await client.post("/graphql", json={"query": f"mutation {{ {fields} }}"})).json()
        target = f'userId: "{gid("User", user)}", courseId: "{gid("Course", courses[0])}"'
        same = f"unenrollUser(input: {{{target}}}) {{ userErrors {{ code }} }}"
        twice = (
            await client.post("/graphql", json={"query": f"mutation {{ a: {same} b: {same} }}"})
        ).json()
    assert codes(refused) == ["OPERATION_LIMIT_EXCEEDED"]
    assert refused["extensions"]["upstream"]["calls"] == 0
    # In document order: the second sees what the first did.
    enrolled = courses[0] in {e["id"] for e in PORTAL.user_detail(user)["courses"]}
    first_codes = twice["data"]["a"]["userErrors"]
    assert twice["data"]["b"]["userErrors"] == [{"code": "NOT_ENROLLED"}]
    assert first_codes == ([] if enrolled else [{"code": "NOT_ENROLLED"}])


async def test_concurrent_duplicates_wait_for_the_first(demo_settings: Settings):
    import asyncio

    user = "10"
    variables = ids(user, not_enrolled(user))
    async with gateway_client(demo_settings) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    "/graphql",
                    json={"query": ENROLL, "variables": variables},
                    headers={"Idempotency-Key": "together"},
                )
                for _ in range(5)
            )
        )
        stats = client.app.state.runtime.simulator.state.stats.by_endpoint  # type: ignore[attr-defined]
        writes = stats.get("addusertocourse", 0)
    assert writes == 1
    assert len({a.content for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 4


async def test_a_bad_idempotency_key_is_a_bad_request(demo_settings: Settings):
    async with gateway_client(demo_settings) as client:
        response = await client.post(
            "/graphql",
            json={"query": ENROLL, "variables": ids("8", "101")},
            headers={"Idempotency-Key": "x" * 300},
        )
    assert response.status_code == 400 and codes(response.json()) == ["BAD_REQUEST"]


# --- audit ------------------------------------------------------------------------------------


async def test_each_mutation_is_one_audit_line_and_a_metric(
    demo_settings: Settings, logs: Captured
):
    user = "11"
    variables = ids(user, not_enrolled(user))
    async with gateway_client(demo_settings) as client:
        await client.post("/graphql", json={"query": ENROLL, "variables": variables})
        await client.post("/graphql", json={"query": ENROLL, "variables": variables})
        metrics = (await client.get("/metrics")).text
    audit = [line for line in logs.lines if line.get("logger") == "gateway.audit"]
    assert [(line["mutation"], line["outcome"]) for line in audit] == [
        ("enrollUser", "ok"),
        ("enrollUser", "ALREADY_ENROLLED"),
    ]
    course = variables["course"]
    decoded = decode_global_id(course)
    assert decoded is not None
    assert audit[0]["targets"] == {"user": user, "course": decoded.remote_id}
    assert audit[0]["account"] == "default" and audit[0]["upstream_calls"] == 2
    assert (
        'gateway_mutations_total{account="default",mutation="enrollUser",outcome="ok"} 1.0'
        in metrics
    )
    assert "password" not in logs.text.lower() and "api_key" not in logs.text.lower()


# --- the example mutations of queries/mutations/, on both providers ----------------------

MUTATIONS = ROOT / "queries" / "mutations"
SCHOOL = "learnworlds"


def school_data() -> Any:
    from gateway.runtime import demo_learnworlds_config
    from gateway.simulator import generate_school

    return generate_school(demo_learnworlds_config(Settings()))


def example_variables(account: str) -> dict[str, dict[str, Any]]:
    """Variables for each example mutation on the demo account's data."""
    if account == SCHOOL:
        school = school_data()
        learner = next(u for u in school.users if school.user_enrollments(u.id))
        enrolled = {e.course_id for e in school.user_enrollments(learner.id)}
        user_id, new_course = learner.id, next(c.id for c in school.courses if c.id not in enrolled)
        old_course = school.user_enrollments(learner.id)[0].course_id
    else:
        user_id, new_course = "8", not_enrolled("8")
        old_course = PORTAL.user_detail("8")["courses"][0]["id"]
    user = gid("User", user_id, account)
    return {
        "enroll_user": {"userId": user, "courseId": gid("Course", new_course, account)},
        "unenroll_user": {"userId": user, "courseId": gid("Course", old_course, account)},
        "create_user": {
            "firstName": "Ada",
            "lastName": "Lovelace",
            "email": "ada.lovelace@example.org",
            "username": "ada.lovelace",
            "password": SECRET_PASSWORD,
        },
        "update_user": {"userId": user, "firstName": "Augusta"},
        "set_user_status": {"userId": user, "status": "INACTIVE"},
        "launch_course": {
            "userId": user,
            "courseId": gid("Course", old_course, account),
            "returnUrl": "https://app.example.org/dashboard",
        },
    }


SECRET_PASSWORD = "Corr3ct-Horse-Battery-Staple"
# Upstream calls of each example, per provider: the write, and what is read back.
EXPECTED_CALLS = {
    "default": {
        "enroll_user": {"addusertocourse": 1, "users/id": 1},
        "unenroll_user": {"removeuserfromcourse": 1},
        "create_user": {"usersignup": 1},
        "update_user": {"edituser": 1, "users/id": 1},
        "set_user_status": {"usersetstatus": 1, "users/id": 1},
        "launch_course": {"gotocourse": 1},
    },
    SCHOOL: {
        "enroll_user": {
            "POST users/{id}/enrollment": 1,
            "users/{id}/courses": 1,
            "users/{id}/courses/{course}/progress": 1,
        },
        "unenroll_user": {"DELETE users/{id}/enrollment": 1},
        "create_user": {"POST users": 1},
        "update_user": {"PUT users/{id}": 1},
        "set_user_status": {"PUT users/{id}/suspend": 1},
        "launch_course": {"POST sso": 1},
    },
}


def test_every_example_mutation_has_its_expected_calls():
    names = {path.stem for path in MUTATIONS.glob("*.graphql")}
    assert names == set(EXPECTED_CALLS["default"]) == set(EXPECTED_CALLS[SCHOOL])


@pytest.mark.parametrize("account", ["default", SCHOOL])
async def test_the_example_mutations_run_on_both_providers(demo_settings: Settings, account: str):
    variables = example_variables(account)
    headers = {} if account == "default" else {"X-LMS-Account": account}
    async with gateway_client(demo_settings) as client:
        # The school's token comes first, and once: take it outside the counts.
        await client.post(
            "/graphql", json={"query": "{ users(first: 1) { nodes { id } } }"}, headers=headers
        )
        for name in sorted(EXPECTED_CALLS[account]):
            text = (MUTATIONS / f"{name}.graphql").read_text(encoding="utf-8")
            response = await client.post(
                "/graphql", json={"query": text, "variables": variables[name]}, headers=headers
            )
            body = response.json()
            assert "errors" not in body, (name, body["errors"])
            (payload,) = body["data"].values()
            upstream = body["extensions"]["upstream"]
            assert upstream["byEndpoint"] == EXPECTED_CALLS[account][name], name
            assert body["extensions"]["cost"]["estimatedCalls"] >= upstream["calls"], name
            if name == "launch_course":  # a link that signs the learner in
                assert payload["launchUrl"].startswith("https://")
            assert payload["userErrors"] == [], (name, payload)


async def test_no_password_and_no_launch_link_in_any_log_line(
    demo_settings: Settings, logs: Captured
):
    variables = example_variables("default")
    weak = {**variables["create_user"], "username": "weak", "email": "weak@example.org"}
    weak["password"] = "short"
    async with gateway_client(demo_settings) as client:
        answers = [
            (
                await client.post(
                    "/graphql",
                    json={
                        "query": (MUTATIONS / f"{name}.graphql").read_text(encoding="utf-8"),
                        "variables": values,
                    },
                )
            ).json()
            for name, values in (
                ("create_user", variables["create_user"]),
                ("create_user", weak),
                ("launch_course", variables["launch_course"]),
            )
        ]
    created, refused, launched = (answer["data"] for answer in answers)
    assert created["createUser"]["userErrors"] == []
    assert [e["code"] for e in refused["createUser"]["userErrors"]] == ["WEAK_PASSWORD"]
    link = launched["launchCourse"]["launchUrl"]
    assert link and "autologin" in link
    audit = [line for line in logs.lines if line.get("logger") == "gateway.audit"]
    assert [line["outcome"] for line in audit] == ["ok", "WEAK_PASSWORD", "ok"]
    for secret in (SECRET_PASSWORD, "short", link, link.split("key:")[1][:20]):
        assert secret not in logs.text, secret


# --- safety ----------------------------------------------------------------------------------


async def test_a_malformed_email_is_refused_before_any_call(demo_settings: Settings):
    variables = {**example_variables("default")["create_user"], "email": "ada at example"}
    text = (MUTATIONS / "create_user.graphql").read_text(encoding="utf-8")
    async with gateway_client(demo_settings) as client:
        body = (await client.post("/graphql", json={"query": text, "variables": variables})).json()
    assert body["data"]["createUser"] == {
        "__typename": "CreateUserPayload",
        "user": None,
        "userErrors": [
            {
                "__typename": "UserError",
                "code": "INVALID_EMAIL",
                "field": ["input", "email"],
                "message": "This is not an e-mail address",
            }
        ],
    }
    assert body["extensions"]["upstream"]["calls"] == 0


async def test_a_failed_write_is_not_retried(demo_settings: Settings):
    """A 503 on the write is an error at the mutation's path, after exactly one try: the
    portal may have acted on it, so only the client (with its Idempotency-Key) may retry."""
    user = "12"
    variables = ids(user, not_enrolled(user))
    async with gateway_client(demo_settings) as client:
        simulator = client.app.state.runtime.simulator  # type: ignore[attr-defined]
        admin = httpx.AsyncClient(transport=httpx.ASGITransport(app=simulator), base_url="http://s")
        async with admin:
            rule = {"kind": "error", "status": 503, "endpoint": "addusertocourse", "times": 5}
            assert (await admin.put("/_simulator/faults", json={"faults": [rule]})).is_success
        body = (
            await client.post("/graphql", json={"query": ENROLL, "variables": variables})
        ).json()
        writes = simulator.state.stats.by_endpoint.get("addusertocourse", 0)
    assert codes(body) == ["UPSTREAM_ERROR"] and body["errors"][0]["path"] == ["enrollUser"]
    assert body["extensions"]["upstream"]["retries"] == 0
    assert writes == 1


async def test_an_allow_list_refuses_a_mutation_it_does_not_list(tmp_path: Path):
    from gateway.cli import main

    manifest = tmp_path / "manifest.json"
    assert main(["persisted-queries", "build", str(MUTATIONS), "-o", str(manifest)]) == 0
    settings = replaced(Settings(), persisted_queries={"allowlist": True, "manifest": manifest})
    listed = (MUTATIONS / "unenroll_user.graphql").read_text(encoding="utf-8")
    unlisted = UNENROLL  # the same mutation, written otherwise: not in the manifest
    variables = ids("8", PORTAL.user_detail("8")["courses"][0]["id"])
    named = {"userId": variables["user"], "courseId": variables["course"]}
    async with gateway_client(settings) as client:
        refused = await client.post("/graphql", json={"query": unlisted, "variables": variables})
        allowed = await client.post("/graphql", json={"query": listed, "variables": named})
        writes = client.app.state.runtime.simulator.state.stats.by_endpoint  # type: ignore[attr-defined]
    assert refused.status_code == 403
    assert codes(refused.json()) == ["PERSISTED_QUERY_NOT_ALLOWED"]
    assert allowed.json()["data"]["unenrollUser"]["userErrors"] == []
    assert writes.get("removeuserfromcourse") == 1


async def test_learnworlds_refusals_are_user_errors(demo_settings: Settings):
    school = school_data()
    learner = next(u for u in school.users if school.user_enrollments(u.id))
    enrolled = school.user_enrollments(learner.id)[0].course_id
    user = gid("User", learner.id, SCHOOL)
    headers = {"X-LMS-Account": SCHOOL}
    cases = [
        # (variables, expected code, expected calls)
        (
            {"user": user, "course": gid("Course", enrolled, SCHOOL)},
            "ALREADY_ENROLLED",  # LearnWorlds: "Product is already owned"
            {"POST users/{id}/enrollment": 1},
        ),
        (
            {"user": user, "course": gid("Course", "no-such-course", SCHOOL)},
            "COURSE_NOT_FOUND",  # a bare 404, told apart by one read of the course
            {"POST users/{id}/enrollment": 1, "courses/{id}": 1},
        ),
        (
            {"user": user, "course": gid("Course", enrolled, SCHOOL), "role": "INSTRUCTOR"},
            "UNSUPPORTED_ROLE",  # no per-course instructors: refused before any call
            {},
        ),
    ]
    async with gateway_client(demo_settings) as client:
        await client.post(
            "/graphql", json={"query": "{ users(first: 1) { nodes { id } } }"}, headers=headers
        )
        for variables, code, calls in cases:
            body = (
                await client.post(
                    "/graphql", json={"query": ENROLL, "variables": variables}, headers=headers
                )
            ).json()
            assert [e["code"] for e in body["data"]["enrollUser"]["userErrors"]] == [code]
            assert body["extensions"]["upstream"]["byEndpoint"] == calls, code
        password = (
            await client.post(
                "/graphql",
                json={
                    "query": "mutation($u: ID!) { updateUser(input: {userId: $u, password: "
                    '"N3w-Passw0rd!"}) { userErrors { code field } } }',
                    "variables": {"u": user},
                },
                headers=headers,
            )
        ).json()
    assert password["data"]["updateUser"]["userErrors"] == [
        {"code": "NOT_SUPPORTED", "field": ["input", "password"]}
    ]


async def test_a_learnworlds_launch_link_is_single_sign_on_to_the_course_page(
    demo_settings: Settings,
):
    school = school_data()
    learner = next(u for u in school.users if school.user_enrollments(u.id))
    course = school.user_enrollments(learner.id)[0].course_id
    text = (MUTATIONS / "launch_course.graphql").read_text(encoding="utf-8")
    variables = {
        "userId": gid("User", learner.id, SCHOOL),
        "courseId": gid("Course", course, SCHOOL),
    }
    async with gateway_client(demo_settings) as client:
        body = (
            await client.post(
                "/graphql",
                json={"query": text, "variables": variables},
                headers={"X-LMS-Account": SCHOOL},
            )
        ).json()
        calls = client.app.state.runtime.learnworlds_simulator.state.stats.by_endpoint  # type: ignore[attr-defined]
    link = body["data"]["launchCourse"]["launchUrl"]
    # The school's SSO link, landing on the course's page of the school.
    landing = "http%3A%2F%2Flearnworlds-simulator.invalid%2Fcourse%2F" + course
    assert link.startswith("https://") and "token=" in link and link.endswith(landing)
    assert calls["POST sso"] == 1
