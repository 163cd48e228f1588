"""Process-wide knowledge of one TalentLMS portal, and how ``/users`` is paged.

``TalentLmsPortal`` lives as long as the app: it reads the portal's date conventions once
(``/siteinfo``) and remembers the largest list sizes it has seen, which demand control uses
as estimates, and the portal's totals of users and courses, which bound them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from gateway.config import AccountConfig
from gateway.domain.cost import TOTALS_MAX_AGE, with_margin
from gateway.errors import UpstreamBadResponse, UpstreamError
from gateway.providers.talentlms.client import PROVIDER, TalentLmsClient
from gateway.providers.talentlms.mapping import PortalConventions
from gateway.providers.talentlms.values import DateFormat

__all__ = [
    "MAX_PAGE_SIZE",
    "PORTAL_DATE_FIELDS",
    "TOTALS_MAX_AGE",
    "TalentLmsPortal",
    "users_page_plan",
    "with_margin",
]

# Largest page_size we ask for; clients report portals accepting up to 1000 ([T]).
MAX_PAGE_SIZE: Final = 1000

# (GraphQL type, field) whose values exist only as formatted dates in TalentLMS.
PORTAL_DATE_FIELDS: Final = frozenset(
    {("User", "createdAt"), ("Course", "createdAt"), ("Course", "updatedAt")}
)

# Record lookups of each kind bounded by a /siteinfo total (see ``record_bounds``).
_TOTALS: Final = {
    "users/id": ("total_users", "users"),
    "courses/id": ("total_courses", "courses"),
    "groups/id": ("total_groups", "groups"),
}


def _total(value: Any) -> int | None:
    """A /siteinfo total: a string of digits (or an int) per reference §7.5; junk is unknown."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


class TalentLmsPortal:
    """Process-wide state of one TalentLMS account: its date conventions, read once."""

    def __init__(self, account: AccountConfig) -> None:
        self.account = account
        configured = DateFormat.parse(account.date_format) if account.date_format else None
        self._conventions = (
            PortalConventions(date_format=configured, timezone=account.timezone)
            if configured
            else None
        )
        self._loading: asyncio.Future[PortalConventions] | None = None
        # Largest list sizes seen so far ("users", "courses", "roster", "units", "groups",
        # "user_groups", "group_members", "group_courses"), for cost estimates.
        self.seen: dict[str, int] = {}
        self._totals: dict[str, int] = {}  # from the last /siteinfo read, by record lookup
        self._totals_read_at: float | None = None
        self.clock: Callable[[], float] = time.monotonic

    def take_totals(self, info: Mapping[str, Any]) -> None:
        """Keep the totals of a /siteinfo body; a missing or junk total is unknown."""
        found = ((lookup, _total(info.get(name))) for lookup, (name, _) in _TOTALS.items())
        self._totals = {lookup: total for lookup, total in found if total is not None}
        self._totals_read_at = self.clock()

    @property
    def totals_stale(self) -> bool:
        """Totals were read, too long ago to bound anything."""
        read_at = self._totals_read_at
        return read_at is not None and self.clock() - read_at > TOTALS_MAX_AGE

    def record_bounds(self) -> dict[str, int]:
        """Most distinct records each lookup (``users/id``, ``courses/id``, ``groups/id``) can
        fetch from the portal's own data; empty while the totals are unknown or stale."""
        if self._totals_read_at is None or self.totals_stale:
            return {}
        return {
            lookup: with_margin(max(total, self.seen.get(_TOTALS[lookup][1], 0)))
            for lookup, total in self._totals.items()
        }

    @property
    def needs_site_info(self) -> bool:
        """Whether reading the date format would call /siteinfo: it is unknown, or the
        totals read with it are stale."""
        return self._conventions is None or self.totals_stale

    @property
    def dates_known(self) -> bool:
        return self._conventions is not None

    def observe(self, kind: str, size: int) -> None:
        if size > self.seen.get(kind, 0):
            self.seen[kind] = size

    @property
    def known_conventions(self) -> PortalConventions:
        """What is known without a call; the date format may still be unknown."""
        return self._conventions or PortalConventions(timezone=self.account.timezone)

    async def conventions(self, client: TalentLmsClient) -> PortalConventions:
        """The portal's conventions, reading ``/siteinfo`` once for all concurrent callers
        (and again when its totals are stale: see ``TOTALS_MAX_AGE``)."""
        if not self.needs_site_info:
            assert self._conventions is not None
            return self._conventions
        if self._loading is None or self._loading.done():
            self._loading = asyncio.ensure_future(self._read_site_info(client))
        try:
            return await asyncio.shield(self._loading)
        except UpstreamError:
            if self._conventions is None:
                raise
            return self._conventions  # only the totals were to be refreshed: they stay stale

    async def _read_site_info(self, client: TalentLmsClient) -> PortalConventions:
        info = await client.site_info()
        if isinstance(info, dict):
            self.take_totals(info)
        date_format = DateFormat.parse(info.get("date_format")) if isinstance(info, dict) else None
        if date_format is None:
            raise UpstreamBadResponse(
                "TalentLMS siteinfo has no usable date_format",
                provider=PROVIDER,
                endpoint="siteinfo",
            )
        self._conventions = PortalConventions(
            date_format=date_format, timezone=self.account.timezone
        )
        return self._conventions


def users_page_plan(
    offset: int, count: int, max_size: int = MAX_PAGE_SIZE
) -> list[tuple[int, int]]:
    """``(page_size, page_number)`` requests that cover rows ``[offset, offset + count)``.

    One page is enough when some page size puts the whole window on one page; the smallest
    such size downloads the fewest rows. Otherwise two pages of size ``count`` do.
    """
    if count <= 0:
        return []
    last = offset + count - 1
    for size in range(count, max_size + 1):
        if offset // size == last // size:
            return [(size, offset // size + 1)]
    first_page = offset // count + 1
    return [(count, first_page), (count, first_page + 1)]
