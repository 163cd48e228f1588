"""A Starlette app that answers like a TalentLMS v1 portal (``/api/v1``), for tests and demos.

Faithfulness matters more than convenience here: the gateway's adapter is tested against this
app, so it reproduces the quirks of the real API (reference ``talentlms-api.md`` §17.3) —
parameters in the path, the two 401 forms, string-typed numbers, Title-case vs lower-case
statuses, one-element arrays, exact error strings, a ``/ratelimit`` that does not count itself.

The write endpoints (reference §3: ``addusertocourse``, ``removeuserfromcourse``,
``resetuserprogress``, ``usersignup``, ``edituser``, ``usersetstatus``, ``gotocourse``) change
the app's portal for as long as the app lives, and every read shows the change. They are
counted, rate-limited and fault-injected like any call; each one checks and changes the portal
under the app's write lock with no ``await`` in between, so concurrent writes never interleave.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, unquote_plus

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..common import (
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
    LOOKUP_ENDPOINTS,
    MSG_INVALID_ARGS,
    ApiError,
    Portal,
    SimulatorConfig,
    format_datetime,
    generate_portal,
)
from .forms import (
    EDIT_FIELDS,
    SIGNUP_OPTIONAL,
    SIGNUP_REQUIRED,
    decode_redirect,
    edit_changes,
    hidden_options,
    signup_profile,
)

__all__ = [
    "API_PREFIX",
    "BurstLimiter",
    "CallStats",
    "RateLimiter",
    "create_simulator_app",
    "parse_api_path",
]

API_PREFIX = "/api/v1"
LOOKUP_KEYS = ("id", "email", "username")
DEFAULT_PAGED_SIZE = 20  # rows per page when page_size: is sent without a value (reference §13)
WINDOW_SECONDS = 3600

UNAUTHORIZED_PAGE = """<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head>
<title>401 Unauthorized</title>
</head><body>
<h1>Unauthorized</h1>
<p>You need a valid user and password to access this content.</p>
</body></html>
"""


class RateLimiter:
    """Hourly quota, windowed from app creation like a portal's hourly reset (reference §12)."""

    def __init__(self, limit: int, clock: Clock = time.time) -> None:
        self.limit = limit
        self._clock = clock
        self._window_start = clock()
        self._used = 0
        self._lock = threading.Lock()

    def _roll(self) -> None:
        elapsed = self._clock() - self._window_start
        if elapsed >= WINDOW_SECONDS:
            self._window_start += WINDOW_SECONDS * int(elapsed // WINDOW_SECONDS)
            self._used = 0

    def consume(self) -> bool:
        """Take one call from the quota; False (and nothing taken) when it is exhausted."""
        with self._lock:
            self._roll()
            if self._used >= self.limit:
                return False
            self._used += 1
            return True

    @property
    def remaining(self) -> int:
        with self._lock:
            self._roll()
            return max(0, self.limit - self._used)

    def set_remaining(self, remaining: int) -> None:
        """Leave ``remaining`` calls in the current window (quota tests and the admin endpoint)."""
        if not 0 <= remaining <= self.limit:
            raise ValueError(f"remaining must be between 0 and {self.limit}, not {remaining}")
        with self._lock:
            self._roll()
            self._used = self.limit - remaining

    def exhaust(self) -> None:
        """Use up the current window: the ``quota_exhausted`` fault."""
        self.set_remaining(0)

    @property
    def reset_at(self) -> int:
        """Unix seconds when the current window ends."""
        with self._lock:
            self._roll()
            return int(self._window_start + WINDOW_SECONDS)


# ---------------------------------------------------------------------------------------------
# Path parsing
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiPath:
    """``/api/v1/{endpoint}/{k}:{v},…`` split up; ``error`` is set when the parameters are bad."""

    endpoint: str
    params: dict[str, str]
    error: str | None = None

    @property
    def stat_name(self) -> str:
        if self.endpoint in LOOKUP_ENDPOINTS and self.error is None:
            for key in self.params:
                if key in LOOKUP_KEYS:
                    return f"{self.endpoint}/{key}"
        return self.endpoint


def parse_params(segment: str) -> dict[str, str]:
    """Split ``k:v,k:v`` on raw commas and first colons, then percent-decode each side.

    Splitting before decoding is what keeps an encoded ``%2C`` or ``%3A`` inside its value.
    Raises ApiError(400) for a pair without a colon, an empty key or a repeated key.
    """
    params: dict[str, str] = {}
    for pair in segment.split(","):
        if not pair:
            continue  # tolerate "id:1," — PHP's explode leaves an empty tail
        key, sep, value = pair.partition(":")
        key = unquote_plus(key)
        if not sep or not key or key in params:
            raise ApiError(400, MSG_INVALID_ARGS)
        params[key] = unquote_plus(value)
    return params


def parse_api_path(raw_path: str) -> ApiPath:
    """Parse a raw (percent-encoded) request path below ``/api/v1``."""
    index = raw_path.find(API_PREFIX)
    rest = raw_path[index + len(API_PREFIX) :] if index >= 0 else raw_path
    segments = rest.lstrip("/").split("/")
    endpoint = unquote(segments[0]).lower()
    extra = segments[1:]
    if extra and extra[-1] == "":
        extra.pop()  # a trailing slash is harmless
    if len(extra) > 1:
        return ApiPath(endpoint, {}, MSG_INVALID_ARGS)
    try:
        params = parse_params(extra[0]) if extra else {}
    except ApiError as exc:
        return ApiPath(endpoint, {}, exc.message)
    return ApiPath(endpoint, params)


# ---------------------------------------------------------------------------------------------
# Request helpers
# ---------------------------------------------------------------------------------------------


def error_response(status: int, message: str) -> JSONResponse:
    """The v1 error body, ``{"error":{"type","message"}}`` (reference §11.1)."""
    body = {"error": {"type": "invalid_request_error", "message": message}}
    return JSONResponse(body, status_code=status)


def _missing_auth_response() -> Response:
    """The HTML 401 a call without an ``Authorization`` header gets (reference §1)."""
    headers = {"WWW-Authenticate": 'Basic realm="TalentLMS API"'}
    return HTMLResponse(UNAUTHORIZED_PAGE, status_code=401, headers=headers)


MSG_INTERNAL = "Internal server error"
MSG_RATE_LIMITED = "You have exceeded the API rate limit"  # the app's own 429 wording
MSG_INVALID_KEY = "Invalid API key provided"  # reference §11.2, the wrong-key 401


def _fault_style(limiter: RateLimiter) -> FaultStyle:
    """The faults in TalentLMS's bodies, and its own: the HTML 401 page, an exhausted hourly
    quota and a revoked API key."""

    async def html_401(_request: Request, _answer: Answer) -> Response:
        return _missing_auth_response()  # byte for byte what a call without credentials gets

    async def quota_exhausted(_request: Request, answer: Answer) -> Response:
        limiter.exhaust()
        return await answer()  # the limiter now answers 429; /ratelimit shows 0

    async def revoked_key(_request: Request, _answer: Answer) -> Response:
        return error_response(401, MSG_INVALID_KEY)

    def server_error(status: int) -> Response:
        body = {"error": {"type": "api_error", "message": MSG_INTERNAL}}
        return JSONResponse(body, status_code=status)

    style = FaultStyle(
        error=server_error,
        rate_limited=lambda: error_response(429, MSG_RATE_LIMITED),
        special={
            "html_401": html_401,
            "quota_exhausted": quota_exhausted,
            "revoked_key": revoked_key,
        },
    )
    assert set(style.kinds) == set(FAULT_KINDS)
    return style


def _check_auth(request: Request, api_key: str) -> Response | None:
    """HTTP Basic with the key as user name; the two failure forms differ (reference §1)."""
    header = request.headers.get("authorization")
    if header is None:
        return _missing_auth_response()
    scheme, _, token = header.partition(" ")
    user = ""
    if scheme.lower() == "basic":
        try:
            user = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            user = ""
    if user and hmac.compare_digest(user.encode(), api_key.encode()):
        return None
    return error_response(401, MSG_INVALID_KEY)


def _require(
    params: dict[str, str], required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, str]:
    """Exactly the allowed keys, every required one present and non-empty, else 400."""
    unknown = set(params) - set(required) - set(optional)
    missing = [key for key in required if not params.get(key)]
    empty = [key for key in optional if key in params and params[key] == ""]
    if unknown or missing or empty:
        raise ApiError(400, MSG_INVALID_ARGS)
    return params


def _numeric_id(value: str) -> str:
    """Ids are digit strings; anything else is an argument error rather than "not found"."""
    if not value.isdigit():
        raise ApiError(400, MSG_INVALID_ARGS)
    return str(int(value))


def _positive_int(value: str, default: int) -> int:
    if value == "":
        return default
    if not value.isdigit() or int(value) < 1:
        raise ApiError(400, MSG_INVALID_ARGS)
    return int(value)


def _multipart_fields(content_type: str, body: bytes) -> list[tuple[str, str]]:
    """Minimal multipart/form-data reader (python-multipart is not a dependency)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    fields: list[tuple[str, str]] = []
    for part in message.iter_parts() if message.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields.append((name, payload.decode("utf-8", "replace")))
    return fields


async def read_form(request: Request) -> dict[str, str]:
    """POST bodies must be form-encoded; JSON and other bodies are refused (reference §1)."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    body = await request.body()
    if media_type == "application/x-www-form-urlencoded":
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    elif media_type == "multipart/form-data":
        pairs = _multipart_fields(content_type, body)
    else:
        raise ApiError(400, MSG_INVALID_ARGS)
    return dict(pairs)


# ---------------------------------------------------------------------------------------------
# Endpoint handlers
# ---------------------------------------------------------------------------------------------


@dataclass
class Simulator:
    """Per-app state: never shared between apps, so tests can mutate freely."""

    config: SimulatorConfig
    portal: Portal
    stats: CallStats
    limiter: RateLimiter
    clock: Clock
    faults: FaultInjector
    burst: BurstLimiter
    # Held while a write checks and changes the portal (never across an ``await``): on the
    # event loop that already makes writes atomic; the lock keeps them so for other threads.
    lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> int:
        """Timestamp for mutations: real time, but never before the generated data's "now"."""
        return max(self.portal.now, int(self.clock()))


Handler = Callable[[Simulator, dict[str, str], Request], Awaitable[Any]]


async def _users(sim: Simulator, params: dict[str, str], _request: Request) -> Any:
    """``/users``: lookup by id/email/username, a page, or the (optionally capped) whole list."""
    portal = sim.portal
    lookups = [key for key in LOOKUP_KEYS if key in params]
    if lookups:
        key = lookups[0]
        value = _require(params, (key,))[key]
        if key == "id":
            return portal.user_detail(_numeric_id(value))
        found = portal.find_user_id(**{"email" if key == "email" else "login": value})
        return portal.user_detail(found)
    rows = portal.users
    if not params:
        size = sim.config.default_page_size
        return rows if size is None else rows[:size]
    if set(params) - {"page_size", "page_number"}:
        raise ApiError(400, MSG_INVALID_ARGS)
    size = _positive_int(params.get("page_size", ""), DEFAULT_PAGED_SIZE)
    number = _positive_int(params.get("page_number", ""), 1)
    return rows[(number - 1) * size : number * size]


def _lookup_endpoint(
    list_items: Callable[[Portal], list[dict[str, Any]]],
    detail: Callable[[Portal, str], dict[str, Any]],
) -> Handler:
    """``/{things}`` and ``/{things}/id:{id}`` for courses, categories, groups and branches."""

    async def handler(sim: Simulator, params: dict[str, str], _request: Request) -> Any:
        if not params:
            return list_items(sim.portal)
        return detail(sim.portal, _numeric_id(_require(params, ("id",))["id"]))

    return handler


async def _user_status_in_course(sim: Simulator, params: dict[str, str], _r: Request) -> Any:
    _require(params, ("course_id", "user_id"))
    course_id, user_id = _numeric_id(params["course_id"]), _numeric_id(params["user_id"])
    return sim.portal.user_status_in_course(course_id, user_id)


async def _users_progress_in_units(sim: Simulator, params: dict[str, str], _r: Request) -> Any:
    _require(params, ("unit_id",), ("user_id",))
    user_id = _numeric_id(params["user_id"]) if "user_id" in params else None
    return sim.portal.users_progress_in_unit(_numeric_id(params["unit_id"]), user_id)


async def _site_info(sim: Simulator, params: dict[str, str], _r: Request) -> Any:
    _require(params, ())
    return sim.portal.site_info()


async def _rate_limit(sim: Simulator, params: dict[str, str], _r: Request) -> Any:
    _require(params, ())
    reset = sim.limiter.reset_at
    config = sim.portal.config
    return {
        "limit": str(sim.limiter.limit),
        "remaining": sim.limiter.remaining,
        "reset": str(reset),
        "formatted_reset": format_datetime(
            reset, config.date_format, config.twelve_hour, seconds=False
        ),
    }


async def _post_form(params: dict[str, str], request: Request) -> dict[str, str]:
    """The form of a POST endpoint; path parameters or another method are argument errors."""
    if params or request.method != "POST":
        raise ApiError(400, MSG_INVALID_ARGS)
    return await read_form(request)


async def _add_user_to_course(sim: Simulator, params: dict[str, str], request: Request) -> Any:
    """POST form ``user_id, course_id[, role]`` → a one-element array (reference §3)."""
    form = _require(await _post_form(params, request), ("user_id", "course_id"), ("role",))
    role = form.get("role", "learner").lower()
    if role not in ("learner", "instructor"):
        raise ApiError(400, MSG_INVALID_ARGS)
    user_id, course_id = _numeric_id(form["user_id"]), _numeric_id(form["course_id"])
    with sim.lock:
        sim.portal.enroll(user_id, course_id, role, sim.now())
    return [{"user_id": user_id, "course_id": course_id, "role": role}]


async def _remove_user_from_course(sim: Simulator, params: dict[str, str], _r: Request) -> Any:
    _require(params, ("user_id", "course_id"))
    user_id, course_id = _numeric_id(params["user_id"]), _numeric_id(params["course_id"])
    with sim.lock:
        course = sim.portal.unenroll(user_id, course_id)
    return {"user_id": user_id, "course_id": course_id, "course_name": course.name}


async def _reset_user_progress(sim: Simulator, params: dict[str, str], _r: Request) -> Any:
    _require(params, ("course_id", "user_id"), ("remove_certification",))
    user_id, course_id = _numeric_id(params["user_id"]), _numeric_id(params["course_id"])
    with sim.lock:
        sim.portal.reset_progress(user_id, course_id)
    return {"message": "Operation completed successfully"}


async def _user_set_status(sim: Simulator, params: dict[str, str], _r: Request) -> Any:
    _require(params, ("user_id", "status"))
    if params["status"] not in ("active", "inactive"):
        raise ApiError(400, MSG_INVALID_ARGS)
    user_id = _numeric_id(params["user_id"])
    with sim.lock:
        user = sim.portal.set_user_status(user_id, params["status"], sim.now())
        return {"user_id": user.id, "status": user.status}


async def _user_signup(sim: Simulator, params: dict[str, str], request: Request) -> Any:
    """POST form → the new user in the single-user shape, but with ``id`` and
    ``last_updated_timestamp`` as JSON numbers (reference §3, §8.1)."""
    form = _require(await _post_form(params, request), SIGNUP_REQUIRED, SIGNUP_OPTIONAL)
    profile = signup_profile(form)
    with sim.lock:
        user = sim.portal.sign_up(profile, sim.now())
        detail = sim.portal.user_detail(user.id)
    detail["id"] = int(detail["id"])
    detail["last_updated_timestamp"] = int(detail["last_updated_timestamp"])
    return detail


async def _edit_user(sim: Simulator, params: dict[str, str], request: Request) -> Any:
    """POST form ``user_id`` plus the fields to set → the updated user, its
    ``last_updated_timestamp`` a number as in the source's example (reference §3, S3)."""
    form = _require(await _post_form(params, request), ("user_id",), EDIT_FIELDS)
    user_id = _numeric_id(form["user_id"])
    changes, password = edit_changes(form)
    with sim.lock:
        sim.portal.edit_user(user_id, changes, password, sim.now())
        detail = sim.portal.user_detail(user_id)
    detail["last_updated_timestamp"] = int(detail["last_updated_timestamp"])
    return detail


GOTO_REDIRECTS = ("logout_redirect", "course_completed_redirect")


async def _goto_course(sim: Simulator, params: dict[str, str], _r: Request) -> Any:
    """``{"goto_url"}``: a one-time autologin link into the course for an enrolled user.

    The link carries a fresh random key, ``course_id:{id}`` (which clients check, reference
    §3, S5) and the redirects when given, base64 again as the portal's links carry them.
    """
    _require(params, ("user_id", "course_id"), (*GOTO_REDIRECTS, "header_hidden_options"))
    user_id, course_id = _numeric_id(params["user_id"]), _numeric_id(params["course_id"])
    parts = [f"course_id:{course_id}"]
    for name in GOTO_REDIRECTS:
        if name in params:
            url = decode_redirect(params[name])
            encoded = base64.b64encode(url.encode("utf-8")).decode("ascii")
            parts.append(f"{name}:{quote(encoded, safe='')}")
    if "header_hidden_options" in params:
        options = hidden_options(params["header_hidden_options"])
        parts.append(f"header_hidden_options:{quote(options, safe=';')}")
    with sim.lock:
        sim.portal.require_enrollment(user_id, course_id)
    key = secrets.token_hex(20)
    base = f"https://{sim.portal.config.domain}/index/autologin/key:{key}"
    return {"goto_url": "/".join([base, *parts])}


async def _category_leafs(sim: Simulator, params: dict[str, str], _r: Request) -> Any:
    category_id = _numeric_id(_require(params, ("id",))["id"])
    return sim.portal.category_leafs_and_courses(category_id)


async def _custom_fields_users(sim: Simulator, params: dict[str, str], _r: Request) -> Any:
    _require(params, ())
    return sim.portal.custom_registration_fields()


async def _custom_fields_courses(sim: Simulator, params: dict[str, str], _r: Request) -> Any:
    _require(params, ())
    return sim.portal.custom_course_fields()


async def _users_by_custom_field(sim: Simulator, params: dict[str, str], _r: Request) -> Any:
    value = _require(params, ("custom_field_value",))["custom_field_value"]
    return sim.portal.users_by_custom_field(value)


async def _courses_by_custom_field(sim: Simulator, params: dict[str, str], _r: Request) -> Any:
    value = _require(params, ("custom_field_value",))["custom_field_value"]
    return sim.portal.courses_by_custom_field(value)


HANDLERS: dict[str, Handler] = {
    "users": _users,
    "courses": _lookup_endpoint(lambda p: p.courses, Portal.course_detail),
    "categories": _lookup_endpoint(lambda p: p.categories, Portal.category_detail),
    "groups": _lookup_endpoint(lambda p: p.groups, Portal.group_detail),
    "branches": _lookup_endpoint(lambda p: p.branches, Portal.branch_detail),
    "getuserstatusincourse": _user_status_in_course,
    "getusersprogressinunits": _users_progress_in_units,
    "siteinfo": _site_info,
    "ratelimit": _rate_limit,
    "addusertocourse": _add_user_to_course,
    "removeuserfromcourse": _remove_user_from_course,
    "resetuserprogress": _reset_user_progress,
    "usersetstatus": _user_set_status,
    "usersignup": _user_signup,
    "edituser": _edit_user,
    "gotocourse": _goto_course,
    "categoryleafsandcourses": _category_leafs,
    "getcustomregistrationfields": _custom_fields_users,
    "getcustomcoursefields": _custom_fields_courses,
    "getusersbycustomfield": _users_by_custom_field,
    "getcoursesbycustomfield": _courses_by_custom_field,
}


# ---------------------------------------------------------------------------------------------
# The app
# ---------------------------------------------------------------------------------------------


async def _api(request: Request) -> Response:
    """Every ``/api/v1`` request: count, delay, inject faults, then answer."""
    sim: Simulator = request.app.state.simulator
    path = parse_api_path(raw_path(request.scope))
    sim.stats.record(path.stat_name)
    await simulate_latency(sim.config.latency_ms)
    return await sim.faults.intercept(path.stat_name, request, lambda: _answer(sim, path, request))


async def _answer(sim: Simulator, path: ApiPath, request: Request) -> Response:
    """The normal answer: authenticate, rate-limit, then dispatch."""
    denied = _check_auth(request, sim.config.api_key)
    if denied is not None:
        return denied
    if path.endpoint != "ratelimit":
        wait = sim.burst.admit()
        if wait is not None:
            response = error_response(429, MSG_RATE_LIMITED)
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return response
        if not sim.limiter.consume():
            return error_response(429, "You have exceeded the API rate limit")
    handler = HANDLERS.get(path.endpoint)
    if handler is None:
        return error_response(404, "The requested API action does not exist")
    if path.error is not None:
        return error_response(400, path.error)
    try:
        body = await handler(sim, path.params, request)
    except ApiError as exc:
        return error_response(exc.status, exc.message)
    return JSONResponse(body)


async def _admin_quota(request: Request) -> Response:
    """POST ``{"remaining": n}``: leave ``n`` calls in the current hourly window."""
    limiter: RateLimiter = request.app.state.rate_limiter
    try:
        data = await json_object(request)
        remaining = data.get("remaining")
        if set(data) != {"remaining"} or type(remaining) is not int:  # bool is not a count
            raise ValueError('the body must be {"remaining": <integer>}')
        limiter.set_remaining(remaining)
    except ValueError as exc:
        return admin_error(str(exc))
    body = {"limit": limiter.limit, "remaining": limiter.remaining, "reset": limiter.reset_at}
    return JSONResponse(body)


def create_simulator_app(
    config: SimulatorConfig | None = None,
    portal: Portal | None = None,
    *,
    clock: Clock = time.time,
) -> Starlette:
    """Build a simulator app with its own copy of the portal data.

    ``config`` drives auth, latency, limits, paging, date rendering and the initial fault rules
    (seeded by ``config.seed``); ``portal`` (copied, never shared) supplies the data and defaults
    to ``generate_portal(config)``. ``clock`` exists so tests can move the rate-limit window
    without waiting an hour.
    """
    config = config or (portal.config if portal is not None else SimulatorConfig())
    data = portal.copy(config) if portal is not None else generate_portal(config)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    routes = [
        Route(API_PREFIX, _api, methods=methods),
        Route(API_PREFIX + "/{rest:path}", _api, methods=methods),
        *admin_routes(),
        Route("/_simulator/quota", _admin_quota, methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    stats = CallStats()
    limiter = RateLimiter(config.hourly_limit, clock)
    style = _fault_style(limiter)
    faults = FaultInjector(config.faults, seed=config.seed, style=style, simulator="TalentLMS")
    burst = BurstLimiter(config.burst_limit, config.burst_window)
    app.state.simulator = Simulator(config, data, stats, limiter, clock, faults, burst)
    app.state.stats = stats
    app.state.portal = data
    app.state.config = config
    app.state.rate_limiter = limiter
    app.state.burst_limiter = burst
    app.state.faults = faults
    return app
