"""LearnWorlds → unified model mapping (``gateway.providers.learnworlds.mapping``, ``.values``).

Fixtures in ``tests/fixtures/learnworlds`` were written by hand from the shapes and quirks of
``shared/reference/learnworlds-api.md`` and of the sources ``docs/learnworlds-mapping.md``
cites (the OpenAPI snapshots O1–O3, the live clients C1, C2, C9, C11), never from the
simulator: float timestamps with microseconds on records and integers on enrollments and
completions, ``first_name: ""`` with the whole name in ``last_name``, users without ``role``,
an old snapshot's ``created_at``/``tags: null``, the legacy single ``price``, unit ids that are
``null`` or not hex (ebooks), old ``courseId``/``sectionId`` contents, unknown unit types,
progress rows that name their course only in the list form, real and spurious zero scores,
a suspended user, and every body shape of group members and a user's groups.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.domain.model import (
    Category,
    Course,
    CourseEnrollment,
    CourseItem,
    CourseRef,
    CourseStatus,
    CourseType,
    Email,
    EnrollmentStatus,
    Group,
    GroupRef,
    ParentItemRef,
    Phone,
    Url,
    User,
    UserRef,
    UserRole,
    UserStatus,
)
from gateway.providers.learnworlds.mapping import (
    PASSTHROUGH_FIELDS,
    PageMeta,
    course_item_id,
    course_status,
    enrollment_id,
    enrollment_score,
    enrollment_status,
    map_categories,
    map_category,
    map_course,
    map_course_items,
    map_enrollment,
    map_group,
    map_group_members,
    map_roster_enrollment,
    map_user,
    map_user_enrollments,
    map_user_groups,
    page_of,
    progress_by_course,
    split_course_item_id,
    split_enrollment_id,
    unit_type,
    user_ref,
    user_role,
    user_status,
)
from gateway.providers.learnworlds.values import (
    flag,
    integer,
    is_key,
    iso,
    number,
    seconds,
    strings,
    text,
    ts,
)

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parent / "fixtures" / "learnworlds"
NOW = datetime(2024, 6, 1, tzinfo=UTC)
ANA = "64b7f0c2a1e4d93b2c0f1a77"


def load(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def rows(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = load(name)["data"]
    return data


def user_named(user_id: str) -> dict[str, Any]:
    return next(row for row in rows("users_page") if row["id"] == user_id)


# --- values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # Records: floats with microseconds, kept exactly (not float-rounded).
        (1587639230.083278, utc(2020, 4, 23, 10, 53, 50, 83278)),
        (1700000000.123456, utc(2023, 11, 14, 22, 13, 20, 123456)),
        (1510243831.36581, utc(2017, 11, 9, 16, 10, 31, 365810)),
        # Enrollments and completions: integers; a float that lost its zero fraction.
        (1510243831, utc(2017, 11, 9, 16, 10, 31)),
        (1510243831.0, utc(2017, 11, 9, 16, 10, 31)),
        # Numeric strings.
        ("1702000000.25", utc(2023, 12, 8, 1, 46, 40, 250000)),
        (" 1510243831 ", utc(2017, 11, 9, 16, 10, 31)),
        # Milliseconds ([I]).
        (1700000000123, utc(2023, 11, 14, 22, 13, 20, 123000)),
        ("1700000000123", utc(2023, 11, 14, 22, 13, 20, 123000)),
        # ISO 8601 (an old example's created_at); naive is UTC.
        ("2021-09-08T15:39:51+03:00", utc(2021, 9, 8, 12, 39, 51)),
        ("2021-09-08T12:39:51Z", utc(2021, 9, 8, 12, 39, 51)),
        ("2021-09-08 12:39:51", utc(2021, 9, 8, 12, 39, 51)),
        # Never, nothing, garbage.
        (0, None),
        (0.0, None),
        ("0", None),
        (-5, None),
        (None, None),
        ("", None),
        ("  ", None),
        ("soon", None),
        ("24 Sep 2020", None),
        (True, None),
        (False, None),
        (float("nan"), None),
        (float("inf"), None),
        (10**30, None),
        ([1510243831], None),
        ({"ts": 1}, None),
    ],
)
def test_ts(value: object, expected: datetime | None) -> None:
    assert ts(value) == expected
    if expected is not None:
        assert ts(value).tzinfo is UTC  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (52, 52.0),
        (52.0, 52.0),
        (42.5, 42.5),
        ("100.23", 100.23),
        (" 7 ", 7.0),
        ("-1.5", -1.5),
        (0, 0.0),
        (True, None),
        (None, None),
        ("", None),
        ("1e3", None),
        ("1_000", None),
        ("12%", None),
        ("abc", None),
        (float("nan"), None),
        ([1], None),
    ],
)
def test_number(value: object, expected: float | None) -> None:
    assert number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, 12),
        (12.0, 12),
        ("12", 12),
        ("12.0", 12),
        (12.5, None),
        ("12.5", None),
        (False, None),
        (None, None),
        ("x", None),
    ],
)
def test_integer(value: object, expected: int | None) -> None:
    assert integer(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3600, 3600), (95.6, 96), ("60", 60), (0, 0), (-1, None), (None, None), (True, None)],
)
def test_seconds(value: object, expected: int | None) -> None:
    assert seconds(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (1.0, True),
        ("true", True),
        (" TRUE ", True),
        ("false", False),
        ("1", True),
        ("0", False),
        (None, None),  # nullable booleans stay unknown
        ("", None),
        ("flase", None),  # the spec's own typo is not "false"
        (2, None),
        ([], None),
    ],
)
def test_flag(value: object, expected: bool | None) -> None:
    assert flag(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" Ana ", "Ana"),
        ("", None),
        ("   ", None),
        (None, None),
        (7, "7"),
        (7.0, "7"),
        (7.5, "7.5"),
        (True, None),
        ({"a": 1}, None),
        (["a"], None),
    ],
)
def test_text(value: object, expected: str | None) -> None:
    assert text(value) == expected


def test_strings_and_iso() -> None:
    assert strings(["a", " b ", "", None, "a", 3, True, {"x": 1}]) == ["a", "b", "3"]
    assert strings(None) == []
    assert strings("solo") == ["solo"]
    assert strings({"a": "b"}) == []
    assert iso(utc(2020, 4, 23, 10, 53, 50, 83278)) == "2020-04-23T10:53:50.083278Z"
    assert iso(datetime(2020, 1, 1)) == "2020-01-01T00:00:00Z"
    assert iso(None) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("64b7f0c2a1e4d93b2c0f1a77", True),
        ("intro-to-statistics", True),
        ("testunits_1630502789550_0", True),
        ("@0.1", True),
        ("ana@example.org", True),
        ("", False),
        ("a b", False),
        ("a:b", False),
        ("a/b", False),
        ("a?b", False),
        ("a#b", False),
        ("a%2Fb", False),
        ("a\\b", False),
        ("x" * 201, False),
        (None, False),
        (12, False),
    ],
)
def test_is_key(value: object, expected: bool) -> None:
    assert is_key(value) is expected


# --- the list envelope ------------------------------------------------------------------


def test_page_of_reads_the_documented_envelope() -> None:
    items, meta = page_of(load("users_page"))
    assert [item["id"] for item in items][:2] == [ANA, "5ea173beca205e67b47f4552"]
    assert meta == PageMeta(
        page=1, total_items=4, total_pages=1, items_per_page=20, received=4, present=True
    )
    assert meta.is_last(1)
    assert meta.total == 4


def test_page_of_tolerates_bare_arrays_missing_meta_and_odd_bodies() -> None:
    items, meta = page_of(load("group_members_bare"))
    assert len(items) == 2 and not meta.present and meta.total == 2 and meta.is_last(1)
    items, meta = page_of({"data": [{"id": "r1"}, "junk", {"id": "r2"}]})  # /v2/user-roles
    assert [item["id"] for item in items] == ["r1", "r2"] and not meta.present
    items, meta = page_of(load("user_groups"))  # {"data": {"user_groups": [...]}}
    assert len(items) == 4 and not meta.present
    items, meta = page_of({"data": {"id": "g1", "title": "One", "tags": ["a"]}})
    assert items == [{"id": "g1", "title": "One", "tags": ["a"]}]
    for body in (None, "oops", 3, {"error": "Users not found"}, {"data": None}, {"data": {}}):
        assert page_of(body)[0] == []


def test_page_meta_keys_and_paging() -> None:
    body: dict[str, Any] = {
        "data": [{"id": str(i)} for i in range(20)],
        "meta": {"page": "2", "totalItems": 57, "totalPages": 3.0, "itemsPerPage": 20},
    }
    _items, meta = page_of(body)
    assert (meta.page, meta.total_items, meta.total_pages, meta.items_per_page) == (2, 57, 3, 20)
    assert not meta.is_last(2) and meta.is_last(3) and meta.total == 57
    # snake_case (one reconstructed spec) and the spec's stray legacy {count, pages}.
    _items, snake = page_of({"data": [{}], "meta": {"total_items": 3, "total_pages": 1}})
    assert (snake.total_items, snake.total_pages) == (3, 1)
    _items, legacy = page_of({"data": [{}], "meta": {"count": 110, "pages": 6, "next": "x"}})
    assert (legacy.total_items, legacy.total_pages) == (110, 6)
    # A page past the end repeats the last one (shared page text): stop there.
    _items, repeated = page_of({**body, "meta": {**body["meta"], "page": 3}})
    assert repeated.is_last(4)
    # Or is empty (the progress endpoint's text).
    assert page_of({"data": [], "meta": body["meta"]})[1].is_last(4)
    # No page count: a short page is the last.
    _items, counted = page_of({"data": [{}], "meta": {"itemsPerPage": 20}})
    assert counted.is_last(1) and counted.total is None
    _items, full = page_of({"data": [{}] * 20, "meta": {"itemsPerPage": 20}})
    assert not full.is_last(1)
    # A meta without any count cannot page on: this page is all there is.
    assert page_of({"data": [{}] * 20, "meta": {"page": 1}})[1].is_last(1)


@pytest.mark.parametrize(
    ("meta", "received", "expected"),
    [
        ({"totalItems": 57, "totalPages": 3, "itemsPerPage": 20}, 20, 57),
        ({"totalItems": 60, "totalPages": 3, "itemsPerPage": 20}, 20, 60),
        # "items in this page", as the spec's text says: not the list's size.
        ({"totalItems": 20, "totalPages": 3, "itemsPerPage": 20}, 20, None),
        ({"totalItems": 61, "totalPages": 3, "itemsPerPage": 20}, 20, None),
        ({"totalPages": 3, "itemsPerPage": 20}, 20, None),
        ({"totalItems": 7, "totalPages": 1, "itemsPerPage": 20}, 5, 5),
        ({"totalItems": 0, "totalPages": 0, "itemsPerPage": 20}, 0, 0),
    ],
)
def test_page_meta_total_is_trusted_only_when_consistent(
    meta: dict[str, Any], received: int, expected: int | None
) -> None:
    _items, parsed = page_of({"data": [{}] * received, "meta": meta})
    assert parsed.total == expected


# --- ids --------------------------------------------------------------------------------


def test_synthetic_ids_round_trip() -> None:
    assert enrollment_id(ANA, "intro-to-statistics") == f"{ANA}:intro-to-statistics"
    assert split_enrollment_id(f"{ANA}:intro-to-statistics") == (ANA, "intro-to-statistics")
    item = course_item_id("testunits", "testunits_1630502789550_0")
    assert split_course_item_id(item) == ("testunits", "testunits_1630502789550_0")
    assert split_course_item_id("testunits:@0.4") == ("testunits", "@0.4")


@pytest.mark.parametrize(
    "value", ["", "abc", "a:", ":b", "a:b:c", "a b:c", "a:b c", "a/b:c", "a:b?x", 12, None]
)
def test_split_ids_reject_what_names_no_record(value: object) -> None:
    assert split_enrollment_id(value) is None
    assert split_course_item_id(value) is None


# --- enumerations -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"role": {"level": "admin"}}, UserRole.ADMIN),
        ({"role": {"level": "instructor"}}, UserRole.INSTRUCTOR),
        ({"role": {"level": "user"}}, UserRole.LEARNER),
        ({"role": {"level": "seat_manager"}}, UserRole.MANAGER),
        ({"role": {"level": "reporter"}}, UserRole.OTHER),
        ({"role": {"level": "license_reporter"}}, UserRole.OTHER),
        ({"role": {"level": " ADMIN "}}, UserRole.ADMIN),
        ({"role": {"level": "course_creator"}}, UserRole.OTHER),
        ({"role": "instructor"}, UserRole.INSTRUCTOR),
        # role.level wins over the flags.
        ({"role": {"level": "user"}, "is_admin": True}, UserRole.LEARNER),
        # Without role (the single-user examples of O1 and O2): the flags, first true wins.
        ({"is_admin": True, "is_instructor": True}, UserRole.ADMIN),
        ({"is_admin": False, "is_instructor": True}, UserRole.INSTRUCTOR),
        ({"is_admin": False, "is_instructor": False, "is_reporter": True}, UserRole.OTHER),
        ({"is_admin": False, "is_instructor": False}, UserRole.LEARNER),
        ({"role": None, "is_admin": "true"}, UserRole.ADMIN),
        ({"role": {"level": None, "name": "Admin"}, "is_instructor": 1}, UserRole.INSTRUCTOR),
        ({}, UserRole.LEARNER),
    ],
)
def test_user_role(raw: dict[str, Any], expected: UserRole) -> None:
    assert user_role(raw) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"is_suspended": True}, UserStatus.SUSPENDED),
        ({"is_suspended": True, "signup_approval_status": "pending"}, UserStatus.SUSPENDED),
        ({"is_suspended": False, "signup_approval_status": "pending"}, UserStatus.INACTIVE),
        ({"is_suspended": False, "signup_approval_status": "failed"}, UserStatus.INACTIVE),
        ({"signup_approval_status": "Pending"}, UserStatus.INACTIVE),
        ({"is_suspended": False, "signup_approval_status": "passed"}, UserStatus.ACTIVE),
        ({"is_suspended": False, "signup_approval_status": None}, UserStatus.ACTIVE),
        ({"is_suspended": "false"}, UserStatus.ACTIVE),
        ({}, UserStatus.UNKNOWN),
        ({"is_suspended": None}, UserStatus.UNKNOWN),
    ],
)
def test_user_status(raw: dict[str, Any], expected: UserStatus) -> None:
    assert user_status(raw) is expected


@pytest.mark.parametrize(
    ("access", "expected"),
    [
        ("paid", CourseStatus.PUBLISHED),
        ("free", CourseStatus.PUBLISHED),
        ("private", CourseStatus.PUBLISHED),
        ("coming_soon", CourseStatus.DRAFT),
        ("draft", CourseStatus.DRAFT),
        ("enrollment_closed", CourseStatus.DISABLED),
        ("PAID", CourseStatus.PUBLISHED),
        ("archived", CourseStatus.UNKNOWN),
        (None, CourseStatus.UNKNOWN),
        ("", CourseStatus.UNKNOWN),
    ],
)
def test_course_status(access: object, expected: CourseStatus) -> None:
    assert course_status(access) is expected


@pytest.mark.parametrize(
    ("kind", "icon", "expected"),
    [
        ("ivideo", "video", "video"),
        ("video", None, "video"),
        ("youtube", "video", "video"),
        ("audio", None, "audio"),
        ("pdf", "pdf", "document"),
        ("ebook", "ebook", "document"),
        ("url", "url", "web_content"),
        ("embed", None, "iframe"),
        ("scorm", "scorm", "scorm"),
        ("assessmentV2", "exam", "test"),
        ("ASSESSMENTV2", None, "test"),
        ("newSurvey", None, "survey"),
        ("certificate", "certification", "other"),
        # An unknown type falls back on the icon, then on "other".
        ("interactiveVideoV3", "video", "video"),
        ("newExam", "exam", "test"),
        ("hologram", "hologram", "other"),
        (None, None, "other"),
        ("", "", "other"),
        (7, None, "other"),
    ],
)
def test_unit_type(kind: object, icon: object, expected: str) -> None:
    assert unit_type(kind, icon) == expected


PAST, FUTURE = utc(2022, 4, 15), utc(2100, 1, 1)


@pytest.mark.parametrize(
    ("progress", "expires_at", "expected"),
    [
        ({"status": "not_started"}, None, EnrollmentStatus.ENROLLED),
        ({"status": "not_completed"}, None, EnrollmentStatus.IN_PROGRESS),
        ({"status": "completed"}, None, EnrollmentStatus.COMPLETED),
        ({"status": "Completed"}, None, EnrollmentStatus.COMPLETED),
        # No such value on LearnWorlds (X2's reconstruction): unknown, not guessed.
        ({"status": "in_progress"}, None, EnrollmentStatus.UNKNOWN),
        ({}, None, EnrollmentStatus.UNKNOWN),
        (None, None, EnrollmentStatus.ENROLLED),  # enrolled, no progress row
        ({"status": "not_started"}, PAST, EnrollmentStatus.EXPIRED),
        ({"status": "not_completed"}, PAST, EnrollmentStatus.EXPIRED),
        ({"status": "weird"}, PAST, EnrollmentStatus.EXPIRED),
        (None, PAST, EnrollmentStatus.EXPIRED),
        ({"status": "completed"}, PAST, EnrollmentStatus.COMPLETED),  # a completion stands
        ({"status": "not_completed"}, FUTURE, EnrollmentStatus.IN_PROGRESS),
        ({"status": "not_completed"}, NOW, EnrollmentStatus.IN_PROGRESS),  # not yet past
        ({"status": "not_completed"}, datetime(2022, 4, 15), EnrollmentStatus.EXPIRED),
    ],
)
def test_enrollment_status(
    progress: dict[str, Any] | None, expires_at: datetime | None, expected: EnrollmentStatus
) -> None:
    assert enrollment_status(progress, expires_at=expires_at, now=NOW) is expected


def _scored(average: object, *unit_scores: object) -> dict[str, Any]:
    units = [{"unit_id": str(i), "score_on_unit": s} for i, s in enumerate(unit_scores)]
    return {"average_score_rate": average, "progress_per_section_unit": [{"units": units}]}


@pytest.mark.parametrize(
    ("progress", "expected"),
    [
        (_scored(80, 100, None), 80.0),
        (_scored(87.5), 87.5),
        (_scored("66.6"), 66.6),
        # 0 without any graded unit: nothing to score (C9, live), not a zero.
        (_scored(0, None, None), None),
        (_scored(0), None),
        ({"average_score_rate": 0}, None),
        # 0 with a unit score: a real zero (C11 saw score_on_unit 0).
        (_scored(0, 0), 0.0),
        (_scored(0.0, None, 0), 0.0),
        (_scored(None, 90), None),  # never derived from the units
        (_scored(-1, 0), None),
        ({}, None),
        (None, None),
        ({"average_score_rate": 0, "progress_per_section_unit": None}, None),
    ],
)
def test_enrollment_score(progress: dict[str, Any] | None, expected: float | None) -> None:
    assert enrollment_score(progress) == expected


# --- users ------------------------------------------------------------------------------


def test_map_user_with_names_role_and_fields() -> None:
    raw = user_named(ANA)
    user = map_user(raw)
    assert user == User(
        id=ANA,
        first_name="Ana",
        last_name="Silva",
        name="Ana Silva",
        username="Ana Silva",
        emails=[Email(email="ana@example.org", type=None, is_primary=True)],
        status=UserStatus.ACTIVE,
        role=UserRole.LEARNER,
        phones=[Phone(number="+351 210 000 000", extension=None, type=None)],
        locale=None,
        timezone=None,
        job_title=None,
        organization=None,
        manager=None,
        created_at=utc(2023, 11, 14, 22, 13, 20, 123456),
        updated_at=None,
        custom_fields={
            "company": "Acme",
            "country": None,
            "phone": "+351 210 000 000",
            "cf_team": "Blue",
            "tags": ["cohort-7", "blue-team"],
            "role_level": "user",
            "role_name": "User",
            "last_login": "2024-04-05T19:34:38.500000Z",
            "signup_approval_status": None,
            "is_affiliate": False,
            "is_reporter": False,
            "subscribed_for_marketing_emails": False,
            "eu_customer": True,
        },
        remote_data=raw,
    )
    assert user.partial is False


def test_map_user_whole_name_in_last_name() -> None:
    """O1's examples: ``first_name: ""`` with the whole name in ``last_name``."""
    user = map_user(user_named("5ea173beca205e67b47f4552"))
    assert (user.first_name, user.last_name) == (None, "testAffSearch@learnworlds.com")
    assert user.name == "testAffSearch@learnworlds.com"
    assert user.role is UserRole.INSTRUCTOR
    assert user.created_at == utc(2020, 4, 23, 10, 53, 50, 83278)
    assert user.phones == []  # fields.phone is null
    fields = user.custom_fields
    assert fields["cf_skill"] == "Personal trainer" and fields["cf_studentlicence"] == "EA23123123"
    assert fields["bio"] is None and "graduation_year" in fields  # nulls kept, keys as sent
    assert fields["tags"] == ["super-user", "fanboy", "just-signedup"]
    assert fields["role_name"] == "Course creator"
    assert fields["signup_approval_status"] == "passed"
    assert user.remote_data is not None and user.remote_data["billing_info"]["bf_city"] == "London"


def test_map_user_suspended_seat_manager() -> None:
    user = map_user(user_named("65c0ffee00112233445566aa"))
    assert user.status is UserStatus.SUSPENDED
    assert user.role is UserRole.MANAGER
    assert user.created_at == utc(2023, 11, 29, 5, 9, 27)  # an int timestamp
    assert user.custom_fields["last_login"] is None
    assert user.custom_fields["eu_customer"] is None  # nullable boolean: unknown
    assert user.custom_fields["subscribed_for_marketing_emails"] is None


def test_map_user_pending_reporter_with_string_timestamp() -> None:
    user = map_user(user_named("65c0ffee00112233445566bb"))
    assert user.status is UserStatus.INACTIVE
    assert user.role is UserRole.OTHER
    assert user.created_at == utc(2023, 12, 8, 1, 46, 40, 250000)
    assert user.phones == []  # a blank phone is no phone
    assert user.custom_fields["tags"] == []  # tags: null
    assert user.custom_fields["role_level"] == "license_reporter"


def test_map_user_without_role_falls_back_on_flags() -> None:
    user = map_user(load("user_without_role"))
    assert user.role is UserRole.ADMIN  # is_admin and is_instructor: admin first
    assert user.status is UserStatus.ACTIVE
    assert user.name == "School Owner"
    assert user.custom_fields["role_level"] is None
    assert user.custom_fields["role_name"] is None
    assert user.custom_fields["is_reporter"] is None  # absent, not false


def test_map_user_old_snapshot() -> None:
    """O2's x-example: ``created_at``, whole name in ``first_name``, ``tags``/``utms`` null."""
    raw = load("user_old_snapshot")
    user = map_user(raw)
    assert (user.first_name, user.last_name, user.name) == (
        "Whole Name In First",
        None,
        "Whole Name In First",
    )
    assert user.created_at == utc(2020, 4, 23, 10, 53, 50, 83278)
    assert user.role is UserRole.LEARNER
    assert user.custom_fields["tags"] == []
    assert user.custom_fields["cf_mycustom"] is None
    assert user.remote_data is not None and user.remote_data["school_id"] == raw["school_id"]


def test_map_user_name_falls_back_on_username_and_email_status_is_kept() -> None:
    raw = {
        "id": "65c0ffee00112233445566cc",
        "username": " Solo ",
        "first_name": "",
        "last_name": None,
        "email": "",
        "is_suspended": False,
        "email_verification_status": "verified",
    }
    user = map_user(raw)
    assert (user.name, user.username, user.emails) == ("Solo", "Solo", [])
    assert user.custom_fields["email_verification_status"] == "verified"
    assert "email_verification_status" not in map_user(user_named(ANA)).custom_fields


def test_secrets_never_reach_the_output() -> None:
    raw = {
        **user_named(ANA),
        "password": "hunter2",
        "fields": {"cf_team": "Blue", "Password": "x", "API_KEY": "k"},
        "utms": {"nested": {"access_token": "t", "kept": 1}},
    }
    user = map_user(raw)
    dumped = user.model_dump_json()
    for secret in ("hunter2", '"x"', '"k"', '"t"'):
        assert secret not in dumped
    assert user.remote_data is not None and user.remote_data["utms"]["nested"] == {"kept": 1}
    assert user.custom_fields["cf_team"] == "Blue"


def test_user_ref() -> None:
    user = map_user(user_named(ANA))
    assert user_ref(user) == UserRef(
        id=ANA, name="Ana Silva", emails=[Email(email="ana@example.org", is_primary=True)]
    )


# --- courses ----------------------------------------------------------------------------


def test_map_course_current_shape() -> None:
    raw = load("course")
    course = map_course(raw)
    assert course == Course(
        id="intro-to-statistics",
        title="Intro to Statistics",
        description="<p>Basics of descriptive statistics.</p>",
        code=None,
        type=CourseType.COURSE,
        status=CourseStatus.PUBLISHED,
        language=None,
        duration_seconds=None,
        level=None,
        urls=[Url(url="https://cdn.example.org/courses/intro-to-statistics.png", type="image")],
        tags=["new"],
        categories=[
            Category(id="math", name="math"),
            Category(id="data literacy", name="data literacy"),
        ],
        organization=None,
        published_at=None,
        created_at=utc(2017, 11, 9, 16, 10, 31, 365810),
        updated_at=utc(2021, 5, 19, 8, 23, 23, 921979),
        custom_fields={
            "access": "paid",
            "price": 200.5,
            "original_price": 300.0,
            "discount_price": 100.0,
            "final_price": 200.5,
            "drip_feed": "none",
            "expires": 2,
            "expires_type": "weeks",
            "label": "new",
            "author_name": "B. Chen",
            "after_purchase": "course",
        },
        remote_data=raw,
    )
    assert course.partial is False


def test_map_course_legacy_shape() -> None:
    """Old examples and the course embedded in O2's enrollment: one ``price``, boolean drip."""
    course = map_course(load("course_legacy"))
    assert course.status is CourseStatus.DISABLED
    assert (course.categories, course.tags, course.urls, course.description) == ([], [], [], None)
    assert course.custom_fields == {
        "access": "enrollment_closed",
        "price": 100.0,
        "original_price": None,
        "discount_price": None,
        "final_price": None,
        "drip_feed": False,
        "expires": None,
        "expires_type": "weeks",
        "label": None,
        "author_name": None,
        "after_purchase": None,
        "registeredUsers": 0,
        "premiumUsers": 47,
        "premium": True,
    }


def test_map_course_odd_values() -> None:
    course = map_course(
        {
            "identifiers": {"slug": "from-identifiers"},
            "courseType": "path",
            "final_price": "39.90",
            "price": 50,
            "access": "archived",
            "categories": "solo",
            "created": "1690000000.42",
            "description": "   ",
        }
    )
    assert course.id == "from-identifiers"
    assert course.type is CourseType.PATH
    assert course.status is CourseStatus.UNKNOWN
    assert course.custom_fields["price"] == 39.9  # final_price wins over the legacy price
    assert course.categories == []  # not a list: no categories
    assert course.created_at == utc(2023, 7, 22, 4, 26, 40, 420000)
    assert course.description is None
    assert map_course({}).id == ""


def test_categories_come_from_the_course_list() -> None:
    courses, _meta = page_of(load("courses_page"))
    assert map_categories(courses) == [
        Category(id="data literacy", name="data literacy"),
        Category(id="design", name="design"),
        Category(id="math", name="math"),
    ]
    assert map_categories([{"categories": None}, "junk", {"categories": ["", None]}]) == []
    assert map_category("  math ") == Category(id="math", name="math")
    assert map_category({"name": "tagged"}) == Category(id="tagged", name="tagged")
    assert map_category("") is None and map_category(None) is None and map_category(["x"]) is None


def test_course_statuses_over_a_catalog_page() -> None:
    courses, _meta = page_of(load("courses_page"))
    mapped = [map_course(raw) for raw in courses]
    assert [(c.id, c.status) for c in mapped] == [
        ("data-viz", CourseStatus.PUBLISHED),
        ("intro-to-statistics", CourseStatus.PUBLISHED),
        ("coming-next", CourseStatus.DRAFT),
    ]
    assert mapped[0].description is None  # "" is no description
    assert mapped[0].custom_fields["price"] == 0.0  # free is a price of 0, not None


# --- course items -----------------------------------------------------------------------


def test_map_course_items_hierarchy_and_positions() -> None:
    items = map_course_items("intro-to-statistics", load("contents"))
    sections = [item for item in items if item.type == "section"]
    assert [s.id for s in sections] == [
        "intro-to-statistics:intro-to-statistics_basics",
        "intro-to-statistics:intro_further",
        "intro-to-statistics:intro_closing",
    ]
    assert [item.position for item in items] == list(range(len(items)))
    assert len(items) == 3 + 5 + 8
    assert len({item.id for item in items}) == len(items)
    assert all(split_course_item_id(item.id) is not None for item in items)
    basics = ParentItemRef(id=sections[0].id, title="Basics")
    assert [item.parent for item in items[1:6]] == [basics] * 5
    assert all(s.parent is None for s in sections)
    assert {item.course for item in items} == {
        CourseRef(id="intro-to-statistics", title="Intro to Statistics")
    }


def test_map_course_item_fields() -> None:
    contents = load("contents")
    items = {item.title: item for item in map_course_items("intro-to-statistics", contents)}
    video = items["Welcome video"]
    assert video == CourseItem(
        id="intro-to-statistics:65a0c1d2e3f4a5b6c7d8e9f0",
        course=CourseRef(id="intro-to-statistics", title="Intro to Statistics"),
        parent=ParentItemRef(id="intro-to-statistics:intro-to-statistics_basics", title="Basics"),
        type="video",
        title="Welcome video",
        description=None,
        position=1,
        duration_seconds=None,
        is_required=None,
        urls=[],
        created_at=None,
        updated_at=None,
        custom_fields={
            "learnworlds_type": "ivideo",
            "icon": "video",
            "subtitle": "video",
            "unit_id": "65a0c1d2e3f4a5b6c7d8e9f0",
        },
        remote_data=contents["sections"][0]["learningUnits"][0],
    )
    further = items["Further"]
    assert further.description == "Optional material"
    assert further.custom_fields == {
        "section_id": "intro_further",
        "access": "private",
        "drip": contents["sections"][1]["drip"],
    }
    assert further.remote_data is not None and "learningUnits" not in further.remote_data
    assert items["Basics"].custom_fields["drip"] is None
    assert items["Closing"].description is None  # "" is no description
    assert items["Closing"].custom_fields["drip"]["date"] == 1768341600


def test_unit_types_and_odd_unit_ids() -> None:
    items = {item.title: item for item in map_course_items("intro-to-statistics", load("contents"))}
    assert {title: items[title].type for title in items if items[title].type != "section"} == {
        "Welcome video": "video",
        "Quiz 1": "test",
        "Reading": "document",
        "Recorded lecture": "video",
        "Guest talk": "video",
        "Formulae": "document",
        "external page": "web_content",
        "SCORM/HTML 5 Package": "scorm",
        "Feedback": "survey",
        "Podcast": "audio",
        "Branching video": "video",  # unknown type, known icon
        "Hologram": "other",  # unknown type and icon
        "certificate": "other",
    }
    assert items["Hologram"].custom_fields["learnworlds_type"] == "hologram"
    assert items["Branching video"].custom_fields["learnworlds_type"] == "interactiveVideoV3"
    # An ebook's id is not hex; a unit with id null gets a positional id.
    reading, lecture = items["Reading"], items["Recorded lecture"]
    assert reading.id == "intro-to-statistics:intro-to-statistics_1630502789550_0"
    assert lecture.id == "intro-to-statistics:@0.3"
    assert lecture.custom_fields["unit_id"] is None


def test_map_course_items_legacy_contents() -> None:
    """An old example: ``courseId``/``sectionId``, units without titles, a repeated unit id."""
    items = map_course_items("testunits", load("contents_legacy"))
    assert [item.id for item in items] == [
        "testunits:testu_introduction",
        "testunits:611f83d9f8794544223ee7e4",
        "testunits:611f87aa9ab7f357693baa22",
        "testunits:612f55174348a075ac3f8042",
        "testunits:testunits_1630502789550_0",
        "testunits:@0.4",
        "testunits:testunits_612f69505dbd2",
        "testunits:@0.6",  # the same id twice: the second is positional
    ]
    assert items[0].custom_fields["section_id"] == "testu_introduction"
    assert [item.title for item in items[1:3]] == ["pdf", "certificate"]  # from subtitle
    assert items[0].course == CourseRef(id="testunits", title="testunits")
    assert [item.type for item in items[1:]] == [
        "document",
        "other",
        "video",
        "document",
        "video",
        "document",
        "document",
    ]


def test_map_course_items_keeps_ids_unique_and_usable() -> None:
    contents = {
        "title": "Odd",
        "sections": [
            {"title": "No id", "learningUnits": [{"id": "@0.1", "type": "pdf"}, {"type": "pdf"}]},
            {"id": "s:2", "title": "Colon", "learningUnits": [{"id": "has space", "type": "url"}]},
            {"id": "dup", "title": "A", "learningUnits": [{"id": "dup", "type": "url"}]},
            "junk",
            {"id": "empty", "title": "Null units", "learningUnits": None},
        ],
    }
    items = map_course_items("odd", contents)
    assert [item.id for item in items] == [
        "odd:@0",
        "odd:@0.1",
        "odd:@0.1~2",
        "odd:@1",
        "odd:@1.0",
        "odd:dup",
        "odd:@2.0",
        "odd:empty",
    ]
    assert all(split_course_item_id(item.id) is not None for item in items)


@pytest.mark.parametrize("contents", [None, [], {}, {"sections": None}, {"sections": "x"}])
def test_map_course_items_of_nothing(contents: object) -> None:
    assert map_course_items("c", contents) == []


# --- enrollments ------------------------------------------------------------------------


def _enrollments(**kwargs: Any) -> dict[str, CourseEnrollment]:
    mapped = map_user_enrollments(
        ANA, rows("user_courses"), kwargs.pop("progress", rows("user_progress")), now=NOW, **kwargs
    )
    return {enrollment.course.id: enrollment for enrollment in mapped if enrollment.course}


def test_progress_rows_name_their_course_only_in_the_list_form() -> None:
    by_course = progress_by_course(rows("user_progress"))
    assert list(by_course) == [
        "intro-to-statistics",
        "10-secrets-of-sleep-walking",
        "data-viz",
        "zero-scores",
        "coming-next",
        "not-enrolled-any-more",
    ]
    assert progress_by_course([{"status": "completed"}, "junk", None]) == {}
    assert "course_id" not in load("course_progress")


def test_map_user_enrollment_in_progress_without_graded_units() -> None:
    course_row, progress = rows("user_courses")[0], rows("user_progress")[0]
    enrollment = map_enrollment(ANA, course_row, progress, now=NOW)
    assert enrollment == CourseEnrollment(
        id=f"{ANA}:intro-to-statistics",
        user=UserRef(id=ANA),
        course=CourseRef(id="intro-to-statistics", title="Intro to Statistics"),
        status=EnrollmentStatus.IN_PROGRESS,
        assigned_at=None,
        due_at=None,
        enrolled_at=utc(2023, 11, 26, 12, 0),
        started_at=None,
        last_activity_at=None,
        completed_at=None,
        progress_percent=42.5,
        time_spent_seconds=3600,
        score=None,  # average_score_rate 0 and no unit carries a score
        is_mandatory=None,
        assigned_by=None,
        attempt_number=None,
        attempts_count=None,
        urls=[],
        created_at=utc(2023, 11, 26, 12, 0),
        updated_at=utc(2023, 11, 26, 12, 0),
        custom_fields={
            "expires_at": None,
            "progress_status": "not_completed",
            "completed_units": 5,
            "total_units": 12,
            "average_score_rate": 0,
        },
        remote_data={"enrollment": course_row, "progress": progress},
    )
    assert enrollment.partial is False


def test_map_user_enrollments_join_rows_and_progress() -> None:
    by_course = _enrollments(user_raw=user_named(ANA))
    assert list(by_course) == [
        "intro-to-statistics",
        "10-secrets-of-sleep-walking",
        "data-viz",
        "coming-next",
        "zero-scores",
    ]  # the progress row of a course the user is not enrolled in is not an enrollment
    done = by_course["10-secrets-of-sleep-walking"]
    assert done.status is EnrollmentStatus.COMPLETED  # completed before expiring: stands
    assert done.completed_at == utc(2017, 11, 9, 16, 10, 31)  # an int completed_at
    assert (done.progress_percent, done.score, done.time_spent_seconds) == (100.0, 80.0, 12310)
    assert done.updated_at == utc(2021, 10, 15, 13, 30, 51)  # enrolled after completing
    assert done.custom_fields["expires_at"] == "2022-04-15T05:20:00Z"
    assert done.course == CourseRef(
        id="10-secrets-of-sleep-walking", title="10 secrets of sleep walking"
    )
    expired = by_course["data-viz"]
    assert expired.status is EnrollmentStatus.EXPIRED  # not started, access ended
    assert expired.score is None and expired.progress_percent == 0.0
    unknown = by_course["coming-next"]
    assert unknown.status is EnrollmentStatus.UNKNOWN  # "in_progress" is no LearnWorlds value
    assert (unknown.progress_percent, unknown.time_spent_seconds) == (12.5, 60)
    assert unknown.custom_fields["total_units"] == 8 and unknown.score is None
    zero = by_course["zero-scores"]
    assert (zero.status, zero.score) == (EnrollmentStatus.IN_PROGRESS, 0.0)  # a real zero
    assert zero.time_spent_seconds == 96
    for enrollment in by_course.values():
        assert enrollment.user == UserRef(
            id=ANA, name="Ana Silva", emails=[Email(email="ana@example.org", is_primary=True)]
        )
        assert enrollment.partial is False
        assert enrollment.due_at is None


def test_an_enrolled_course_without_progress_is_enrolled() -> None:
    """A 404 from ``/progress`` means no rows once the user is known: every course not started."""
    by_course = _enrollments(progress=[])
    assert by_course["intro-to-statistics"].status is EnrollmentStatus.ENROLLED
    assert by_course["data-viz"].status is EnrollmentStatus.EXPIRED
    assert by_course["intro-to-statistics"].progress_percent is None
    assert by_course["intro-to-statistics"].remote_data == {
        "enrollment": rows("user_courses")[0],
        "progress": None,
    }
    assert not any(enrollment.partial for enrollment in by_course.values())


def test_enrollments_without_progress_read_are_partial() -> None:
    by_course = _enrollments(progress=None)
    for enrollment in by_course.values():
        assert enrollment.partial is True
        assert (enrollment.status, enrollment.progress_percent, enrollment.score) == (None,) * 3
        assert enrollment.enrolled_at is not None
    assert by_course["data-viz"].custom_fields["expires_at"] == "2022-04-15T05:20:00Z"


def test_map_enrollment_from_per_course_progress() -> None:
    """``/v2/users/{id}/courses/{slug}/progress`` is the bare object: the slug comes from the
    caller."""
    progress = load("course_progress")
    course_row = rows("user_courses")[0]
    enrollment = map_enrollment(ANA, course_row, progress, now=NOW, course_id="intro-to-statistics")
    assert enrollment.id == f"{ANA}:intro-to-statistics"
    assert enrollment.status is EnrollmentStatus.COMPLETED
    assert enrollment.completed_at == utc(2024, 4, 5, 19, 34, 38)
    assert (enrollment.score, enrollment.time_spent_seconds) == (87.5, 7200)
    assert enrollment.updated_at == enrollment.completed_at
    # Progress without the enrollment row (no enrolled_at, no expiry): partial.
    alone = map_enrollment(ANA, None, progress, now=NOW, course_id="intro-to-statistics")
    assert alone.partial is True and alone.enrolled_at is None
    assert alone.status is EnrollmentStatus.COMPLETED
    assert alone.course == CourseRef(id="intro-to-statistics", title=None)


def test_map_enrollment_old_enrollment_shape() -> None:
    """An old x-example: ``{id: "course_{slug}", created_ts, expiration_ts}``, no course."""
    old = {
        "id": "course_mastering-rem",
        "created_ts": 1521725763,
        "validity_seconds": None,
        "expiration_ts": 1530000000,
    }
    enrollment = map_enrollment(ANA, old, {"status": "not_started"}, now=NOW)
    assert enrollment.id == f"{ANA}:mastering-rem"
    assert enrollment.enrolled_at == utc(2018, 3, 22, 13, 36, 3)
    assert enrollment.status is EnrollmentStatus.EXPIRED
    # A progress row that names its course settles a row without a course.
    listed = map_enrollment(ANA, {"created": 1}, {"course_id": "x-course"}, now=NOW)
    assert listed.course == CourseRef(id="x-course")


def test_map_roster_enrollment_is_partial_with_a_whole_user() -> None:
    member = user_named("5ea173beca205e67b47f4552")
    enrollment = map_roster_enrollment(
        "intro-to-statistics", member, course_title="Intro to Statistics"
    )
    assert enrollment.id == "5ea173beca205e67b47f4552:intro-to-statistics"
    assert enrollment.partial is True
    assert enrollment.status is None and enrollment.enrolled_at is None
    assert enrollment.user == UserRef(
        id="5ea173beca205e67b47f4552",
        name="testAffSearch@learnworlds.com",
        emails=[Email(email="testaffsearch@learnworlds.com", is_primary=True)],
    )
    assert enrollment.course == CourseRef(id="intro-to-statistics", title="Intro to Statistics")
    # Completed with the member's /courses row and progress, it is the same enrollment, whole.
    whole = map_enrollment(
        "5ea173beca205e67b47f4552",
        rows("user_courses")[0],
        rows("user_progress")[0],
        now=NOW,
        user_raw=member,
    )
    assert whole.id == enrollment.id and whole.user == enrollment.user and not whole.partial


def test_expiry_depends_on_the_given_now() -> None:
    course_row, progress = rows("user_courses")[2], rows("user_progress")[2]
    before = map_enrollment(ANA, course_row, progress, now=utc(2022, 1, 1))
    after = map_enrollment(ANA, course_row, progress, now=NOW)
    assert (before.status, after.status) == (EnrollmentStatus.ENROLLED, EnrollmentStatus.EXPIRED)


# --- groups -----------------------------------------------------------------------------


def test_map_group() -> None:
    raw = rows("groups_page")[0]
    group = map_group(raw)
    assert group == Group(
        id="6650aa01b2c3d4e5f6a7b8c9",
        name="Partner cohort",
        description="Spring intake",
        members=None,  # from /v2/user_groups/{id}/users
        courses=[CourseRef(id="intro-to-statistics"), CourseRef(id="data-viz")],
        created_at=utc(2024, 5, 18, 2, 40, 0, 100000),
        updated_at=utc(2024, 5, 23, 21, 33, 20, 200000),
        custom_fields={
            "tags": ["partner"],
            "enroll_users_on_courses": True,
            "max_number_of_users": None,
            "group_managers": raw["group_managers"],
        },
        remote_data=raw,
    )
    assert group.partial is False
    second = map_group(rows("groups_page")[1])
    assert second.courses == [] and second.custom_fields["max_number_of_users"] == 200


def test_map_group_old_example_and_odd_values() -> None:
    group = map_group(load("group_old"))
    assert group.description is None
    assert group.courses == [CourseRef(id="1st-paid")]
    assert group.custom_fields == {
        "tags": [],
        "enroll_users_on_courses": None,
        "max_number_of_users": None,
        "group_managers": [],
        "access": "active",
        "number_of_seats": 2,
        "seat_managers": [],
        "total_enrollments": 2,
    }
    bare = map_group({"id": 7, "products": None, "description": ""})
    assert (bare.id, bare.name, bare.description, bare.courses) == ("7", None, None, [])
    odd = map_group({"id": "g", "products": {"courses": ["ok", "not a slug", None, "ok"]}})
    assert odd.courses == [CourseRef(id="ok")]


@pytest.mark.parametrize("name", ["group_members", "group_members_bare"])
def test_group_members_in_both_body_shapes(name: str) -> None:
    members = map_group_members(load(name))
    assert members[0].id in {ANA, "5ea173beca205e67b47f4552"}
    assert "5ea173beca205e67b47f4552" in [member.id for member in members]
    assert all(member.id for member in members)  # the entry without an id is left out
    odd = next(m for m in members if m.id == "5ea173beca205e67b47f4552")
    assert odd.name == "testAffSearch@learnworlds.com"
    assert odd.created_at == utc(2020, 4, 23, 10, 53, 50, 83278)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": "Users not found"}, []),
        ({"data": [], "meta": {"page": 1, "totalPages": 0}}, []),
        (None, []),
        ({"id": ANA, "first_name": "Ana"}, [ANA]),  # a single User object
        ({"data": {"users": [{"id": ANA}]}}, [ANA]),
    ],
)
def test_group_members_odd_bodies(body: object, expected: list[str]) -> None:
    assert [member.id for member in map_group_members(body)] == expected


def test_a_users_groups_in_every_body_shape() -> None:
    both = [
        GroupRef(id="6474d02a34c5a0154a0697a4", name="My super user group"),
        GroupRef(id="6650aa01b2c3d4e5f6a7b8c9", name="Partner cohort"),
    ]
    assert map_user_groups(load("user_groups")) == both  # null id left out, repeat dropped
    assert map_user_groups(load("user_groups_array")) == [
        GroupRef(id="6474d02a34c5a0154a0697a4", name="My user group"),
        both[1],
    ]
    assert map_user_groups(load("user_groups_single")) == [
        GroupRef(id="6474d02a34c5a0154a0697a4", name="My user group")
    ]
    assert map_user_groups({"data": [{"id": "g1", "title": "One"}], "meta": {"page": 1}}) == [
        GroupRef(id="g1", name="One")
    ]
    assert map_user_groups({"user_groups": [{"id": "g2", "name": "Two"}]}) == [
        GroupRef(id="g2", name="Two")
    ]
    for empty in (None, [], {}, {"data": {"user_groups": []}}, {"error": "x"}, "junk"):
        assert map_user_groups(empty) == []


# --- every mapper, together -------------------------------------------------------------


def _every_record() -> list[Any]:
    users = [map_user(raw) for raw in rows("users_page")]
    courses = [map_course(load("course")), map_course(load("course_legacy"))]
    items = map_course_items("intro-to-statistics", load("contents"))
    enrollments = list(_enrollments().values())
    groups = [map_group(raw) for raw in rows("groups_page")]
    return [*users, *courses, *items, *enrollments, *groups]


def test_custom_fields_and_remote_data_are_json() -> None:
    for record in _every_record():
        dumped = json.loads(record.model_dump_json())
        assert json.loads(json.dumps(dumped["custom_fields"])) == dumped["custom_fields"]
        assert isinstance(dumped["remote_data"], dict) and dumped["remote_data"]


def test_omitting_passthrough_changes_nothing_else() -> None:
    def without(record: Any) -> dict[str, Any]:
        return record.model_dump(exclude=set(PASSTHROUGH_FIELDS))

    full = _every_record()
    lean = [
        *[map_user(raw, omit=PASSTHROUGH_FIELDS) for raw in rows("users_page")],
        map_course(load("course"), omit=PASSTHROUGH_FIELDS),
        map_course(load("course_legacy"), omit=PASSTHROUGH_FIELDS),
        *map_course_items("intro-to-statistics", load("contents"), omit=PASSTHROUGH_FIELDS),
        *map_user_enrollments(
            ANA, rows("user_courses"), rows("user_progress"), now=NOW, omit=PASSTHROUGH_FIELDS
        ),
        *[map_group(raw, omit=PASSTHROUGH_FIELDS) for raw in rows("groups_page")],
    ]
    assert [without(record) for record in lean] == [without(record) for record in full]
    assert all(record.custom_fields == {} and record.remote_data is None for record in lean)


def test_mapping_does_not_modify_its_input() -> None:
    bodies = {
        name: load(name)
        for name in (
            "users_page",
            "course",
            "contents",
            "contents_legacy",
            "user_courses",
            "user_progress",
            "groups_page",
            "group_members_bare",
            "user_groups",
        )
    }
    before = copy.deepcopy(bodies)
    for raw in bodies["users_page"]["data"]:
        map_user(raw)
    map_course(bodies["course"])
    map_course_items("intro-to-statistics", bodies["contents"])
    map_course_items("testunits", bodies["contents_legacy"])
    map_user_enrollments(
        ANA, bodies["user_courses"]["data"], bodies["user_progress"]["data"], now=NOW
    )
    map_categories(bodies["user_courses"]["data"])
    for raw in bodies["groups_page"]["data"]:
        map_group(raw)
    map_group_members(bodies["group_members_bare"])
    map_user_groups(bodies["user_groups"])
    assert bodies == before


ODD_VALUES: list[Any] = [None, "", "  ", 0, -1, 1.5, True, [], {}, ["x"], {"x": 1}, "garbage"]


def test_mappers_never_raise_on_missing_or_odd_values() -> None:
    shapes = [
        rows("users_page")[1],
        load("course"),
        rows("groups_page")[0],
        rows("user_courses")[1],
        rows("user_progress")[1],
    ]
    for shape in shapes:
        for key in shape:
            for odd in ODD_VALUES:
                raw = {**shape, key: odd}
                map_user(raw)
                map_course(raw)
                map_group(raw)
                map_enrollment(ANA, raw, raw, now=NOW)
                map_roster_enrollment("c", raw)
                map_course_items("c", {"sections": [{**raw, "learningUnits": [raw]}]})
                map_categories([raw])
                map_group_members([raw])
                map_user_groups([raw])
    for odd in ODD_VALUES:
        page_of(odd)
        map_course_items("c", odd)
        map_group_members(odd)
        map_user_groups(odd)
    empty = map_user({})
    assert (empty.id, empty.status, empty.role, empty.emails) == (
        "",
        UserStatus.UNKNOWN,
        UserRole.LEARNER,
        [],
    )
