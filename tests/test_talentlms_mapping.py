"""TalentLMS → unified model mapping (``gateway.providers.talentlms.mapping``).

Fixtures in ``tests/fixtures/talentlms`` were written by hand from the shapes and quirks in
``shared/reference/talentlms-api.md`` (string ids and numbers, ``""`` vs ``null``, HTML-entity
prices, formatted dates in the portal's order with ``*_timestamp`` twins, lower-case vs
Title-case statuses, flat ``units[]`` with Section headers). Their formatted dates are
Europe/London wall time for the timestamps beside them, as in the reference's examples.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.domain.model import (
    Category,
    Course,
    CourseEnrollment,
    CourseItem,
    CourseLevel,
    CourseRef,
    CourseStatus,
    CourseType,
    Email,
    EnrollmentStatus,
    GroupRef,
    Organization,
    ParentItemRef,
    Url,
    User,
    UserRef,
    UserRole,
    UserStatus,
)
from gateway.providers.talentlms.mapping import (
    PASSTHROUGH_FIELDS,
    PortalConventions,
    course_item_id,
    course_level,
    course_status,
    enrollment_id,
    enrollment_status,
    map_category,
    map_course,
    map_course_items,
    map_group,
    map_roster_enrollment,
    map_user,
    map_user_enrollment,
    map_user_groups,
    split_course_item_id,
    split_enrollment_id,
    unit_type,
    user_role,
    user_status,
)
from gateway.providers.talentlms.values import DateFormat

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parent / "fixtures" / "talentlms"
LONDON = ZoneInfo("Europe/London")
DD = PortalConventions(date_format=DateFormat.DDMMYYYY)
DD_LONDON = PortalConventions(date_format=DateFormat.DDMMYYYY, timezone=LONDON)
MM = PortalConventions(date_format=DateFormat.MMDDYYYY)
UNKNOWN_FORMAT = PortalConventions()
NOW = datetime(2024, 1, 1, tzinfo=UTC)
BEFORE_EXPIRY = datetime(2020, 7, 1, tzinfo=UTC)

USER_FIELDS = [
    "id",
    "first_name",
    "last_name",
    "name",
    "username",
    "emails",
    "status",
    "role",
    "phones",
    "locale",
    "timezone",
    "job_title",
    "organization",
    "manager",
    "created_at",
    "updated_at",
    "custom_fields",
]
COURSE_FIELDS = [
    "id",
    "title",
    "description",
    "code",
    "type",
    "status",
    "language",
    "duration_seconds",
    "level",
    "urls",
    "tags",
    "categories",
    "organization",
    "published_at",
    "created_at",
    "updated_at",
    "custom_fields",
]
COURSE_ITEM_FIELDS = [
    "id",
    "course",
    "parent",
    "type",
    "title",
    "description",
    "position",
    "duration_seconds",
    "is_required",
    "urls",
    "created_at",
    "updated_at",
    "custom_fields",
]
ENROLLMENT_FIELDS = [
    "id",
    "user",
    "course",
    "status",
    "assigned_at",
    "due_at",
    "enrolled_at",
    "started_at",
    "last_activity_at",
    "completed_at",
    "progress_percent",
    "time_spent_seconds",
    "score",
    "is_mandatory",
    "assigned_by",
    "attempt_number",
    "attempts_count",
    "urls",
    "created_at",
    "updated_at",
    "custom_fields",
]


def load(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def without_login_key(raw: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in raw.items() if key != "login_key"}


def entry(user_raw: dict[str, Any], course_id: str) -> dict[str, Any]:
    return next(item for item in user_raw["courses"] if item["id"] == course_id)


# --- model shape ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "fields", "count"),
    [
        (User, USER_FIELDS, 17),
        (Course, COURSE_FIELDS, 17),
        (CourseItem, COURSE_ITEM_FIELDS, 13),
        (CourseEnrollment, ENROLLMENT_FIELDS, 21),
    ],
)
def test_contract_field_counts(model: type[Any], fields: list[str], count: int) -> None:
    assert len(fields) == count
    assert set(model.model_fields) - {"remote_data", "partial"} == set(fields)


def test_every_field_is_present_on_mapped_records() -> None:
    user_raw, course_raw = load("user_detail"), load("course_detail")
    dumps = [
        (map_user(user_raw, DD, partial=False), USER_FIELDS),
        (map_course(course_raw, DD, partial=False), COURSE_FIELDS),
        (map_course_items(course_raw)[0], COURSE_ITEM_FIELDS),
        (map_user_enrollment(user_raw, user_raw["courses"][0], DD, now=NOW), ENROLLMENT_FIELDS),
    ]
    for record, fields in dumps:
        dumped = json.loads(record.model_dump_json())
        assert list(dumped) == [*fields, "remote_data"]  # contract order, partial excluded
        assert isinstance(dumped["remote_data"], dict) and dumped["remote_data"]


# --- ids --------------------------------------------------------------------------------


def test_synthetic_ids_round_trip() -> None:
    assert enrollment_id("40457", "123") == "40457:123"
    assert split_enrollment_id("40457:123") == ("40457", "123")
    assert course_item_id("200", "4011") == "200:4011"
    assert split_course_item_id("200:4011") == ("200", "4011")


@pytest.mark.parametrize(
    "value",
    ["", "40457", "40457:", ":123", "a:1", "1:b", "1:2:3", " 1:2", "1:2 ", "1.0:2", "١:٢", "-1:2"],
)
def test_split_ids_reject_anything_but_two_digit_strings(value: str) -> None:
    assert split_enrollment_id(value) is None
    assert split_course_item_id(value) is None


def test_split_ids_reject_non_strings() -> None:
    assert split_enrollment_id(123) is None  # type: ignore[arg-type]
    assert split_course_item_id(None) is None  # type: ignore[arg-type]


# --- enumerations -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("active", UserStatus.ACTIVE),
        ("Active", UserStatus.ACTIVE),
        (" INACTIVE ", UserStatus.INACTIVE),
        ("inactive", UserStatus.INACTIVE),
        ("deleted", UserStatus.UNKNOWN),
        ("", UserStatus.UNKNOWN),
        (None, UserStatus.UNKNOWN),
        (1, UserStatus.UNKNOWN),
    ],
)
def test_user_status(value: object, expected: UserStatus) -> None:
    assert user_status(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("SuperAdmin", UserRole.ADMIN),
        ("Admin-Type", UserRole.ADMIN),
        ("Trainer-Type", UserRole.INSTRUCTOR),
        ("Learner-Type", UserRole.LEARNER),
        ("learner-type", UserRole.LEARNER),
        (" ADMIN-TYPE ", UserRole.ADMIN),
        # Custom types by keyword, admin > manager > trainer/instructor > learner.
        ("Branch Manager", UserRole.MANAGER),
        ("Administrator", UserRole.ADMIN),
        ("Instructor", UserRole.INSTRUCTOR),
        ("Senior Trainer", UserRole.INSTRUCTOR),
        ("Learner", UserRole.LEARNER),
        ("Learner-Instructor", UserRole.INSTRUCTOR),
        ("Manager-Trainer", UserRole.MANAGER),
        ("Course admin & manager", UserRole.ADMIN),
        ("Guest", UserRole.OTHER),
        ("", UserRole.OTHER),
        (None, UserRole.OTHER),
        (7, UserRole.OTHER),
    ],
)
def test_user_role(value: object, expected: UserRole) -> None:
    assert user_role(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("active", CourseStatus.PUBLISHED),
        ("Active", CourseStatus.PUBLISHED),
        ("inactive", CourseStatus.DISABLED),
        ("archived", CourseStatus.ARCHIVED),
        ("ARCHIVED", CourseStatus.ARCHIVED),
        ("draft", CourseStatus.UNKNOWN),
        ("", CourseStatus.UNKNOWN),
        (None, CourseStatus.UNKNOWN),
    ],
)
def test_course_status(value: object, expected: CourseStatus) -> None:
    assert course_status(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        ("beginner", CourseLevel.BEGINNER),
        ("Intermediate", CourseLevel.INTERMEDIATE),
        ("ADVANCED", CourseLevel.ADVANCED),
        ("mixed", CourseLevel.MIXED),
        ("1", CourseLevel.BEGINNER),
        ("2", CourseLevel.INTERMEDIATE),
        ("3", CourseLevel.ADVANCED),
        (2, CourseLevel.INTERMEDIATE),
        ("4", CourseLevel.UNKNOWN),
        ("expert", CourseLevel.UNKNOWN),
    ],
)
def test_course_level(value: object, expected: CourseLevel | None) -> None:
    assert course_level(value) is expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Section", "section"),
        ("Content", "content"),
        ("Web content", "web_content"),
        ("Video", "video"),
        ("Audio", "audio"),
        ("Presentation | Document", "document"),
        ("iFrame", "iframe"),
        ("Test", "test"),
        ("Survey", "survey"),
        ("Assignment", "assignment"),
        ("Instructor-led training", "ilt"),
        ("SCORM | xAPI | cmi5", "scorm"),
        # Case and spacing tolerance, legacy labels.
        ("section", "section"),
        ("WEB CONTENT", "web_content"),
        ("web_content", "web_content"),
        ("Presentation|Document", "document"),
        ("scorm  |  xapi | CMI5", "scorm"),
        ("Instructor led training", "ilt"),
        ("IFRAME", "iframe"),
        ("Unit", "content"),
        ("SCORM", "scorm"),
        # Unknown never fails.
        ("Hologram", "other"),
        ("", "other"),
        (None, "other"),
        (3, "other"),
    ],
)
def test_unit_type(label: object, expected: str) -> None:
    assert unit_type(label) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("not_attempted", EnrollmentStatus.ENROLLED),
        ("Not attempted", EnrollmentStatus.ENROLLED),
        ("NOT ATTEMPTED", EnrollmentStatus.ENROLLED),
        ("not started", EnrollmentStatus.ENROLLED),
        ("Not started", EnrollmentStatus.ENROLLED),
        ("incomplete", EnrollmentStatus.IN_PROGRESS),
        ("Incomplete", EnrollmentStatus.IN_PROGRESS),
        ("in_progress", EnrollmentStatus.IN_PROGRESS),
        ("In progress", EnrollmentStatus.IN_PROGRESS),
        ("pending", EnrollmentStatus.IN_PROGRESS),
        ("Pending", EnrollmentStatus.IN_PROGRESS),
        ("completed", EnrollmentStatus.COMPLETED),
        ("Completed", EnrollmentStatus.COMPLETED),
        ("passed", EnrollmentStatus.PASSED),
        ("Passed", EnrollmentStatus.PASSED),
        ("failed", EnrollmentStatus.FAILED),
        ("Failed", EnrollmentStatus.FAILED),
        ("", EnrollmentStatus.UNKNOWN),
        (None, EnrollmentStatus.UNKNOWN),
        ("archived", EnrollmentStatus.UNKNOWN),
    ],
)
def test_enrollment_status(value: object, expected: EnrollmentStatus) -> None:
    assert enrollment_status(value, now=NOW) is expected


EXPIRED = utc(2020, 12, 31, 23, 59, 59)


@pytest.mark.parametrize(
    ("value", "expired_at", "completed", "now", "expected"),
    [
        ("incomplete", EXPIRED, False, NOW, EnrollmentStatus.EXPIRED),
        ("Not attempted", EXPIRED, False, NOW, EnrollmentStatus.EXPIRED),
        ("", EXPIRED, False, NOW, EnrollmentStatus.EXPIRED),
        ("incomplete", EXPIRED, False, BEFORE_EXPIRY, EnrollmentStatus.IN_PROGRESS),
        ("incomplete", EXPIRED, False, EXPIRED, EnrollmentStatus.IN_PROGRESS),  # not yet past
        ("incomplete", EXPIRED, True, NOW, EnrollmentStatus.IN_PROGRESS),
        ("completed", EXPIRED, True, NOW, EnrollmentStatus.COMPLETED),
        ("Passed", EXPIRED, False, NOW, EnrollmentStatus.PASSED),
        ("failed", EXPIRED, False, NOW, EnrollmentStatus.FAILED),
        ("incomplete", None, False, NOW, EnrollmentStatus.IN_PROGRESS),
        ("incomplete", EXPIRED, False, datetime(2024, 1, 1), EnrollmentStatus.EXPIRED),
    ],
)
def test_enrollment_status_expiry(
    value: str,
    expired_at: datetime | None,
    completed: bool,
    now: datetime,
    expected: EnrollmentStatus,
) -> None:
    assert enrollment_status(value, expired_at=expired_at, completed=completed, now=now) is expected


# --- users ------------------------------------------------------------------------------


def test_map_user_list_item() -> None:
    raw = load("users_list_item")
    user = map_user(raw, DD_LONDON, partial=True)
    assert user == User(
        id="40457",
        first_name="John",
        last_name="Smith",
        name="John Smith",
        username="john.smith",
        emails=[Email(email="john.smith@example.org", type=None, is_primary=True)],
        status=UserStatus.ACTIVE,
        role=UserRole.LEARNER,
        phones=[],
        locale=None,
        timezone="(GMT +00:00) London",
        job_title=None,
        organization=None,
        manager=None,
        created_at=utc(2015, 11, 12, 7, 6, 53),  # GMT in November
        updated_at=utc(2020, 8, 21, 6, 5),  # from last_updated_timestamp
        custom_fields={
            "custom_field_1": "Company LLC",
            "custom_field_2": "on",
            "language": "English",
            "level": 1,
            "points": 0,
            "user_type": "Learner-Type",
            "restrict_email": False,
            "deactivation_date": None,
        },
        remote_data=without_login_key(raw),
        partial=True,
    )


def test_map_user_detail() -> None:
    raw = load("user_detail")
    user = map_user(raw, DD, partial=False)
    assert user.partial is False
    assert user.name == "john Smith"  # names are kept as sent
    assert user.organization == Organization(id="76", name="sample")
    assert user.created_at == utc(2015, 11, 12, 7, 6, 53)
    assert user.custom_fields == {
        "custom_field_1": "Company LLC",
        "custom_field_2": "on",
        "language": "English",
        "level": 1,
        "points": 150,
        "user_type": "Learner-Type",
        "restrict_email": True,
        "deactivation_date": None,
        "branches": [{"id": "76", "name": "sample"}, {"id": "77", "name": "EMEA"}],
        "groups": [{"id": "49", "name": "Sample group"}],
    }
    assert user.remote_data == without_login_key(raw)
    assert user.remote_data is not None
    assert len(user.remote_data["courses"]) == 7
    assert user.remote_data["certifications"][0]["issued_date_timestamp"] == 1565049600


def test_map_user_twelve_hour_portal() -> None:
    user = map_user(load("user_detail_12h"), DD_LONDON, partial=False)
    assert user.created_at == utc(2015, 11, 12, 19, 6, 53)  # "07:06:53 PM"
    assert user.updated_at == utc(2020, 8, 21, 18, 5)  # timestamp 1598033100
    assert user.custom_fields["deactivation_date"] == "2021-03-10T14:30:00Z"
    assert user.status is UserStatus.INACTIVE
    assert user.role is UserRole.ADMIN
    assert user.organization is None  # branches: []
    assert user.custom_fields["branches"] == []
    assert user.custom_fields["level"] == 4
    assert user.custom_fields["restrict_email"] is False


def test_map_user_mmddyyyy_portal() -> None:
    raw = load("user_detail_mmddyyyy")
    user = map_user(raw, MM, partial=False)
    assert user.created_at == utc(2015, 11, 12, 7, 6, 53)  # "11/12/2015" is 12 November
    assert user.updated_at == utc(2020, 8, 21, 6, 5)
    assert user.role is UserRole.INSTRUCTOR
    assert user.organization == Organization(id="80", name="North America")
    # Read in the wrong order the same string is another day; unknown order gives nothing.
    assert map_user(raw, DD, partial=False).created_at == utc(2015, 12, 11, 7, 6, 53)
    assert map_user(raw, UNKNOWN_FORMAT, partial=False).created_at is None


def test_map_user_custom_type_and_int_values() -> None:
    raw = load("user_custom_type")
    user = map_user(raw, DD, partial=True)
    assert user.id == "40460"
    assert user.role is UserRole.MANAGER
    assert user.status is UserStatus.ACTIVE  # "Active"
    assert user.updated_at == utc(2020, 8, 21, 6, 5)  # integer timestamp
    assert user.custom_fields == {
        "custom_field_1": "Sales",
        "custom_field_4": "11-6-2019",
        "language": "English",
        "level": 3,
        "points": 75,
        "user_type": "Branch Manager",
        "restrict_email": False,
        "deactivation_date": None,
    }


def test_map_user_empty_and_null_values() -> None:
    raw = load("user_abridged_empty")
    user = map_user(raw, DD, partial=True)
    assert user == User(
        id="40461",
        first_name=None,
        last_name=None,
        name=None,
        username="ghost",
        emails=[],
        status=UserStatus.UNKNOWN,
        role=UserRole.OTHER,
        timezone=None,
        created_at=None,
        updated_at=None,
        custom_fields={
            "custom_field_1": None,
            "custom_field_2": "",
            "language": None,
            "level": None,
            "points": None,
            "user_type": None,
            "restrict_email": None,
            "deactivation_date": None,
        },
        remote_data=without_login_key(raw),
        partial=True,
    )
    # remote_data keeps "" and null apart.
    assert user.remote_data is not None
    assert user.remote_data["first_name"] == ""
    assert user.remote_data["last_name"] is None


def test_map_user_with_unknown_date_format_keeps_timestamps() -> None:
    user = map_user(load("users_list_item"), UNKNOWN_FORMAT, partial=True)
    assert user.created_at is None
    assert user.updated_at == utc(2020, 8, 21, 6, 5)


def test_map_user_accepts_created_on_timestamp() -> None:
    raw = {**load("users_list_item"), "created_on_timestamp": "1447312013"}
    assert map_user(raw, UNKNOWN_FORMAT, partial=True).created_at == utc(2015, 11, 12, 7, 6, 53)


@pytest.mark.parametrize(
    "name",
    [
        "users_list_item",
        "user_detail",
        "user_detail_12h",
        "user_detail_mmddyyyy",
        "user_custom_type",
        "user_abridged_empty",
    ],
)
def test_login_key_never_reaches_the_output(name: str) -> None:
    raw = load(name)
    assert "login_key" in raw
    user = map_user(raw, DD, partial=False)
    assert user.remote_data is not None
    assert "login_key" not in user.remote_data
    assert "autologin" not in user.model_dump_json()
    json.dumps(user.custom_fields)
    json.dumps(user.remote_data)
    assert "login_key" in raw  # the input is not modified


def test_login_key_is_dropped_from_nested_copies() -> None:
    raw = {"id": "1", "courses": [{"id": "2", "login_key": "secret", "name": "C"}]}
    user = map_user(raw, DD, partial=False)
    assert user.remote_data == {"id": "1", "courses": [{"id": "2", "name": "C"}]}
    enrollment = map_user_enrollment(raw, raw["courses"][0], DD, now=NOW)
    assert enrollment.remote_data == {"id": "2", "name": "C"}


def test_custom_fields_and_remote_data_are_json_with_z_datetimes() -> None:
    raw = {"id": "1", "custom_field_9": datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)}
    user = map_user(raw, DD, partial=True)
    assert user.custom_fields["custom_field_9"] == "2020-01-02T03:04:05Z"
    assert user.remote_data == {"id": "1", "custom_field_9": "2020-01-02T03:04:05Z"}


# --- courses ----------------------------------------------------------------------------


def test_map_course_list_item() -> None:
    raw = load("course_list_item")
    course = map_course(raw, DD, partial=True)
    assert course == Course(
        id="123",
        title="Sample Course",
        description="<p>An <strong>introductory</strong> course.</p>",
        code=None,
        type=CourseType.COURSE,
        status=CourseStatus.PUBLISHED,
        language=None,
        duration_seconds=None,
        level=None,
        urls=[Url(url="https://example.talentlms.com/shared/start/key:ABCDEFGH", type="public")],
        tags=[],
        categories=[Category(id="21", name=None)],
        organization=None,
        published_at=None,
        created_at=utc(2017, 3, 21, 7, 18, 23),
        updated_at=utc(2020, 7, 13, 11, 29, 44),
        custom_fields={
            "custom_field_1": None,
            "custom_field_3": "Sales",
            "price": 49.0,
            "currency": "$",
            "hide_from_catalog": False,
            "time_limit": 0,
            "start_datetime": None,
            "expiration_datetime": None,
            "certification": None,
            "certification_duration": None,
            "creator_id": "30",
        },
        remote_data=raw,
        partial=True,
    )


def test_map_course_detail() -> None:
    raw = load("course_detail")
    course = map_course(raw, DD, partial=False)
    assert course.partial is False
    assert course.code == "SAF-101"
    assert course.description == "<p>Stay safe &amp; sound.</p>"  # HTML kept as sent
    assert course.status is CourseStatus.DISABLED
    assert course.level is CourseLevel.ADVANCED
    assert course.urls == []  # shared is "0" even though a shared_url exists
    assert course.categories == [Category(id="12", name=None)]
    assert course.custom_fields == {
        "custom_field_1": "Mandatory",
        "price": 1234.5,
        "currency": "€",
        "hide_from_catalog": True,  # "on"
        "time_limit": 30,
        "start_datetime": "2020-09-01T09:00:00Z",
        "expiration_datetime": "2020-12-31T23:59:59Z",
        "certification": "Safety Certificate",
        "certification_duration": "1 year",
        "creator_id": "30",
        "rules": ["All units must be completed"],
        "prerequisites": [{"course_id": "123", "course_name": "Sample Course"}],
    }
    assert course.remote_data == raw
    json.dumps(course.custom_fields)


def test_map_course_without_sections_and_other_values() -> None:
    course = map_course(load("course_detail_no_sections"), DD, partial=False)
    assert course.level is CourseLevel.INTERMEDIATE  # "2" [I]
    assert course.categories == []  # category_id null
    assert course.description is None  # ""
    assert course.custom_fields["hide_from_catalog"] is True  # "1"
    assert course.custom_fields["price"] == 0.0
    assert course.custom_fields["prerequisites"] == []
    assert course.created_at == utc(2021, 1, 5, 10)


def test_map_course_with_unknown_date_format() -> None:
    raw = load("course_detail")
    course = map_course(raw, UNKNOWN_FORMAT, partial=False)
    assert course.created_at is None
    assert course.updated_at is None
    # Unparsed access dates are kept as sent rather than lost.
    assert course.custom_fields["start_datetime"] == "01/09/2020, 09:00:00"


def test_map_course_keeps_unparseable_access_dates_as_text() -> None:
    raw = {**load("course_list_item"), "start_datetime": "soon", "expiration_datetime": ""}
    course = map_course(raw, DD, partial=True)
    assert course.custom_fields["start_datetime"] == "soon"
    assert course.custom_fields["expiration_datetime"] is None


def test_map_course_uses_portal_zone_for_formatted_dates() -> None:
    course = map_course(load("course_list_item"), DD_LONDON, partial=True)
    assert course.updated_at == utc(2020, 7, 13, 10, 29, 44)  # BST
    assert course.created_at == utc(2017, 3, 21, 7, 18, 23)  # GMT


def test_map_category() -> None:
    categories = [map_category(raw) for raw in load("categories")]
    assert categories == [
        Category(id="12", name="Sample Category"),
        Category(id="21", name="Safety"),  # integer id
        Category(id="11", name="Root"),
    ]


def test_siteinfo_date_format_drives_mapping() -> None:
    date_format = DateFormat.parse(load("siteinfo")["date_format"])
    assert date_format is DateFormat.DDMMYYYY
    course = map_course(load("course_list_item"), PortalConventions(date_format), partial=True)
    assert course.created_at == utc(2017, 3, 21, 7, 18, 23)


# --- course items -----------------------------------------------------------------------


def test_map_course_items_hierarchy() -> None:
    raw = load("course_detail")
    items = map_course_items(raw)
    week1 = ParentItemRef(id="200:4010", title="Week 1")
    week2 = ParentItemRef(id="200:4020", title="Week 2")
    assert [(i.id, i.type, i.parent, i.position, i.is_required) for i in items] == [
        ("200:4001", "content", None, 0, True),  # before the first Section
        ("200:4002", "content", None, 1, True),  # legacy "Unit"
        ("200:4010", "section", None, 2, None),
        ("200:4011", "video", week1, 3, True),
        ("200:4012", "scorm", week1, 4, True),
        ("200:4013", "document", week1, 5, True),
        ("200:4020", "section", None, 6, None),
        ("200:4021", "test", week2, 7, True),
        ("200:4022", "other", week2, 8, True),
        ("200:4023", "ilt", week2, 9, True),
    ]
    assert all(item.course == CourseRef(id="200", title="Workplace Safety") for item in items)


def test_map_course_item_fields() -> None:
    raw = load("course_detail")
    items = {item.id: item for item in map_course_items(raw)}
    assert items["200:4011"] == CourseItem(
        id="200:4011",
        course=CourseRef(id="200", title="Workplace Safety"),
        parent=ParentItemRef(id="200:4010", title="Week 1"),
        type="video",
        title="Safety video",
        description=None,
        position=3,
        duration_seconds=None,
        is_required=True,
        urls=[Url(url="https://example.talentlms.com/unit/view/id:4011", type="launch")],
        created_at=None,
        updated_at=None,
        custom_fields={"talentlms_type": "Video", "unit_id": "4011"},
        remote_data=raw["units"][3],
    )
    hologram = items["200:4022"]
    assert hologram.type == "other"
    assert hologram.custom_fields == {"talentlms_type": "Hologram", "unit_id": "4022"}
    assert items["200:4002"].custom_fields["talentlms_type"] == "Unit"
    assert items["200:4021"].custom_fields == {
        "talentlms_type": "Test",
        "unit_id": "4021",
        "aggregated_delay_time": 1440,
    }
    assert items["200:4013"].urls == []  # url ""


def test_map_course_items_without_sections() -> None:
    items = map_course_items(load("course_detail_no_sections"))
    assert [(i.id, i.type, i.parent, i.position, i.is_required) for i in items] == [
        ("201:5001", "content", None, 0, None),  # integer unit id; rule is not "all units"
        ("201:5002", "web_content", None, 1, None),
        ("201:5003", "iframe", None, 2, None),
        ("201:5004", "survey", None, 3, None),
        ("201:5005", "assignment", None, 4, None),
    ]
    assert items[0].custom_fields["unit_id"] == "5001"
    assert items[2].urls == []  # url null


def test_map_course_items_is_case_insensitive_and_tolerant() -> None:
    raw = {
        "id": "9",
        "name": "Odd",
        "rules": ["ALL UNITS MUST BE COMPLETED", None],
        "units": [
            None,
            {"id": "1", "type": "SECTION", "name": "Part A"},
            "junk",
            {"id": "2", "type": "test", "name": "Quiz"},
        ],
    }
    items = map_course_items(raw)
    assert [(i.id, i.type, i.parent, i.position, i.is_required) for i in items] == [
        ("9:1", "section", None, 1, None),
        ("9:2", "test", ParentItemRef(id="9:1", title="Part A"), 3, True),
    ]
    assert map_course_items({"id": "9", "units": "nope"}) == []
    assert map_course_items({}) == []


# --- enrollments ------------------------------------------------------------------------

USER_ENROLLMENTS = {
    # course id: (status at NOW, enrolled_at, completed_at, progress, seconds, urls)
    "123": (
        EnrollmentStatus.IN_PROGRESS,
        utc(2020, 5, 15, 3, 25, 35),
        None,
        40.0,
        197,
        [Url(url="https://example.talentlms.com/unit/view/id:3474", type="last_accessed_unit")],
    ),
    "124": (EnrollmentStatus.ENROLLED, utc(2020, 6, 2, 7, 15, 10), None, 0.0, 0, []),
    "125": (
        EnrollmentStatus.COMPLETED,  # completed before its expiry passed
        utc(2019, 12, 25, 3, 58, 40),
        utc(2019, 12, 25, 3, 58, 50),
        100.0,
        3723,
        [Url(url="https://example.talentlms.com/unit/view/id:3163", type="last_accessed_unit")],
    ),
    "126": (EnrollmentStatus.EXPIRED, utc(2020, 6, 30, 16, 45), None, 62.5, 548, []),
    "127": (
        EnrollmentStatus.PASSED,
        utc(2020, 5, 15, 3, 25, 35),
        utc(2020, 6, 2, 7, 15, 10),
        100.0,
        111,
        [],
    ),
    "128": (EnrollmentStatus.FAILED, utc(2020, 5, 15, 3, 25, 35), None, 100.0, 0, []),
    "129": (EnrollmentStatus.ENROLLED, utc(2020, 5, 15, 3, 25, 35), None, 0.0, 0, []),
}


@pytest.mark.parametrize("course_id", sorted(USER_ENROLLMENTS))
def test_map_user_enrollment(course_id: str) -> None:
    user_raw = load("user_detail")
    raw_entry = entry(user_raw, course_id)
    status, enrolled, completed, progress, seconds, urls = USER_ENROLLMENTS[course_id]
    enrollment = map_user_enrollment(user_raw, raw_entry, DD, now=NOW)
    assert enrollment.id == f"40457:{course_id}"
    assert enrollment.user == UserRef(
        id="40457",
        name="john Smith",
        emails=[Email(email="john.smith@example.org", type=None, is_primary=True)],
    )
    assert enrollment.course == CourseRef(id=course_id, title=raw_entry["name"])
    assert enrollment.status is status
    assert enrollment.enrolled_at == enrolled
    assert enrollment.completed_at == completed
    assert enrollment.progress_percent == progress
    assert enrollment.time_spent_seconds == seconds
    assert enrollment.updated_at == (completed or enrolled)
    assert enrollment.urls == urls
    assert enrollment.remote_data == raw_entry
    assert enrollment.partial is False
    for unset in ("score", "started_at", "last_activity_at", "assigned_at", "due_at"):
        assert getattr(enrollment, unset) is None


def test_map_user_enrollment_custom_fields() -> None:
    user_raw = load("user_detail")
    expired = map_user_enrollment(user_raw, entry(user_raw, "126"), DD, now=NOW)
    assert expired.custom_fields == {
        "role": "learner",
        "completion_status": "incomplete",
        "completion_status_formatted": "In progress",
        "expired_at": "2020-12-31T23:59:59Z",
    }
    instructor = map_user_enrollment(user_raw, entry(user_raw, "129"), DD, now=NOW)
    assert instructor.custom_fields["role"] == "instructor"
    assert instructor.custom_fields["expired_at"] is None


def test_expiry_depends_on_the_given_now() -> None:
    user_raw = load("user_detail")
    raw_entry = entry(user_raw, "126")
    before = map_user_enrollment(user_raw, raw_entry, DD, now=BEFORE_EXPIRY)
    after = map_user_enrollment(user_raw, raw_entry, DD, now=NOW)
    assert before.status is EnrollmentStatus.IN_PROGRESS
    assert after.status is EnrollmentStatus.EXPIRED


def test_map_user_enrollment_falls_back_to_formatted_dates() -> None:
    user_raw = load("user_detail_12h")
    raw_entry = user_raw["courses"][0]
    enrollment = map_user_enrollment(user_raw, raw_entry, DD_LONDON, now=NOW)
    assert enrollment.enrolled_at == utc(2020, 5, 15, 15, 25)  # "4:25 pm" BST
    assert enrollment.updated_at == utc(2020, 5, 15, 15, 25)
    assert enrollment.user is not None and enrollment.user.name == "Mary Jones"
    unknown = map_user_enrollment(user_raw, raw_entry, UNKNOWN_FORMAT, now=NOW)
    assert unknown.enrolled_at is None
    assert unknown.updated_at is None


def test_map_user_enrollment_mmddyyyy() -> None:
    user_raw = load("user_detail_mmddyyyy")
    enrollment = map_user_enrollment(user_raw, user_raw["courses"][0], MM, now=NOW)
    assert enrollment.status is EnrollmentStatus.COMPLETED
    assert enrollment.enrolled_at == utc(2019, 12, 25, 3, 58, 40)
    assert enrollment.completed_at == utc(2019, 12, 25, 3, 58, 50)
    assert enrollment.custom_fields["role"] == "instructor"


@pytest.mark.parametrize(
    ("lower", "title", "expected"),
    [
        ("not_attempted", "Not attempted", EnrollmentStatus.ENROLLED),
        ("incomplete", "Incomplete", EnrollmentStatus.IN_PROGRESS),
        ("completed", "Completed", EnrollmentStatus.COMPLETED),
        ("passed", "Passed", EnrollmentStatus.PASSED),
        ("failed", "Failed", EnrollmentStatus.FAILED),
    ],
)
def test_lower_and_title_case_statuses_agree(
    lower: str, title: str, expected: EnrollmentStatus
) -> None:
    user_raw = load("user_detail")
    listed = {**entry(user_raw, "123"), "completion_status": lower}
    assert map_user_enrollment(user_raw, listed, DD, now=NOW).status is expected
    assert enrollment_status(title, now=NOW) is expected


def test_map_roster_enrollment() -> None:
    course_raw = load("course_detail")
    learner = course_raw["users"][1]
    enrollment = map_roster_enrollment(course_raw, learner, DD, now=NOW)
    assert enrollment == CourseEnrollment(
        id="40457:200",
        user=UserRef(id="40457", name="J. Smith", emails=[]),
        course=CourseRef(id="200", title="Workplace Safety"),
        status=None,  # roster rows carry no completion_status
        enrolled_at=utc(2019, 11, 24, 9, 52, 37),
        completed_at=None,
        progress_percent=0.0,
        time_spent_seconds=0,
        updated_at=utc(2019, 11, 24, 9, 52, 37),
        urls=[],
        custom_fields={"role": "learner", "expired_at": "2020-12-31T23:59:59Z"},
        remote_data=learner,
        partial=True,
    )
    creator = map_roster_enrollment(course_raw, course_raw["users"][0], DD, now=NOW)
    assert creator.id == "30:200"
    assert creator.custom_fields == {"role": "instructor", "expired_at": None}


def test_users_progress_in_units_statuses_normalise() -> None:
    rows = load("usersprogressinunits")
    assert [enrollment_status(row["status"], now=NOW) for row in rows] == [
        EnrollmentStatus.COMPLETED,
        EnrollmentStatus.ENROLLED,
        EnrollmentStatus.IN_PROGRESS,
    ]


# --- tolerance --------------------------------------------------------------------------

ODD: dict[str, Any] = {
    "id": ["x"],
    "first_name": 5,
    "email": {"a": 1},
    "status": None,
    "branches": "nope",
    "groups": [None, {"id": 3}],
    "level": "high",
    "last_updated_timestamp": "soon",
    "created_on": "31/02/2020",
    "price": "Free",
    "shared": "1",
    "shared_url": None,
    "category_id": {},
    "rules": "All units must be completed",
    "prerequisites": [None],
    "units": [{"type": None}],
    "completion_status": 3,
    "completion_percentage": "lots",
    "total_time_seconds": "x",
    "total_time": "forever",
    "enrolled_on_timestamp": -1,
    "expired_on_timestamp": "1",
}


def test_mappers_never_raise_on_missing_or_odd_values() -> None:
    for raw in ({}, ODD):
        user = map_user(raw, DD, partial=True)
        course = map_course(raw, DD, partial=True)
        map_category(raw)
        map_course_items(raw)
        map_user_enrollment(raw, raw, DD, now=NOW)
        map_roster_enrollment(raw, raw, DD, now=NOW)
        json.dumps(user.custom_fields)
        json.dumps(course.custom_fields)
    user = map_user(ODD, DD, partial=True)
    assert user.id == ""
    assert user.first_name == "5"
    assert user.emails == []
    assert user.created_at is None and user.updated_at is None
    assert user.custom_fields["groups"] == [{"id": "3", "name": None}]
    assert "branches" not in user.custom_fields
    course = map_course(ODD, DD, partial=True)
    assert course.urls == [] and course.categories == []
    assert course.level is CourseLevel.UNKNOWN
    assert course.custom_fields["rules"] == []
    assert course.custom_fields["prerequisites"] == []
    item = map_course_items({"id": "4", **{"units": [{"type": None}]}})[0]
    assert (item.id, item.type, item.custom_fields["talentlms_type"]) == ("4:", "other", None)
    odd = map_user_enrollment(ODD, ODD, DD, now=NOW)
    assert odd.status is EnrollmentStatus.EXPIRED  # expired at 1970, no completion
    assert odd.progress_percent is None and odd.time_spent_seconds is None


def test_mapping_does_not_modify_its_input() -> None:
    raw = load("user_detail")
    before = copy.deepcopy(raw)
    map_user(raw, DD, partial=False)
    for item in raw["courses"]:
        map_user_enrollment(raw, item, DD, now=NOW)
    assert raw == before


def _mapped_both_ways() -> list[tuple[Any, Any]]:
    """Each mapper's output in full and with the passthrough fields omitted."""
    user_raw, course_raw = load("user_detail"), load("course_detail")
    learner = course_raw["users"][1]
    omit = PASSTHROUGH_FIELDS
    return [
        (map_user(user_raw, DD, partial=False), map_user(user_raw, DD, partial=False, omit=omit)),
        (
            map_course(course_raw, DD, partial=False),
            map_course(course_raw, DD, partial=False, omit=omit),
        ),
        *zip(map_course_items(course_raw), map_course_items(course_raw, omit=omit), strict=True),
        (
            map_user_enrollment(user_raw, entry(user_raw, "126"), DD, now=NOW),
            map_user_enrollment(user_raw, entry(user_raw, "126"), DD, now=NOW, omit=omit),
        ),
        (
            map_roster_enrollment(course_raw, learner, DD, now=NOW),
            map_roster_enrollment(course_raw, learner, DD, now=NOW, omit=omit),
        ),
        (
            map_group(load("group_detail"), partial=False),
            map_group(load("group_detail"), partial=False, omit=omit),
        ),
    ]


def test_omitting_passthrough_changes_nothing_else() -> None:
    for full, lean in _mapped_both_ways():
        assert full.custom_fields and full.remote_data  # there was something to leave out
        assert lean.custom_fields == {} and lean.remote_data is None
        assert lean.model_dump(exclude=set(PASSTHROUGH_FIELDS)) == full.model_dump(
            exclude=set(PASSTHROUGH_FIELDS)
        )


# --- groups -----------------------------------------------------------------------------


def test_group_list_item_has_no_members_or_courses() -> None:
    group = map_group(load("group_list_item"), partial=True)
    assert (group.id, group.name, group.description) == ("1", "Sales Staff", None)  # "" → None
    assert group.members is None and group.courses is None  # not listed, not "none"
    assert group.partial
    assert group.created_at is None and group.updated_at is None  # TalentLMS records none
    assert group.custom_fields == {
        "price": 0.0,
        "currency": "$",  # "&#36;0.00": an HTML entity
        "owner_id": "30",
        "belongs_to_branch": None,
        "max_redemptions": None,
        "redemptions_sofar": None,
    }


def test_group_record_lists_members_and_courses_in_order() -> None:
    group = map_group(load("group_detail"), partial=False)
    assert group.name == "Sample group"  # trimmed
    assert group.description == "<p>Partners &amp; resellers</p>"  # HTML kept as sent
    # Members keep TalentLMS's short names; an entry without an id names nobody.
    assert group.members == [
        UserRef(id="40457", name="J. Smith"),
        UserRef(id="12345", name="A. Jones"),
    ]
    assert group.courses == [
        CourseRef(id="123", title="Sample Course"),
        CourseRef(id="125", title="Safety Training"),
    ]
    assert not group.partial
    assert group.custom_fields == {
        "price": 1234.5,
        "currency": "€",
        "owner_id": "30",
        "belongs_to_branch": "77",
        "max_redemptions": 25,  # numbers as strings
        "redemptions_sofar": 3,
    }


def test_group_key_is_a_secret_left_out_of_remote_data() -> None:
    for name in ("group_list_item", "group_detail", "group_detail_empty"):
        raw = load(name)
        group = map_group(raw, partial=False)
        assert group.remote_data == {k: v for k, v in raw.items() if k != "key"}
        if raw["key"]:
            assert raw["key"] not in json.dumps(group.model_dump(mode="json"))


def test_group_with_empty_lists_and_blank_values() -> None:
    group = map_group(load("group_detail_empty"), partial=False)
    assert group.members == [] and group.courses == []  # listed, and empty
    assert group.description is None
    assert group.custom_fields == {
        "price": None,
        "currency": None,
        "owner_id": "1",
        "belongs_to_branch": None,
        "max_redemptions": None,
        "redemptions_sofar": 0,
    }


@pytest.mark.parametrize(
    ("users", "expected"),
    [
        # An id-keyed object instead of an array, as other v1 endpoints send.
        ({"7": {"id": 7, "name": "B. Lee"}}, [UserRef(id="7", name="B. Lee")]),
        ([{"id": 8}, "junk", None, {"name": "no id"}], [UserRef(id="8", name=None)]),
        ("", None),
        (None, None),
    ],
)
def test_group_members_are_read_tolerantly(users: Any, expected: Any) -> None:
    assert map_group({"id": "5", "users": users}, partial=False).members == expected


def test_a_users_groups_come_from_the_user_record() -> None:
    assert map_user_groups(load("user_detail")) == [GroupRef(id="49", name="Sample group")]
    assert map_user_groups(load("user_detail_12h")) == []
    assert map_user_groups(load("users_list_item")) == []  # the list leaves groups out
    odd = {"groups": [{"id": 3}, {"id": None, "name": "x"}, {"id": "4", "name": ""}]}
    assert map_user_groups(odd) == [GroupRef(id="3"), GroupRef(id="4")]


def test_group_mapping_does_not_modify_its_input() -> None:
    raw = load("group_detail")
    before = copy.deepcopy(raw)
    map_group(raw, partial=False)
    assert raw == before
