"""Process-wide knowledge of one TalentLMS portal, and how ``/users`` is paged.

``TalentLmsPortal`` lives as long as the app: it reads the portal's date conventions once
(``/siteinfo``) and remembers the largest list sizes it has seen, which demand control uses
as estimates.
"""

from __future__ import annotations

import asyncio
from typing import Final

from gateway.config import AccountConfig
from gateway.errors import UpstreamBadResponse
from gateway.providers.talentlms.client import PROVIDER, TalentLmsClient
from gateway.providers.talentlms.mapping import PortalConventions
from gateway.providers.talentlms.values import DateFormat

__all__ = ["MAX_PAGE_SIZE", "PORTAL_DATE_FIELDS", "TalentLmsPortal", "users_page_plan"]

# Largest page_size we ask for; clients report portals accepting up to 1000 ([T]).
MAX_PAGE_SIZE: Final = 1000

# (GraphQL type, field) whose values exist only as formatted dates in TalentLMS.
PORTAL_DATE_FIELDS: Final = frozenset(
    {("User", "createdAt"), ("Course", "createdAt"), ("Course", "updatedAt")}
)


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
        # Largest list sizes seen so far ("users", "roster", "units"), for cost estimates.
        self.seen: dict[str, int] = {}

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
        """The portal's conventions, reading ``/siteinfo`` once for all concurrent callers."""
        if self._conventions is not None:
            return self._conventions
        if self._loading is None or (self._loading.done() and self._loading.exception()):
            self._loading = asyncio.ensure_future(self._read_site_info(client))
        return await asyncio.shield(self._loading)

    async def _read_site_info(self, client: TalentLmsClient) -> PortalConventions:
        info = await client.site_info()
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
