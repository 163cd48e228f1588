"""LearnWorlds behind the provider interface: which API v2 calls answer which question.

Call plan (each distinct call at most once per operation; lists read every page, 200 rows a
page where the API takes ``items_per_page``; docs/learnworlds-mapping.md § Calls):

* users list → ``/users?include_suspended=true`` pages that cover the window plus one row;
  filtered lists use LearnWorlds's own ``role``, ``status``, ``registration_after/_before``
  where they return a superset of the answer (the gateway filters exactly afterwards);
* a user → ``/users/{id}?include_suspended=true``, unless a list, roster or group already
  carried the whole User object in this operation; by e-mail → ``/users/{e-mail}``;
* a user's enrollments → ``/users/{id}/courses`` (each row embeds its whole course), and,
  when a progress field is selected and the user is enrolled somewhere, ``/users/{id}/progress``
  (every course at once);
* a course → ``/courses/{slug}`` unless an enrollment row or the catalog carried it; when
  the operation reads courses' items and asks nothing else of them but their id and title,
  the outline call answers it instead; its items → ``/courses/{slug}/contents``;
* a course's roster → ``/courses/{slug}/users`` (whole Users, *partial* enrollments); the
  schema completes the rows of the page it answers when their progress, dates or status are
  selected or filtered on, through ``get_enrollments``;
* an enrollment by id ``{uid}:{slug}`` → the user's ``/courses`` rows and the course's
  progress (or the user's whole progress when it is read anyway);
* courses list → ``/courses`` (``access`` filter for a status filter); categories → the
  courses already read, else the catalog (LearnWorlds has no category endpoint);
* groups → ``/user_groups``; a group → ``/user_groups/{id}``; its members →
  ``/user_groups/{id}/users``; a user's groups → ``/users/{id}/user-groups``.

LearnWorlds has no organizations: those lookups answer ``None`` without a call.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any, Final, TypeVar
from urllib.parse import quote

from gateway.domain.model import (
    Category,
    Course,
    CourseEnrollment,
    CourseItem,
    CourseStatus,
    EnrollmentRole,
    Group,
    GroupRef,
    Organization,
    User,
    UserRef,
    UserRole,
    UserStatus,
)
from gateway.domain.querying import CourseFilter, Order, UserFilter
from gateway.domain.writes import NewUser, UserChanges
from gateway.errors import (
    UpstreamBadResponse,
    UpstreamError,
    UpstreamNotFound,
    UserErrorCode,
    WriteRejected,
)
from gateway.providers.base import LmsProvider, Page, Result
from gateway.providers.calls import (
    OperationCalls,
    Rejection,
    fetch_each,
    find,
    find_in_parents,
    per_key,
    rejected_by_message,
    require_ids,
)
from gateway.providers.learnworlds.client import (
    DEFAULT_PAGE_SIZES,
    PROVIDER,
    LearnWorldsClient,
    ListPage,
)
from gateway.providers.learnworlds.cost import (
    ENROLLMENT_ROW_FIELDS,
    OUTLINE_COURSE_FIELDS,
    PROGRESS_FIELDS,
    LearnWorldsCostTable,
)
from gateway.providers.learnworlds.mapping import (
    PASSTHROUGH_FIELDS,
    enrollment_id,
    map_categories,
    map_category,
    map_course,
    map_course_items,
    map_enrollment,
    map_group,
    map_roster_enrollment,
    map_user,
    map_user_enrollments,
    map_user_groups,
    progress_by_course,
    rows_by_course,
    split_course_item_id,
    split_enrollment_id,
    user_ref,
)
from gateway.providers.learnworlds.school import LearnWorldsSchool
from gateway.providers.learnworlds.values import is_key, text
from gateway.providers.selection import unselected_passthrough

__all__ = ["COURSE_ACCESS", "USER_ROLE_FILTERS", "LearnWorldsProvider"]

T = TypeVar("T")

Raw = Mapping[str, Any]
_WITH_SUSPENDED: Final = (("include_suspended", "true"),)

# ``role`` values of /v2/users for a filter on one unified role (reference: ``user``,
# ``admin``, ``instructor``); managers and "other" span several levels or none: no filter.
USER_ROLE_FILTERS: Final = {
    UserRole.LEARNER: "user",
    UserRole.ADMIN: "admin",
    UserRole.INSTRUCTOR: "instructor",
}
# ``access`` values of /v2/courses per unified status (the mapping's grouping, inverted).
COURSE_ACCESS: Final = {
    CourseStatus.PUBLISHED: ("paid", "free", "private"),
    CourseStatus.DRAFT: ("draft", "coming_soon"),
    CourseStatus.DISABLED: ("enrollment_closed",),
    CourseStatus.ARCHIVED: (),
}


class LearnWorldsProvider:
    """One operation's view of one LearnWorlds school (see the module docstring)."""

    name = PROVIDER
    # A roster row lacks its /courses row and its progress, an enrollment read without its
    # progress the progress: the schema loads the whole enrollment (``get_enrollments``) for
    # the rows it answers when one of these is selected or filtered on.
    detail_only_fields: Final = {"CourseEnrollment": PROGRESS_FIELDS | ENROLLMENT_ROW_FIELDS}
    # LearnWorlds's own list parameters a client may pass through (``remoteQuery``).
    remote_query_keys: Final = {
        "users": frozenset({"tags", "status", "registration_after", "registration_before"}),
        "courses": frozenset({"categories", "access"}),
        "courseEnrollments": frozenset(),
    }

    def __init__(
        self, school: LearnWorldsSchool, client: LearnWorldsClient, *, now: datetime
    ) -> None:
        self._school = school
        self._client = client
        self._now = now
        self._calls = OperationCalls()
        self._once = self._calls.once
        self._omit: dict[str, frozenset[str]] = {}
        # Until ``prepare`` says otherwise, everything is read.
        self._progress = True  # a user's enrollments need their progress
        self._outline_only = False  # courses need nothing but id, title and items
        # Whole objects this operation has read, by id: a later lookup needs no call.
        self._users: dict[str, Raw] = {}
        self._courses: dict[str, Raw] = {}
        self._groups: dict[str, Raw] = {}
        self.cost_table = LearnWorldsCostTable(school, client.cached, client.needs_token)

    def close(self) -> None:
        self._calls.close()

    def prepare(self, selected_fields: AbstractSet[tuple[str, str]]) -> None:
        self._omit = unselected_passthrough(selected_fields)
        enrollment = {
            field for type_name, field in selected_fields if type_name == "CourseEnrollment"
        }
        course = {field for type_name, field in selected_fields if type_name == "Course"}
        self._progress = not PROGRESS_FIELDS.isdisjoint(enrollment)
        # Courses whose items are read anyway, and of which nothing else is asked but their title.
        self._outline_only = "items" in course and course <= OUTLINE_COURSE_FIELDS

    def _skip(self, type_name: str) -> frozenset[str]:
        return self._omit.get(type_name, frozenset())

    # --- lists ------------------------------------------------------------------------

    async def list_users(self, offset: int, limit: int) -> Page[User]:
        rows = await self._user_window(offset, limit + 1)  # one extra row answers has_next
        omit = self._skip("User")
        return Page(
            items=[map_user(raw, omit=omit) for raw in rows[:limit]],
            offset=offset,
            has_next=len(rows) > limit,
        )

    async def all_users(
        self, f: UserFilter | None, order: Order | None, remote_query: Mapping[str, str]
    ) -> list[User]:
        omit = self._skip("User")
        if not remote_query and f is not None:
            if f.updated_after is not None or f.updated_before is not None:
                return []  # LearnWorlds records no update time: no user can match
            if f.email:
                found = await self._user_lookup(f.email)
                return [map_user(found, omit=omit)] if found is not None else []
        params = _user_params(f, remote_query)
        rows = await self._user_list(params)
        return [map_user(raw, omit=omit) for raw in rows]

    async def all_courses(
        self, f: CourseFilter | None, order: Order | None, remote_query: Mapping[str, str]
    ) -> list[Course]:
        params = _course_params(f, remote_query)
        if params is None:
            return []  # a status LearnWorlds never has (archived)
        rows = await self._course_list(params)
        omit = self._skip("Course")
        return [map_course(raw, omit=omit) for raw in rows]

    async def all_groups(self) -> list[Group]:
        omit = self._skip("Group")
        return [map_group(raw, omit=omit) for raw in await self._group_list()]

    # --- records ----------------------------------------------------------------------

    async def get_users(self, ids: Sequence[str]) -> list[Result[User]]:
        omit = self._skip("User")
        return await per_key(
            ids, self._user, lambda _id, raw: map_user(raw, omit=omit) if raw else None
        )

    async def get_users_by_email(self, emails: Sequence[str]) -> list[Result[User]]:
        omit = self._skip("User")
        return await per_key(
            emails, self._user_lookup, lambda _e, raw: map_user(raw, omit=omit) if raw else None
        )

    async def get_users_by_username(self, usernames: Sequence[str]) -> list[Result[User]]:
        # No lookup by login name (``search`` is ignored): the whole user list, once.
        rows = await self._user_list(_WITH_SUSPENDED)
        by_name = {
            name.casefold(): row for row in rows if (name := text(row.get("username"))) is not None
        }
        omit = self._skip("User")
        return [
            map_user(by_name[name.casefold()], omit=omit) if name.casefold() in by_name else None
            for name in usernames
        ]

    async def get_courses(self, ids: Sequence[str]) -> list[Result[Course]]:
        return await fetch_each(ids, self._course_record)

    async def get_categories(self, ids: Sequence[str]) -> list[Result[Category]]:
        # A category is a name the catalog's courses carry; its id is that name. Courses this
        # operation has read name theirs already: the catalog is read only for other names.
        names = {c.id for c in map_categories(self._courses.values())}
        if not names.issuperset(ids):
            names.update(c.id for c in map_categories(await self._course_list(())))
        return [map_category(i) if i in names else None for i in ids]

    async def get_organizations(self, ids: Sequence[str]) -> list[Result[Organization]]:
        return [None for _ in ids]  # LearnWorlds has no organizations

    async def get_course_items(self, course_ids: Sequence[str]) -> list[Result[list[CourseItem]]]:
        omit = self._skip("CourseItem")
        return await per_key(
            course_ids,
            self._contents,
            lambda slug, raw: map_course_items(slug, raw, omit=omit) if raw is not None else None,
        )

    async def get_course_items_by_id(self, ids: Sequence[str]) -> list[Result[CourseItem]]:
        return await find_in_parents(ids, split_course_item_id, self.get_course_items)

    async def get_user_enrollments(
        self, user_ids: Sequence[str]
    ) -> list[Result[list[CourseEnrollment]]]:
        omit = self._skip("CourseEnrollment")
        progress = self._progress

        async def fetch(user_id: str) -> tuple[list[Raw], list[Raw] | None] | None:
            if not is_key(user_id):
                return None
            rows = await self._user_courses(user_id)
            if rows is None:
                return None
            # After the rows, not beside them: a user enrolled nowhere needs no progress call
            # (and LearnWorlds's pace is scarcer than a round trip).
            if progress and rows:
                return rows, await self._user_progress(user_id)
            return rows, [] if progress else None

        def build(
            user_id: str, fetched: tuple[list[Raw], list[Raw] | None] | None
        ) -> list[CourseEnrollment] | None:
            if fetched is None:
                return None
            rows, progress_rows = fetched
            return map_user_enrollments(
                user_id,
                rows,
                progress_rows,
                now=self._now,
                user_raw=self._users.get(user_id),
                omit=omit,
            )

        return await per_key(user_ids, fetch, build)

    async def get_course_enrollments(
        self, course_ids: Sequence[str]
    ) -> list[Result[list[CourseEnrollment]]]:
        return await fetch_each(course_ids, self._roster)

    async def get_enrollments(self, ids: Sequence[str]) -> list[Result[CourseEnrollment]]:
        """Whole enrollments (their ``/courses`` row and their progress), by ``{uid}:{slug}``."""
        pairs = [split_enrollment_id(i) for i in ids]
        wanted: dict[str, set[str]] = {}
        for pair in pairs:
            if pair:
                wanted.setdefault(pair[0], set()).add(pair[1])
        user_ids = sorted(wanted)

        async def fetch(user_id: str) -> list[CourseEnrollment] | None:
            if not is_key(user_id):
                return None
            return await self._enrollments_of(user_id, wanted[user_id])

        by_user = dict(zip(user_ids, await fetch_each(user_ids, fetch), strict=True))
        return [
            find(by_user.get(pair[0]) if pair else None, enrollment_id)
            for enrollment_id, pair in zip(ids, pairs, strict=True)
        ]

    async def get_groups(self, ids: Sequence[str]) -> list[Result[Group]]:
        omit = self._skip("Group")
        return await per_key(
            ids, self._group, lambda _id, raw: map_group(raw, omit=omit) if raw else None
        )

    async def get_group_summaries(self, ids: Sequence[str]) -> list[Result[Group]]:
        # The list's items are whole records: one list call answers every id.
        by_id = {text(row.get("id")): row for row in await self._group_list()}
        omit = self._skip("Group")
        return [map_group(by_id[i], omit=omit) if i in by_id else None for i in ids]

    async def get_group_members(self, group_ids: Sequence[str]) -> list[Result[list[UserRef]]]:
        return await fetch_each(group_ids, self._group_members)

    async def get_user_groups(self, user_ids: Sequence[str]) -> list[Result[list[GroupRef]]]:
        async def fetch(user_id: str) -> list[GroupRef] | None:
            if not is_key(user_id):
                return None
            body = await self._once(
                ("users/{id}/user-groups", user_id),
                self._client.user_user_groups,
                user_id,
                user_exists=True,
            )
            refs = map_user_groups(body)
            self._school.observe("user_group_refs", len(refs))
            return refs

        return await fetch_each(user_ids, fetch)

    # --- users ------------------------------------------------------------------------

    def _keep_users(self, rows: Iterable[Raw]) -> None:
        for row in rows:
            user_id = text(row.get("id"))
            if user_id is not None:
                self._users.setdefault(user_id, row)

    async def _user_list(self, params: Sequence[tuple[str, str]]) -> list[Raw]:
        return await self._once(("users", tuple(params)), self._read_users, tuple(params))

    async def _read_users(self, params: tuple[tuple[str, str], ...]) -> list[Raw]:
        rows = _objects(await self._client.users(params))
        self._keep_users(rows)
        if params == _WITH_SUSPENDED:
            self._school.take_total("users", len(rows))
        return rows

    async def _user_window(self, offset: int, count: int) -> list[Raw]:
        """Rows ``[offset, offset + count)`` of the user list, from the pages that hold them.

        The pages are planned at the page size asked for (200), and planned again with the
        size the school's ``meta`` reports should it page by another."""
        size = self._school.users_page_size or _USERS_PAGE
        number = offset // size + 1
        page = await self._users_page(number)
        real = page.meta.items_per_page
        if not page.meta.present:  # no envelope: the body is the whole list
            return _objects(page.rows)[offset : offset + count]
        if real and real != size:
            self._school.users_page_size = size = real
            if offset // size + 1 != number:
                number = offset // size + 1
                page = await self._users_page(number)
        start = (number - 1) * size
        rows = _objects(page.rows)
        while start + len(rows) < offset + count and not page.meta.is_last(number):
            number += 1
            page = await self._users_page(number)
            rows.extend(_objects(page.rows))
        return rows[offset - start : offset - start + count]

    async def _users_page(self, number: int) -> ListPage:
        page = await self._once(
            ("users", _WITH_SUSPENDED, number),
            self._client.users_page,
            number,
            _WITH_SUSPENDED,
        )
        self._keep_users(_objects(page.rows))
        self._school.take_total("users", page.meta.total)
        return page

    async def _user(self, user_id: str) -> Raw | None:
        if not is_key(user_id):
            return None
        if user_id in self._users:
            return self._users[user_id]
        try:
            raw = await self._once(
                ("users/{id}", user_id), self._client.user, user_id, include_suspended=True
            )
        except UpstreamNotFound:
            return None
        return self._kept_user(raw)

    async def _user_lookup(self, email: str) -> Raw | None:
        """A user by e-mail address (the API takes it in place of the id)."""
        try:
            raw = await self._once(
                ("users/{id}", email.casefold()), self._client.user, email, include_suspended=True
            )
        except UpstreamNotFound:
            return None
        return self._kept_user(raw)

    def _kept_user(self, raw: object) -> Raw | None:
        if not isinstance(raw, Mapping):
            return None
        self._keep_users([raw])
        return raw

    # --- courses ----------------------------------------------------------------------

    def _keep_courses(self, rows: Iterable[object]) -> None:
        for row in rows:
            if isinstance(row, Mapping) and (slug := text(row.get("id"))) is not None:
                self._courses.setdefault(slug, row)

    async def _course_list(self, params: Sequence[tuple[str, str]]) -> list[Raw]:
        return await self._once(("courses", tuple(params)), self._read_courses, tuple(params))

    async def _read_courses(self, params: tuple[tuple[str, str], ...]) -> list[Raw]:
        rows = _objects(await self._client.courses(params))
        self._keep_courses(rows)
        if not params:
            self._school.take_total("courses", len(rows))
        return rows

    async def _course_record(self, slug: str) -> Course | None:
        if not is_key(slug):
            return None
        omit = self._skip("Course")
        if slug in self._courses:
            return map_course(self._courses[slug], omit=omit)
        if self._outline_only:
            # Nothing but id, title and items selected: the outline call, needed for the
            # items anyway, names the course too.
            contents = await self._contents(slug)
            if contents is None:
                return None
            title = text(contents.get("title"))
            if title is not None:
                return Course(id=slug, title=title)
        try:
            raw = await self._once(("courses/{id}", slug), self._client.course, slug)
        except UpstreamNotFound:
            return None
        if not isinstance(raw, Mapping):
            return None
        self._keep_courses([raw])
        return map_course(raw, omit=omit)

    async def _contents(self, slug: str) -> Raw | None:
        if not is_key(slug):
            return None
        try:
            raw = await self._once(
                ("courses/{id}/contents", slug), self._client.course_contents, slug
            )
        except UpstreamNotFound:
            return None
        if not isinstance(raw, Mapping):
            return None
        sections = raw.get("sections")
        if isinstance(sections, list):
            units = sum(
                len(s.get("learningUnits") or []) for s in sections if isinstance(s, Mapping)
            )
            self._school.observe("items", len(sections) + units)
        return raw

    # --- enrollments ------------------------------------------------------------------

    async def _user_courses(self, user_id: str) -> list[Raw] | None:
        """The user's ``/courses`` rows; ``None`` for a user LearnWorlds does not know."""
        try:
            return await self._once(
                ("users/{id}/courses", user_id), self._read_user_courses, user_id
            )
        except UpstreamNotFound:
            return None

    async def _read_user_courses(self, user_id: str) -> list[Raw]:
        rows = _objects(await self._client.user_courses(user_id))
        self._keep_courses(row.get("course") for row in rows)
        self._school.observe("user_courses", len(rows))
        return rows

    def _user_progress(self, user_id: str) -> Awaitable[list[Raw]]:
        """The user's progress rows in every course (none for a user with no progress)."""
        return self._once(("users/{id}/progress", user_id), self._read_user_progress, user_id)

    async def _read_user_progress(self, user_id: str) -> list[Raw]:
        return _objects(await self._client.user_progress(user_id, user_exists=True))

    async def _course_progress(self, user_id: str, slug: str) -> Raw | None:
        """The user's progress in one course; ``None`` when LearnWorlds has none."""
        try:
            raw = await self._once(
                ("users/{id}/courses/{course}/progress", user_id, slug),
                self._client.user_course_progress,
                user_id,
                slug,
            )
        except UpstreamNotFound:
            return None
        return raw if isinstance(raw, Mapping) else None

    async def _progress_in(self, user_id: str, slugs: set[str]) -> dict[str, Raw | None]:
        """The user's progress in each of ``slugs``: from the user's whole progress when it
        is read anyway or answers more than one course in one call, else the course's own."""
        if len(slugs) > 1 or self._calls.started(("users/{id}/progress", user_id)):
            by_course = progress_by_course(await self._user_progress(user_id))
            return {slug: by_course.get(slug) for slug in slugs}
        (slug,) = slugs
        return {slug: await self._course_progress(user_id, slug)}

    async def _enrollments_of(self, user_id: str, slugs: set[str]) -> list[CourseEnrollment] | None:
        """The user's whole enrollments in ``slugs`` (their ``/courses`` rows and progress);
        ``None`` for a user LearnWorlds does not know."""
        # Both calls at once: the progress does not wait for the rows.
        progress_call = asyncio.ensure_future(self._progress_in(user_id, slugs))
        try:
            listed = await self._user_courses(user_id)
            if listed is None:
                return None
            progresses = await progress_call
        finally:
            if not progress_call.done():
                progress_call.cancel()
        rows = rows_by_course(listed)
        omit = self._skip("CourseEnrollment")
        return [
            map_enrollment(
                user_id,
                rows[slug],
                progresses.get(slug),
                now=self._now,
                course_id=slug,
                user_raw=self._users.get(user_id),
                omit=omit,
            )
            for slug in sorted(slugs)
            if slug in rows
        ]

    async def _roster(self, slug: str) -> list[CourseEnrollment] | None:
        """A course's enrollments as its members list them: *partial* (no row, no progress).
        The schema completes the rows of the page it answers (``get_enrollments``), so a
        long roster costs its members' calls only for the page asked for."""
        if not is_key(slug):
            return None
        try:
            members = _objects(
                await self._once(("courses/{id}/users", slug), self._client.course_users, slug)
            )
        except UpstreamNotFound:
            return None
        self._keep_users(members)
        self._school.observe("roster", len(members))
        title = text(self._courses[slug].get("title")) if slug in self._courses else None
        omit = self._skip("CourseEnrollment")
        return [
            map_roster_enrollment(slug, member, course_title=title, omit=omit)
            for member in members
            if text(member.get("id")) is not None
        ]

    # --- groups -----------------------------------------------------------------------

    async def _group_list(self) -> list[Raw]:
        return await self._once(("user_groups",), self._read_groups)

    async def _read_groups(self) -> list[Raw]:
        rows = _objects(await self._client.user_groups())
        for row in rows:
            if (group_id := text(row.get("id"))) is not None:
                self._groups.setdefault(group_id, row)
        self._school.take_total("user_groups", len(rows))
        return rows

    async def _group(self, group_id: str) -> Raw | None:
        if not is_key(group_id):
            return None
        if self._calls.started(("user_groups",)):
            await self._group_list()
        if group_id in self._groups:
            return self._groups[group_id]
        try:
            raw = await self._once(
                ("user_groups/{id}", group_id), self._client.user_group, group_id
            )
        except UpstreamNotFound:
            return None
        return raw if isinstance(raw, Mapping) else None

    async def _group_members(self, group_id: str) -> list[UserRef] | None:
        if not is_key(group_id):
            return None
        # The group was loaded (members is one of its fields): a 404 is an empty group.
        rows = _objects(
            await self._once(
                ("user_groups/{id}/users", group_id),
                self._client.user_group_users,
                group_id,
                group_exists=True,
            )
        )
        self._keep_users(rows)
        self._school.observe("group_members", len(rows))
        omit = PASSTHROUGH_FIELDS
        return [user_ref(map_user(row, omit=omit)) for row in rows if text(row.get("id"))]

    # --- writes -------------------------------------------------------------------------

    async def enroll_user(
        self, user_id: str, course_id: str, role: EnrollmentRole
    ) -> CourseEnrollment | None:
        require_ids(is_key, user_id, course_id)
        if role is not EnrollmentRole.LEARNER:
            # A school's instructors are a user role, not a part in one course.
            raise WriteRejected(
                UserErrorCode.UNSUPPORTED_ROLE,
                "LearnWorlds enrolls learners only; make the user an instructor instead",
                ("role",),
            )
        await self._written(self._client.enroll(user_id, course_id), course_id)
        self._wrote(user_id, course_id)
        (enrollment,) = await self.get_enrollments([enrollment_id(user_id, course_id)])
        if isinstance(enrollment, BaseException):
            raise enrollment
        return enrollment

    async def unenroll_user(self, user_id: str, course_id: str) -> None:
        require_ids(is_key, user_id, course_id)
        await self._written(self._client.unenroll(user_id, course_id), course_id)
        self._wrote(user_id, course_id)

    async def create_user(self, new: NewUser) -> User:
        body: dict[str, Any] = {
            "email": new.email,
            "username": new.username,
            "first_name": new.first_name,
            "last_name": new.last_name,
        }
        if new.password:
            body["password"] = new.password
        raw = await self._written(self._client.create_user(body))
        return self._user_answer(raw, "POST users")

    async def update_user(self, user_id: str, changes: UserChanges) -> User | None:
        require_ids(is_key, user_id)
        if changes.password is not None:  # LearnWorlds's user update takes no password
            raise WriteRejected(
                UserErrorCode.NOT_SUPPORTED,
                "LearnWorlds does not change a user's password through its API",
                ("password",),
            )
        body = {
            key: value
            for key, value in (
                ("first_name", changes.first_name),
                ("last_name", changes.last_name),
                ("email", changes.email),
                ("username", changes.username),
            )
            if value is not None
        }
        raw = await self._written(self._client.update_user(user_id, body))
        return self._user_answer(raw, "PUT users/{id}")

    async def set_user_status(self, user_id: str, *, active: bool) -> User | None:
        require_ids(is_key, user_id)
        raw = await self._written(self._client.suspend(user_id, suspended=not active))
        return self._user_answer(raw, "PUT users/{id}/suspend")

    async def launch_url(self, user_id: str, course_id: str, return_url: str | None) -> str:
        """A single sign-on link (``POST /sso``) that lands on the course's page. LearnWorlds
        takes no return address (``return_url`` is not used), and the page itself tells a
        learner who is not enrolled how to enroll: no enrollment is checked, no call spent."""
        require_ids(is_key, user_id, course_id)
        page = f"{self._client.school_url}/course/{quote(course_id, safe='')}"
        body = await self._written(self._client.sso(user_id, page))
        url = body.get("url") if isinstance(body, Mapping) else None
        if not isinstance(url, str) or not url:
            raise UpstreamBadResponse(
                "LearnWorlds answered single sign-on without a url",
                provider=PROVIDER,
                endpoint="POST sso",
            )
        return url

    def _user_answer(self, raw: object, endpoint: str) -> User:
        """The User a write answered with, kept for this operation's reads."""
        if not isinstance(raw, Mapping) or text(raw.get("id")) is None:
            raise UpstreamBadResponse(
                "LearnWorlds answered a user write without the user",
                provider=PROVIDER,
                endpoint=endpoint,
            )
        user_id = str(text(raw.get("id")))
        self._users[user_id] = raw
        self._calls.forget(("users/{id}", user_id))
        return map_user(raw, omit=self._skip("User"))

    async def _written(self, write: Awaitable[T], course_id: str | None = None) -> T:
        """The write's answer; a refusal LearnWorlds explains is ``WriteRejected``. Its 404s
        say only "does not exist": with a course involved, one read of the course tells
        whether it is the course or the user that is missing."""
        try:
            return await write
        except UpstreamError as error:
            rejected = _rejected(error)
            if rejected is None and isinstance(error, UpstreamNotFound):
                if course_id is not None and await self._course_record(course_id) is None:
                    rejected = WriteRejected(
                        UserErrorCode.COURSE_NOT_FOUND, error.message, ("courseId",)
                    )
                else:
                    rejected = WriteRejected(
                        UserErrorCode.USER_NOT_FOUND, error.message, ("userId",)
                    )
            raise rejected or error from None

    def _wrote(self, user_id: str, course_id: str) -> None:
        """This operation's reads of the user's enrollments and the roster are stale now."""
        for key in (
            ("users/{id}/courses", user_id),
            ("users/{id}/progress", user_id),
            ("users/{id}/courses/{course}/progress", user_id, course_id),
            ("courses/{id}/users", course_id),
        ):
            self._calls.forget(key)


# Checked by mypy: the class has everything of the protocol the loaders and resolvers call.
_IMPLEMENTS: type[LmsProvider] = LearnWorldsProvider

_USERS_PAGE: Final = DEFAULT_PAGE_SIZES["users"] or 20


def _objects(rows: Iterable[object]) -> list[Raw]:
    return [row for row in rows if isinstance(row, Mapping)]


def _user_params(
    f: UserFilter | None, remote_query: Mapping[str, str]
) -> tuple[tuple[str, str], ...]:
    """/v2/users parameters that return every user ``f`` may match, and fewer others.

    A status filter without ``SUSPENDED`` leaves suspended users out (the list's default),
    ``[SUSPENDED]`` alone asks for them only; one role is LearnWorlds's ``role``; creation
    bounds go one second wider than asked (whether LearnWorlds's are inclusive is not
    documented) and the gateway applies the exact ones."""
    params: dict[str, str] = {"include_suspended": "true"}
    if f is not None:
        if f.status and UserStatus.SUSPENDED not in f.status:
            del params["include_suspended"]
        elif f.status == frozenset({UserStatus.SUSPENDED}):
            params["status"] = "suspended"
        if len(f.role) == 1 and (role := USER_ROLE_FILTERS.get(next(iter(f.role)))):
            params["role"] = role
        if f.created_after is not None:
            params["registration_after"] = str(math.floor(f.created_after.timestamp()) - 1)
        if f.created_before is not None:
            params["registration_before"] = str(math.ceil(f.created_before.timestamp()) + 1)
    params.update(remote_query)
    return tuple(sorted(params.items()))


def _course_params(
    f: CourseFilter | None, remote_query: Mapping[str, str]
) -> tuple[tuple[str, str], ...] | None:
    """/v2/courses parameters for ``f``; ``None`` when no LearnWorlds course can match.

    A status filter becomes ``access`` (repeated). A category is not sent: the unified filter
    matches a name in any case, LearnWorlds's ``categories`` only as written."""
    params: list[tuple[str, str]] = []
    if f is not None and f.status and CourseStatus.UNKNOWN not in f.status:
        access = sorted({value for status in f.status for value in COURSE_ACCESS.get(status, ())})
        if not access:
            return None
        params += [("access", value) for value in access]
    if remote_query:
        params = [(k, v) for k, v in params if k not in remote_query]
        params += sorted(remote_query.items())
    return tuple(params)


# Words of LearnWorlds's error messages for a write's expected failures, by what they mean.
# The messages are not documented word for word (docs/learnworlds-mapping.md): the markers
# are the phrases the public sources and the simulator share, read case-insensitively.
_REJECTIONS: Final[tuple[Rejection, ...]] = (
    ("already owned", UserErrorCode.ALREADY_ENROLLED, None),  # a working client's reading
    ("already enrolled", UserErrorCode.ALREADY_ENROLLED, None),
    ("not enrolled", UserErrorCode.NOT_ENROLLED, None),
    ("user not found", UserErrorCode.USER_NOT_FOUND, ("userId",)),
    ("course not found", UserErrorCode.COURSE_NOT_FOUND, ("courseId",)),
    ("product not found", UserErrorCode.COURSE_NOT_FOUND, ("courseId",)),
    ("email already exists", UserErrorCode.DUPLICATE_EMAIL, ("email",)),
    ("username already exists", UserErrorCode.DUPLICATE_USERNAME, ("username",)),
    ("validation failed", UserErrorCode.INVALID_INPUT, None),
)


def _rejected(error: UpstreamError) -> WriteRejected | None:
    """The expected failure a LearnWorlds error message names, if it names one."""
    return rejected_by_message(error, _REJECTIONS, "LearnWorlds refused the request:")
