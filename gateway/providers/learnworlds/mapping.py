"""LearnWorlds v2 payloads → unified models. Pure functions: no I/O, no clock ("now" is passed in).

The field-by-field table (unified field ← LearnWorlds source, with the confidence of each
fact and its sources) is ``docs/learnworlds-mapping.md``; these functions follow it, and the
decisions below settle what the sources leave open.

Decisions:

* **Ids.** Every id is a ``str``. Courses are keyed by their slug. LearnWorlds has no
  enrollment id, so an enrollment is ``"{userId}:{slug}"``; sections and units are
  ``"{slug}:{sectionId}"`` and ``"{slug}:{unitId}"``, so one contents call resolves any item.
  A unit whose id is missing, ``null``, repeated or unusable in a path gets a positional id
  ``"{slug}:@{sectionIndex}.{unitIndex}"`` (a section without one ``"{slug}:@{sectionIndex}"``),
  indices counted from 0 in the contents arrays. Composite ids split at the first ``:``.
* **Dates.** Unix seconds (float, int or numeric string) become aware UTC datetimes with their
  microseconds (``values.ts``); datetimes in ``custom_fields`` are ISO 8601 strings ending in
  ``Z``.
* **Users.** ``role.level`` decides the role; without ``role`` the ``is_admin``,
  ``is_instructor``, ``is_reporter`` flags do. ``is_suspended`` wins over everything for the
  status; a pending or rejected sign-up is ``inactive``; a record without ``is_suspended`` is
  ``unknown``. ``tags`` and every ``fields`` entry go to ``custom_fields``.
* **Courses.** ``access`` gives the status (paid/free/private published, coming_soon/draft
  draft, enrollment_closed disabled). Both price shapes are read: ``price`` in
  ``custom_fields`` is ``final_price``, else the legacy ``price``. Categories are names only;
  a category's id is its name.
* **Enrollments.** Status comes from the progress row (``not_started`` → enrolled,
  ``not_completed`` → in progress, ``completed``); an enrolled course without a progress row is
  ``enrolled``; a past ``expires`` turns an unfinished one ``expired``. ``average_score_rate``
  0 is a score only when some unit has a score. An enrollment whose enrollment row or progress
  was not read is ``partial``; a roster row (a course's users) is always ``partial``.
* **Groups.** A user group's members come from their own endpoint (``members`` is ``None``);
  its courses are ``products.courses`` as references. Member lists and a user's groups are
  read from every body shape the snapshots show (``{data, meta}``, ``{data: {user_groups}}``,
  a bare array, a single object).
* **Secrets and passthrough.** ``remote_data`` is a JSON-safe deep copy of the source object
  without credential-like keys (``password``, tokens, secrets) at any depth. A caller may
  ``omit`` ``custom_fields`` and ``remote_data`` when its operation selects neither.
* **Tolerance.** Missing or odd values become ``None``/``[]``; no mapper raises on them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from gateway.domain.model import (
    PASSTHROUGH_FIELDS,
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

__all__ = [
    "PASSTHROUGH_FIELDS",
    "PageMeta",
    "course_item_id",
    "course_status",
    "enrollment_id",
    "enrollment_score",
    "enrollment_status",
    "map_categories",
    "map_category",
    "map_course",
    "map_course_items",
    "map_enrollment",
    "map_group",
    "map_group_members",
    "map_roster_enrollment",
    "map_user",
    "map_user_enrollments",
    "map_user_groups",
    "page_of",
    "progress_by_course",
    "rows_by_course",
    "split_course_item_id",
    "split_enrollment_id",
    "unit_type",
    "user_ref",
    "user_role",
    "user_status",
]

Raw = Mapping[str, Any]

_NOTHING: frozenset[str] = frozenset()


# --- the list envelope ------------------------------------------------------------------


def _count(meta: Raw, *keys: str) -> int | None:
    """The first of ``keys`` that holds a non-negative whole number."""
    for key in keys:
        value = integer(meta.get(key))
        if value is not None and value >= 0:
            return value
    return None


@dataclass(frozen=True, slots=True)
class PageMeta:
    """A list page's ``meta`` as read by ``page_of``; every count is ``None`` when not sent.

    ``received`` is the number of rows the page carried. ``present`` is false for a body
    without ``meta`` (a bare array, or ``{"data": [...]}`` alone): such a body is the whole list.
    """

    page: int | None = None
    total_items: int | None = None
    total_pages: int | None = None
    items_per_page: int | None = None
    received: int = 0
    present: bool = False

    def is_last(self, asked: int) -> bool:
        """Whether no page follows page ``asked``: an empty page, a body without ``meta``, or
        ``page >= totalPages`` (past the end LearnWorlds repeats the last page or sends none)."""
        if self.received == 0 or not self.present:
            return True
        if self.total_pages is None:
            # No page count: a short page is the last one; with no size either, this page.
            return self.items_per_page is None or self.received < self.items_per_page
        return max(asked, self.page or 0) >= self.total_pages

    @property
    def total(self) -> int | None:
        """The list's size when ``meta`` vouches for it, else ``None`` (count by reading).

        The spec calls ``totalItems`` "items in this page" while clients read it as the list's
        total, so it is trusted only when it fits ``totalPages`` and ``itemsPerPage``:
        ``(totalPages - 1) · itemsPerPage < totalItems ≤ totalPages · itemsPerPage``. A body
        without ``meta``, or one page in all, is as long as the rows it carried.
        """
        if not self.present or (self.total_pages == 1 and (self.page or 1) == 1):
            return self.received
        if self.total_pages == 0:
            return 0 if self.received == 0 else None
        pages, per_page, items = self.total_pages, self.items_per_page, self.total_items
        if pages is None or per_page is None or items is None:
            return None
        return items if (pages - 1) * per_page < items <= pages * per_page else None


def _objects(value: object) -> list[Raw]:
    """The objects of a list; entries that are not objects are left out."""
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def page_of(raw: object) -> tuple[list[Raw], PageMeta]:
    """The rows and ``meta`` of a LearnWorlds list body.

    ``{"data": [...], "meta": {"page", "totalItems", "totalPages", "itemsPerPage"}}`` is the
    documented envelope (camelCase keys). Read as well: snake_case keys and the spec's stray
    legacy ``{count, pages}`` meta, a missing ``meta`` (``/v2/user-roles``,
    ``/v2/users/{id}/products``), a bare array, and ``data`` as an object holding one list
    (``{"data": {"user_groups": [...]}}``) or one record (an object with an ``id``). Anything
    else is an empty page.
    """
    if isinstance(raw, list):
        rows = _objects(raw)
        return rows, PageMeta(received=len(rows))
    if not isinstance(raw, Mapping):
        return [], PageMeta()
    data = raw.get("data")
    if isinstance(data, Mapping):
        lists = [value for value in data.values() if isinstance(value, list)]
        if text(data.get("id")) is not None:
            rows = [data]  # one record under "data"
        else:
            rows = _objects(lists[0]) if len(lists) == 1 else []
    else:
        rows = _objects(data)
    meta = raw.get("meta")
    if not isinstance(meta, Mapping):
        return rows, PageMeta(received=len(rows))
    return rows, PageMeta(
        page=_count(meta, "page", "currentPage", "current_page"),
        total_items=_count(meta, "totalItems", "total_items", "totalResults", "count"),
        total_pages=_count(meta, "totalPages", "total_pages", "pages"),
        items_per_page=_count(meta, "itemsPerPage", "items_per_page", "perPage"),
        received=len(rows),
        present=True,
    )


def _rows(raw: object, list_key: str) -> list[Raw]:
    """A list body in any documented shape: a bare array, ``{data: [...]}``, ``{data:
    {list_key: [...]}}``, ``{list_key: [...]}``, or one object (a record with an ``id``)."""
    if isinstance(raw, Mapping):
        if "data" not in raw:
            if isinstance(raw.get(list_key), list):
                return _objects(raw[list_key])
            return [raw] if text(raw.get("id")) is not None else []
        data = raw.get("data")
        if isinstance(data, Mapping) and list_key in data:
            return _objects(data.get(list_key))
        if isinstance(data, Mapping):
            return [data] if text(data.get("id")) is not None else []
    rows, _meta = page_of(raw)
    return rows


# --- synthetic ids ----------------------------------------------------------------------


def enrollment_id(user_id: str, course_id: str) -> str:
    """The id of a user's enrollment in a course; LearnWorlds has none of its own."""
    return f"{user_id}:{course_id}"


def split_enrollment_id(value: object) -> tuple[str, str] | None:
    """``(user_id, course_slug)`` from an enrollment id, or ``None`` if it is not one of ours."""
    return _split(value)


def course_item_id(course_id: str, item_id: str) -> str:
    """The id of a section or unit within a course (``item_id`` may be positional, ``@1.2``)."""
    return f"{course_id}:{item_id}"


def split_course_item_id(value: object) -> tuple[str, str] | None:
    """``(course_slug, item_id)`` from a course item id, or ``None`` if it is not one of ours."""
    return _split(value)


def _split(value: object) -> tuple[str, str] | None:
    """Two ids around exactly one ``:``, each usable in a URL path (``values.is_key``)."""
    if not isinstance(value, str):
        return None
    parts = value.split(":")
    if len(parts) != 2 or not all(is_key(part) for part in parts):
        return None
    return parts[0], parts[1]


# --- enumerations -----------------------------------------------------------------------


def _key(value: object) -> str | None:
    """Lower-case text, for comparing LearnWorlds' enumerated values."""
    label = text(value)
    return label.lower() if label is not None else None


_ROLE_LEVELS = {
    "admin": UserRole.ADMIN,
    "instructor": UserRole.INSTRUCTOR,
    "user": UserRole.LEARNER,
    "seat_manager": UserRole.MANAGER,
    "reporter": UserRole.OTHER,
    "license_reporter": UserRole.OTHER,
}


def _role_level(raw: Raw) -> str | None:
    """``role.level`` (or a bare string ``role``), lower-cased; ``None`` when not sent."""
    role = raw.get("role")
    if isinstance(role, Mapping):
        return _key(role.get("level"))
    return _key(role)


def user_role(raw: Raw) -> UserRole:
    """The unified role of a User object.

    ``role.level`` when sent (an unknown level is ``other``); otherwise the flags, first true
    wins: ``is_admin`` → admin, ``is_instructor`` → instructor, ``is_reporter`` → other; a
    user with none of them is a learner.
    """
    level = _role_level(raw)
    if level is not None:
        return _ROLE_LEVELS.get(level, UserRole.OTHER)
    if flag(raw.get("is_admin")):
        return UserRole.ADMIN
    if flag(raw.get("is_instructor")):
        return UserRole.INSTRUCTOR
    if flag(raw.get("is_reporter")):
        return UserRole.OTHER
    return UserRole.LEARNER


def user_status(raw: Raw) -> UserStatus:
    """Suspended, else inactive for a pending or rejected sign-up, else active; a record that
    does not say whether the user is suspended is ``unknown``."""
    suspended = flag(raw.get("is_suspended"))
    if suspended:
        return UserStatus.SUSPENDED
    if _key(raw.get("signup_approval_status")) in {"pending", "failed"}:
        return UserStatus.INACTIVE
    if suspended is False:
        return UserStatus.ACTIVE
    return UserStatus.UNKNOWN


_COURSE_STATUSES = {
    "paid": CourseStatus.PUBLISHED,
    "free": CourseStatus.PUBLISHED,
    "private": CourseStatus.PUBLISHED,
    "coming_soon": CourseStatus.DRAFT,
    "draft": CourseStatus.DRAFT,
    "enrollment_closed": CourseStatus.DISABLED,
}


def course_status(access: object) -> CourseStatus:
    """The unified status of a course's ``access``; any other value is ``unknown``."""
    return _COURSE_STATUSES.get(_key(access) or "", CourseStatus.UNKNOWN)


# Unit types, keyed in lower case (``assessmentV2`` → ``assessmentv2``). The list is not
# exhaustive (docs/learnworlds-mapping.md says which names are seen and which are guesses).
_UNIT_TYPES = {
    "ivideo": "video",
    "video": "video",
    "youtube": "video",
    "vimeo": "video",
    "wistia": "video",
    "audio": "audio",
    "soundcloud": "audio",
    "pdf": "document",
    "ebook": "document",
    "url": "web_content",
    "embed": "iframe",
    "scorm": "scorm",
    "assessmentv2": "test",
    "assessment": "test",
    "exam": "test",
    "quiz": "test",
    "newsurvey": "survey",
    "survey": "survey",
    "form": "survey",
    "assignment": "assignment",
    "fileassignment": "assignment",
    "livesession": "ilt",
    "zoom": "ilt",
    "webinar": "ilt",
    "text": "content",
    "html": "content",
    "page": "content",
    "certificate": "other",
}
_UNIT_ICONS = {
    "video": "video",
    "pdf": "document",
    "ebook": "document",
    "url": "web_content",
    "scorm": "scorm",
    "exam": "test",
}


def unit_type(kind: object, icon: object = None) -> str:
    """The unified item type of a learning unit from its ``type``, else its ``icon``.

    Case does not matter. An unknown type with an unknown icon is ``"other"``.
    """
    known = _UNIT_TYPES.get(_key(kind) or "")
    if known is not None:
        return known
    return _UNIT_ICONS.get(_key(icon) or "", "other")


_PROGRESS_STATUSES = {
    "not_started": EnrollmentStatus.ENROLLED,
    "not_completed": EnrollmentStatus.IN_PROGRESS,
    "completed": EnrollmentStatus.COMPLETED,
}
# An expired access period turns only these into ``expired``: a completion stands.
_EXPIRABLE = frozenset(
    {EnrollmentStatus.ENROLLED, EnrollmentStatus.IN_PROGRESS, EnrollmentStatus.UNKNOWN}
)


def enrollment_status(
    progress: Raw | None, *, expires_at: datetime | None, now: datetime
) -> EnrollmentStatus:
    """The unified status of an enrollment from its progress row and access expiry.

    No progress row (``None``) means the learner has not started. An access period that ended
    before ``now`` turns an enrolled, in-progress or unrecognised enrollment into ``expired``.
    """
    if progress is None:
        status = EnrollmentStatus.ENROLLED
    else:
        key = _key(progress.get("status")) or ""
        status = _PROGRESS_STATUSES.get(key, EnrollmentStatus.UNKNOWN)
    if expires_at is not None and status in _EXPIRABLE and _as_utc(expires_at) < _as_utc(now):
        return EnrollmentStatus.EXPIRED
    return status


def _as_utc(value: datetime) -> datetime:
    """A naive datetime from a caller is taken as UTC rather than failing a comparison."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _unit_scores(progress: Raw) -> Iterable[float]:
    """Every ``score_on_unit`` that is a number, over all sections of a progress row."""
    for section in _objects(progress.get("progress_per_section_unit")):
        for unit in _objects(section.get("units")):
            score = number(unit.get("score_on_unit"))
            if score is not None:
                yield score


def enrollment_score(progress: Raw | None) -> float | None:
    """``average_score_rate`` as a score, or ``None`` when the course has nothing graded.

    LearnWorlds reports 0 both for a course without graded units and for a real zero; a 0 is
    a score only when some unit of ``progress_per_section_unit`` carries a ``score_on_unit``.
    """
    if progress is None:
        return None
    average = number(progress.get("average_score_rate"))
    if average is None or average < 0:
        return None
    if average > 0:
        return average
    return 0.0 if any(True for _ in _unit_scores(progress)) else None


# --- shared helpers ---------------------------------------------------------------------

# Keys that would let whoever reads them act as someone; none is in any documented payload,
# but a school's custom fields or a future field must not carry one to a client.
_SECRET_KEYS = frozenset(
    {"password", "access_token", "refresh_token", "client_secret", "api_key", "secret"}
)
_JSON_LEAVES = frozenset({str, int, bool, type(None)})


def _is_secret(key: object) -> bool:
    return str(key).lower() in _SECRET_KEYS


def _json(value: object) -> Any:
    """A JSON-safe deep copy, without secret keys at any depth."""
    if type(value) in _JSON_LEAVES:
        return value
    if isinstance(value, Mapping):
        return {str(key): _json(item) for key, item in value.items() if not _is_secret(key)}
    if isinstance(value, list | tuple):
        return [_json(item) for item in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # NaN/Infinity are not JSON
    if isinstance(value, str | int):
        return value
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _remote(raw: Raw) -> dict[str, Any]:
    """``remote_data``: the source object, JSON-safe and without secrets."""
    copied: dict[str, Any] = _json(raw)
    return copied


def _id(value: object) -> str:
    """A string id; a record without one still maps (to ``""``) instead of failing."""
    return text(value) or ""


def _as_sent(value: object) -> str | None:
    """A string kept exactly as sent (HTML included); blank → ``None``."""
    return value if isinstance(value, str) and value.strip() else None


def _first(raw: Raw, *keys: str) -> Any:
    """The value of the first of ``keys`` that is present and not ``null``."""
    return next((raw[key] for key in keys if raw.get(key) is not None), None)


def _mapping(value: object) -> Raw:
    """``value`` when it is an object, else an empty one (``author: null``, ``role: null``)."""
    return value if isinstance(value, Mapping) else {}


# --- users ------------------------------------------------------------------------------


def _full_name(raw: Raw) -> str | None:
    """``"first last"`` with blanks left out; the ``username`` when both are blank.

    LearnWorlds derives the names from ``username`` or the reverse by the school's naming mode,
    so ``first_name: ""`` with the whole name in ``last_name`` is common.
    """
    parts = (text(raw.get("first_name")), text(raw.get("last_name")))
    return " ".join(part for part in parts if part) or text(raw.get("username"))


def _emails(raw: Raw) -> list[Email]:
    """LearnWorlds has one address per user, without a type: it is the primary one."""
    address = text(raw.get("email"))
    return [Email(email=address, type=None, is_primary=True)] if address else []


def map_user(raw: Raw, *, omit: frozenset[str] = _NOTHING) -> User:
    """A unified ``User`` from a User object.

    ``/v2/users`` items, ``/v2/users/{id}``, a course's users and a group's members all carry
    the same object, so the result is never ``partial``. LearnWorlds records no update time.
    """
    fields = _mapping(raw.get("fields"))
    phone = text(fields.get("phone"))
    return User(
        id=_id(raw.get("id")),
        first_name=text(raw.get("first_name")),
        last_name=text(raw.get("last_name")),
        name=_full_name(raw),
        username=text(raw.get("username")),
        emails=_emails(raw),
        status=user_status(raw),
        role=user_role(raw),
        phones=[Phone(number=phone, extension=None, type=None)] if phone else [],
        created_at=ts(raw.get("created")) or ts(raw.get("created_at")),
        updated_at=None,
        custom_fields={} if "custom_fields" in omit else _user_custom_fields(raw, fields),
        remote_data=None if "remote_data" in omit else _remote(raw),
    )


def _user_custom_fields(raw: Raw, fields: Raw) -> dict[str, Any]:
    role = _mapping(raw.get("role"))
    custom_fields: dict[str, Any] = {
        **{str(key): _json(value) for key, value in fields.items() if not _is_secret(key)},
        "tags": strings(raw.get("tags")),
        "role_level": _role_level(raw),
        "role_name": text(role.get("name")),
        "last_login": iso(ts(raw.get("last_login"))),
        "signup_approval_status": text(raw.get("signup_approval_status")),
        "is_affiliate": flag(raw.get("is_affiliate")),
        "is_reporter": flag(raw.get("is_reporter")),
        "subscribed_for_marketing_emails": flag(raw.get("subscribed_for_marketing_emails")),
        "eu_customer": flag(raw.get("eu_customer")),
    }
    if "email_verification_status" in raw:
        custom_fields["email_verification_status"] = text(raw.get("email_verification_status"))
    return custom_fields


def user_ref(user: User) -> UserRef:
    """The reference to a mapped user (a group's member, an enrollment's learner)."""
    return UserRef(id=user.id, name=user.name, emails=list(user.emails))


# --- courses ----------------------------------------------------------------------------


def map_category(name: object) -> Category | None:
    """A category from its name (LearnWorlds' only key for it), or ``None`` for a blank one.

    An object with a ``name`` or ``title`` is read too, should a school ever send one.
    """
    if isinstance(name, Mapping):
        name = name.get("name", name.get("title"))
    label = text(name)
    return Category(id=label, name=label) if label else None


def _categories(value: object) -> list[Category]:
    """A course's ``categories`` (names) in order, repeats and blanks dropped; ``null`` → []."""
    result: list[Category] = []
    for entry in value if isinstance(value, list) else []:
        category = map_category(entry)
        if category is not None and category not in result:
            result.append(category)
    return result


def map_categories(courses_raw: Iterable[object]) -> list[Category]:
    """Every category named by the given courses, in order of first appearance.

    LearnWorlds has no category endpoint: a school's categories are the names its courses
    carry, so they come from the course list already read.
    """
    result: list[Category] = []
    seen: set[str] = set()
    for course in courses_raw:
        if not isinstance(course, Mapping):
            continue
        for category in _categories(course.get("categories")):
            if category.id not in seen:
                seen.add(category.id)
                result.append(category)
    return result


def map_course(raw: Raw, *, omit: frozenset[str] = _NOTHING) -> Course:
    """A unified ``Course`` from a Course object (``/v2/courses`` item, ``/v2/courses/{id}``, or
    the ``course`` of a ``/v2/users/{id}/courses`` row): all three carry the same object, so the
    result is never ``partial``. The slug is the id."""
    label = text(raw.get("label"))
    image = text(raw.get("courseImage"))
    course_id = text(raw.get("id")) or text(_mapping(raw.get("identifiers")).get("slug"))
    return Course(
        id=course_id or "",
        title=text(raw.get("title")),
        description=_as_sent(raw.get("description")),
        code=None,
        type=CourseType.PATH if _key(raw.get("courseType")) == "path" else CourseType.COURSE,
        status=course_status(raw.get("access")),
        urls=[Url(url=image, type="image")] if image else [],
        tags=[label] if label else [],
        categories=_categories(raw.get("categories")),
        created_at=ts(raw.get("created")),
        updated_at=ts(raw.get("modified")),
        custom_fields={} if "custom_fields" in omit else _course_custom_fields(raw),
        remote_data=None if "remote_data" in omit else _remote(raw),
    )


_LEGACY_COURSE_COUNTS = ("registeredUsers", "premiumUsers")


def _course_custom_fields(raw: Raw) -> dict[str, Any]:
    final_price = number(raw.get("final_price"))
    custom_fields: dict[str, Any] = {
        "access": text(raw.get("access")),
        "price": final_price if final_price is not None else number(raw.get("price")),
        "original_price": number(raw.get("original_price")),
        "discount_price": number(raw.get("discount_price")),
        "final_price": final_price,
        "drip_feed": _json(raw.get("dripFeed")),
        "expires": integer(raw.get("expires")),
        "expires_type": text(raw.get("expiresType")),
        "label": text(raw.get("label")),
        "author_name": text(_mapping(raw.get("author")).get("name")),
        "after_purchase": text(_mapping(raw.get("afterPurchase")).get("type")),
    }
    for key in _LEGACY_COURSE_COUNTS:
        if key in raw:
            custom_fields[key] = integer(raw.get(key))
    if "premium" in raw:
        custom_fields["premium"] = flag(raw.get("premium"))
    return custom_fields


# --- course items -----------------------------------------------------------------------


def map_course_items(
    course_id: str, contents_raw: object, *, omit: frozenset[str] = _NOTHING
) -> list[CourseItem]:
    """The sections and learning units of ``/v2/courses/{course_id}/contents``, in course order.

    Sections are top-level items (type ``section``); each unit's parent is its section.
    ``position`` counts sections and units together from 0. ``course_id`` is the slug the
    contents were read for; ids are unique within the course (see the module's decisions).
    Old shapes (``courseId``/``sectionId`` keys, units without a ``title``) are read too.
    """
    contents = _mapping(contents_raw)
    course = CourseRef(id=course_id, title=text(contents.get("title")))
    items: list[CourseItem] = []
    used: set[str] = set()

    def unique(natural: object, positional: str) -> str:
        local = text(natural)
        if local is None or not is_key(local) or local in used:
            local = positional
        base, repeat = local, 1
        while local in used:  # a positional id sent by LearnWorlds itself
            repeat += 1
            local = f"{base}~{repeat}"
        used.add(local)
        return course_item_id(course_id, local)

    for s_index, section in enumerate(_objects(contents.get("sections"))):
        section_local = _first(section, "id", "sectionId")
        section_id = unique(section_local, f"@{s_index}")
        section_title = text(section.get("title"))
        items.append(
            CourseItem(
                id=section_id,
                course=course,
                parent=None,
                type="section",
                title=section_title,
                description=text(section.get("description")),
                position=len(items),
                custom_fields={}
                if "custom_fields" in omit
                else {
                    "section_id": text(section_local),
                    "access": text(section.get("access")),
                    "drip": _json(section.get("drip")),
                },
                remote_data=None
                if "remote_data" in omit
                else {k: v for k, v in _remote(section).items() if k != "learningUnits"},
            )
        )
        parent = ParentItemRef(id=section_id, title=section_title)
        for u_index, unit in enumerate(_objects(section.get("learningUnits"))):
            items.append(
                CourseItem(
                    id=unique(unit.get("id"), f"@{s_index}.{u_index}"),
                    course=course,
                    parent=parent,
                    type=unit_type(unit.get("type"), unit.get("icon")),
                    title=text(unit.get("title")) or text(unit.get("subtitle")),
                    description=None,  # a unit's subtitle is a type label, not a description
                    position=len(items),
                    custom_fields={} if "custom_fields" in omit else _unit_custom_fields(unit),
                    remote_data=None if "remote_data" in omit else _remote(unit),
                )
            )
    return items


def _unit_custom_fields(unit: Raw) -> dict[str, Any]:
    return {
        "learnworlds_type": _json(unit.get("type")),
        "icon": text(unit.get("icon")),
        "subtitle": text(unit.get("subtitle")),
        "unit_id": text(unit.get("id")),
    }


# --- enrollments ------------------------------------------------------------------------


def progress_by_course(progress_rows: Iterable[object]) -> dict[str, Raw]:
    """``/v2/users/{id}/progress`` rows by their ``course_id`` (the slug); the first row of a
    course wins (a repeated last page repeats rows). Rows without a ``course_id`` are left out."""
    by_course: dict[str, Raw] = {}
    for row in progress_rows:
        if isinstance(row, Mapping):
            slug = text(row.get("course_id"))
            if slug is not None and slug not in by_course:
                by_course[slug] = row
    return by_course


_OLD_ENROLLMENT_PREFIX = "course_"


def rows_by_course(enrollment_rows: Iterable[object]) -> dict[str, Raw]:
    """``/v2/users/{id}/courses`` rows by their course's slug (read as ``map_enrollment``
    reads it); the first row of a course wins."""
    by_course: dict[str, Raw] = {}
    for row in enrollment_rows:
        if isinstance(row, Mapping):
            slug, _title = _enrolled_course(row, None)
            if slug and slug not in by_course:
                by_course[slug] = row
    return by_course


def _enrolled_course(row: Raw | None, progress: Raw | None) -> tuple[str, str | None]:
    """The course slug and title of an enrollment: the row's ``course`` object, else its
    ``course_id``, else the progress row's ``course_id``, else an old example's
    ``id: "course_{slug}"``."""
    if row is not None:
        course = _mapping(row.get("course"))
        slug = text(course.get("id")) or text(row.get("course_id"))
        if slug is not None:
            return slug, text(course.get("title"))
    if progress is not None and (slug := text(progress.get("course_id"))) is not None:
        return slug, None
    old = text(row.get("id")) if row is not None else None
    if old is not None and old.startswith(_OLD_ENROLLMENT_PREFIX):
        return old.removeprefix(_OLD_ENROLLMENT_PREFIX), None
    return old or "", None


def map_enrollment(
    user_id: str,
    enrollment_raw: Raw | None,
    progress_raw: Raw | None,
    *,
    now: datetime,
    course_id: str | None = None,
    user_raw: Raw | None = None,
    progress_read: bool = True,
    omit: frozenset[str] = _NOTHING,
) -> CourseEnrollment:
    """A user's enrollment in one course.

    * ``enrollment_raw``: the ``/v2/users/{user_id}/courses`` row (``created``, ``expires``,
      ``course``), or ``None`` when it was not read (the enrollment is then ``partial``: no
      ``enrolled_at``, no expiry).
    * ``progress_raw``: the course's progress: a ``/v2/users/{user_id}/progress`` row or the
      bare ``/v2/users/{user_id}/courses/{slug}/progress`` object; ``None`` when the user has
      no progress in the course (status ``enrolled``). With ``progress_read=False`` progress
      was not asked for: status and progress fields are ``None`` and the enrollment is
      ``partial``.
    * ``course_id``: the slug asked for, when the caller knows it (the per-course progress
      object does not name its course); otherwise it comes from the rows.
    * ``user_raw``: the user's User object, when read, for the learner's name and e-mails.
    """
    slug, title = _enrolled_course(enrollment_raw, progress_raw)
    slug = course_id or slug
    row = enrollment_raw or {}
    progress = progress_raw if progress_read else None
    enrolled_at = ts(row.get("created")) or ts(row.get("created_ts"))
    expires_at = ts(row.get("expires")) or ts(row.get("expiration_ts"))
    source = progress or {}
    completed_at = ts(source.get("completed_at"))
    status = enrollment_status(progress, expires_at=expires_at, now=now) if progress_read else None
    return CourseEnrollment(
        id=enrollment_id(user_id, slug),
        user=_learner(user_id, user_raw),
        course=CourseRef(id=slug, title=title),
        status=status,
        due_at=None,  # ``expires`` ends access; nothing is "due" on LearnWorlds
        enrolled_at=enrolled_at,
        completed_at=completed_at,
        progress_percent=number(source.get("progress_rate")),
        time_spent_seconds=seconds(source.get("time_on_course")),
        score=enrollment_score(progress),
        created_at=enrolled_at,
        # LearnWorlds records no update time; the latest known event stands in for it.
        updated_at=max((d for d in (completed_at, enrolled_at) if d is not None), default=None),
        custom_fields={}
        if "custom_fields" in omit
        else _enrollment_custom_fields(expires_at, progress),
        remote_data=None
        if "remote_data" in omit
        else {
            "enrollment": _json(enrollment_raw) if enrollment_raw is not None else None,
            "progress": _json(progress) if progress is not None else None,
        },
        partial=enrollment_raw is None or not progress_read,
    )


def _learner(user_id: str, user_raw: Raw | None) -> UserRef:
    if user_raw is None:
        return UserRef(id=user_id)
    return UserRef(id=user_id, name=_full_name(user_raw), emails=_emails(user_raw))


def _enrollment_custom_fields(expires_at: datetime | None, progress: Raw | None) -> dict[str, Any]:
    source = progress or {}
    return {
        "expires_at": iso(expires_at),
        "progress_status": _json(source.get("status")),
        "completed_units": integer(source.get("completed_units")),
        "total_units": integer(source.get("total_units")),
        "average_score_rate": _json(source.get("average_score_rate")),
    }


def map_user_enrollments(
    user_id: str,
    enrollment_rows: Iterable[object],
    progress_rows: Iterable[object] | None,
    *,
    now: datetime,
    user_raw: Raw | None = None,
    omit: frozenset[str] = _NOTHING,
) -> list[CourseEnrollment]:
    """A user's enrollments: each ``/v2/users/{id}/courses`` row joined with the
    ``/v2/users/{id}/progress`` row of its course, in the rows' order, one per course.

    ``progress_rows`` is ``None`` when progress was not read (the enrollments are then
    ``partial``); ``[]`` when the user has none (a 404 there): every course is ``enrolled``.
    """
    progress = progress_by_course(progress_rows) if progress_rows is not None else {}
    result: list[CourseEnrollment] = []
    seen: set[str] = set()
    for row in enrollment_rows:
        if not isinstance(row, Mapping):
            continue
        slug, _title = _enrolled_course(row, None)
        if slug in seen:
            continue
        seen.add(slug)
        result.append(
            map_enrollment(
                user_id,
                row,
                progress.get(slug),
                now=now,
                user_raw=user_raw,
                progress_read=progress_rows is not None,
                omit=omit,
            )
        )
    return result


def map_roster_enrollment(
    course_id: str,
    user_raw: Raw,
    *,
    course_title: str | None = None,
    omit: frozenset[str] = _NOTHING,
) -> CourseEnrollment:
    """A *partial* enrollment from a ``/v2/courses/{course_id}/users`` row: a whole User, but
    no enrollment date, expiry or progress. ``map_enrollment`` with the member's
    ``/courses`` row and progress (and ``user_raw``) gives the complete record."""
    user_id = _id(user_raw.get("id"))
    return CourseEnrollment(
        id=enrollment_id(user_id, course_id),
        user=_learner(user_id, user_raw),
        course=CourseRef(id=course_id, title=course_title),
        status=None,
        custom_fields={} if "custom_fields" in omit else _enrollment_custom_fields(None, None),
        remote_data=None if "remote_data" in omit else {"enrollment": None, "progress": None},
        partial=True,
    )


# --- groups -----------------------------------------------------------------------------

_STALE_GROUP_FIELDS = ("access", "number_of_seats", "seat_managers", "total_enrollments")


def map_group(raw: Raw, *, omit: frozenset[str] = _NOTHING) -> Group:
    """A unified ``Group`` from a user group (``/v2/user_groups`` item or ``/{id}``).

    List items and records carry the same fields, so the result is never ``partial``.
    ``members`` is ``None``: they come from ``/v2/user_groups/{id}/users``
    (``map_group_members``). ``courses`` are references to the slugs of ``products.courses``.
    """
    courses = strings(_mapping(raw.get("products")).get("courses"))
    return Group(
        id=_id(raw.get("id")),
        name=text(raw.get("title")) or text(raw.get("name")),
        description=_as_sent(raw.get("description")),
        members=None,
        courses=[CourseRef(id=slug) for slug in courses if is_key(slug)],
        created_at=ts(raw.get("created")),
        updated_at=ts(raw.get("modified")),
        custom_fields={} if "custom_fields" in omit else _group_custom_fields(raw),
        remote_data=None if "remote_data" in omit else _remote(raw),
    )


def _group_custom_fields(raw: Raw) -> dict[str, Any]:
    custom_fields: dict[str, Any] = {
        "tags": strings(raw.get("tags")),
        "enroll_users_on_courses": flag(raw.get("enroll_users_on_courses")),
        "max_number_of_users": integer(raw.get("max_number_of_users")),
        "group_managers": _json(raw.get("group_managers"))
        if isinstance(raw.get("group_managers"), list)
        else [],
    }
    for key in _STALE_GROUP_FIELDS:
        if key in raw:
            custom_fields[key] = _json(raw.get(key))
    return custom_fields


def map_group_members(raw: object, *, omit: frozenset[str] = _NOTHING) -> list[User]:
    """The users of a ``/v2/user_groups/{id}/users`` body, each a whole User.

    Newer snapshots answer ``{data, meta}``, older ones a bare array of Users; both are read,
    as is a single User object. Entries without an id are left out.
    """
    users = [map_user(row, omit=omit) for row in _rows(raw, "users")]
    return [user for user in users if user.id]


def map_user_groups(raw: object) -> list[GroupRef]:
    """The groups of a ``/v2/users/{id}/user-groups`` body as references (id and title).

    Newer snapshots answer ``{"data": {"user_groups": [{id, title}]}}``, older ones an array
    (their example a single object); all are read. Entries without an id are left out,
    repeats dropped.
    """
    refs: list[GroupRef] = []
    for row in _rows(raw, "user_groups"):
        group_id = text(row.get("id"))
        if group_id is not None and all(ref.id != group_id for ref in refs):
            refs.append(GroupRef(id=group_id, name=text(row.get("title")) or text(row.get("name"))))
    return refs
