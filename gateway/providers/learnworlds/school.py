"""Process-wide knowledge of one LearnWorlds school, for demand control.

``LearnWorldsSchool`` lives as long as the app. LearnWorlds has no call that says how big a
school is, but every list page's ``meta`` does (``PageMeta.total``): the school keeps the
totals its lists reported, which bound how many distinct users, courses and groups an
operation can look up, and the largest list sizes it has seen, which estimate the lists an
operation will read (a learner's courses, a roster, a course's outline).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from gateway.config import AccountConfig
from gateway.domain.cost import TOTALS_MAX_AGE, with_margin

__all__ = ["RECORD_KINDS", "LearnWorldsSchool"]

# Lookup key of demand control → the list whose total bounds it.
RECORD_KINDS: Final = {
    "users/{id}": "users",
    "courses/{id}": "courses",
    "courses/{id}/contents": "courses",
    "user_groups/{id}": "user_groups",
}


class LearnWorldsSchool:
    """What this process has learnt of one LearnWorlds account's data."""

    def __init__(self, account: AccountConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.account = account
        # Largest list sizes seen ("users", "courses", "user_courses", "roster", "items",
        # "user_groups", "group_members", "user_group_refs"), for cost estimates.
        self.seen: dict[str, int] = {}
        self._totals: dict[str, tuple[int, float]] = {}  # list → (total, when read)
        # Rows per page of /users as the school's meta reported it, when it differs from
        # the size asked for (a school may cap items_per_page lower).
        self.users_page_size: int | None = None
        self.clock = clock

    def observe(self, kind: str, size: int) -> None:
        if size > self.seen.get(kind, 0):
            self.seen[kind] = size

    def take_total(self, kind: str, total: int | None) -> None:
        """A whole list's size, as an unfiltered list's ``meta`` reported it."""
        if total is not None and total >= 0:
            self._totals[kind] = (total, self.clock())
            self.observe(kind, total)

    def record_bounds(self) -> dict[str, int]:
        """Most distinct records each lookup can fetch; a total older than
        ``TOTALS_MAX_AGE`` bounds nothing."""
        now = self.clock()
        bounds: dict[str, int] = {}
        for lookup, kind in RECORD_KINDS.items():
            known = self._totals.get(kind)
            if known is not None and now - known[1] <= TOTALS_MAX_AGE:
                bounds[lookup] = with_margin(max(known[0], self.seen.get(kind, 0)))
        return bounds
