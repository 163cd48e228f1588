"""What each GraphQL field costs in TalentLMS v1 calls: the provider's call plan as a table.

It mirrors ``provider.py`` (which calls answer which field) as upper bounds, and feeds the
gateway's demand control (``schema/validation/cost.py``). Sizes only the data knows — how many
users a portal has, how long a course roster is — come from the largest this process has seen of
the portal, or ``UNSEEN_LIST_SIZE`` until it has seen one.

Every ``users/id``, ``courses/id`` and ``groups/id`` call is made at most once per operation
(``_once`` in ``provider.py``), so those the portal's data leads to (``key``) are bounded by
its totals; lookups named by arguments are not. Root lookups and lists ask the upstream cache
whether it holds their answers (``cached``), for the quota check.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from gateway.config import UsersPaging
from gateway.domain.cost import FieldCost
from gateway.domain.pagination import DEFAULT_PAGE_SIZE, peek_offset
from gateway.domain.pagination import MAX_PAGE_SIZE as MAX_LIST_SIZE
from gateway.providers.talentlms.mapping import split_course_item_id, split_enrollment_id
from gateway.providers.talentlms.portal import (
    MAX_PAGE_SIZE,
    PORTAL_DATE_FIELDS,
    TalentLmsPortal,
    users_page_plan,
)
from gateway.providers.talentlms.values import is_id

__all__ = ["UNSEEN_LIST_SIZE", "UNSEEN_USER_GROUPS", "TalentLmsCostTable"]

UNSEEN_LIST_SIZE: Final = 100
# A user is in a few groups, not in a list's worth: until a user's record has been seen, ten
# (then the most seen on one). With 100, any per-user group list with its members would be
# refused before the first user record is read: 100 groups times each page of members.
UNSEEN_USER_GROUPS: Final = 10
_USER_REF: Final = frozenset({"id", "remoteId", "__typename"})
_COURSE_REF: Final = frozenset({"id", "remoteId", "title", "__typename"})
_FREE: Final = FieldCost()
_USERS: Final = "users/id"  # the lookup keys of ``TalentLmsPortal.record_bounds``
_COURSES: Final = "courses/id"
_GROUPS: Final = "groups/id"
# What a user's record says of each of their groups; a group's members are read from its
# own id, whoever has it.
_GROUP_REF: Final = frozenset({"id", "remoteId", "name", "__typename", "members"})
_GROUP_DETAIL_ONLY: Final = frozenset({"courses"})  # not in the /groups list

Request = tuple[str, Sequence[tuple[str, object]]]  # a GET: endpoint and path parameters
CachedProbe = Callable[[str, Sequence[tuple[str, object]]], bool]


def _never_cached(endpoint: str, params: Sequence[tuple[str, object]]) -> bool:
    return False


class TalentLmsCostTable:
    """``CostTable`` for one TalentLMS portal.

    ``cached`` tells whether a GET would now be answered by the upstream cache.
    """

    def __init__(self, portal: TalentLmsPortal, cached: CachedProbe = _never_cached) -> None:
        self._portal = portal
        self._cached = cached

    def record_bounds(self) -> Mapping[str, int]:
        return self._portal.record_bounds()

    def cost(
        self,
        type_name: str,
        field_name: str,
        *,
        arguments: Mapping[str, Any],
        selected: frozenset[str],
    ) -> FieldCost:
        key = (type_name, field_name)
        if key in PORTAL_DATE_FIELDS:
            return FieldCost(once=frozenset({"siteinfo"} if self._portal.needs_site_info else ()))
        match key:
            case ("Mutation", "enrollUser"):  # the write, then the learner's record read back
                return FieldCost(calls=2, result_full=True)
            case ("Mutation", "unenrollUser" | "launchCourse" | "createUser"):
                return FieldCost(calls=1, result_full=False)
            case ("Mutation", "updateUser" | "setUserStatus"):  # the write, the user read back
                return FieldCost(calls=2, result_full=True)
            case ("Query", "user" | "course" | "courseItem" | "courseEnrollment" | "group"):
                lookup = self._root_lookup(field_name, arguments)
                return FieldCost(calls=1, result_full=True, cached=self._cached_count([lookup]))
            case ("Query", "category"):
                return FieldCost(once=frozenset({"categories"}), result_full=True)
            case ("Query", "organization"):  # node(id:) of an Organization: one branches list
                return FieldCost(once=frozenset({"branches"}), result_full=True)
            case ("Query", "users"):
                return self._users(arguments, selected)
            case ("Query", "courses"):
                category = (arguments.get("filter") or {}).get("category")
                named = bool(category) and not str(category).isdigit()
                listing = None if arguments.get("remoteQuery") else ("courses", ())
                return FieldCost(
                    calls=1,
                    once=frozenset({"categories"} if named else ()),
                    result_full=False,
                    cached=self._cached_count([listing]),
                )
            case ("Query", "groups"):  # one /groups call, paged and searched in the gateway
                return FieldCost(
                    calls=1, result_full=False, cached=self._cached_count([("groups", ())])
                )
            case ("Query", "courseEnrollments"):
                f = arguments.get("filter") or {}
                if f.get("userId") is not None:
                    lookup = _record("users", f.get("userId"))
                    return FieldCost(calls=1, result_full=True, cached=self._cached_count([lookup]))
                # The roster's reads of its members are counted unbounded with its course's.
                roster = self._roster(f, base_calls=1)
                cached = self._cached_count([_record("courses", f.get("courseId"))])
                return FieldCost(calls=roster.calls, result_full=roster.result_full, cached=cached)
            case ("User", "enrollments"):
                return FieldCost(detail=True, detail_key=_USERS, result_full=True)
            case ("User", "organization"):
                return FieldCost(detail=True, detail_key=_USERS)
            case ("User", "groups"):
                # Ids and names come with the user's record; other fields of the /groups list
                # cost that list once; a group's courses its /groups/id record (Group.courses).
                wanted = selected - _GROUP_REF
                listed = bool(wanted) and not wanted & _GROUP_DETAIL_ONLY
                return FieldCost(
                    detail=True,
                    detail_key=_USERS,
                    once=frozenset({"groups"} if listed else ()),
                    result_full=False,
                    list_size=self._portal.seen.get("user_groups", UNSEEN_USER_GROUPS),
                )
            case ("Group", "members"):
                # The group's /groups/id record lists members by id; any other field of a
                # member reads their users/id record.
                return FieldCost(
                    detail=True,
                    detail_key=_GROUPS,
                    reference=_USER_REF,
                    reference_key=_USERS,
                    result_full=False,
                )
            case ("Group", "courses"):
                return FieldCost(
                    detail=True,
                    detail_key=_GROUPS,
                    reference=_COURSE_REF,
                    reference_key=_COURSES,
                    result_full=False,
                )
            case ("Course", "items"):
                return FieldCost(detail=True, detail_key=_COURSES)
            case ("Course", "enrollments"):
                # A status filter reads each member's users/id record.
                roster = self._roster(arguments.get("filter") or {}, base_calls=0)
                return FieldCost(
                    calls=roster.calls,
                    key=_USERS,
                    detail=True,
                    detail_key=_COURSES,
                    result_full=roster.result_full,
                )
            case ("CourseEnrollment", "status" | "urls"):
                return FieldCost(detail=True, detail_key=_USERS)  # the learner's record
            case ("CourseEnrollment", "user"):
                # The learner's users/id record is also the enrollment's detail record.
                if selected <= _USER_REF:
                    return _FREE
                return FieldCost(detail=True, detail_key=_USERS, result_full=True)
            case ("CourseEnrollment", "course"):
                calls = 0 if selected <= _COURSE_REF else 1
                return FieldCost(calls=calls, key=_COURSES, result_full=True)
            case ("CourseItem", "course" | "parent"):
                return FieldCost(result_full=True)  # the course record is already loaded
            case ("CourseItem", "children"):
                return FieldCost(list_size=self._seen("units"))
            case ("Category", "name"):
                return FieldCost(once=frozenset({"categories"}))
        return _FREE  # TalentLMS has no managers or assigners; other fields are in hand

    def _cached_count(self, requests: Sequence[Request | None]) -> int:
        """How many of ``requests`` the cache answers now (``None``: not known, a miss)."""
        return sum(1 for r in requests if r is not None and self._cached(*r))

    @staticmethod
    def _root_lookup(field_name: str, arguments: Mapping[str, Any]) -> Request | None:
        """The record call a root lookup makes (lookups by email or username: not known)."""
        value = arguments.get("id")
        if value is None:
            return None
        if field_name == "user":
            return _record("users", value)
        if field_name == "course":
            return _record("courses", value)
        if field_name == "group":
            return _record("groups", value)
        if field_name == "courseItem":
            pair = split_course_item_id(str(value))
            return _record("courses", pair[0]) if pair else None
        pair = split_enrollment_id(str(value))  # courseEnrollment: the learner's record
        return _record("users", pair[0]) if pair else None

    def _seen(self, kind: str) -> int:
        return self._portal.seen.get(kind, UNSEEN_LIST_SIZE)

    def _roster(self, f: Mapping[str, Any], *, base_calls: int) -> FieldCost:
        """A course roster: a status filter reads every member's record before paging."""
        if f.get("status"):
            return FieldCost(calls=base_calls + self._seen("roster"), result_full=True)
        return FieldCost(calls=base_calls, result_full=False)

    def _users(self, arguments: Mapping[str, Any], selected: frozenset[str]) -> FieldCost:
        f = arguments.get("filter") or {}
        if arguments.get("remoteQuery") or (f and (f.get("email") or f.get("username"))):
            return FieldCost(calls=1, result_full=False)  # one passthrough or lookup call
        pages = self._users_pages(arguments, selected)
        requests: list[Request | None] = [
            ("users", (("page_size", size), ("page_number", number))) for size, number in pages
        ]
        if self._portal.account.users_paging is UsersPaging.NONE:
            requests = [("users", ())]
        return FieldCost(
            calls=len(requests), result_full=False, cached=self._cached_count(requests)
        )

    def _users_pages(
        self, arguments: Mapping[str, Any], selected: frozenset[str]
    ) -> list[tuple[int, int]]:
        """``(page_size, page_number)`` of the pages a users list reads."""
        f = arguments.get("filter") or {}
        first, last = arguments.get("first"), arguments.get("last")
        before = arguments.get("before")
        whole = (
            bool(f)
            or arguments.get("orderBy") is not None
            or "totalCount" in selected
            or (last is not None and before is None)
        )
        if whole:
            pages = max(1, math.ceil(self._seen("users") / MAX_PAGE_SIZE))
            return [(MAX_PAGE_SIZE, number) for number in range(1, pages + 1)]
        after = peek_offset(arguments.get("after"))
        low = 0 if after is None else after + 1
        if last is not None:
            high = peek_offset(before) or 0
            low, count = max(low, high - last), min(last, max(0, high - low))
        else:
            count = first if isinstance(first, int) else DEFAULT_PAGE_SIZE
        # Out-of-range sizes are refused by the resolver; cost them as the largest allowed.
        count = min(max(count, 0), MAX_LIST_SIZE)
        return users_page_plan(low, count + 1)


def _record(endpoint: str, record_id: object) -> Request | None:
    """The ``/{endpoint}/id:{record_id}`` call, if ``record_id`` is an id at all."""
    return (endpoint, (("id", str(record_id)),)) if is_id(str(record_id)) else None
