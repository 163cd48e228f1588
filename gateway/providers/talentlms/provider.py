"""TalentLMS behind the provider interface: which v1 calls answer which question.

Call plan (each distinct upstream resource at most once per operation):

* users list → ``/users/page_size:N,page_number:M`` (one page that covers the window plus
  one row to learn whether more follow), or the whole ``/users`` when paging is off;
* a user, their enrollments, an enrollment by id → ``/users/id:{id}`` (its ``courses[]``
  carries each enrollment's status, progress and dates);
* a course, its items, its roster → ``/courses/id:{id}`` (``units[]`` and ``users[]``);
* courses list → ``/courses``; category names → ``/categories``; an organization looked up
  by id (``node(id:)``) → ``/branches``;
* groups list, and groups in the list form by id (a user's groups' descriptions) →
  ``/groups``; a group's record, members and courses → ``/groups/id:{id}``; a user's
  groups (id and name) → the user's ``/users/id:`` record;
* formatted dates without a timestamp twin → ``/siteinfo`` once per portal (process-wide),
  and only when the operation selects such a field.

Roster rows from ``courses/id:`` have no completion status; the status (and URL) of such
a *partial* enrollment is read from the learner's ``users/id:`` record when selected.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any, Final, TypeVar

from gateway.config import UsersPaging
from gateway.domain.model import (
    Category,
    Course,
    CourseEnrollment,
    CourseItem,
    EnrollmentRole,
    Group,
    GroupRef,
    Organization,
    User,
    UserRef,
    UserStatus,
)
from gateway.domain.querying import (
    CourseFilter,
    CourseOrderField,
    Order,
    UserFilter,
    UserOrderField,
)
from gateway.domain.writes import NewUser, UserChanges
from gateway.errors import (
    UpstreamBadResponse,
    UpstreamError,
    UpstreamGone,
    UpstreamNotFound,
    UserErrorCode,
    WriteRejected,
)
from gateway.providers.base import LmsProvider, Page, Result
from gateway.providers.calls import (
    OperationCalls,
    Rejection,
    find,
    find_in_parents,
    per_key,
    rejected_by_message,
    require_ids,
)
from gateway.providers.selection import unselected_passthrough
from gateway.providers.talentlms.client import PROVIDER, TalentLmsClient
from gateway.providers.talentlms.cost import TalentLmsCostTable
from gateway.providers.talentlms.mapping import (
    PASSTHROUGH_FIELDS,
    PortalConventions,
    enrollment_id,
    map_category,
    map_course,
    map_course_items,
    map_group,
    map_organization,
    map_roster_enrollment,
    map_user,
    map_user_enrollment,
    map_user_groups,
    split_course_item_id,
    split_enrollment_id,
)
from gateway.providers.talentlms.portal import (
    MAX_PAGE_SIZE,
    PORTAL_DATE_FIELDS,
    TalentLmsPortal,
    users_page_plan,
)
from gateway.providers.talentlms.values import is_id, text

__all__ = ["TalentLmsProvider"]

R = TypeVar("R")


_GONE: Final = object()  # a deleted user: "The requested user is no longer available"
Raw = dict[str, Any]


class TalentLmsProvider:
    """One operation's view of one TalentLMS portal (see the module docstring)."""

    name = PROVIDER
    detail_only_fields: Final = {
        "User": frozenset({"organization"}),
        "CourseEnrollment": frozenset({"status", "urls"}),
        "Group": frozenset({"courses"}),  # members: get_group_members, from the same record
    }
    # TalentLMS's own list parameters a client may pass through (``remoteQuery``).
    remote_query_keys: Final = {
        "users": frozenset({"custom_field_value"}),
        "courses": frozenset({"custom_field_value"}),
        "courseEnrollments": frozenset(),
    }

    def __init__(self, portal: TalentLmsPortal, client: TalentLmsClient, *, now: datetime) -> None:
        self._portal = portal
        self._client = client
        self._now = now
        self._needs_portal_dates = False
        # Per GraphQL type, the passthrough fields the operation never selects; mapping skips
        # their deep copies. Until ``prepare`` says otherwise everything is mapped.
        self._omit: dict[str, frozenset[str]] = {}
        self._calls = OperationCalls()
        self._once = self._calls.once  # one upstream call per key per operation
        self.cost_table = TalentLmsCostTable(portal, client.cached)

    def close(self) -> None:
        """End the operation: cancel calls still in flight (after a deadline, say)."""
        self._calls.close()

    def prepare(self, selected_fields: AbstractSet[tuple[str, str]]) -> None:
        self._needs_portal_dates = not PORTAL_DATE_FIELDS.isdisjoint(selected_fields)
        self._omit = unselected_passthrough(selected_fields)
        # Calls that depend on nothing else start now, beside the first list or record call,
        # instead of one round trip after it.
        if self._needs_portal_dates and self._portal.needs_site_info:
            self._once(("siteinfo",), self._portal.conventions, self._client)
        if ("Category", "name") in selected_fields:
            self._once(("categories",), self._client.categories)

    def _skip(self, type_name: str) -> frozenset[str]:
        """What mapping may leave out of this type's models in this operation."""
        return self._omit.get(type_name, frozenset())

    # --- lists ------------------------------------------------------------------------

    async def list_users(self, offset: int, limit: int) -> Page[User]:
        conventions = await self._conventions()
        rows = await self._user_rows(offset, limit + 1)  # one extra row answers has_next
        omit = self._skip("User")
        users = [map_user(raw, conventions, partial=True, omit=omit) for raw in rows[:limit]]
        return Page(items=users, offset=offset, has_next=len(rows) > limit)

    async def all_users(
        self, f: UserFilter | None, order: Order | None, remote_query: Mapping[str, str]
    ) -> list[User]:
        dated = (f is not None and f.uses_created_at) or (
            order is not None and order.field is UserOrderField.CREATED_AT
        )
        conventions = await self._conventions(force=dated)
        omit = self._skip("User")
        if "custom_field_value" in remote_query:
            body = await self._once(
                ("getusersbycustomfield", remote_query["custom_field_value"]),
                self._client.users_by_custom_field,
                remote_query["custom_field_value"],
            )
            rows = [] if body == [] else _rows(body, "getusersbycustomfield")
            return [map_user(raw, conventions, partial=True, omit=omit) for raw in rows]
        if f is not None and (value := f.email or f.username):
            # One lookup call instead of the whole list; the gateway applies the rest.
            found = await self._user_lookup("email" if f.email else "username", value)
            return [map_user(found, conventions, partial=False, omit=omit)] if found else []
        return [
            map_user(raw, conventions, partial=True, omit=omit) for raw in await self._all_users()
        ]

    async def all_courses(
        self, f: CourseFilter | None, order: Order | None, remote_query: Mapping[str, str]
    ) -> list[Course]:
        dated = (f is not None and f.uses_dates) or (
            order is not None and order.field is not CourseOrderField.TITLE
        )
        conventions = await self._conventions(force=dated)
        if "custom_field_value" in remote_query:
            value = remote_query["custom_field_value"]
            body = await self._once(
                ("getcoursesbycustomfield", value), self._client.courses_by_custom_field, value
            )
            rows = [] if body == [] else _rows(body, "getcoursesbycustomfield")
        else:
            rows = _rows(await self._once(("courses",), self._client.courses), "courses")
            self._portal.observe("courses", len(rows))
        omit = self._skip("Course")
        return [map_course(raw, conventions, partial=True, omit=omit) for raw in rows]

    async def all_groups(self) -> list[Group]:
        omit = self._skip("Group")
        return [map_group(raw, partial=True, omit=omit) for raw in await self._group_rows()]

    async def _user_rows(self, offset: int, count: int) -> list[Raw]:
        if self._portal.account.users_paging is UsersPaging.NONE:
            return (await self._all_users())[offset : offset + count]
        rows: list[Raw] = []
        for size, number in users_page_plan(offset, count):
            page = await self._users_page(size, number)
            if len(page) > size:  # the portal ignored the paging parameters: it sent them all
                return page[offset : offset + count]
            start = (number - 1) * size
            rows.extend(page[max(0, offset - start) : offset + count - start])
            if len(page) < size:
                break
        return rows

    async def _all_users(self) -> list[Raw]:
        """Every user row: pages of the largest size until a short page (or one bare call)."""
        if self._portal.account.users_paging is UsersPaging.NONE:
            rows = _rows(await self._once(("users",), self._client.users), "users")
            self._portal.observe("users", len(rows))
            return rows
        rows = []
        number = 1
        while True:
            page = await self._users_page(MAX_PAGE_SIZE, number)
            if len(page) > MAX_PAGE_SIZE:  # paging ignored: this is the whole list
                rows = page
                break
            rows.extend(page)
            if len(page) < MAX_PAGE_SIZE:
                break
            number += 1
        self._portal.observe("users", len(rows))
        return rows

    async def _users_page(self, size: int, number: int) -> list[Raw]:
        body = await self._once(
            ("users", size, number), self._client.users, page_size=size, page_number=number
        )
        return _rows(body, "users")

    # --- records ------------------------------------------------------------------------

    async def get_users(self, ids: Sequence[str]) -> list[Result[User]]:
        conventions = await self._conventions()
        omit = self._skip("User")

        def build(user_id: str, raw: Raw | object | None) -> User | None:
            if raw is _GONE:
                return User(id=user_id, status=UserStatus.DELETED)
            if not isinstance(raw, dict):
                return None
            return map_user(raw, conventions, partial=False, omit=omit)

        return await per_key(ids, self._user_detail, build)

    async def get_courses(self, ids: Sequence[str]) -> list[Result[Course]]:
        conventions = await self._conventions()
        omit = self._skip("Course")
        return await per_key(
            ids,
            self._course_detail,
            lambda _id, raw: (
                map_course(raw, conventions, partial=False, omit=omit) if raw else None
            ),
        )

    async def get_categories(self, ids: Sequence[str]) -> list[Result[Category]]:
        rows = _rows(await self._once(("categories",), self._client.categories), "categories")
        by_id = {str(row.get("id")): row for row in rows}
        return [map_category(by_id[i]) if i in by_id else None for i in ids]

    async def get_organizations(self, ids: Sequence[str]) -> list[Result[Organization]]:
        rows = _rows(await self._once(("branches",), self._client.branches), "branches")
        by_id = {str(row.get("id")): row for row in rows}
        return [map_organization(by_id[i]) if i in by_id else None for i in ids]

    async def get_course_items(self, course_ids: Sequence[str]) -> list[Result[list[CourseItem]]]:
        omit = self._skip("CourseItem")
        return await per_key(
            course_ids,
            self._course_detail,
            lambda _id, raw: map_course_items(raw, omit=omit) if raw else None,
        )

    async def get_course_items_by_id(self, ids: Sequence[str]) -> list[Result[CourseItem]]:
        return await find_in_parents(ids, split_course_item_id, self.get_course_items)

    async def get_user_enrollments(
        self, user_ids: Sequence[str], only_courses: Mapping[str, set[str]] | None = None
    ) -> list[Result[list[CourseEnrollment]]]:
        """Each user's enrollments; with ``only_courses``, just those in the named courses
        (a roster needs one enrollment of each of its learners, not every one they have)."""
        conventions = await self._conventions()
        omit = self._skip("CourseEnrollment")

        def build(user_id: str, raw: Raw | object | None) -> list[CourseEnrollment] | None:
            if raw is _GONE:
                return []
            if not isinstance(raw, dict):
                return None
            entries = _entries(raw, "courses")
            if only_courses is not None:
                wanted = only_courses.get(user_id, set())
                entries = [entry for entry in entries if text(entry.get("id")) in wanted]
            return [
                map_user_enrollment(raw, entry, conventions, now=self._now, omit=omit)
                for entry in entries
            ]

        return await per_key(user_ids, self._user_detail, build)

    async def get_course_enrollments(
        self, course_ids: Sequence[str]
    ) -> list[Result[list[CourseEnrollment]]]:
        conventions = await self._conventions()
        omit = self._skip("CourseEnrollment")

        def build(_id: str, raw: Raw | None) -> list[CourseEnrollment] | None:
            if raw is None:
                return None
            return [
                map_roster_enrollment(raw, entry, conventions, now=self._now, omit=omit)
                for entry in _entries(raw, "users")
            ]

        return await per_key(course_ids, self._course_detail, build)

    async def get_enrollments(self, ids: Sequence[str]) -> list[Result[CourseEnrollment]]:
        pairs = [split_enrollment_id(i) for i in ids]
        wanted: dict[str, set[str]] = {}
        for pair in pairs:
            if pair:
                wanted.setdefault(pair[0], set()).add(pair[1])
        user_ids = sorted(wanted)
        mapped = await self.get_user_enrollments(user_ids, only_courses=wanted)
        by_user = dict(zip(user_ids, mapped, strict=True))
        return [
            find(by_user.get(pair[0]) if pair else None, enrollment_id)
            for enrollment_id, pair in zip(ids, pairs, strict=True)
        ]

    async def get_groups(self, ids: Sequence[str]) -> list[Result[Group]]:
        omit = self._skip("Group")
        return await per_key(
            ids,
            self._group_detail,
            lambda _id, raw: map_group(raw, partial=False, omit=omit) if raw else None,
        )

    async def get_group_summaries(self, ids: Sequence[str]) -> list[Result[Group]]:
        by_id = {text(row.get("id")): row for row in await self._group_rows()}
        omit = self._skip("Group")
        return [map_group(by_id[i], partial=True, omit=omit) if i in by_id else None for i in ids]

    async def get_group_members(self, group_ids: Sequence[str]) -> list[Result[list[UserRef]]]:
        def build(_id: str, raw: Raw | None) -> list[UserRef] | None:
            if raw is None:
                return None
            return map_group(raw, partial=False, omit=PASSTHROUGH_FIELDS).members or []

        return await per_key(group_ids, self._group_detail, build)

    async def get_user_groups(self, user_ids: Sequence[str]) -> list[Result[list[GroupRef]]]:
        def build(_id: str, raw: Raw | object | None) -> list[GroupRef] | None:
            if raw is _GONE:
                return []
            return map_user_groups(raw) if isinstance(raw, dict) else None

        return await per_key(user_ids, self._user_detail, build)

    # --- upstream calls, each made once per operation ---------------------------------

    async def _conventions(self, *, force: bool = False) -> PortalConventions:
        """The portal's conventions, read from ``/siteinfo`` only when dates need them.

        Lists that filter or sort by date (``force``) read it only while the date format is
        unknown: a re-read of stale totals is left to operations that select dates, whose
        estimate counts it."""
        if self._needs_portal_dates or (force and not self._portal.dates_known):
            return await self._once(("siteinfo",), self._portal.conventions, self._client)
        return self._portal.known_conventions

    async def get_users_by_email(self, emails: Sequence[str]) -> list[Result[User]]:
        return await self._users_by("email", emails)

    async def get_users_by_username(self, usernames: Sequence[str]) -> list[Result[User]]:
        return await self._users_by("username", usernames)

    async def _users_by(self, key: str, values: Sequence[str]) -> list[Result[User]]:
        conventions = await self._conventions()
        omit = self._skip("User")
        return await per_key(
            values,
            lambda value: self._user_lookup(key, value),
            lambda _value, raw: (
                map_user(raw, conventions, partial=False, omit=omit) if raw else None
            ),
        )

    async def _user_lookup(self, key: str, value: str) -> Raw | None:
        """A user by email or username; the record then also answers ``users/id:`` needs."""
        try:
            raw = _record(
                await self._once((f"users/{key}", value), self._client.user, **{key: value}),
                f"users/{key}",
            )
        except UpstreamNotFound:  # deleted users included: a lookup by name finds nobody
            return None
        user_id = str(raw.get("id", ""))
        if user_id:
            self._calls.answered(("users/id", user_id), raw)
        return raw

    async def _user_detail(self, user_id: str) -> Raw | object | None:
        if not is_id(user_id):
            return None
        try:
            raw = await self._once(("users/id", user_id), self._client.user, id=user_id)
        except UpstreamGone:
            return _GONE
        except UpstreamNotFound:
            return None
        user = _record(raw, "users/id")
        self._portal.observe("user_groups", len(_entries(user, "groups")))
        return user

    async def _course_detail(self, course_id: str) -> Raw | None:
        if not is_id(course_id):
            return None
        try:
            raw = await self._once(("courses/id", course_id), self._client.course, course_id)
        except UpstreamNotFound:
            return None
        course = _record(raw, "courses/id")
        self._portal.observe("roster", len(_entries(course, "users")))
        self._portal.observe("units", len(_entries(course, "units")))
        return course

    async def _group_rows(self) -> list[Raw]:
        rows = _rows(await self._once(("groups",), self._client.groups), "groups")
        self._portal.observe("groups", len(rows))
        return rows

    async def _group_detail(self, group_id: str) -> Raw | None:
        if not is_id(group_id):
            return None
        try:
            raw = await self._once(("groups/id", group_id), self._client.group, group_id)
        except UpstreamNotFound:
            return None
        group = _record(raw, "groups/id")
        self._portal.observe("group_members", len(_entries(group, "users")))
        self._portal.observe("group_courses", len(_entries(group, "courses")))
        return group

    # --- writes -------------------------------------------------------------------------

    async def enroll_user(
        self, user_id: str, course_id: str, role: EnrollmentRole
    ) -> CourseEnrollment | None:
        require_ids(is_id, user_id, course_id)
        await _written(
            self._client.add_user_to_course(user_id=user_id, course_id=course_id, role=role.value)
        )
        self._wrote(user_id, course_id)
        (enrollment,) = await self.get_enrollments([enrollment_id(user_id, course_id)])
        if isinstance(enrollment, BaseException):
            raise enrollment
        return enrollment

    async def unenroll_user(self, user_id: str, course_id: str) -> None:
        require_ids(is_id, user_id, course_id)
        await _written(self._client.remove_user_from_course(user_id=user_id, course_id=course_id))
        self._wrote(user_id, course_id)

    async def create_user(self, new: NewUser) -> User:
        if not new.password:
            raise WriteRejected(
                UserErrorCode.INVALID_INPUT,
                "TalentLMS needs a password for a new user",
                ("password",),
            )
        form = {
            "first_name": new.first_name,
            "last_name": new.last_name,
            "email": new.email,
            "login": new.username,
            "password": new.password,
        }
        raw = await _written(self._client.user_signup(form))
        conventions = await self._conventions()
        # The sign-up answer is the user's record, without the lists a users/id: read adds.
        return map_user(
            _record(raw, "usersignup"), conventions, partial=True, omit=self._skip("User")
        )

    async def update_user(self, user_id: str, changes: UserChanges) -> User | None:
        require_ids(is_id, user_id)
        form: dict[str, object] = {"user_id": user_id}
        for field, value in (
            ("first_name", changes.first_name),
            ("last_name", changes.last_name),
            ("email", changes.email),
            ("login", changes.username),
            ("password", changes.password),
        ):
            if value is not None:
                form[field] = value
        await _written(self._client.edit_user(form))
        self._calls.forget(("users/id", user_id))
        return await self._user_now(user_id)

    async def set_user_status(self, user_id: str, *, active: bool) -> User | None:
        require_ids(is_id, user_id)
        status = "active" if active else "inactive"
        await _written(self._client.set_user_status(user_id=user_id, status=status))
        self._calls.forget(("users/id", user_id))
        return await self._user_now(user_id)

    async def launch_url(self, user_id: str, course_id: str, return_url: str | None) -> str:
        require_ids(is_id, user_id, course_id)
        body = await _written(
            self._client.go_to_course(user_id=user_id, course_id=course_id, return_url=return_url)
        )
        url = _record(body, "gotocourse").get("goto_url")
        if not isinstance(url, str) or not url:
            raise UpstreamBadResponse(
                "TalentLMS gotocourse did not return a goto_url",
                provider=PROVIDER,
                endpoint="gotocourse",
            )
        return url

    async def _user_now(self, user_id: str) -> User | None:
        """The user as the portal has it after a write (the cached record was dropped)."""
        (user,) = await self.get_users([user_id])
        if isinstance(user, BaseException):
            raise user
        return user

    def _wrote(self, user_id: str, course_id: str) -> None:
        """This operation's reads of the user and the course are stale now (the client
        dropped the cached ones)."""
        self._calls.forget(("users/id", user_id))
        self._calls.forget(("courses/id", course_id))


# Checked by mypy: the class has everything of the protocol the loaders and resolvers call.
_IMPLEMENTS: type[LmsProvider] = TalentLmsProvider


def _rows(body: Any, endpoint: str) -> list[Raw]:
    """A list endpoint's rows; some answer with an id-keyed object instead of an array."""
    if isinstance(body, dict):
        body = list(body.values())
    if not isinstance(body, list) or not all(isinstance(row, dict) for row in body):
        raise UpstreamBadResponse(
            f"TalentLMS {endpoint} did not return a list of records",
            provider=PROVIDER,
            endpoint=endpoint,
        )
    return body


def _record(body: Any, endpoint: str) -> Raw:
    if not isinstance(body, dict):
        raise UpstreamBadResponse(
            f"TalentLMS {endpoint} did not return an object", provider=PROVIDER, endpoint=endpoint
        )
    return body


def _entries(raw: Raw, key: str) -> list[Raw]:
    value = raw.get(key)
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


async def _written(write: Awaitable[R]) -> R:
    """The write's answer; a refusal TalentLMS explains is ``WriteRejected``."""
    try:
        return await write
    except UpstreamError as error:
        raise _rejected(error) or error from None


# TalentLMS's messages for a write's expected failures (reference § 11.2), by what they mean.
_REJECTIONS: Final[tuple[Rejection, ...]] = (
    ("requested user does not exist", UserErrorCode.USER_NOT_FOUND, ("userId",)),
    ("requested user is no longer available", UserErrorCode.USER_NOT_FOUND, ("userId",)),
    ("requested course does not exist", UserErrorCode.COURSE_NOT_FOUND, ("courseId",)),
    ("already enrolled", UserErrorCode.ALREADY_ENROLLED, None),
    ("not enrolled", UserErrorCode.NOT_ENROLLED, None),
    ("same email address already exists", UserErrorCode.DUPLICATE_EMAIL, ("email",)),
    ("same login already exists", UserErrorCode.DUPLICATE_USERNAME, ("username",)),
    ("password is not strong enough", UserErrorCode.WEAK_PASSWORD, ("password",)),
    ("invalid arguments provided", UserErrorCode.INVALID_INPUT, None),
)


def _rejected(error: UpstreamError) -> WriteRejected | None:
    """The expected failure a TalentLMS error message names, if it names one."""
    return rejected_by_message(error, _REJECTIONS, "TalentLMS refused the request:")
