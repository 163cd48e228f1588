"""TalentLMS v1 payloads → unified models. Pure functions: no I/O, no clock ("now" is passed in).

The field-by-field table (unified field ← TalentLMS source, with notes) is in
``docs/talentlms-mapping.md``; reference §16 proposed it and the decisions below settle it.

Decisions:

* **Ids.** Every id becomes a ``str`` (``usersignup`` sends ints). TalentLMS has no enrollment
  id, so an enrollment is ``"{user_id}:{course_id}"``; a unit can be linked into several
  courses, so a course item is ``"{course_id}:{unit_id}"``. Both split back with the
  ``split_*`` helpers, which accept only two non-empty digit strings.
* **Dates.** A ``*_timestamp`` twin always wins. Dates that exist only formatted
  (user ``created_on``, course ``creation_date``/``last_update_on``) are parsed with the
  portal's ``date_format`` and read as wall time in ``PortalConventions.timezone`` (the zone
  is [I]); with the format unknown they map to ``None`` rather than to a guess.
* **Statuses.** Lower-case ``courses[]`` tokens and Title-case ``getuserstatusincourse``
  values normalise to the same enum (reference §9). A past ``expired_on`` without a
  completion makes an enrollment ``expired``. Roster rows (``courses/id:`` → ``users[]``)
  carry no status: ``status`` is ``None`` and the enrollment is ``partial``.
* **Roles.** Default user types map by name; custom types by keyword (admin, manager,
  trainer/instructor, learner — first match wins), else ``other``.
* **Course items.** ``units[]`` is flat; a ``Section`` is the parent of the units after it.
  Unknown unit labels map to ``"other"`` and keep their label in ``custom_fields``.
* **Secrets and passthrough.** ``remote_data`` is a JSON-safe deep copy of the source
  object without ``login_key`` (an auto-login link) at any depth. ``custom_fields`` and
  ``remote_data`` hold only JSON values; datetimes are ISO 8601 strings ending in ``Z``.
* **Groups.** ``/groups`` items lack ``users``/``courses`` (``partial``); ``/groups/id:`` has
  them as ``[{id, name}]``, and ``members``/``courses`` are ``None`` only when the record does
  not list them. A member's ``name`` is TalentLMS's short form (``"J. Smith"``). A group's
  ``key`` lets whoever holds it join the group (``addusertogroup``, counted against
  ``max_redemptions``), so it is left out of ``remote_data`` like ``login_key``.
* **Tolerance.** Missing or odd values become ``None``/``[]``; no mapper raises on them.
* **Unread passthrough.** A caller may ``omit`` ``custom_fields`` and ``remote_data`` (the
  deep copies that dominate mapping's cost) when its operation selects neither; they then
  keep their empty defaults. Every other field is always mapped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any, TypeVar

from gateway.domain.model import (
    PASSTHROUGH_FIELDS,
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
    Group,
    GroupRef,
    Organization,
    ParentItemRef,
    Url,
    User,
    UserRef,
    UserRole,
    UserStatus,
)
from gateway.providers.talentlms.values import (
    DateFormat,
    best_datetime,
    currency_symbol,
    duration_seconds,
    flag,
    integer,
    is_id,
    number,
    portal_datetime,
    price,
    text,
)

__all__ = [
    "PASSTHROUGH_FIELDS",
    "PortalConventions",
    "course_item_id",
    "course_level",
    "course_status",
    "enrollment_id",
    "enrollment_status",
    "map_category",
    "map_course",
    "map_course_items",
    "map_group",
    "map_organization",
    "map_roster_enrollment",
    "map_user",
    "map_user_enrollment",
    "map_user_groups",
    "split_course_item_id",
    "split_enrollment_id",
    "unit_type",
    "user_role",
    "user_status",
]


@dataclass(frozen=True)
class PortalConventions:
    """What mapping must know about one portal."""

    # From siteinfo.date_format; None = unknown (formatted-only dates map to None).
    date_format: DateFormat | None = None
    # Zone in which the portal renders formatted dates ([I] in the reference).
    timezone: tzinfo = UTC


R = TypeVar("R", UserRef, CourseRef, GroupRef)

_NOTHING: frozenset[str] = frozenset()


# --- synthetic ids ----------------------------------------------------------------------


def enrollment_id(user_id: str, course_id: str) -> str:
    """The id of a user-course enrollment; TalentLMS has none of its own."""
    return f"{user_id}:{course_id}"


def split_enrollment_id(value: str) -> tuple[str, str] | None:
    """``(user_id, course_id)`` from an enrollment id, or ``None`` if it is not one of ours."""
    return _split_pair(value)


def course_item_id(course_id: str, unit_id: str) -> str:
    """The id of a unit within a course: a unit can be linked into several courses."""
    return f"{course_id}:{unit_id}"


def split_course_item_id(value: str) -> tuple[str, str] | None:
    """``(course_id, unit_id)`` from a course item id, or ``None`` if it is not one of ours."""
    return _split_pair(value)


def _split_pair(value: object) -> tuple[str, str] | None:
    """Two decimal ids around one ``:``.

    TalentLMS ids are decimal; anything else cannot address an upstream record, so it is
    rejected here rather than sent into a path parameter.
    """
    if not isinstance(value, str):
        return None
    parts = value.split(":")
    if len(parts) != 2 or not all(is_id(part) for part in parts):
        return None
    return parts[0], parts[1]


# --- enumerations -----------------------------------------------------------------------


def _key(value: object) -> str | None:
    """Lower-case, ``_`` as space, single spaces: how TalentLMS labels are compared."""
    label = text(value)
    if label is None:
        return None
    return " ".join(label.lower().replace("_", " ").split())


def user_status(value: object) -> UserStatus:
    """``active``/``inactive`` in any case; anything else is ``unknown``."""
    return {"active": UserStatus.ACTIVE, "inactive": UserStatus.INACTIVE}.get(
        _key(value) or "", UserStatus.UNKNOWN
    )


_DEFAULT_USER_TYPES = {
    "superadmin": UserRole.ADMIN,
    "admin-type": UserRole.ADMIN,
    "trainer-type": UserRole.INSTRUCTOR,
    "learner-type": UserRole.LEARNER,
}
# Custom user types are free names ([I]); the first keyword found decides.
_ROLE_KEYWORDS = (
    ("admin", UserRole.ADMIN),
    ("manager", UserRole.MANAGER),
    ("trainer", UserRole.INSTRUCTOR),
    ("instructor", UserRole.INSTRUCTOR),
    ("learner", UserRole.LEARNER),
)


def user_role(user_type: object) -> UserRole:
    """The unified role of a TalentLMS ``user_type`` (default or portal-defined)."""
    key = _key(user_type)
    if key is None:
        return UserRole.OTHER
    if key in _DEFAULT_USER_TYPES:
        return _DEFAULT_USER_TYPES[key]
    return next((role for word, role in _ROLE_KEYWORDS if word in key), UserRole.OTHER)


_COURSE_STATUSES = {
    "active": CourseStatus.PUBLISHED,
    "inactive": CourseStatus.DISABLED,
    "archived": CourseStatus.ARCHIVED,
}


def course_status(value: object) -> CourseStatus:
    """``active`` → published, ``inactive`` → disabled, ``archived`` ([T]) → archived."""
    return _COURSE_STATUSES.get(_key(value) or "", CourseStatus.UNKNOWN)


_COURSE_LEVELS = {
    "beginner": CourseLevel.BEGINNER,
    "intermediate": CourseLevel.INTERMEDIATE,
    "advanced": CourseLevel.ADVANCED,
    "mixed": CourseLevel.MIXED,
    # v1 sends level as a string or null; a numeric 1..3 scale is [I].
    "1": CourseLevel.BEGINNER,
    "2": CourseLevel.INTERMEDIATE,
    "3": CourseLevel.ADVANCED,
}


def course_level(value: object) -> CourseLevel | None:
    """Course level by name or 1..3 ([I]); ``None`` when unset, ``unknown`` when unrecognised."""
    key = _key(value)
    if key is None:
        return None
    return _COURSE_LEVELS.get(key, CourseLevel.UNKNOWN)


# Reference §16.3, keyed by the label in lower case without spaces, "-" or "_".
_UNIT_TYPES = {
    "section": "section",
    "content": "content",
    "unit": "content",  # older portals' plain content [I]
    "webcontent": "web_content",
    "video": "video",
    "audio": "audio",
    "presentation|document": "document",
    "presentation": "document",
    "document": "document",
    "iframe": "iframe",
    "test": "test",
    "survey": "survey",
    "assignment": "assignment",
    "instructorledtraining": "ilt",
    "ilt": "ilt",
    "scorm|xapi|cmi5": "scorm",
    "scorm": "scorm",  # older portals [I]
    "xapi": "scorm",
    "cmi5": "scorm",
}


def unit_type(label: object) -> str:
    """The normalised kind of a unit from its display label; unknown labels give ``"other"``."""
    key = _key(label)
    if key is None:
        return "other"
    return _UNIT_TYPES.get(re.sub(r"[\s\-]+", "", key), "other")


_COMPLETION_STATUSES = {
    "not attempted": EnrollmentStatus.ENROLLED,
    "not started": EnrollmentStatus.ENROLLED,
    "incomplete": EnrollmentStatus.IN_PROGRESS,
    "in progress": EnrollmentStatus.IN_PROGRESS,
    "pending": EnrollmentStatus.IN_PROGRESS,  # awaiting grading
    "completed": EnrollmentStatus.COMPLETED,
    "passed": EnrollmentStatus.PASSED,
    "failed": EnrollmentStatus.FAILED,
}
# Outcomes an expiry cannot override: the learner finished, one way or the other.
_FINAL_STATUSES = frozenset(
    {EnrollmentStatus.COMPLETED, EnrollmentStatus.PASSED, EnrollmentStatus.FAILED}
)


def enrollment_status(
    completion_status: object,
    *,
    expired_at: datetime | None = None,
    completed: bool = False,
    now: datetime,
) -> EnrollmentStatus:
    """The unified status of a TalentLMS ``completion_status`` (reference §9 "Normalising").

    Case and ``_``/space do not matter, so ``not_attempted`` and ``Not attempted`` agree.
    An access period that ended before ``now`` without a completion turns an enrolled,
    in-progress or unrecognised enrollment into ``expired``.
    """
    status = _COMPLETION_STATUSES.get(_key(completion_status) or "", EnrollmentStatus.UNKNOWN)
    if (
        expired_at is not None
        and not completed
        and status not in _FINAL_STATUSES
        and _as_utc(expired_at) < _as_utc(now)
    ):
        return EnrollmentStatus.EXPIRED
    return status


def _as_utc(value: datetime) -> datetime:
    """A naive datetime from a caller is taken as UTC rather than failing a comparison."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# --- shared helpers ---------------------------------------------------------------------

_SECRET_KEYS = frozenset({"login_key"})
_CUSTOM_FIELD = re.compile(r"custom_field_\d+")


def _iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` suffix, for JSON-only places (custom fields)."""
    if value is None:
        return None
    return _as_utc(value).astimezone(UTC).isoformat().replace("+00:00", "Z")


_JSON_LEAVES = frozenset({str, int, bool, type(None)})


def _json(value: object) -> Any:
    """A JSON-safe deep copy, without secret keys at any depth."""
    # Exact types first: decoded JSON is only dicts, lists and leaves, and an ABC
    # isinstance check per value made this copy a tenth of a dashboard's CPU.
    if type(value) in _JSON_LEAVES:
        return value
    if type(value) is dict:
        return {
            key if type(key) is str else str(key): _json(item)
            for key, item in value.items()
            if key not in _SECRET_KEYS
        }
    if type(value) is list:
        return [_json(item) for item in value]
    if isinstance(value, Mapping):
        return {
            str(key): _json(item) for key, item in value.items() if str(key) not in _SECRET_KEYS
        }
    if isinstance(value, list | tuple):
        return [_json(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN/Infinity are not JSON
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _remote(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``remote_data``: the source object, JSON-safe and without ``login_key``."""
    copied: dict[str, Any] = _json(raw)
    return copied


def _id(value: object) -> str:
    """A string id; a record without one still maps (to ``""``) instead of failing."""
    return text(value) or ""


def _html(value: object) -> str | None:
    """A string kept exactly as sent (HTML included); blank → ``None``."""
    return value if isinstance(value, str) and value.strip() else None


def _full_name(raw: Mapping[str, Any]) -> str | None:
    """``"first last"`` with blanks left out; ``None`` when both are blank."""
    parts = (text(raw.get("first_name")), text(raw.get("last_name")))
    return " ".join(part for part in parts if part) or None


def _emails(raw: Mapping[str, Any]) -> list[Email]:
    """TalentLMS has one address per user and no address type: it is the primary one."""
    address = text(raw.get("email"))
    return [Email(email=address, type=None, is_primary=True)] if address else []


def _urls(value: object, kind: str) -> list[Url]:
    """A one-element ``urls`` list when the URL is set, else ``[]``."""
    url = text(value)
    return [Url(url=url, type=kind)] if url else []


def _entries(value: object) -> list[Mapping[str, Any]]:
    """The objects of a list-valued field; anything else in or instead of the list is ignored."""
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _id_names(value: object) -> list[dict[str, str | None]]:
    """``[{id, name}]`` with string ids, e.g. a user's ``branches`` or ``groups``."""
    return [
        {"id": text(item.get("id")), "name": text(item.get("name"))} for item in _entries(value)
    ]


def _custom_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Every portal-defined ``custom_field_N`` as sent (checkboxes stay ``"on"``/``"off"``)."""
    return {
        key: _json(value)
        for key, value in raw.items()
        if isinstance(key, str) and _CUSTOM_FIELD.fullmatch(key)
    }


def _dated(raw: Mapping[str, Any], name: str, portal: PortalConventions) -> datetime | None:
    """``{name}`` as an instant: ``{name}_timestamp`` first, the formatted ``{name}`` second."""
    return best_datetime(
        raw.get(f"{name}_timestamp"), raw.get(name), portal.date_format, portal.timezone
    )


def _formatted(value: object, portal: PortalConventions) -> datetime | None:
    """A date TalentLMS sends only formatted; ``None`` while the portal's format is unknown."""
    if portal.date_format is None:
        return None
    return portal_datetime(value, portal.date_format, portal.timezone)


def _formatted_json(value: object, portal: PortalConventions) -> str | None:
    """A formatted date for ``custom_fields``: ISO when it parses, else the text as sent."""
    return _iso(_formatted(value, portal)) or text(value)


# --- users ------------------------------------------------------------------------------


def map_user(
    raw: Mapping[str, Any],
    portal: PortalConventions,
    *,
    partial: bool,
    omit: frozenset[str] = _NOTHING,
) -> User:
    """A unified ``User`` from a ``/users`` item (``partial``) or a ``/users/id:`` record.

    Only the detail record has ``branches``/``groups``, so ``organization`` (the first
    branch) and those custom fields are absent from list items.
    """
    return User(
        id=_id(raw.get("id")),
        first_name=text(raw.get("first_name")),
        last_name=text(raw.get("last_name")),
        name=_full_name(raw),
        username=text(raw.get("login")),
        emails=_emails(raw),
        status=user_status(raw.get("status")),
        role=user_role(raw.get("user_type")),
        phones=[],
        locale=None,  # `language` is a display name ("English"), not a locale
        timezone=text(raw.get("timezone")),  # a TalentLMS label, not an IANA name
        job_title=None,
        organization=_organization(raw),
        manager=None,
        created_at=_dated(raw, "created_on", portal),
        updated_at=_dated(raw, "last_updated", portal),
        custom_fields={} if "custom_fields" in omit else _user_custom_fields(raw, portal),
        remote_data=None if "remote_data" in omit else _remote(raw),
        partial=partial,
    )


def _user_custom_fields(raw: Mapping[str, Any], portal: PortalConventions) -> dict[str, Any]:
    custom_fields: dict[str, Any] = {
        **_custom_fields(raw),
        "language": text(raw.get("language")),
        "level": integer(raw.get("level")),
        "points": integer(raw.get("points")),
        "user_type": text(raw.get("user_type")),
        "restrict_email": flag(raw.get("restrict_email")),
        "deactivation_date": _iso(_dated(raw, "deactivation_date", portal)),
    }
    for key in ("branches", "groups"):
        if isinstance(raw.get(key), list):
            custom_fields[key] = _id_names(raw.get(key))
    return custom_fields


def _organization(raw: Mapping[str, Any]) -> Organization | None:
    """The user's first branch: branches are TalentLMS's sub-portals (detail records only)."""
    branch = next(iter(_entries(raw.get("branches"))), None)
    branch_id = text(branch.get("id")) if branch is not None else None
    if branch is None or branch_id is None:
        return None
    return Organization(id=branch_id, name=text(branch.get("name")))


# --- courses ----------------------------------------------------------------------------


def map_course(
    raw: Mapping[str, Any],
    portal: PortalConventions,
    *,
    partial: bool,
    omit: frozenset[str] = _NOTHING,
) -> Course:
    """A unified ``Course`` from a ``/courses`` item (``partial``) or a ``/courses/id:`` record.

    ``time_limit`` is an access limit, not a duration, so ``duration_seconds`` stays ``None``.
    """
    category_id = text(raw.get("category_id"))
    return Course(
        id=_id(raw.get("id")),
        title=text(raw.get("name")),
        description=_html(raw.get("description")),
        code=text(raw.get("code")),
        type=CourseType.COURSE,
        status=course_status(raw.get("status")),
        language=None,
        duration_seconds=None,
        level=course_level(raw.get("level")),
        urls=_urls(raw.get("shared_url"), "public") if flag(raw.get("shared")) else [],
        tags=[],
        categories=[Category(id=category_id, name=None)] if category_id else [],
        organization=None,
        published_at=None,
        created_at=_formatted(raw.get("creation_date"), portal),
        updated_at=_formatted(raw.get("last_update_on"), portal),
        custom_fields={} if "custom_fields" in omit else _course_custom_fields(raw, portal),
        remote_data=None if "remote_data" in omit else _remote(raw),
        partial=partial,
    )


def _course_custom_fields(raw: Mapping[str, Any], portal: PortalConventions) -> dict[str, Any]:
    custom_fields: dict[str, Any] = {
        **_custom_fields(raw),
        "price": price(raw.get("price")),
        "currency": currency_symbol(raw.get("price")),
        "hide_from_catalog": flag(raw.get("hide_from_catalog")),
        "time_limit": integer(raw.get("time_limit")),
        "start_datetime": _formatted_json(raw.get("start_datetime"), portal),
        "expiration_datetime": _formatted_json(raw.get("expiration_datetime"), portal),
        "certification": _json(raw.get("certification")),
        "certification_duration": _json(raw.get("certification_duration")),
        "creator_id": text(raw.get("creator_id")),
    }
    if "rules" in raw:
        custom_fields["rules"] = _rules(raw)
    if "prerequisites" in raw:
        custom_fields["prerequisites"] = [
            {"course_id": text(item.get("course_id")), "course_name": text(item.get("course_name"))}
            for item in _entries(raw.get("prerequisites"))
        ]
    return custom_fields


def map_category(raw: Mapping[str, Any]) -> Category:
    """A unified ``Category`` (``{id, name}``) from a ``/categories`` item."""
    return Category(id=_id(raw.get("id")), name=text(raw.get("name")))


def map_organization(raw: Mapping[str, Any]) -> Organization:
    """A unified ``Organization`` (``{id, name}``) from a ``/branches`` item: TalentLMS's
    branches are its sub-portals, and a user's organization is their first branch."""
    return Organization(id=_id(raw.get("id")), name=text(raw.get("name")))


def _rules(course_raw: Mapping[str, Any]) -> list[str]:
    """A course's completion ``rules`` as non-blank sentences."""
    rules = course_raw.get("rules")
    return [rule for rule in map(text, rules) if rule] if isinstance(rules, list) else []


_ALL_UNITS_RULE = "all units must be completed"


def map_course_items(
    course_raw: Mapping[str, Any], *, omit: frozenset[str] = _NOTHING
) -> list[CourseItem]:
    """The course's ``units[]`` as ``CourseItem``s, in curriculum order.

    ``units[]`` is flat; a ``Section`` unit heads the units after it up to the next Section
    ([I], reference §10). Sections have no parent and are never "required"; units before
    the first Section have no parent. ``position`` is the index in the flat array.
    """
    course_id = _id(course_raw.get("id"))
    course = CourseRef(id=course_id, title=text(course_raw.get("name")))
    all_required = any(_ALL_UNITS_RULE in rule.lower() for rule in _rules(course_raw))
    units = course_raw.get("units")
    items: list[CourseItem] = []
    section: ParentItemRef | None = None
    for position, unit in enumerate(units if isinstance(units, list) else []):
        if not isinstance(unit, Mapping):
            continue
        label = unit.get("type")
        kind = unit_type(label)
        item_id = course_item_id(course_id, _id(unit.get("id")))
        title = text(unit.get("name"))
        is_section = kind == "section"
        items.append(
            CourseItem(
                id=item_id,
                course=course,
                parent=None if is_section else section,
                type=kind,
                title=title,
                position=position,
                is_required=True if all_required and not is_section else None,
                urls=_urls(unit.get("url"), "launch"),
                custom_fields={} if "custom_fields" in omit else _item_custom_fields(unit),
                remote_data=None if "remote_data" in omit else _remote(unit),
            )
        )
        if is_section:
            section = ParentItemRef(id=item_id, title=title)
    return items


def _item_custom_fields(unit: Mapping[str, Any]) -> dict[str, Any]:
    custom_fields: dict[str, Any] = {
        "talentlms_type": _json(unit.get("type")),
        "unit_id": text(unit.get("id")),
    }
    delay = integer(unit.get("aggregated_delay_time"))
    if delay is not None:
        custom_fields["aggregated_delay_time"] = delay
    return custom_fields


# --- enrollments ------------------------------------------------------------------------


def _enrollment(
    *,
    user: UserRef,
    course: CourseRef,
    raw: Mapping[str, Any],
    portal: PortalConventions,
    now: datetime,
    with_status: bool,
    extra_fields: Mapping[str, Any],
    partial: bool,
    omit: frozenset[str],
) -> CourseEnrollment:
    """The fields every TalentLMS enrollment source shares (``enrolled_on``, ``completed_on``…)."""
    enrolled_at = _dated(raw, "enrolled_on", portal)
    completed_at = _dated(raw, "completed_on", portal)
    expired_at = _dated(raw, "expired_on", portal)
    seconds = integer(raw.get("total_time_seconds"))
    if seconds is None:  # "3m 17s" is the readable twin of total_time_seconds
        seconds = duration_seconds(raw.get("total_time"))
    status = (
        enrollment_status(
            raw.get("completion_status"),
            expired_at=expired_at,
            completed=completed_at is not None,
            now=now,
        )
        if with_status
        else None
    )
    return CourseEnrollment(
        id=enrollment_id(user.id, course.id),
        user=user,
        course=course,
        status=status,
        enrolled_at=enrolled_at,
        completed_at=completed_at,
        progress_percent=number(raw.get("completion_percentage")),
        time_spent_seconds=seconds,
        urls=_urls(raw.get("last_accessed_unit_url"), "last_accessed_unit"),
        # TalentLMS records no update time; the latest known event stands in for it.
        updated_at=max((d for d in (completed_at, enrolled_at) if d is not None), default=None),
        custom_fields={}
        if "custom_fields" in omit
        else {"role": text(raw.get("role")), **extra_fields, "expired_at": _iso(expired_at)},
        remote_data=None if "remote_data" in omit else _remote(raw),
        partial=partial,
    )


def map_user_enrollment(
    user_raw: Mapping[str, Any],
    entry: Mapping[str, Any],
    portal: PortalConventions,
    *,
    now: datetime,
    omit: frozenset[str] = _NOTHING,
) -> CourseEnrollment:
    """An enrollment from a ``/users/id:`` record's ``courses[]`` entry (lower-case statuses)."""
    return _enrollment(
        user=UserRef(
            id=_id(user_raw.get("id")), name=_full_name(user_raw), emails=_emails(user_raw)
        ),
        course=CourseRef(id=_id(entry.get("id")), title=text(entry.get("name"))),
        raw=entry,
        portal=portal,
        now=now,
        with_status=True,
        extra_fields={
            "completion_status": _json(entry.get("completion_status")),
            "completion_status_formatted": text(entry.get("completion_status_formatted")),
        },
        partial=False,
        omit=omit,
    )


def map_roster_enrollment(
    course_raw: Mapping[str, Any],
    entry: Mapping[str, Any],
    portal: PortalConventions,
    *,
    now: datetime,
    omit: frozenset[str] = _NOTHING,
) -> CourseEnrollment:
    """A *partial* enrollment from a ``/courses/id:`` record's ``users[]`` entry.

    Roster rows have no ``completion_status`` (reference §5.2), so ``status`` is ``None``
    rather than a guess, and the user's name is TalentLMS's short form (``"J. Smith"``).
    """
    return _enrollment(
        user=UserRef(id=_id(entry.get("id")), name=text(entry.get("name")), emails=[]),
        course=CourseRef(id=_id(course_raw.get("id")), title=text(course_raw.get("name"))),
        raw=entry,
        portal=portal,
        now=now,
        with_status=False,
        extra_fields={},
        partial=True,
        omit=omit,
    )


# --- groups -----------------------------------------------------------------------------

_GROUP_SECRETS = frozenset({"key"})


def map_group(raw: Mapping[str, Any], *, partial: bool, omit: frozenset[str] = _NOTHING) -> Group:
    """A unified ``Group`` from a ``/groups`` item (``partial``) or a ``/groups/id:`` record.

    Only the record lists ``users`` and ``courses``; TalentLMS records no group dates.
    """
    return Group(
        id=_id(raw.get("id")),
        name=text(raw.get("name")),
        description=_html(raw.get("description")),
        members=_refs(raw.get("users"), lambda ref_id, name: UserRef(id=ref_id, name=name)),
        courses=_refs(raw.get("courses"), lambda ref_id, name: CourseRef(id=ref_id, title=name)),
        custom_fields={} if "custom_fields" in omit else _group_custom_fields(raw),
        remote_data=None
        if "remote_data" in omit
        else {k: v for k, v in _remote(raw).items() if k not in _GROUP_SECRETS},
        partial=partial,
    )


def _refs(value: object, build: Callable[[str, str | None], R]) -> list[R] | None:
    """``[{id, name}]`` entries as references, in order; ``None`` when there is no list.

    An id-keyed object instead of an array (as ``getusersbycustomfield`` sends) is read as
    its values; entries without an id are left out.
    """
    if isinstance(value, Mapping):
        value = list(value.values())
    if not isinstance(value, list):
        return None
    refs = []
    for entry in _entries(value):
        ref_id = text(entry.get("id"))
        if ref_id is not None:
            refs.append(build(ref_id, text(entry.get("name"))))
    return refs


def _group_custom_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "price": price(raw.get("price")),
        "currency": currency_symbol(raw.get("price")),
        "owner_id": text(raw.get("owner_id")),
        "belongs_to_branch": text(raw.get("belongs_to_branch")),
        "max_redemptions": integer(raw.get("max_redemptions")),
        "redemptions_sofar": integer(raw.get("redemptions_sofar")),
    }


def map_user_groups(user_raw: Mapping[str, Any]) -> list[GroupRef]:
    """The groups a ``/users/id:`` record lists (``groups: [{id, name}]``), in its order."""
    return _refs(user_raw.get("groups"), lambda ref_id, name: GroupRef(id=ref_id, name=name)) or []
