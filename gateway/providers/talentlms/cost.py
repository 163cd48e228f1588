"""What each GraphQL field costs in TalentLMS v1 calls: the provider's call plan as a table.

It mirrors ``provider.py`` (which calls answer which field) as upper bounds, and feeds the
gateway's demand control (``schema/cost.py``). Sizes only the data knows — how many users a
portal has, how long a course roster is — come from the largest this process has seen of
the portal, or ``UNSEEN_LIST_SIZE`` until it has seen one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from gateway.config import UsersPaging
from gateway.cost import FieldCost
from gateway.pagination import DEFAULT_PAGE_SIZE, peek_offset
from gateway.pagination import MAX_PAGE_SIZE as MAX_LIST_SIZE
from gateway.providers.talentlms.portal import (
    MAX_PAGE_SIZE,
    PORTAL_DATE_FIELDS,
    TalentLmsPortal,
    users_page_plan,
)

__all__ = ["UNSEEN_LIST_SIZE", "TalentLmsCostTable"]

UNSEEN_LIST_SIZE: Final = 100
_USER_REF: Final = frozenset({"id", "__typename"})
_COURSE_REF: Final = frozenset({"id", "title", "__typename"})
_FREE: Final = FieldCost()


class TalentLmsCostTable:
    """``CostTable`` for one TalentLMS portal."""

    def __init__(self, portal: TalentLmsPortal) -> None:
        self._portal = portal

    def cost(
        self,
        type_name: str,
        field_name: str,
        *,
        parent_full: bool,
        arguments: Mapping[str, Any],
        selected: frozenset[str],
    ) -> FieldCost:
        key = (type_name, field_name)
        if key in PORTAL_DATE_FIELDS:
            return FieldCost(once=frozenset() if self._portal.dates_known else {"siteinfo"})
        match key:
            case ("Query", "user" | "course" | "courseItem" | "courseEnrollment"):
                return FieldCost(calls=1, result_full=True)
            case ("Query", "users"):
                return FieldCost(calls=self._users_calls(arguments, selected), result_full=False)
            case ("Query", "courses"):
                category = (arguments.get("filter") or {}).get("category")
                named = bool(category) and not str(category).isdigit()
                return FieldCost(
                    calls=1, once=frozenset({"categories"} if named else ()), result_full=False
                )
            case ("Query", "courseEnrollments"):
                f = arguments.get("filter") or {}
                if f.get("user_id") is not None:
                    return FieldCost(calls=1, result_full=True)
                return self._roster(f, base_calls=1)
            case ("User", "enrollments"):
                return FieldCost(detail=True, result_full=True)
            case ("User", "organization") | ("Course", "items"):
                return FieldCost(detail=True)
            case ("Course", "enrollments"):
                roster = self._roster(arguments.get("filter") or {}, base_calls=0)
                return FieldCost(calls=roster.calls, detail=True, result_full=roster.result_full)
            case ("CourseEnrollment", "status" | "urls"):
                return FieldCost(detail=True)
            case ("CourseEnrollment", "user"):
                # The learner's users/id record is also the enrollment's detail record.
                return _FREE if selected <= _USER_REF else FieldCost(detail=True, result_full=True)
            case ("CourseEnrollment", "course"):
                return FieldCost(calls=0 if selected <= _COURSE_REF else 1, result_full=True)
            case ("CourseItem", "course" | "parent"):
                return FieldCost(result_full=True)  # the course record is already loaded
            case ("CourseItem", "children"):
                return FieldCost(list_size=self._seen("units"))
            case ("Category", "name"):
                return FieldCost(once=frozenset({"categories"}))
        return _FREE  # TalentLMS has no managers or assigners; other fields are in hand

    def _seen(self, kind: str) -> int:
        return self._portal.seen.get(kind, UNSEEN_LIST_SIZE)

    def _roster(self, f: Mapping[str, Any], *, base_calls: int) -> FieldCost:
        """A course roster: a status filter reads every member's record before paging."""
        if f.get("status"):
            return FieldCost(calls=base_calls + self._seen("roster"), result_full=True)
        return FieldCost(calls=base_calls, result_full=False)

    def _users_calls(self, arguments: Mapping[str, Any], selected: frozenset[str]) -> int:
        f = arguments.get("filter") or {}
        if arguments.get("remote_query") or (f and (f.get("email") or f.get("username"))):
            return 1  # one passthrough or lookup call
        first, last = arguments.get("first"), arguments.get("last")
        before = arguments.get("before")
        whole = (
            bool(f)
            or arguments.get("order_by") is not None
            or "totalCount" in selected
            or (last is not None and before is None)
        )
        if whole:
            return max(1, math.ceil(self._seen("users") / MAX_PAGE_SIZE))
        if self._portal.account.users_paging is UsersPaging.NONE:
            return 1
        after = peek_offset(arguments.get("after"))
        low = 0 if after is None else after + 1
        if last is not None:
            high = peek_offset(before) or 0
            low, count = max(low, high - last), min(last, max(0, high - low))
        else:
            count = first if isinstance(first, int) else DEFAULT_PAGE_SIZE
        # Out-of-range sizes are refused by the resolver; cost them as the largest allowed.
        count = min(max(count, 0), MAX_LIST_SIZE)
        return len(users_page_plan(low, count + 1))
