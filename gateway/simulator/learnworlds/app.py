"""A Starlette app that answers like a LearnWorlds school's API v2 (``/admin/api``).

What it reproduces follows ``shared/reference/learnworlds-api.md`` §1–§7 and §9: the OAuth2
client-credentials token endpoint with its three body encodings and ``tokenData`` envelope, a
pre-issued static token, ``Lw-Client`` plus Bearer on every call, the ``{data, meta}`` envelope
with each endpoint's page size, newest-first lists, ids as 24-hex strings and course slugs,
Unix-second timestamps (floats, ints where the reference says ints), the error body shapes
(shape 1 for authentication, shape 2 ``{"error": …}`` for the rest, shape 3 for a write's body
that fails validation) and the rate limit of 30 calls per 10 seconds per client with
``429 {"error": "Too many requests"}``.

It serves the reads the gateway makes and these writes (request and answer shapes from the
spec snapshots O1–O3 and the clients of ``docs/learnworlds-mapping.md``):

* ``POST /v2/users/{id}/enrollment`` ``{productId, productType, price, justification?,
  send_enrollment_email?, duration?, duration_type?}`` → ``200 {"success": true}``; the new
  enrollment is ``not_started`` with 0 % progress. The school sells courses only: a bundle or
  subscription id is unknown to it (404). Already enrolled: ``400 {"error": "Product is
  already owned"}``.
* ``DELETE /v2/users/{id}/enrollment`` ``{productId, productType}`` → 204, no body; not
  enrolled: ``400 {"error": …}``.
* ``POST /v2/users`` ``{email, username, password?, first_name?, last_name?, is_admin?,
  subscribed_for_marketing_emails?, send_registration_email?, fields?, tags?, utms?}`` → 201
  and the User; a taken e-mail or username (any case) is a 400.
* ``PUT /v2/users/{id}`` (the same keys, none required) → 200 and the User.
* ``PUT /v2/users/{id}/suspend`` and ``/unsuspend``, no body → 200 and the User.

A body that is not a JSON object is a 400 in shape 2; a missing, mistyped or (on the
enrollment calls) unknown key is a 422 in the spec's validation shape (shape 3:
``{"statusCode": 422, "error": "Validation Failed", "message", "errors": {key: [{"0": …}]}}``);
an unknown user or course is the usual 404. Writes need the same ``Lw-Client`` and Bearer as
reads, spend the same rate limit, meet the same faults (a fault that answers in place of the
call leaves the school unchanged) and each runs whole under one lock, so concurrent writes
never interleave. What they change stays for the life of the app and every read shows it.

Call statistics and fault rules name a call by its path template without ``v2/``; a call with
a method other than GET is prefixed with it: ``users/{id}`` (the read), ``PUT users/{id}``,
``POST users``, ``POST users/{id}/enrollment``, ``DELETE users/{id}/enrollment``, ``PUT
users/{id}/suspend``, ``PUT users/{id}/unsuspend``. The token call is ``oauth2/access_token``
whatever its method.
"""

from __future__ import annotations

import hmac
import json
import math
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..common import (
    ADMIN_PREFIX,
    BurstLimiter,
    CallStats,
    Clock,
    admin_error,
    admin_routes,
    json_object,
    raw_path,
    simulate_latency,
)
from ..faults import Answer, FaultInjector, FaultStyle
from .data import (
    FAULT_KINDS,
    MSG_NOT_FOUND,
    MSG_USERS_NOT_FOUND,
    PROFILE_KEYS,
    ROLE_LEVELS,
    UTM_KEYS,
    ApiError,
    Course,
    LearnWorldsConfig,
    School,
    generate_school,
)

__all__ = [
    "API_PREFIX",
    "ENDPOINTS",
    "MAX_ITEMS_PER_PAGE",
    "TOKEN_ENDPOINT",
    "TokenStore",
    "create_learnworlds_app",
    "endpoint_name",
]

API_PREFIX = "/admin/api"
TOKEN_ENDPOINT = "oauth2/access_token"  # its CallStats name, as every endpoint's below
MAX_ITEMS_PER_PAGE = 200
TOKEN_KEEP = 10_000  # issued tokens remembered; expired ones go first

# Body shape 1 (reference §5): what the auth layer answers. The token call's messages are
# those of the OAuth2 server library LearnWorlds's wording matches; C8 saw the client_id one.
MSG_NO_CLIENT = "Missing client_id or client cannot be found."
MSG_DENIED = "The resource owner or authorization server denied the request."
MSG_INVALID_CLIENT = "Client authentication failed"
MSG_INVALID_REQUEST = (
    "The request is missing a required parameter, includes an invalid parameter value, "
    "includes a parameter more than once, or is otherwise malformed."
)
MSG_BAD_GRANT = "The authorization grant type is not supported by the authorization server."
# Body shape 2.
MSG_TOO_MANY = "Too many requests"
MSG_SERVER_ERROR = "Server Error"
MSG_NOT_ALLOWED = "Method Not Allowed"
MSG_BAD_BODY = "The request body must be a JSON object."
# Body shape 3: the spec's reusable 422 (O1, O2), the one validation body it documents.
MSG_VALIDATION = "Your input had some validation errors."

STATUS_FILTERS = ("paying", "non_paying", "suspended", "never_logged_in")
ROLE_FILTERS = (*ROLE_LEVELS, "license_reporter")
ACCESS_VALUES = ("paid", "free", "coming_soon", "enrollment_closed", "private", "draft")


def shape1(status: int, context: str | None, message: str) -> JSONResponse:
    """``{"errors": [{"code", "context", "message"}], "success": false}``; code as a string."""
    body = {"errors": [{"code": str(status), "context": context, "message": message}]}
    return JSONResponse({**body, "success": False}, status_code=status)


def shape2(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def shape3(errors: dict[str, str]) -> JSONResponse:
    """The spec's validation answer: ``{"statusCode": 422, "error": "Validation Failed",
    "message", "errors": {"field": [{"0": "…"}]}}``, one entry per offending key."""
    body = {
        "statusCode": 422,
        "error": "Validation Failed",
        "message": MSG_VALIDATION,
        "errors": {key: [{"0": message}] for key, message in errors.items()},
    }
    return JSONResponse(body, status_code=422)


class Invalid(Exception):
    """A request body that fails validation: a 422 in body shape 3."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------


@dataclass
class _Token:
    expires_at: float | None  # None: never (the static token, unless expired on purpose)
    generation: int | None  # the client secret it was issued under; None for the static one


class TokenStore:
    """The client's secret, the tokens issued for it and the static token.

    ``clock`` is wall time (``time.time``), so tests can move a token past its lifetime. Rotating
    the secret (the admin interface) revokes the tokens issued under the old one; the static
    token, created in the admin panel, is independent of the secret.
    """

    def __init__(self, config: LearnWorldsConfig, clock: Clock) -> None:
        self.client_id = config.client_id
        self.lifetime = config.token_lifetime
        self._secret = config.client_secret
        self._generation = 0
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}
        self.static_token: str | None = None
        self.set_static(config.static_token)

    def secret_matches(self, client_id: str, secret: str) -> bool:
        with self._lock:
            same_id = hmac.compare_digest(client_id.encode(), self.client_id.encode())
            return same_id and hmac.compare_digest(secret.encode(), self._secret.encode())

    def issue(self) -> str:
        token = secrets.token_urlsafe(30)
        with self._lock:
            self._prune()
            expires = self._clock() + self.lifetime
            self._tokens[token] = _Token(expires, self._generation)
        return token

    def _prune(self) -> None:
        if len(self._tokens) < TOKEN_KEEP:
            return
        now = self._clock()
        for key, item in list(self._tokens.items()):
            if item.expires_at is not None and item.expires_at <= now:
                del self._tokens[key]
        while len(self._tokens) >= TOKEN_KEEP:
            del self._tokens[next(iter(self._tokens))]

    def valid(self, token: str) -> bool:
        with self._lock:
            item = self._tokens.get(token)
            if item is None:
                return False
            if item.generation is not None and item.generation != self._generation:
                return False
            return item.expires_at is None or self._clock() < item.expires_at

    def expire(self, token: str) -> None:
        """The token's lifetime ends now (the ``expired_token`` fault)."""
        with self._lock:
            item = self._tokens.get(token)
            if item is not None:
                item.expires_at = min(self._clock(), item.expires_at or math.inf)

    def expire_all(self, *, issued: bool, static: bool) -> None:
        with self._lock:
            now = self._clock()
            for item in self._tokens.values():
                if (item.generation is None and static) or (item.generation is not None and issued):
                    item.expires_at = min(now, item.expires_at or math.inf)

    def rotate_secret(self, secret: str) -> None:
        """A new client secret: the old one and every token issued under it stop working."""
        with self._lock:
            self._secret = secret
            self._generation += 1

    def set_static(self, token: str | None) -> None:
        """Replace the static token (``None`` removes it, as revoking it in the admin panel)."""
        with self._lock:
            if self.static_token is not None:
                self._tokens.pop(self.static_token, None)
            self.static_token = token
            if token is not None:
                self._tokens[token] = _Token(None, None)

    def summary(self) -> dict[str, Any]:
        """The body of ``GET /_simulator/auth``."""
        with self._lock:
            now = self._clock()
            issued = [t for t in self._tokens.values() if t.generation is not None]
            active = [
                t
                for t in issued
                if t.generation == self._generation and (t.expires_at or math.inf) > now
            ]
            static = self._tokens.get(self.static_token) if self.static_token else None
            return {
                "clientId": self.client_id,
                "tokenLifetime": self.lifetime,
                "issuedTokens": len(issued),
                "activeTokens": len(active),
                "staticToken": self.static_token,
                "staticTokenActive": static is not None
                and (static.expires_at is None or static.expires_at > now),
                "secretRotations": self._generation,
            }


# ---------------------------------------------------------------------------------------------
# State and helpers
# ---------------------------------------------------------------------------------------------


@dataclass
class Simulator:
    """Per-app state: never shared between apps, so tests can mutate freely."""

    config: LearnWorldsConfig
    school: School
    stats: CallStats
    faults: FaultInjector
    tokens: TokenStore
    monotonic: Clock
    _limiters: dict[str, BurstLimiter]
    _lock: threading.Lock
    clock: Clock = time.time  # wall time: when writes happen
    write_lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> float:
        """The time a write records: the wall clock, never before the school's "now"."""
        return max(float(self.school.now), self.clock())

    def limiter(self, client_id: str) -> BurstLimiter:
        """The rate-limit window of one client (the limit's scope is per ``Lw-Client``)."""
        with self._lock:
            limiter = self._limiters.get(client_id)
            if limiter is None:
                limit = self.config.rate_limit or None
                limiter = BurstLimiter(limit, self.config.rate_window, self.monotonic)
                self._limiters[client_id] = limiter
            return limiter


Params = dict[str, str]
Handler = Callable[[Simulator, Params, Request], Awaitable[Any]]


def _int_param(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if number < low or (high is not None and number > high):
        bounds = f"an integer from {low} to {high}" if high else f"an integer from {low}"
        raise ApiError(400, f"You need to provide a valid {name} query parameters value: {bounds}")
    return number


def _per_page(request: Request, default: int, documented: bool) -> int:
    """``items_per_page`` (1–200) where the endpoint documents it; ignored where it does not."""
    if not documented:
        return default
    return _int_param(request, "items_per_page", default, 1, MAX_ITEMS_PER_PAGE)


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").strip().lower() == "true"


def _number_param(request: Request, name: str) -> float | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ApiError(
            400, f"You need to provide a valid {name} query parameters value: a Unix timestamp"
        )
    return number


def _choice(request: Request, name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if value not in allowed:
        listed = ", ".join(f"'{item}'" for item in allowed)
        raise ApiError(400, f"You need to provide a valid {name} query parameters value: {listed}")
    return value


def _list_param(request: Request, name: str) -> list[str]:
    """A comma list (``tags=a,b``), also repeated (``access=a&access=b``, ``access[]=a``)."""
    values = request.query_params.getlist(name) + request.query_params.getlist(name + "[]")
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _paged(
    rows: list[dict[str, Any]], page: int, per_page: int, *, past_end: str = "repeat"
) -> dict[str, Any]:
    """The ``{data, meta}`` envelope. Past the last page the spec's shared ``page`` text says
    the last page comes again (``repeat``); the progress endpoint's says nothing (``empty``)."""
    total = len(rows)
    pages = math.ceil(total / per_page)
    served = page
    if page > pages and past_end == "repeat" and pages:
        served = pages
    data = rows[(served - 1) * per_page : served * per_page] if served <= pages else []
    meta = {"page": served, "totalItems": total, "totalPages": pages, "itemsPerPage": per_page}
    return {"data": data, "meta": meta}


# ---------------------------------------------------------------------------------------------
# Endpoint handlers
# ---------------------------------------------------------------------------------------------


async def _users(sim: Simulator, _params: Params, request: Request) -> Any:
    """``GET /v2/users``: filters ANDed, newest first, 20 a page unless items_per_page."""
    custom = {
        key: value
        for key, value in request.query_params.items()
        if key.startswith("cf_") and len(key) > 3
    }
    users = sim.school.filter_users(
        status=_choice(request, "status", STATUS_FILTERS),
        role=_choice(request, "role", ROLE_FILTERS),
        tags=_list_param(request, "tags"),
        after=_number_param(request, "registration_after"),
        before=_number_param(request, "registration_before"),
        custom=custom,
        include_suspended=_flag(request, "include_suspended"),
    )
    page = _int_param(request, "page", 1, 1, None)
    rows = [sim.school.render_user(user) for user in users]
    return _paged(rows, page, _per_page(request, 20, documented=True))


async def _user(sim: Simulator, params: Params, request: Request) -> Any:
    include = _flag(request, "include_suspended")
    return sim.school.render_user(sim.school.user(params["id"], include_suspended=include))


async def _user_courses(sim: Simulator, params: Params, request: Request) -> Any:
    """A user's enrollments: 50 a page, fixed."""
    user = sim.school.user(params["id"])
    rows = [sim.school.render_enrollment(e) for e in sim.school.user_enrollments(user.id)]
    return _paged(rows, _int_param(request, "page", 1, 1, None), _per_page(request, 50, False))


async def _user_progress(sim: Simulator, params: Params, request: Request) -> Any:
    """Progress in every enrolled course; 404 for a user with none (C9)."""
    user = sim.school.user(params["id"])
    enrollments = sim.school.user_enrollments(user.id)
    if not enrollments:
        raise ApiError(404, MSG_NOT_FOUND)
    rows = [sim.school.render_progress(e, with_course_id=True) for e in enrollments]
    page = _int_param(request, "page", 1, 1, None)
    return _paged(rows, page, _per_page(request, 20, documented=True), past_end="empty")


async def _user_course_progress(sim: Simulator, params: Params, _request: Request) -> Any:
    user = sim.school.user(params["id"])
    course = sim.school.course(params["course"])
    enrollment = sim.school.enrollment(user.id, course.id)
    if enrollment is None:
        raise ApiError(404, MSG_NOT_FOUND)
    return sim.school.render_progress(enrollment, with_course_id=False)


async def _user_user_groups(sim: Simulator, params: Params, _request: Request) -> Any:
    """A user's groups, as the newest spec shows them: ``{"data": {"user_groups": [...]}}``."""
    user = sim.school.user(params["id"])
    groups = [{"id": g.id, "title": g.title} for g in sim.school.user_groups(user.id)]
    return {"data": {"user_groups": groups}}


async def _courses(sim: Simulator, _params: Params, request: Request) -> Any:
    """``GET /v2/courses``: 50 a page, fixed; ``categories`` and ``access`` filters."""
    access = _list_param(request, "access")
    wrong = [value for value in access if value not in ACCESS_VALUES]
    if wrong:
        listed = ", ".join(f"'{item}'" for item in ACCESS_VALUES)
        raise ApiError(400, f"You need to provide a valid access query parameters value: {listed}")
    courses = sim.school.filter_courses(_list_param(request, "categories"), access)
    rows = [sim.school.render_course(course) for course in courses]
    return _paged(rows, _int_param(request, "page", 1, 1, None), _per_page(request, 50, False))


async def _course(sim: Simulator, params: Params, _request: Request) -> Any:
    return sim.school.render_course(sim.school.course(params["id"]))


async def _course_contents(sim: Simulator, params: Params, _request: Request) -> Any:
    return sim.school.render_contents(sim.school.course(params["id"]))


async def _course_users(sim: Simulator, params: Params, request: Request) -> Any:
    """Users enrolled in a course (plain User objects): 20 a page unless items_per_page.

    Suspended users are left out unless ``include_suspended=true``, as on ``/v2/users``: the
    spec does not list the parameter here but live clients send it (reference §9).
    """
    include = _flag(request, "include_suspended")
    users = [u for u in sim.school.course_users(params["id"]) if include or not u.suspended]
    rows = [sim.school.render_user(user) for user in users]
    page = _int_param(request, "page", 1, 1, None)
    return _paged(rows, page, _per_page(request, 20, documented=True))


async def _user_groups(sim: Simulator, _params: Params, request: Request) -> Any:
    rows = [sim.school.render_group(group) for group in sim.school.groups]
    return _paged(rows, _int_param(request, "page", 1, 1, None), _per_page(request, 20, False))


async def _user_group(sim: Simulator, params: Params, _request: Request) -> Any:
    return sim.school.render_group(sim.school.group(params["id"]))


async def _user_group_users(sim: Simulator, params: Params, request: Request) -> Any:
    """A group's members, ``{data, meta}`` 20 a page; an empty group is a 404 (O1)."""
    members = sim.school.group_members(params["id"])
    if not members:
        raise ApiError(404, MSG_USERS_NOT_FOUND)
    rows = [sim.school.render_user(user) for user in members]
    return _paged(rows, _int_param(request, "page", 1, 1, None), _per_page(request, 20, False))


# ---------------------------------------------------------------------------------------------
# Write handlers: request bodies
# ---------------------------------------------------------------------------------------------

EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
PRODUCT_TYPES = ("course", "bundle", "subscription")
DURATION_TYPES = ("months", "weeks", "days")
PRICE = re.compile(r"^\d+(\.\d+)?$")
# The enrollment body's keys (O1–O3); a live client saw any other key refused with a 422 (C13).
ENROLL_KEYS = (
    "productId",
    "productType",
    "justification",
    "price",
    "duration_type",
    "duration",
    "send_enrollment_email",
)
UNENROLL_KEYS = ("productId", "productType")


async def _body(request: Request) -> dict[str, Any]:
    """The JSON object of a write; an empty body is an empty object (its keys are missing)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise ApiError(400, MSG_BAD_BODY) from None
    if not isinstance(data, dict):
        raise ApiError(400, MSG_BAD_BODY)
    return data


class _Check:
    """Reads a body's keys, collecting every problem for one 422 (``done``)."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.errors: dict[str, str] = {}

    def fail(self, key: str, message: str) -> None:
        self.errors.setdefault(key, message)

    def done(self) -> None:
        if self.errors:
            raise Invalid(self.errors)

    def only(self, allowed: tuple[str, ...]) -> None:
        for key in self.body:
            if key not in allowed:
                self.fail(key, f"The '{key}' field is not allowed.")

    def text(self, key: str, *, required: bool = False) -> str | None:
        """A string, trimmed; ``required``: present, not null and not blank."""
        value = self.body.get(key)
        if value is None:
            if required:
                self.fail(key, f"The '{key}' field is required.")
            return None
        if not isinstance(value, str):
            self.fail(key, f"The '{key}' field must be a string.")
            return None
        if required and not value.strip():
            self.fail(key, f"The '{key}' field is required.")
            return None
        return value.strip()

    def email(self, *, required: bool) -> str | None:
        value = self.text("email", required=required)
        if value is not None and not EMAIL.match(value):
            self.fail("email", "The 'email' field must be a valid email address.")
            return None
        return value

    def flag(self, key: str) -> bool | None:
        value = self.body.get(key)
        if value is not None and not isinstance(value, bool):
            self.fail(key, f"The '{key}' field must be true or false.")
            return None
        return value

    def choice(self, key: str, allowed: tuple[str, ...], *, required: bool = False) -> str | None:
        value = self.text(key, required=required)
        if value is not None and value not in allowed:
            listed = ", ".join(f"'{item}'" for item in allowed)
            self.fail(key, f"The '{key}' field must be one of {listed}.")
            return None
        return value

    def price(self) -> float | None:
        """Required; a number, or a numeric string as in one spec example (``'100.23'``)."""
        value = self.body.get("price")
        if value is None:
            self.fail("price", "The 'price' field is required.")
            return None
        if isinstance(value, str) and PRICE.match(value.strip()):
            return float(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail("price", "The 'price' field must be a number.")
            return None
        if not math.isfinite(value) or value < 0:
            self.fail("price", "The 'price' field must be a number from 0.")
            return None
        return float(value)

    def duration(self) -> int | None:
        value = self.body.get("duration")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.fail("duration", "The 'duration' field must be an integer from 1.")
            return None
        return value

    def tags(self) -> list[str] | None:
        """A list of strings: trimmed, blanks and repeats dropped, order kept."""
        value = self.body.get("tags")
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
            self.fail("tags", "The 'tags' field must be an array of strings.")
            return None
        return list(dict.fromkeys(tag.strip() for tag in value if tag.strip()))

    def mapping(self, key: str, known: Callable[[str], bool]) -> dict[str, Any] | None:
        """An object of strings or nulls whose keys ``known`` accepts."""
        value = self.body.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail(key, f"The '{key}' field must be an object.")
            return None
        for name, item in value.items():
            if not known(name):
                self.fail(f"{key}.{name}", f"The '{key}.{name}' field does not exist.")
            elif item is not None and not isinstance(item, str):
                self.fail(f"{key}.{name}", f"The '{key}.{name}' field must be a string.")
        return dict(value)


def _user_fields(check: _Check, *, creating: bool) -> dict[str, Any]:
    """The keys of ``UserRequestModel`` (create) and ``UserRequestPutModel`` (update) the school
    keeps, as ``School.create_user``/``update_user`` take them; only the keys sent. Also
    ``first_name`` and ``last_name``, which a live client sends on create and gets a 201 (C13)
    though the request models do not list them. Any other key is ignored (our choice: only the
    enrollment body is known to refuse extra keys). ``password``, ``send_registration_email``
    and ``signup_validation_rules`` are checked and dropped: nothing of theirs is ever shown."""
    body = check.body
    email = check.email(required=creating or "email" in body)
    username = check.text("username", required=creating or "username" in body)
    if creating:
        check.text("password")
        check.flag("send_registration_email")
    check.flag("signup_validation_rules")
    names: dict[str, str] = {
        key: check.text(key) or "" for key in ("first_name", "last_name") if key in body
    }
    marketing = check.flag("subscribed_for_marketing_emails")
    given = {
        "email": email,
        "username": username,
        "is_admin": check.flag("is_admin"),
        "fields": check.mapping("fields", lambda k: k in PROFILE_KEYS or k.startswith("cf_")),
        "utms": check.mapping("utms", lambda k: k in UTM_KEYS),
        "tags": check.tags(),
    }
    check.done()
    found: dict[str, Any] = {key: value for key, value in given.items() if value is not None}
    found.update(names)
    if "subscribed_for_marketing_emails" in body:  # null is a value of its own
        found["marketing"] = marketing
    return found


def _product(sim: Simulator, product_id: str, product_type: str) -> Course:
    """The course a ``productId`` names. The simulated school sells no bundles and no
    subscriptions, so such an id is unknown to it, as to a real school without them."""
    if product_type != "course":
        raise ApiError(404, MSG_NOT_FOUND)
    return sim.school.course(product_id)


# ---------------------------------------------------------------------------------------------
# Write handlers
# ---------------------------------------------------------------------------------------------


async def _enroll(sim: Simulator, params: Params, request: Request) -> Any:
    """``POST /v2/users/{id}/enrollment`` → ``{"success": true}``."""
    check = _Check(await _body(request))
    check.only(ENROLL_KEYS)
    product_id = check.text("productId", required=True)
    product_type = check.choice("productType", PRODUCT_TYPES, required=True)
    price = check.price()
    check.text("justification")
    check.flag("send_enrollment_email")
    check.duration()
    check.choice("duration_type", DURATION_TYPES)
    check.done()
    assert product_id is not None and product_type is not None and price is not None
    with sim.write_lock:
        user = sim.school.user(params["id"])
        course = _product(sim, product_id, product_type)
        sim.school.enroll(user, course, now=sim.now(), price=price)
    return {"success": True}


async def _unenroll(sim: Simulator, params: Params, request: Request) -> Any:
    """``DELETE /v2/users/{id}/enrollment`` with ``{productId, productType}`` → 204."""
    check = _Check(await _body(request))
    check.only(UNENROLL_KEYS)
    product_id = check.text("productId", required=True)
    product_type = check.choice("productType", PRODUCT_TYPES, required=True)
    check.done()
    assert product_id is not None and product_type is not None
    with sim.write_lock:
        user = sim.school.user(params["id"])
        sim.school.unenroll(user, _product(sim, product_id, product_type))
    return Response(status_code=204)


async def _create_user(sim: Simulator, _params: Params, request: Request) -> Any:
    """``POST /v2/users`` → 201 and the new User."""
    found = _user_fields(_Check(await _body(request)), creating=True)
    with sim.write_lock:
        user = sim.school.create_user(now=sim.now(), **found)
        body = sim.school.render_user(user)
    return JSONResponse(body, status_code=201)


async def _update_user(sim: Simulator, params: Params, request: Request) -> Any:
    """``PUT /v2/users/{id}`` → 200 and the updated User (a suspended one too)."""
    changes = _user_fields(_Check(await _body(request)), creating=False)
    with sim.write_lock:
        user = sim.school.update_user(sim.school.user(params["id"]), changes)
        return sim.school.render_user(user)


async def _suspend(sim: Simulator, params: Params, _request: Request) -> Any:
    """``PUT /v2/users/{id}/suspend``, no body → the suspended User (C1 sends none)."""
    with sim.write_lock:
        user = sim.school.set_suspended(sim.school.user(params["id"]), True)
        return sim.school.render_user(user)


async def _unsuspend(sim: Simulator, params: Params, _request: Request) -> Any:
    with sim.write_lock:
        user = sim.school.set_suspended(sim.school.user(params["id"]), False)
        return sim.school.render_user(user)


async def _sso(sim: Simulator, _params: Params, request: Request) -> Any:
    """``POST /sso`` (below ``/admin/api``, not ``/v2``): a one-time link that signs a user
    in and lands on ``redirectUrl``, for the user named by ``user_id`` or ``email``, as
    working clients call it → ``{"success": true, "user_id", "url"}``. The real API creates
    a user it does not know by that e-mail; the simulator answers 404 instead."""
    check = _Check(await _body(request))
    user_id = check.text("user_id")
    email = check.email(required=user_id is None)
    check.text("username")
    redirect = check.text("redirectUrl")
    check.done()
    with sim.write_lock:
        user = sim.school.user(user_id or email or "")
    token = secrets.token_urlsafe(24)
    url = f"https://{sim.config.school_host}/sso?token={token}"
    if redirect:
        url += f"&redirectUrl={quote(redirect, safe='')}"
    return {"success": True, "user_id": user.id, "url": url}


# ---------------------------------------------------------------------------------------------
# Routing
# ---------------------------------------------------------------------------------------------

# (method, path below /admin/api, handler); "{x}" is one path segment, percent-decoded. The
# CallStats name of a call is its template without "v2/" ("users/{id}/courses"), prefixed by
# its method unless that is GET ("POST users/{id}/enrollment").
ENDPOINTS: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "v2/users", _users),
    ("POST", "v2/users", _create_user),
    ("GET", "v2/users/{id}", _user),
    ("PUT", "v2/users/{id}", _update_user),
    ("PUT", "v2/users/{id}/suspend", _suspend),
    ("PUT", "v2/users/{id}/unsuspend", _unsuspend),
    ("POST", "v2/users/{id}/enrollment", _enroll),
    ("DELETE", "v2/users/{id}/enrollment", _unenroll),
    ("GET", "v2/users/{id}/courses", _user_courses),
    ("GET", "v2/users/{id}/progress", _user_progress),
    ("GET", "v2/users/{id}/courses/{course}/progress", _user_course_progress),
    ("GET", "v2/users/{id}/user-groups", _user_user_groups),
    ("GET", "v2/courses", _courses),
    ("GET", "v2/courses/{id}", _course),
    ("GET", "v2/courses/{id}/contents", _course_contents),
    ("GET", "v2/courses/{id}/users", _course_users),
    ("GET", "v2/user_groups", _user_groups),
    ("GET", "v2/user_groups/{id}", _user_group),
    ("GET", "v2/user_groups/{id}/users", _user_group_users),
    ("POST", "sso", _sso),
)


def _templates() -> list[tuple[list[str], dict[str, Handler]]]:
    """Each path template once, with its handler per method, in the table's order."""
    found: dict[str, dict[str, Handler]] = {}
    for method, template, handler in ENDPOINTS:
        found.setdefault(template, {})[method] = handler
    return [(template.split("/"), handlers) for template, handlers in found.items()]


_TEMPLATES = _templates()


@dataclass(frozen=True)
class _Match:
    name: str
    handler: Handler | None  # None: the token endpoint, no endpoint, or not for this method
    params: Params
    known: bool  # the path is an endpoint's (for some method)


def _named(method: str, name: str) -> str:
    return name if method.upper() == "GET" else f"{method.upper()} {name}"


def _match(path: str, method: str = "GET") -> _Match:
    """Route a raw path (still percent-encoded) below ``/admin/api`` for ``method``."""
    rest = path[path.find(API_PREFIX) + len(API_PREFIX) :] if API_PREFIX in path else path
    segments = rest.strip("/").split("/")
    if segments == TOKEN_ENDPOINT.split("/"):
        return _Match(TOKEN_ENDPOINT, None, {}, known=True)
    for template, handlers in _TEMPLATES:
        if len(template) != len(segments):
            continue
        params: Params = {}
        for part, segment in zip(template, segments, strict=True):
            if part.startswith("{"):
                if not segment:
                    break
                params[part[1:-1]] = unquote(segment)
            elif part != segment:
                break
        else:
            name = _named(method, "/".join(template[1:] if template[0] == "v2" else template))
            return _Match(name, handlers.get(method.upper()), params, known=True)
    name = "/".join(segments[1:] if segments[0] == "v2" else segments)
    return _Match(_named(method, name or "(root)"), None, {}, known=False)


def endpoint_name(path: str, method: str = "GET") -> str:
    """The ``CallStats`` (and fault rule) name of a request: ``users/{id}/progress``,
    ``POST users/{id}/enrollment``."""
    return _match(path, method).name


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _client_ok(request: Request, sim: Simulator) -> bool:
    client = request.headers.get("lw-client", "")
    return bool(client) and hmac.compare_digest(client.encode(), sim.tokens.client_id.encode())


def _too_many(sim: Simulator, wait: float) -> Response:
    response = shape2(429, MSG_TOO_MANY)
    if sim.config.retry_after:
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


# ---------------------------------------------------------------------------------------------
# The token endpoint
# ---------------------------------------------------------------------------------------------


async def _token_fields(request: Request) -> dict[str, Any] | None:
    """The three encodings seen in working clients (reference §1), or None if none fits:
    a form field ``data`` holding the JSON object, a JSON body, plain form fields."""
    body = (await request.body()).decode("utf-8", "replace")
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media == "application/json" or (not media and body.lstrip().startswith("{")):
        try:
            data = json.loads(body)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    if media not in ("application/x-www-form-urlencoded", ""):
        return None
    fields = dict(parse_qsl(body, keep_blank_values=True))
    if set(fields) == {"data"}:
        try:
            data = json.loads(fields["data"])
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    return fields


async def _access_token(sim: Simulator, request: Request) -> Response:
    """``POST /admin/api/oauth2/access_token``: ``Lw-Client`` required (400 without, C8)."""
    if not _client_ok(request, sim):
        return shape1(400, "client_id", MSG_NO_CLIENT)
    wait = sim.limiter(sim.tokens.client_id).admit()
    if wait is not None:
        return _too_many(sim, wait)
    if request.method != "POST":
        return shape2(405, MSG_NOT_ALLOWED)
    fields = await _token_fields(request)
    if fields is None:
        return shape1(400, "invalid_request", MSG_INVALID_REQUEST)
    client_id, secret = fields.get("client_id"), fields.get("client_secret")
    grant = fields.get("grant_type")
    if not all(isinstance(value, str) and value for value in (client_id, secret, grant)):
        return shape1(400, "invalid_request", MSG_INVALID_REQUEST)
    if grant != "client_credentials":
        return shape1(400, "unsupported_grant_type", MSG_BAD_GRANT)
    if not sim.tokens.secret_matches(str(client_id), str(secret)):
        return shape1(401, "invalid_client", MSG_INVALID_CLIENT)
    token_data = {
        "access_token": sim.tokens.issue(),
        "token_type": "Bearer",
        "expires_in": sim.tokens.lifetime,
    }
    return JSONResponse({"tokenData": token_data, "errors": [], "success": True})


# ---------------------------------------------------------------------------------------------
# The app
# ---------------------------------------------------------------------------------------------


async def _api(request: Request) -> Response:
    """Every ``/admin/api`` request: count, delay, inject faults, then answer."""
    sim: Simulator = request.app.state.simulator
    match = _match(raw_path(request.scope), request.method)
    sim.stats.record(match.name)
    await simulate_latency(sim.config.latency_ms)
    return await sim.faults.intercept(match.name, request, lambda: _answer(sim, match, request))


async def _answer(sim: Simulator, match: _Match, request: Request) -> Response:
    """The normal answer: ``Lw-Client``, Bearer, the rate limit, then the endpoint."""
    if match.name == TOKEN_ENDPOINT:
        return await _access_token(sim, request)
    if not _client_ok(request, sim):
        return shape1(401, "client_id", MSG_NO_CLIENT)
    token = _bearer(request)
    if token is None or not sim.tokens.valid(token):
        return shape1(401, "access_denied", MSG_DENIED)
    wait = sim.limiter(sim.tokens.client_id).admit()
    if wait is not None:
        return _too_many(sim, wait)
    if not match.known:
        return shape2(404, MSG_NOT_FOUND)
    if match.handler is None:
        return shape2(405, MSG_NOT_ALLOWED)
    try:
        body = await match.handler(sim, match.params, request)
    except ApiError as exc:
        return shape2(exc.status, exc.message)
    except Invalid as exc:
        return shape3(exc.errors)
    return body if isinstance(body, Response) else JSONResponse(body)


def _fault_style(tokens: TokenStore) -> FaultStyle:
    """The faults in LearnWorlds's bodies, and its own: revoked credentials and a token that
    expires on the call."""

    async def revoked_key(request: Request, _answer: Answer) -> Response:
        if endpoint_name(raw_path(request.scope), request.method) == TOKEN_ENDPOINT:
            return shape1(401, "invalid_client", MSG_INVALID_CLIENT)
        return shape1(401, "access_denied", MSG_DENIED)

    async def expired_token(request: Request, answer: Answer) -> Response:
        token = _bearer(request)
        if token is not None:
            tokens.expire(token)  # for good: the same token fails again until replaced
        return await answer()

    style = FaultStyle(
        error=lambda status: shape2(status, MSG_SERVER_ERROR),
        rate_limited=lambda: shape2(429, MSG_TOO_MANY),
        special={"revoked_key": revoked_key, "expired_token": expired_token},
    )
    assert set(style.kinds) == set(FAULT_KINDS)
    return style


async def _admin_auth(request: Request) -> Response:
    """GET the credentials' state; POST changes it, all or nothing:

    * ``{"expire": "issued" | "static" | "all"}``: those tokens' lifetime ends now;
    * ``{"client_secret": "…"}``: a new secret; the old one and its tokens stop working;
    * ``{"static_token": "…" | null}``: a new static token, or none.
    """
    tokens: TokenStore = request.app.state.tokens
    if request.method == "POST":
        try:
            data = await json_object(request)
            unknown = sorted(set(data) - {"expire", "client_secret", "static_token"})
            if unknown:
                raise ValueError(
                    f"unknown key(s) {unknown}; expected 'expire', 'client_secret', 'static_token'"
                )
            expire = data.get("expire")
            if expire is not None and expire not in ("issued", "static", "all"):
                raise ValueError("'expire' must be 'issued', 'static' or 'all'")
            secret = data.get("client_secret")
            if "client_secret" in data and not (isinstance(secret, str) and secret):
                raise ValueError("'client_secret' must be a non-empty string")
            static = data.get("static_token")
            if static is not None and not (isinstance(static, str) and static):
                raise ValueError("'static_token' must be a non-empty string or null")
        except ValueError as exc:
            return admin_error(str(exc))
        if expire is not None:
            tokens.expire_all(issued=expire != "static", static=expire != "issued")
        if isinstance(secret, str):
            tokens.rotate_secret(secret)
        if "static_token" in data:
            tokens.set_static(static)
    return JSONResponse(tokens.summary())


def create_learnworlds_app(
    config: LearnWorldsConfig | None = None,
    school: School | None = None,
    *,
    clock: Clock = time.time,
    monotonic: Clock = time.monotonic,
) -> Starlette:
    """Build a LearnWorlds simulator app with its own copy of the school's data.

    ``config`` drives credentials, token lifetime, latency, the rate limit and the initial fault
    rules (seeded by ``config.seed``); ``school`` (copied, never shared) supplies the data and
    defaults to ``generate_school(config)``. ``clock`` (wall time) decides when tokens expire
    and ``monotonic`` drives the rate-limit window, so tests can move either without waiting.
    """
    config = config or (school.config if school is not None else LearnWorldsConfig())
    data = school.copy(config) if school is not None else generate_school(config)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    routes = [
        Route(API_PREFIX + "/{rest:path}", _api, methods=methods),
        *admin_routes(),
        Route(ADMIN_PREFIX + "/auth", _admin_auth, methods=["GET", "POST"]),
    ]
    app = Starlette(routes=routes)
    stats = CallStats(monotonic)
    tokens = TokenStore(config, clock)
    faults = FaultInjector(
        config.faults, seed=config.seed, style=_fault_style(tokens), simulator="LearnWorlds"
    )
    simulator = Simulator(
        config, data, stats, faults, tokens, monotonic, {}, threading.Lock(), clock
    )
    app.state.simulator = simulator
    app.state.stats = stats
    app.state.faults = faults
    app.state.tokens = tokens
    app.state.school = data
    app.state.config = config
    return app
