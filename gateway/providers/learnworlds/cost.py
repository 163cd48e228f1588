"""What each GraphQL field costs in LearnWorlds API v2 calls: ``provider.py``'s plan as a table.

Upper bounds for demand control (``schema/validation/cost.py``), as for TalentLMS. Sizes only
the data knows come from the largest this process has seen of the school (``LearnWorldsSchool``),
or defaults until it has seen one; lookups of records the school's own data names are bounded
by the totals its unfiltered lists reported. LearnWorlds paces at 30 calls in 10 s, so the
estimates are kept as tight as the plan allows: whole objects an earlier call carried (the
users of a list or roster, the course inside an enrollment row) cost nothing.

Lists read 200 rows a page (``items_per_page``), one call per page.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Final

from gateway.domain.cost import FieldCost
from gateway.domain.pagination import DEFAULT_PAGE_SIZE, peek_offset
from gateway.domain.pagination import MAX_PAGE_SIZE as MAX_LIST_SIZE
from gateway.providers.learnworlds.client import DEFAULT_PAGE_SIZES, TOKEN_ENDPOINT
from gateway.providers.learnworlds.mapping import split_course_item_id
from gateway.providers.learnworlds.school import LearnWorldsSchool
from gateway.providers.learnworlds.values import is_key

__all__ = [
    "ENROLLMENT_ROW_FIELDS",
    "OUTLINE_COURSE_FIELDS",
    "PROGRESS_FIELDS",
    "UNSEEN_LIST_SIZE",
    "UNSEEN_USER_COURSES",
    "LearnWorldsCostTable",
]

# CourseEnrollment fields that come from a progress row, and from a user's /courses row
# (the enrollment date and the expiry, which decides ``EXPIRED``).
PROGRESS_FIELDS: Final = frozenset(
    {
        "status",
        "progressPercent",
        "completedAt",
        "timeSpentSeconds",
        "score",
        "updatedAt",
        "customFields",
        "remoteData",
    }
)
ENROLLMENT_ROW_FIELDS: Final = frozenset(
    {"status", "enrolledAt", "createdAt", "updatedAt", "customFields", "remoteData"}
)
# Course fields the outline call (``/courses/{slug}/contents``) answers on its own.
OUTLINE_COURSE_FIELDS: Final = frozenset({"id", "remoteId", "title", "items", "__typename"})

# Until a list of a kind has been seen, one page of the API's own default size: a longer
# roster is known after its first read. (A hundred would estimate a status-filtered roster
# at 200 calls, refused at 30 per 10 s however often it is asked.)
UNSEEN_LIST_SIZE: Final = 20
# A learner is enrolled in a few courses, not a page's worth: until a user's course list has
# been seen, ten (then the most seen on one). With a page's worth a five-user dashboard would
# be estimated at over a hundred outline calls, beyond what 30 calls per 10 s can serve
# before its deadline, before the school was ever asked.
UNSEEN_USER_COURSES: Final = 10
UNSEEN_USER_GROUPS: Final = 10
_PAGE: Final = DEFAULT_PAGE_SIZES["users"] or 20
_USER_REF: Final = frozenset({"id", "remoteId", "__typename"})
_COURSE_REF: Final = frozenset({"id", "remoteId", "title", "__typename"})
_GROUP_REF: Final = frozenset({"id", "remoteId", "name", "__typename", "members"})
_FREE: Final = FieldCost()
_USERS: Final = "users/{id}"  # the lookup keys of ``LearnWorldsSchool.record_bounds``
_COURSES: Final = "courses/{id}"
_CONTENTS: Final = "courses/{id}/contents"
_WITH_SUSPENDED: Final = (("include_suspended", "true"),)

Request = tuple[tuple[str, ...], str, Sequence[tuple[str, object]]]  # segments, name, params
CachedProbe = Callable[[Sequence[str], str, Sequence[tuple[str, object]]], bool]


def _never_cached(segments: Sequence[str], name: str, params: Sequence[tuple[str, object]]) -> bool:
    return False


class LearnWorldsCostTable:
    """``CostTable`` for one LearnWorlds school; ``cached`` tells whether a GET would now be
    answered by the upstream cache (``LearnWorldsClient.cached``), ``needs_token`` whether
    the operation's first call will be preceded by a token call (LearnWorlds counts it)."""

    def __init__(
        self,
        school: LearnWorldsSchool,
        cached: CachedProbe = _never_cached,
        needs_token: Callable[[], bool] = lambda: False,
    ) -> None:
        self._school = school
        self._cached = cached
        self._needs_token = needs_token

    def record_bounds(self) -> Mapping[str, int]:
        return self._school.record_bounds()

    def cost(
        self,
        type_name: str,
        field_name: str,
        *,
        arguments: Mapping[str, Any],
        selected: frozenset[str],
    ) -> FieldCost:
        cost = self._cost(type_name, field_name, arguments, selected)
        if (cost.calls or cost.detail or cost.once) and self._needs_token():
            return replace(cost, once=cost.once | {TOKEN_ENDPOINT})
        return cost

    def _cost(
        self,
        type_name: str,
        field_name: str,
        arguments: Mapping[str, Any],
        selected: frozenset[str],
    ) -> FieldCost:
        match (type_name, field_name):
            case ("Mutation", "enrollUser"):  # the write, then the row and progress read back
                return FieldCost(calls=3, result_full=True)
            case ("Mutation", "unenrollUser" | "createUser" | "updateUser" | "setUserStatus"):
                return FieldCost(calls=1, result_full=True)  # user writes answer the User
            case ("Mutation", "launchCourse"):  # one single sign-on call
                return FieldCost(calls=1)
            case ("Query", "user"):
                if arguments.get("username") is not None:  # no lookup: the whole user list
                    return FieldCost(calls=self._pages("users"), result_full=True)
                lookup = arguments.get("id") or arguments.get("email")
                request = _get(("users", str(lookup)), _USERS, _WITH_SUSPENDED, lookup)
                return FieldCost(calls=1, result_full=True, cached=self._cached_count([request]))
            case ("Query", "course"):
                if "items" in selected and selected <= OUTLINE_COURSE_FIELDS:
                    return FieldCost(result_full=True)  # Course.items' outline call names it
                slug = arguments.get("id")
                request = _get(("courses", str(slug)), _COURSES, (), slug)
                return FieldCost(calls=1, result_full=True, cached=self._cached_count([request]))
            case ("Query", "group"):
                group = arguments.get("id")
                request = _get(("user_groups", str(group)), "user_groups/{id}", (), group)
                return FieldCost(calls=1, result_full=True, cached=self._cached_count([request]))
            case ("Query", "courseItem"):
                pair = split_course_item_id(arguments.get("id"))
                return FieldCost(calls=1 if pair else 0, result_full=True)
            case ("Query", "courseEnrollment"):
                # The user's /courses row and the course's progress; the learner's name and
                # e-mails their record.
                return FieldCost(calls=2 + ("user" in selected), result_full=True)
            case ("Query", "category"):  # a name the catalog's courses carry
                return FieldCost(calls=self._pages("courses"), result_full=True)
            case ("Query", "organization"):
                return _FREE  # LearnWorlds has none
            case ("Query", "users"):
                return self._users(arguments, selected)
            case ("Query", "courses"):
                return self._whole_list("courses")
            case ("Query", "groups"):
                return self._whole_list("user_groups")
            case ("Query", "courseEnrollments"):
                f = arguments.get("filter") or {}
                if f.get("userId") is not None:
                    return FieldCost(calls=2, result_full=True, list_size=self._user_courses())
                # The roster, its course's record (for the enrollments' course), and, with a
                # status filter, each member's row and progress.
                return self._roster(f, base_calls=2)
            case ("User", "enrollments"):
                # /courses (rows embed their courses) and /progress, per user.
                return FieldCost(calls=2, result_full=True, list_size=self._user_courses())
            case ("User", "groups"):
                wanted = selected - _GROUP_REF
                return FieldCost(
                    calls=1,
                    once=frozenset({"user_groups"} if wanted else ()),
                    result_full=True,
                    list_size=self._school.seen.get("user_group_refs", UNSEEN_USER_GROUPS),
                )
            case ("Group", "members"):
                # Whole Users: nothing selected on them costs more.
                return FieldCost(calls=1, result_full=True, list_size=self._seen("group_members"))
            case ("Group", "courses"):
                return FieldCost(reference=_COURSE_REF, reference_key=_COURSES, result_full=False)
            case ("Course", "items"):
                return FieldCost(calls=1, key=_CONTENTS, list_size=self._seen("items"))
            case ("CourseItem", "children"):
                return FieldCost(list_size=self._seen("items"))
            case ("Course", "enrollments"):
                return self._roster(arguments.get("filter") or {}, base_calls=1)
            case ("CourseEnrollment", field) if field in PROGRESS_FIELDS | ENROLLMENT_ROW_FIELDS:
                # A roster row lacks them: its member's progress and /courses row (at most).
                return FieldCost(detail=True, detail_calls=2)
            case ("CourseEnrollment", "user" | "course"):
                # The learner is a roster's member or the user whose list it is (whole objects
                # in hand); the course is embedded in the user's /courses row or the roster's.
                return FieldCost(result_full=True)
        return _FREE

    def _seen(self, kind: str) -> int:
        return self._school.seen.get(kind, UNSEEN_LIST_SIZE)

    def _user_courses(self) -> int:
        return self._school.seen.get("user_courses", UNSEEN_USER_COURSES)

    def _whole_list(self, kind: str) -> FieldCost:
        """A list read whole (``courses``, ``user_groups``), its first page perhaps cached."""
        first = _list((kind,), kind, ())
        return FieldCost(
            calls=self._pages(kind), result_full=True, cached=self._cached_count([first])
        )

    def _pages(self, kind: str) -> int:
        """Calls to read a whole list of ``kind``: one per 200 rows seen, at least one."""
        return max(1, math.ceil(self._school.seen.get(kind, 0) / _PAGE))

    def _roster(self, f: Mapping[str, Any], *, base_calls: int) -> FieldCost:
        """A course's roster: a status filter completes every member's enrollment first."""
        pages = self._pages("roster")
        if f.get("status"):
            calls = base_calls - 1 + pages + 2 * self._seen("roster")
            return FieldCost(calls=calls, result_full=True, list_size=self._seen("roster"))
        return FieldCost(
            calls=base_calls - 1 + pages, result_full=False, list_size=self._seen("roster")
        )

    def _users(self, arguments: Mapping[str, Any], selected: frozenset[str]) -> FieldCost:
        f = arguments.get("filter") or {}
        if not arguments.get("remoteQuery"):
            if f.get("updatedAfter") is not None or f.get("updatedBefore") is not None:
                return FieldCost(result_full=True)  # no LearnWorlds user has an update time
            if f.get("email"):
                return FieldCost(calls=1, result_full=True)
        first, last = arguments.get("first"), arguments.get("last")
        before = arguments.get("before")
        whole = (
            bool(f)
            or bool(arguments.get("remoteQuery"))
            or arguments.get("orderBy") is not None
            or "totalCount" in selected
            or (last is not None and before is None)
        )
        if whole:
            return FieldCost(calls=self._pages("users"), result_full=True)
        after = peek_offset(arguments.get("after"))
        low = 0 if after is None else after + 1
        if last is not None:
            high = peek_offset(before) or 0
            low, count = max(low, high - last), min(last, max(0, high - low))
        else:
            count = first if isinstance(first, int) else DEFAULT_PAGE_SIZE
        count = min(max(count, 0), MAX_LIST_SIZE) + 1  # one more row says whether more follow
        pages = range(low // _PAGE + 1, (low + count - 1) // _PAGE + 2)
        requests = [_list(("users",), "users", _WITH_SUSPENDED, page) for page in pages]
        return FieldCost(calls=len(requests), result_full=True, cached=self._cached_count(requests))

    def _cached_count(self, requests: Sequence[Request | None]) -> int:
        """How many of ``requests`` the cache answers now (``None``: not a call, a miss)."""
        return sum(1 for r in requests if r is not None and self._cached(*r))


def _get(
    segments: tuple[str, ...], name: str, params: Sequence[tuple[str, object]], key: object
) -> Request | None:
    """A record's GET, if ``key`` can name one at all."""
    return (segments, name, params) if is_key(key) else None


def _list(
    segments: tuple[str, ...], name: str, params: Sequence[tuple[str, object]], page: int = 1
) -> Request:
    """One page of a list, with the parameters the client adds (``read_page``)."""
    size = DEFAULT_PAGE_SIZES.get(name)
    paging: list[tuple[str, object]] = [("page", page)]
    if size:
        paging.append(("items_per_page", size))
    return (segments, name, (*params, *paging))
