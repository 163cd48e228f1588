"""TalentLMS v1 HTTP client: requests out, JSON or a typed error back. HTTP only, no mapping.

One ``httpx.AsyncClient`` is shared by the whole process (opened and closed by the app's
lifespan); a ``TalentLmsClient`` is a cheap per-operation view of it that knows the
account's base URL and key and records every call in the operation's ``UpstreamUsage``.
Each call, retry and cache lookup is also reported to an ``Observer``
(``gateway.observability.telemetry``) as plain facts; what becomes of them (metrics, logs,
traces) is not the client's business.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from gateway.errors import (
    UpstreamAuthFailed,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamForbidden,
    UpstreamGone,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamRejected,
)
from gateway.observability.telemetry import CacheLookup, Observer
from gateway.providers.talentlms.params import endpoint_name, path_for
from gateway.upstream.cache import UpstreamCache
from gateway.upstream.exchange import observed_exchange
from gateway.upstream.guard import UpstreamGuard
from gateway.upstream.pacer import Admission
from gateway.upstream.usage import UpstreamUsage

__all__ = ["PROVIDER", "WRITES", "TalentLmsClient", "error_for_response"]

PROVIDER = "talentlms"
Params = Sequence[tuple[str, object]]

# v1 endpoints that change data although called with GET: never cached, never retried.
WRITES = frozenset(
    {
        "usersetstatus",
        "branchsetstatus",
        "addusertogroup",
        "removeuserfromgroup",
        "addcoursetogroup",
        "addusertobranch",
        "removeuserfrombranch",
        "addcoursetobranch",
        "removeuserfromcourse",
        "resetuserprogress",
        "gotocourse",
        "forgotusername",
        "forgotpassword",
    }
)

# Messages that mean "this record is not there" rather than "your request is wrong".
_NOT_FOUND_MARKERS = ("does not exist", "there is no group with such key", "is not enrolled")
_GONE_MARKER = "no longer available"
_ACTION_MISSING = "the requested api action does not exist"


class TalentLmsClient:
    """Calls one TalentLMS portal. Every method returns decoded JSON or raises ``UpstreamError``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        api_key: str,
        usage: UpstreamUsage,
        cache: UpstreamCache | None = None,
        cache_scope: str = "",
        fresh: bool = False,
        guard: UpstreamGuard | None = None,
        deadline: float | None = None,
        admission: Admission | None = None,
        observer: Observer | None = None,
        account_id: str = "",
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        # The request headers (the client's defaults, JSON, the key) and timeouts, built once
        # per operation: httpx's `request()` merges them again for every call, plus an auth
        # flow per call, about 40 % of the client's own CPU on a 41-call roster.
        headers = httpx.Headers(http.headers)
        headers["Accept"] = "application/json"
        headers["Authorization"] = _basic_auth(api_key)
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

    # --- read endpoints -----------------------------------------------------------------

    async def users(self, *, page_size: int | None = None, page_number: int | None = None) -> Any:
        params: list[tuple[str, object]] = []
        if page_size is not None:
            params = [("page_size", page_size), ("page_number", page_number or 1)]
        return await self.get("users", params)

    async def user(
        self, *, id: str | None = None, email: str | None = None, username: str | None = None
    ) -> Any:
        key, value = _exactly_one(id=id, email=email, username=username)
        return await self.get("users", [(key, value)])

    async def users_by_custom_field(self, value: str) -> Any:
        return await self.get("getusersbycustomfield", [("custom_field_value", value)])

    async def courses_by_custom_field(self, value: str) -> Any:
        return await self.get("getcoursesbycustomfield", [("custom_field_value", value)])

    async def courses(self) -> Any:
        return await self.get("courses")

    async def course(self, course_id: str) -> Any:
        return await self.get("courses", [("id", course_id)])

    async def categories(self) -> Any:
        return await self.get("categories")

    async def groups(self) -> Any:
        return await self.get("groups")

    async def group(self, group_id: str) -> Any:
        return await self.get("groups", [("id", group_id)])

    async def branches(self) -> Any:
        return await self.get("branches")

    async def site_info(self) -> Any:
        return await self.get("siteinfo")

    async def rate_limit(self) -> Any:
        return await self.get("ratelimit")

    def cached(self, endpoint: str, params: Params = ()) -> bool:
        """Whether ``get(endpoint, params)`` would now be answered without a call."""
        if self._cache is None or self._fresh or endpoint in WRITES:
            return False
        if self._cache.ttl(endpoint_name(endpoint, params)) <= 0:
            return False
        return self._cache.holds(self._scope + path_for(endpoint, params))

    # --- write endpoints (never retried by callers) -----------------------------------

    async def add_user_to_course(
        self, *, user_id: str, course_id: str, role: str = "learner"
    ) -> Any:
        try:
            return await self.post(
                "addusertocourse", {"user_id": user_id, "course_id": course_id, "role": role}
            )
        finally:
            await self._forget_enrollment(user_id, course_id)

    async def remove_user_from_course(self, *, user_id: str, course_id: str) -> Any:
        try:
            return await self.get(
                "removeuserfromcourse", [("user_id", user_id), ("course_id", course_id)]
            )
        finally:
            await self._forget_enrollment(user_id, course_id)

    async def user_signup(self, form: Mapping[str, object]) -> Any:
        """``POST usersignup``: a new user (``first_name``, ``last_name``, ``email``,
        ``login``, ``password``)."""
        try:
            return await self.post("usersignup", form)
        finally:
            await self._forget_users()

    async def edit_user(self, form: Mapping[str, object]) -> Any:
        """``POST edituser``: ``user_id`` and the fields to change."""
        try:
            return await self.post("edituser", form)
        finally:
            await self._forget_user(str(form["user_id"]))

    async def set_user_status(self, *, user_id: str, status: str) -> Any:
        """``usersetstatus/user_id:,status:`` (``active`` or ``inactive``)."""
        try:
            return await self.get("usersetstatus", [("user_id", user_id), ("status", status)])
        finally:
            await self._forget_user(user_id)

    async def go_to_course(
        self, *, user_id: str, course_id: str, return_url: str | None = None
    ) -> Any:
        """``gotocourse``: a link that logs the user in and opens the course; the learner
        comes back to ``return_url`` on logout and when the course is completed."""
        params: list[tuple[str, object]] = [("user_id", user_id), ("course_id", course_id)]
        if return_url:
            params += [("logout_redirect", return_url), ("course_completed_redirect", return_url)]
        return await self.get("gotocourse", params)

    async def _forget_user(self, user_id: str) -> None:
        """Drop the cached reads of a changed user: their record, lookups and the lists."""
        if self._cache is None:
            return
        await self._cache.invalidate(self._scope + path_for("users", [("id", user_id)]))
        await self._forget_users()

    async def _forget_users(self) -> None:
        """Drop the cached user lists and lookups by e-mail or username (a user was added or
        changed: a list page or a lookup may now be stale)."""
        if self._cache is None:
            return
        for prefix in ("/users/email:", "/users/username:", "/users/page_size:"):
            await self._cache.invalidate(self._scope + prefix)
        await self._cache.invalidate_exact(self._scope + path_for("users"))
        await self._cache.invalidate(self._scope + path_for("getusersbycustomfield") + "/")

    async def _forget_enrollment(self, user_id: str, course_id: str) -> None:
        """Drop the cached reads a changed enrollment makes stale, even when the write
        failed: it may have happened before the error."""
        if self._cache is None:
            return
        for endpoint, params in (
            ("users", [("id", user_id)]),
            ("courses", [("id", course_id)]),
            ("getuserstatusincourse", [("course_id", course_id), ("user_id", user_id)]),
        ):
            await self._cache.invalidate(self._scope + path_for(endpoint, params))
        for lookup in ("email", "username"):  # the same user under other keys
            await self._cache.invalidate(f"{self._scope}/users/{lookup}:")

    # --- transport --------------------------------------------------------------------

    async def get(self, endpoint: str, params: Params = ()) -> Any:
        path = path_for(endpoint, params)
        name = endpoint_name(endpoint, params)
        url = self._base_url + path
        if self._cache is None or endpoint in WRITES:
            return await self._send("GET", url, name)
        shared = False
        try:
            value, shared = await self._cache.fetch(
                self._scope + path, name, lambda: self._send("GET", url, name), fresh=self._fresh
            )
        finally:  # a failed lookup is a miss: it made (or waited for) a call that failed
            if self._observer is not None and self._cache.ttl(name) > 0:
                self._observer.cache_lookup(CacheLookup(self._account, name, hit=shared))
        if shared:
            self._usage.record_cache_hit(name)
        return value

    async def post(self, endpoint: str, form: Mapping[str, object]) -> Any:
        # TalentLMS refuses JSON bodies and empty optional values: form-encode, omit unset.
        data = {key: str(value) for key, value in form.items() if value is not None}
        url = self._base_url + path_for(endpoint)
        return await self._send("POST", url, endpoint_name(endpoint), data=data)

    async def _send(
        self, method: str, url: str, name: str, data: dict[str, str] | None = None
    ) -> Any:
        if self._guard is None:
            self._usage.record(name)
            return await self._request(method, url, name, data)
        if name != "ratelimit":
            self._guard.watch_quota(self._read_quota)
        return await self._guard.call(
            lambda: self._request(method, url, name, data),
            idempotent=method == "GET" and name not in WRITES,
            deadline=self._deadline,
            free=name == "ratelimit",  # /ratelimit does not count against the quota
            admission=self._admission,
            on_attempt=lambda: self._usage.record(name),
            on_retry=lambda *retry: self._record_retry(name, *retry),
        )

    def _record_retry(self, name: str, *retry: object) -> None:
        self._usage.record_retry(*retry)
        if self._observer is not None:
            self._observer.upstream_retry(self._account, name)

    async def _read_quota(self) -> Any:
        # Free, and not part of any operation's count.
        return await self._request("GET", self._base_url + path_for("ratelimit"), "ratelimit", None)

    async def _request(self, method: str, url: str, name: str, data: dict[str, str] | None) -> Any:
        request = httpx.Request(
            method, url, data=data, headers=self._headers, extensions={"timeout": self._timeout}
        )
        return await observed_exchange(
            self._http,
            request,
            decode_response,
            provider=PROVIDER,
            provider_name="TalentLMS",
            endpoint=name,
            account_id=self._account,
            observer=self._observer,
        )


def decode_response(response: httpx.Response, name: str) -> Any:
    """JSON of a successful response; otherwise raise the matching ``UpstreamError``."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
        if response.is_success:
            raise UpstreamBadResponse(
                "TalentLMS sent a response that is not JSON",
                provider=PROVIDER,
                endpoint=name,
                status_code=response.status_code,
            ) from None
    # TalentLMS may report an error with a 200: the body decides, not the status alone.
    if isinstance(body, dict) and "error" in body:
        raise error_for_response(response.status_code, body["error"], name, response.headers)
    if not response.is_success:
        raise error_for_response(response.status_code, None, name, response.headers)
    return body


def error_for_response(
    status: int, error: object, name: str, headers: Mapping[str, str] | None = None
) -> UpstreamError:
    """Classify a TalentLMS error by its message first and its HTTP status second."""
    message = ""
    if isinstance(error, dict):
        message = str(error.get("message") or "")
    elif isinstance(error, str):
        message = error
    lowered = message.lower()
    where: dict[str, Any] = {"provider": PROVIDER, "endpoint": name, "status_code": status}
    shown = message or f"TalentLMS answered HTTP {status}"

    if status == 401 or "api key" in lowered:
        return UpstreamAuthFailed(
            "TalentLMS rejected the API key" if not message else f"TalentLMS: {message}", **where
        )
    if status == 403:
        return UpstreamForbidden(f"TalentLMS refused access: {shown}", **where)
    if status == 429 or "rate limit" in lowered:
        return UpstreamRateLimited(
            f"TalentLMS rate limit reached: {shown}",
            retry_after=_retry_after(headers),
            **where,
        )
    if _GONE_MARKER in lowered:
        return UpstreamGone(message, **where)
    # A missing record comes with TalentLMS's own message (reference 11.2). A 404 without
    # one, or a missing API action, is an address that is not the API's: never "no record".
    if status == 404 and not message:
        return UpstreamBadResponse(
            "TalentLMS answered HTTP 404 without a TalentLMS error: the address is not an API "
            "endpoint; check that the account's base URL ends in /api/v1",
            **where,
        )
    if lowered == _ACTION_MISSING:
        return UpstreamRejected(
            f"TalentLMS refused the request: {message} (check that the account's base URL "
            "ends in /api/v1)",
            **where,
        )
    if any(marker in lowered for marker in _NOT_FOUND_MARKERS):
        return UpstreamNotFound(shown, **where)
    if status >= 500 or (isinstance(error, dict) and error.get("type") == "api_error"):
        return UpstreamError(f"TalentLMS failed: {shown}", **where)
    if 400 <= status < 500 or message:
        return UpstreamRejected(f"TalentLMS refused the request: {shown}", **where)
    return UpstreamBadResponse(f"TalentLMS answered HTTP {status}", **where)


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    if not headers:
        return None
    value = headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _basic_auth(api_key: str) -> str:
    """HTTP Basic with the API key as user name and no password, as TalentLMS expects."""
    return "Basic " + base64.b64encode(f"{api_key}:".encode()).decode("ascii")


def _exactly_one(**lookups: str | None) -> tuple[str, str]:
    given = [(key, value) for key, value in lookups.items() if value is not None]
    if len(given) != 1:
        raise ValueError("look a user up by exactly one of id, email or username")
    return given[0]
