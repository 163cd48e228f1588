"""LearnWorlds API v2 HTTP client: requests out, JSON or a typed error back. HTTP only, no mapping.

The conventions are docs/learnworlds-mapping.md's ("API conventions"): every call below
``{school}/admin/api`` carries ``Lw-Client`` (the client id) and ``Authorization: Bearer``; lists
come in a ``{data, meta}`` envelope read page by page; errors come in three body shapes.

Two objects, as for TalentLMS:

* ``LearnWorldsAuth`` lives as long as the app, one per account: the credentials and the
  current access token. With a client secret it fetches a token (OAuth2 client credentials,
  ``POST {base}/oauth2/access_token``) on first use, keeps it, renews it a margin before it
  expires, and lets concurrent callers share one token call (single flight). A static token
  (made in the school's admin panel) is used as it is and never renewed.
* ``LearnWorldsClient`` is a cheap per-operation view over the process's shared HTTP client,
  the account's ``LearnWorldsAuth``, its ``UpstreamGuard`` (retries, breaker, pacing) and the
  shared ``UpstreamCache``, recording every call in the operation's ``UpstreamUsage`` and
  reporting it to the ``Observer``, exactly as ``TalentLmsClient`` does.

A call answered 401 gets exactly one token renewal and one retry; a second 401, or a 401 with a
static token, is ``UpstreamAuthFailed``. The token call itself is paced and counted like any
call (LearnWorlds counts it against the rate limit), never cached and never retried by the
retry policy: only a 400 makes it try the next body encoding (``TokenEncoding.AUTO``).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Final, TypeVar
from urllib.parse import quote

import httpx

from gateway.config import AccountConfig, LearnWorldsSettings, TokenEncoding
from gateway.errors import (
    UpstreamAuthFailed,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamForbidden,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTokenRejected,
)
from gateway.observability.telemetry import CacheLookup, Observer
from gateway.providers.learnworlds.mapping import PageMeta, page_of
from gateway.upstream.cache import UpstreamCache
from gateway.upstream.clock import Clock
from gateway.upstream.exchange import observed_exchange
from gateway.upstream.guard import UpstreamGuard
from gateway.upstream.pacer import Admission
from gateway.upstream.usage import UpstreamUsage

__all__ = [
    "DEFAULT_PAGE_SIZES",
    "PROVIDER",
    "TOKEN_ENDPOINT",
    "LearnWorldsAuth",
    "LearnWorldsClient",
    "ListPage",
    "TokenGrant",
    "decode_response",
    "error_for_response",
    "read_list_envelope",
]

PROVIDER = "learnworlds"
TOKEN_ENDPOINT = "oauth2/access_token"  # the token call's name in usage, metrics and the simulator
Params = Sequence[tuple[str, object]]
T = TypeVar("T")

MAX_ITEMS_PER_PAGE = 200
# ``items_per_page`` sent on each list, by endpoint name (None: not sent). 200, the most the API
# takes, everywhere: where it is not documented (courses, a user's courses, groups and their
# members) working clients send it without error and the API ignores what it does not know
# (docs/learnworlds-mapping.md). Pages are counted from ``meta``, never from the size asked.
DEFAULT_PAGE_SIZES: Final[Mapping[str, int | None]] = {
    "users": MAX_ITEMS_PER_PAGE,
    "users/{id}/courses": MAX_ITEMS_PER_PAGE,
    "users/{id}/progress": MAX_ITEMS_PER_PAGE,
    "courses": MAX_ITEMS_PER_PAGE,
    "courses/{id}/users": MAX_ITEMS_PER_PAGE,
    "user_groups": MAX_ITEMS_PER_PAGE,
    "user_groups/{id}/users": MAX_ITEMS_PER_PAGE,
}
MAX_PAGES = 1000  # a list longer than this many pages is not read further
_MESSAGE_CHARS = 300  # an upstream message is cut here before it reaches an error

# AUTO tries these in this order: the ``data`` form field is what LearnWorlds's own (v1) docs
# show and what most working clients send; plain form fields and JSON are the others seen.
_ENCODINGS = (TokenEncoding.DATA, TokenEncoding.FORM, TokenEncoding.JSON)


# --- the account's token ----------------------------------------------------------------------


@dataclass(frozen=True)
class TokenGrant:
    """A token call's answer: the token and its lifetime in seconds (``None``: not given)."""

    access_token: str
    expires_in: float | None


class LearnWorldsAuth:
    """One account's credentials and current access token, shared by every operation.

    ``margin``: a token is renewed that many seconds before it expires (at most half its
    lifetime, so a short-lived token is not renewed on every call). ``default_lifetime``:
    seconds a token lives when its answer does not say. ``clock`` is monotonic seconds.
    """

    def __init__(
        self,
        *,
        client_id: str,
        token_url: str,
        client_secret: str | None = None,
        access_token: str | None = None,
        encoding: TokenEncoding = TokenEncoding.AUTO,
        margin: float = 60.0,
        default_lifetime: float = 3600.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if not client_id.strip():
            raise ValueError("LearnWorlds needs the client id: it is the Lw-Client header")
        if (client_secret is None) == (access_token is None):
            raise ValueError("give exactly one of client_secret and access_token")
        if margin < 0 or not default_lifetime > 0:
            raise ValueError("margin must not be negative and default_lifetime must be positive")
        self.client_id = client_id
        self.token_url = token_url
        self._secret = client_secret
        self._static = access_token
        self._encoding = encoding
        self._working: TokenEncoding | None = None  # the AUTO encoding that worked last
        self._margin = margin
        self._default_lifetime = default_lifetime
        self._clock = clock
        self._token: str | None = None
        self._renew_at = -math.inf
        self._pending: asyncio.Task[str] | None = None
        self.issued = 0  # tokens fetched so far (for tests and diagnostics)

    @classmethod
    def for_account(
        cls, account: AccountConfig, settings: LearnWorldsSettings, *, clock: Clock = time.monotonic
    ) -> LearnWorldsAuth:
        credentials = account.learnworlds
        if credentials is None:
            raise ValueError(f"account {account.id!r} is not a LearnWorlds account")
        return cls(
            client_id=credentials.client_id,
            token_url=credentials.token_url or f"{account.base_url}/{TOKEN_ENDPOINT}",
            client_secret=credentials.client_secret,
            access_token=credentials.access_token,
            encoding=credentials.token_encoding,
            margin=settings.token_margin_seconds,
            default_lifetime=settings.token_lifetime_seconds,
            clock=clock,
        )

    def __repr__(self) -> str:  # never the secret or a token
        kind = "static token" if self.static else "client credentials"
        return f"LearnWorldsAuth(client_id={self.client_id!r}, {kind})"

    @property
    def static(self) -> bool:
        """A static token: used as it is, never renewed (a 401 cannot be cured here)."""
        return self._static is not None

    @property
    def client_secret(self) -> str | None:
        return self._secret

    def current(self) -> str | None:
        """The token to send now without a token call, if any."""
        if self._static is not None:
            return self._static
        if self._token is not None and self._clock() < self._renew_at:
            return self._token
        return None

    async def token(self, issue: Callable[[], Awaitable[TokenGrant]]) -> str:
        """A token that is not about to expire: the kept one, or a new one from ``issue()``
        (shared with every caller that asks meanwhile)."""
        token = self.current()
        if token is not None:
            return token
        return await self._refresh(issue)

    async def renew(self, rejected: str, issue: Callable[[], Awaitable[TokenGrant]]) -> str:
        """A new token after ``rejected`` got a 401. Callers whose calls failed together share
        one token call; a caller that comes after the renewal gets the new token at once."""
        if self._static is not None:
            raise ValueError("a static token cannot be renewed")
        if self._token is not None and self._token != rejected and self.current() is not None:
            return self._token
        if self._token == rejected:
            self._token = None
        return await self._refresh(issue)

    def encodings(self) -> tuple[TokenEncoding, ...]:
        """The body encodings to try, in order."""
        if self._encoding is not TokenEncoding.AUTO:
            return (self._encoding,)
        first = self._working or _ENCODINGS[0]
        return (first, *(e for e in _ENCODINGS if e is not first))

    def encoding_worked(self, encoding: TokenEncoding) -> None:
        self._working = encoding

    async def _refresh(self, issue: Callable[[], Awaitable[TokenGrant]]) -> str:
        task = self._pending
        if task is None:
            task = self._pending = asyncio.ensure_future(self._issue_and_keep(issue))
            task.add_done_callback(self._settled)
        # Shielded: a caller that goes away (its operation's deadline) does not take the token
        # call from the others waiting for it.
        return await asyncio.shield(task)

    async def _issue_and_keep(self, issue: Callable[[], Awaitable[TokenGrant]]) -> str:
        grant = await issue()
        lifetime = grant.expires_in
        if lifetime is None or not math.isfinite(lifetime) or lifetime <= 0:
            lifetime = self._default_lifetime
        self._token = grant.access_token
        self._renew_at = self._clock() + max(lifetime - self._margin, lifetime / 2)
        self.issued += 1
        return grant.access_token

    def _settled(self, task: asyncio.Task[str]) -> None:
        if self._pending is task:
            self._pending = None


# --- the list envelope --------------------------------------------------------------------------


@dataclass(frozen=True)
class ListPage:
    """One page of a LearnWorlds list: its rows and its ``meta`` as the mapping's
    ``page_of`` reads them (``{"data": [...], "meta": {...}}``, ``{data}`` or a bare array)."""

    rows: list[Any]
    meta: PageMeta

    @property
    def last(self) -> bool:
        """Whether no page follows this one."""
        return self.meta.is_last(self.meta.page or 1)


def read_list_envelope(body: Any, name: str = "") -> ListPage:
    """A list body as a ``ListPage``; a body with no list in it (not an array, and no
    ``data`` array) is ``UpstreamBadResponse``."""
    if not isinstance(body, list) and not (
        isinstance(body, dict) and isinstance(body.get("data"), list)
    ):
        raise UpstreamBadResponse(
            "LearnWorlds sent a list without its data array", provider=PROVIDER, endpoint=name
        )
    rows, meta = page_of(body)
    return ListPage(list(rows), meta)


def _template(segments: Sequence[str]) -> str:
    """An endpoint's name from its path: ids in the places the API takes them become
    ``{id}`` (``users/{id}/enrollment``)."""
    names = list(segments)
    for index in range(1, len(names), 2):
        names[index] = "{id}" if index == 1 else "{" + names[index - 1].rstrip("s") + "}"
    return "/".join(names)


def _row_key(row: object) -> str | None:
    """What identifies a list row, for dropping a row a shifted page repeats."""
    if not isinstance(row, dict):
        return None
    for key in ("id", "course_id"):
        value = row.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return f"{key}:{value}"
    course = row.get("course")
    if isinstance(course, dict) and isinstance(course.get("id"), str):
        return f"course:{course['id']}"
    return None


# --- the client ---------------------------------------------------------------------------------


class LearnWorldsClient:
    """Calls one LearnWorlds school. Every method returns decoded JSON (lists as Python lists
    of the rows, every page read) or raises ``UpstreamError``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        auth: LearnWorldsAuth,
        usage: UpstreamUsage,
        cache: UpstreamCache | None = None,
        cache_scope: str = "",
        fresh: bool = False,
        guard: UpstreamGuard | None = None,
        deadline: float | None = None,
        admission: Admission | None = None,
        observer: Observer | None = None,
        account_id: str = "",
        page_sizes: Mapping[str, int | None] = DEFAULT_PAGE_SIZES,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._auth = auth
        headers = httpx.Headers(http.headers)
        headers["Accept"] = "application/json"
        headers["Lw-Client"] = auth.client_id
        self._headers = headers
        self._timeout = http.timeout.as_dict()
        self._usage = usage
        self._cache = cache
        self._scope = f"{cache_scope}|"
        self._fresh = fresh
        self._guard = guard
        self._deadline = deadline  # time.monotonic() by which the operation must end
        self._admission = admission
        self._observer = observer
        self._account = account_id
        self._page_sizes = page_sizes

    # --- users ---------------------------------------------------------------------------

    async def users(self, filters: Params = ()) -> list[Any]:
        """Every user ``filters`` select (``status``, ``role``, ``tags``,
        ``registration_after``/``_before``, ``cf_*``, ``include_suspended``), newest first.
        A filter that matches nobody may answer 404: that is no users."""
        return await self.read_all(("users",), "users", filters, parent_exists=True)

    async def users_page(self, page: int, filters: Params = ()) -> ListPage:
        """One page of ``users`` (its size is ``meta.itemsPerPage``)."""
        return await self.read_page(("users",), "users", filters, page=page, parent_exists=True)

    async def user(self, user: str, *, include_suspended: bool = False) -> Any:
        """One user by id or e-mail (URL-encoded in the path). A suspended user is a 404
        unless ``include_suspended``."""
        params = [("include_suspended", "true")] if include_suspended else []
        return await self.get(("users", user), "users/{id}", params)

    async def user_courses(self, user: str, *, user_exists: bool = False) -> list[Any]:
        """The user's enrollments (``{created, expires, course}``)."""
        return await self.read_all(
            ("users", user, "courses"), "users/{id}/courses", parent_exists=user_exists
        )

    async def user_progress(self, user: str, *, user_exists: bool = False) -> list[Any]:
        """The user's progress in every enrolled course (rows with ``course_id``). A user with
        no enrollment answers 404: no rows when ``user_exists``."""
        return await self.read_all(
            ("users", user, "progress"), "users/{id}/progress", parent_exists=user_exists
        )

    async def user_course_progress(self, user: str, course: str) -> Any:
        """The user's progress in one course (the bare object)."""
        return await self.get(
            ("users", user, "courses", course, "progress"), "users/{id}/courses/{course}/progress"
        )

    async def user_user_groups(self, user: str, *, user_exists: bool = False) -> list[Any]:
        """The user's groups (``{id, title}``), from any of the shapes the spec has shown:
        ``{"data": {"user_groups": [...]}}``, ``{data, meta}``, a bare array, one object."""
        name = "users/{id}/user-groups"
        try:
            body = await self.get(("users", user, "user-groups"), name)
        except UpstreamNotFound:
            if user_exists:
                return []
            raise
        data = body.get("data", body) if isinstance(body, dict) else body
        if isinstance(data, dict) and isinstance(data.get("user_groups"), list):
            return list(data["user_groups"])
        if isinstance(data, list):
            return data
        if isinstance(data, dict) and "id" in data:
            return [data]
        raise UpstreamBadResponse(
            "LearnWorlds sent a user's groups in a shape it never documented",
            provider=PROVIDER,
            endpoint=name,
        )

    # --- courses ---------------------------------------------------------------------------

    async def courses(self, filters: Params = ()) -> list[Any]:
        """Every course ``filters`` select (``categories``, ``access`` repeated), newest first."""
        return await self.read_all(("courses",), "courses", filters, parent_exists=True)

    async def courses_page(self, page: int, filters: Params = ()) -> ListPage:
        return await self.read_page(("courses",), "courses", filters, page=page, parent_exists=True)

    async def course(self, course: str) -> Any:
        """One course by its id, the slug."""
        return await self.get(("courses", course), "courses/{id}")

    async def course_contents(self, course: str) -> Any:
        """The course's sections and their learning units (the bare object)."""
        return await self.get(("courses", course, "contents"), "courses/{id}/contents")

    async def course_users(
        self, course: str, *, course_exists: bool = False, include_suspended: bool = True
    ) -> list[Any]:
        """The users enrolled in the course (plain User objects, no progress)."""
        params = [("include_suspended", "true")] if include_suspended else []
        return await self.read_all(
            ("courses", course, "users"), "courses/{id}/users", params, parent_exists=course_exists
        )

    # --- user groups -----------------------------------------------------------------------

    async def user_groups(self) -> list[Any]:
        return await self.read_all(("user_groups",), "user_groups", parent_exists=True)

    async def user_group(self, group: str) -> Any:
        return await self.get(("user_groups", group), "user_groups/{id}")

    async def user_group_users(self, group: str, *, group_exists: bool = False) -> list[Any]:
        """The group's members; an empty group answers 404 ("Users not found"): no rows when
        ``group_exists``."""
        return await self.read_all(
            ("user_groups", group, "users"), "user_groups/{id}/users", parent_exists=group_exists
        )

    # --- writes (sent once: the guard never retries them) -------------------------------------

    async def enroll(self, user: str, product: str, *, product_type: str = "course") -> Any:
        """``POST /v2/users/{id}/enrollment``: the user gets the product (a course's slug),
        free, with a justification the school's records show."""
        body = {
            "productId": product,
            "productType": product_type,
            "justification": "Enrolled through the LMS gateway",
            "price": 0,
        }
        try:
            return await self.write("POST", ("users", user, "enrollment"), body)
        finally:
            await self._forget_enrollment(user, product)

    async def unenroll(self, user: str, product: str, *, product_type: str = "course") -> Any:
        """``DELETE /v2/users/{id}/enrollment`` with the product in a JSON body."""
        body = {"productId": product, "productType": product_type}
        try:
            return await self.write("DELETE", ("users", user, "enrollment"), body)
        finally:
            await self._forget_enrollment(user, product)

    async def create_user(self, body: Mapping[str, Any]) -> Any:
        """``POST /v2/users``: the new User (201)."""
        try:
            return await self.write("POST", ("users",), body)
        finally:
            await self._forget_users()

    async def update_user(self, user: str, body: Mapping[str, Any]) -> Any:
        """``PUT /v2/users/{id}``: the changed User."""
        try:
            return await self.write("PUT", ("users", user), body)
        finally:
            await self._forget_users()

    async def suspend(self, user: str, *, suspended: bool) -> Any:
        """``PUT /v2/users/{id}/suspend`` or ``/unsuspend`` (no body): the User."""
        action = "suspend" if suspended else "unsuspend"
        try:
            return await self.write("PUT", ("users", user, action), None)
        finally:
            await self._forget_users()

    async def sso(self, user: str, redirect_url: str) -> Any:
        """``POST /sso`` (below the API root, not ``/v2``): a one-time link that signs the
        user in and lands on ``redirect_url`` (``{success, user_id, url}``)."""
        body = {"user_id": user, "redirectUrl": redirect_url}
        return await self._send("POST", f"{self._base_url}/sso", "POST sso", "", body)

    @property
    def school_url(self) -> str:
        """The school's own address (the API root without ``/admin/api``)."""
        return self._base_url.removesuffix("/admin/api")

    async def _forget_users(self) -> None:
        """Drop every cached read of the school's users: a user was added or changed, and
        lists, lookups by id or e-mail and rosters may show them."""
        if self._cache is None:
            return
        await self._cache.invalidate(self._cache_key(("users",), ()))
        await self._cache.invalidate(self._cache_key(("courses",), ()) + "/")

    async def write(
        self, method: str, segments: Sequence[str], body: Mapping[str, Any] | None
    ) -> Any:
        """A write below ``/v2``; its name in usage and metrics is ``{METHOD} {template}``
        (``POST users/{id}/enrollment``)."""
        name = f"{method} {_template(segments)}"
        return await self._send(method, self._url(segments), name, "", body)

    async def _forget_enrollment(self, user: str, course: str) -> None:
        """Drop the cached reads a changed enrollment makes stale, even when the write
        failed: it may have happened before the error."""
        if self._cache is None:
            return
        for segments in (
            ("users", user, "courses"),
            ("users", user, "progress"),
            ("users", user, "courses", course, "progress"),
            ("courses", course, "users"),
        ):
            await self._cache.invalidate(self._cache_key(segments, ()))

    # --- reading -----------------------------------------------------------------------------

    async def read_all(
        self,
        segments: Sequence[str],
        name: str,
        params: Params = (),
        *,
        parent_exists: bool = False,
    ) -> list[Any]:
        """Every row of a paged list: page 1, then the pages ``meta.totalPages`` announces,
        read concurrently. Stops at ``page >= totalPages``, an empty page, a page the API
        served in place of a later one (past the end it repeats the last), or ``MAX_PAGES``;
        a row a shifted page repeats is kept once.

        A 404 is not found, unless ``parent_exists`` (the caller knows the user, course or
        group is there): then it is an empty list, as LearnWorlds answers some empty lists.
        """
        first = await self.read_page(segments, name, params, page=1, parent_exists=parent_exists)
        pages = [first]
        if not first.last and first.meta.total_pages is not None:
            last = min(first.meta.total_pages, MAX_PAGES)
            tasks = [
                asyncio.ensure_future(
                    self.read_page(segments, name, params, page=page, parent_exists=True)
                )
                for page in range(2, last + 1)
            ]
            try:
                pages += await asyncio.gather(*tasks)
            finally:  # one page failed (or the operation ended): the others are not needed
                for task in tasks:
                    task.cancel()
        rows: list[Any] = []
        seen: set[str] = set()
        for number, page in enumerate(pages, start=1):
            if page.meta.page is not None and page.meta.page < number:
                break  # the last page again: the list ended before
            for row in page.rows:
                key = _row_key(row)
                if key is not None:
                    if key in seen:
                        continue
                    seen.add(key)
                rows.append(row)
            if not page.rows:
                break
        return rows

    async def read_page(
        self,
        segments: Sequence[str],
        name: str,
        params: Params = (),
        *,
        page: int = 1,
        parent_exists: bool = False,
    ) -> ListPage:
        """One page of a list (see ``read_all`` for ``parent_exists``)."""
        size = self._page_sizes.get(name)
        query = [*params, ("page", page), *([("items_per_page", size)] if size else [])]
        try:
            body = await self.get(segments, name, query)
        except UpstreamNotFound:
            if parent_exists:
                return ListPage([], PageMeta(page=page, total_pages=page - 1, present=True))
            raise
        return read_list_envelope(body, name)

    def needs_token(self) -> bool:
        """Whether the next call first makes a token call (no token kept, or one about to
        expire)."""
        return self._auth.current() is None

    def cached(self, segments: Sequence[str], name: str, params: Params = ()) -> bool:
        """Whether ``get(segments, name, params)`` would now be answered without a call."""
        if self._cache is None or self._fresh or self._cache.ttl(name) <= 0:
            return False
        return self._cache.holds(self._cache_key(segments, params))

    async def get(self, segments: Sequence[str], name: str, params: Params = ()) -> Any:
        """``GET {base}/v2/{segments}`` (each segment URL-encoded, so an e-mail or a slug can
        never add a path segment) through the shared cache; ``name`` is the endpoint's name
        in usage, metrics and the cache's time-to-live table (``users/{id}/courses``)."""
        url = self._url(segments)
        query = _query(params)
        if self._cache is None:
            return await self._send("GET", url, name, query)
        shared = False
        try:
            value, shared = await self._cache.fetch(
                self._cache_key(segments, params),
                name,
                lambda: self._send("GET", url, name, query),
                fresh=self._fresh,
            )
        finally:  # a failed lookup is a miss: it made (or waited for) a call that failed
            if self._observer is not None and self._cache.ttl(name) > 0:
                self._observer.cache_lookup(CacheLookup(self._account, name, hit=shared))
        if shared:
            self._usage.record_cache_hit(name)
        return value

    def _url(self, segments: Sequence[str]) -> str:
        return f"{self._base_url}/v2/" + "/".join(quote(str(s), safe="") for s in segments)

    def _cache_key(self, segments: Sequence[str], params: Params) -> str:
        path = "/v2/" + "/".join(quote(str(s), safe="") for s in segments)
        query = _query(params)
        return f"{self._scope}{path}?{query}" if query else self._scope + path

    # --- sending --------------------------------------------------------------------------

    async def _send(
        self, method: str, url: str, name: str, query: str, body: Mapping[str, Any] | None = None
    ) -> Any:
        """The call with the account's token; a 401 gets one renewal and one retry (a write
        too: a 401 means the school did not act on it)."""
        token = await self._auth.token(self._issue_token)
        try:
            return await self._guarded(method, url, name, query, token, body)
        except UpstreamTokenRejected as rejected:
            where = _where(name, rejected.status_code)
            if self._auth.static:
                raise UpstreamAuthFailed(
                    "LearnWorlds refused the static access token (expired or revoked); "
                    "make a new one in the school's admin panel",
                    **where,
                ) from None
        token = await self._auth.renew(token, self._issue_token)
        try:
            return await self._guarded(method, url, name, query, token, body)
        except UpstreamTokenRejected as rejected:
            raise UpstreamAuthFailed(
                "LearnWorlds refused a token it had just issued; check the account's API "
                "access and the client's permissions",
                **_where(name, rejected.status_code),
            ) from None

    async def _guarded(
        self,
        method: str,
        url: str,
        name: str,
        query: str,
        token: str,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        headers = self._headers.copy()
        headers["Authorization"] = f"Bearer {token}"

        async def request() -> Any:
            built = httpx.Request(
                method,
                f"{url}?{query}" if query else url,
                headers=headers,
                json=body,
                extensions={"timeout": self._timeout},
            )
            return await self._exchange(built, name, decode_response)

        return await self._call(request, name, idempotent=method == "GET")

    async def _call(self, request: Callable[[], Awaitable[T]], name: str, *, idempotent: bool) -> T:
        if self._guard is None:
            self._usage.record(name)
            return await request()
        return await self._guard.call(
            request,
            idempotent=idempotent,
            deadline=self._deadline,
            admission=self._admission,
            on_attempt=lambda: self._usage.record(name),
            on_retry=lambda *retry: self._record_retry(name, *retry),
        )

    def _record_retry(self, name: str, *retry: object) -> None:
        self._usage.record_retry(*retry)
        if self._observer is not None:
            self._observer.upstream_retry(self._account, name)

    # --- the token call ----------------------------------------------------------------------

    async def _issue_token(self) -> TokenGrant:
        """A new token: the token call in each encoding ``LearnWorldsAuth.encodings`` gives,
        the next one only after a 400 (a body the school could not read)."""
        refused: UpstreamRejected | None = None
        for encoding in self._auth.encodings():
            try:
                grant = await self._token_call(encoding)
            except UpstreamRejected as exc:
                refused = exc
                continue
            self._auth.encoding_worked(encoding)
            return grant
        assert refused is not None
        raise UpstreamAuthFailed(
            f"LearnWorlds refused the token request ({refused.message}); check the client id "
            "and secret, or set the token body encoding (token_encoding)",
            **_where(TOKEN_ENDPOINT, refused.status_code),
        )

    async def _token_call(self, encoding: TokenEncoding) -> TokenGrant:
        secret = self._auth.client_secret
        assert secret is not None
        fields = {
            "client_id": self._auth.client_id,
            "client_secret": secret,
            "grant_type": "client_credentials",
        }
        headers = self._headers.copy()

        async def request() -> TokenGrant:
            if encoding is TokenEncoding.JSON:
                built = httpx.Request(
                    "POST",
                    self._auth.token_url,
                    json=fields,
                    headers=headers,
                    extensions={"timeout": self._timeout},
                )
            else:
                form = {"data": json.dumps(fields)} if encoding is TokenEncoding.DATA else fields
                built = httpx.Request(
                    "POST",
                    self._auth.token_url,
                    data=form,
                    headers=headers,
                    extensions={"timeout": self._timeout},
                )
            return await self._exchange(built, TOKEN_ENDPOINT, decode_token_response)

        # Paced and counted (LearnWorlds counts it), never retried: idempotent=False.
        return await self._call(request, TOKEN_ENDPOINT, idempotent=False)

    # --- one exchange ---------------------------------------------------------------------------

    async def _exchange(
        self,
        request: httpx.Request,
        name: str,
        decode: Callable[[httpx.Response, str], T],
    ) -> T:
        return await observed_exchange(
            self._http,
            request,
            decode,
            provider=PROVIDER,
            provider_name="LearnWorlds",
            endpoint=name,
            account_id=self._account,
            observer=self._observer,
        )


# --- answers and errors -------------------------------------------------------------------------


def decode_response(response: httpx.Response, name: str) -> Any:
    """JSON of a successful response (``None`` for an empty one, as a 204); otherwise raise
    the matching ``UpstreamError``."""
    if response.is_success:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise UpstreamBadResponse(
                "LearnWorlds sent a response that is not JSON",
                **_where(name, response.status_code),
            ) from None
    raise error_for_response(response.status_code, _json_or_none(response), name, response.headers)


def decode_token_response(response: httpx.Response, name: str = TOKEN_ENDPOINT) -> TokenGrant:
    """The token from ``{"tokenData": {"access_token", "expires_in"}, "success": true}``, or
    the error. On the token call a 401 or 403 is the client's credentials refused, a 400 a
    request the school could not read (``UpstreamRejected``, so the next encoding is tried)
    unless it names the client id, and a 404 an address that is not the token endpoint."""
    where = _where(name, response.status_code)
    if not response.is_success:
        body = _json_or_none(response)
        message, context = _problem(body)
        error = error_for_response(response.status_code, body, name, response.headers)
        if isinstance(error, UpstreamAuthFailed | UpstreamForbidden):
            raise UpstreamAuthFailed(
                "LearnWorlds refused the client credentials"
                + (f" ({context})" if context else "")
                + (f": {message}" if message else "")
                + "; check the client id and secret",
                **where,
            )
        if response.status_code in (404, 405):
            raise UpstreamBadResponse(
                f"LearnWorlds answered HTTP {response.status_code} at the token endpoint: check "
                "the account's URL (…/admin/api) or its token URL",
                **where,
            )
        raise error
    body = _json_or_none(response)
    if not isinstance(body, dict):
        raise UpstreamBadResponse("LearnWorlds sent a token answer that is not JSON", **where)
    if body.get("success") is False:
        message, context = _problem(body)
        raise UpstreamAuthFailed(
            f"LearnWorlds did not issue a token: {message or context or 'no reason given'}",
            **where,
        )
    data = body.get("tokenData")
    source = data if isinstance(data, dict) else body  # a top-level token, if ever
    token = source.get("access_token")
    if not isinstance(token, str) or not token.strip():
        raise UpstreamBadResponse(
            "LearnWorlds answered the token call without tokenData.access_token", **where
        )
    return TokenGrant(token.strip(), _seconds(source.get("expires_in")))


def error_for_response(
    status: int, body: object, name: str, headers: Mapping[str, str] | None = None
) -> UpstreamError:
    """Classify a LearnWorlds error by its status, reading any of its three body shapes:
    ``{"errors": [{"code", "context", "message"}], "success": false}``, ``{"error": "..."}``
    and ``{"statusCode", "error"[, "message", "errors"]}`` (or no JSON at all)."""
    message, context = _problem(body)
    where = _where(name, status)
    shown = message or f"LearnWorlds answered HTTP {status}"
    if context == "client_id" and status in (400, 401, 403):
        # The client id (Lw-Client) is missing or unknown: the account's configuration.
        return UpstreamAuthFailed(
            f"LearnWorlds does not know the account's client id (Lw-Client): {shown}", **where
        )
    if status == 401:
        return UpstreamTokenRejected(f"LearnWorlds refused the access token: {shown}", **where)
    if status == 403:
        return UpstreamForbidden(f"LearnWorlds refused access: {shown}", **where)
    if status == 429:
        return UpstreamRateLimited(
            f"LearnWorlds rate limit reached: {shown}",
            retry_after=_retry_after(headers),
            **where,
        )
    if status == 404:
        if not _shaped(body):
            # Not the API's own answer: the address is not an endpoint (bare /v2, a wrong host).
            return UpstreamBadResponse(
                "LearnWorlds answered HTTP 404 without an API error: the address is not an API "
                "endpoint; check that the account's URL is the school's API URL (…/admin/api)",
                **where,
            )
        return UpstreamNotFound(shown, **where)
    if status >= 500:
        return UpstreamError(f"LearnWorlds failed: {shown}", **where)
    if 400 <= status < 500:
        return UpstreamRejected(f"LearnWorlds refused the request: {shown}", **where)
    return UpstreamBadResponse(f"LearnWorlds answered HTTP {status}", **where)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _shaped(body: object) -> bool:
    """Whether ``body`` is one of LearnWorlds's error shapes."""
    return isinstance(body, dict) and any(k in body for k in ("error", "errors", "statusCode"))


def _problem(body: object) -> tuple[str, str | None]:
    """``(message, context)`` from any of the three error shapes; ``""`` and ``None`` when
    the body says nothing readable."""
    if not isinstance(body, dict):
        return "", None
    message = ""
    context: str | None = None
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        message = _text(first.get("message"))
        context = _text(first.get("context")) or None
    if not message:
        error, detail = _text(body.get("error")), _text(body.get("message"))
        message = f"{error}: {detail}" if error and detail and detail != error else error or detail
    return message[:_MESSAGE_CHARS], context


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _seconds(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, int | float) and math.isfinite(value) and value > 0:
        return float(value)
    return None


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    """``Retry-After`` in seconds (a number or an HTTP date), if the answer has one: the API
    is not known to send it, and nothing depends on it."""
    value = headers.get("retry-after") if headers else None
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _query(params: Params) -> str:
    return str(httpx.QueryParams([(key, _param(value)) for key, value in params]))


def _param(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _where(name: str, status: int | None) -> dict[str, Any]:
    return {"provider": PROVIDER, "endpoint": name, "status_code": status}
