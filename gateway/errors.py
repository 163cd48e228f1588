"""Every exception the gateway raises, in one tree, and the codes clients see.

``ErrorCode`` is the vocabulary of ``errors[].extensions.code``: every code the gateway can
send. The error table of docs/api.md gives each one's HTTP status and meaning, in the enum's
order (tests/test_errors.py keeps the two equal). A ``StrEnum``, a code serializes as its
plain name.

The hierarchy, with the code each class puts in ``extensions.code`` and when it is raised::

    GatewayError                  INTERNAL               base of what a client may be told
    ├── BadUserInput              BAD_USER_INPUT         unusable argument, cursor or lookup
    ├── RecordNotFound            NOT_FOUND              a federation entity that is not there
    ├── AccessDenied              UNAUTHENTICATED (401)  no, malformed or unknown gateway key
    │                             FORBIDDEN (403)        an account the key may not use
    │                             BAD_USER_INPUT (400)   several accounts, no X-LMS-Account
    ├── PersistedQueryError       PERSISTED_QUERY_*      APQ or allow-list refusal, or
    │                             BAD_REQUEST (400)      a malformed persistedQuery extension
    ├── TooComplex                COST_LIMIT_EXCEEDED    more fields than an estimate may visit
    ├── NotPermitted              FORBIDDEN              a mutation its key has no scope for
    ├── WriteRejected             none: data             an expected failure of a write (already
    │                                                    enrolled, no such user): the mutation's
    │                                                    payload lists it in ``userErrors``
    └── UpstreamError             UPSTREAM_ERROR         the provider failed in a way not below
        ├── UpstreamUnavailable   UPSTREAM_UNAVAILABLE   connect/read failure, timeout
        │   └── CircuitOpen       UPSTREAM_UNAVAILABLE   the breaker is open: no call was made
        ├── UpstreamAuthFailed    UPSTREAM_AUTH_FAILED   401: key, client or token refused
        │   └── UpstreamTokenRejected                    a token's 401, before its one renewal
        ├── UpstreamForbidden     UPSTREAM_AUTH_FAILED   403: API disabled, portal inactive
        ├── UpstreamRateLimited   UPSTREAM_RATE_LIMITED  429 or a rate-limit error body
        │   └── PacingTimeout     UPSTREAM_RATE_LIMITED  no call slot frees up before the deadline
        ├── UpstreamNotFound      NOT_FOUND              "The requested … does not exist"
        │   └── UpstreamGone      NOT_FOUND              the record existed and was deleted
        ├── UpstreamRejected      UPSTREAM_ERROR         400-class: invalid arguments, conflicts
        └── UpstreamBadResponse   UPSTREAM_ERROR         not JSON, or not the documented shape

    ConfigError (a ValueError)    none: never sent       the configuration cannot work
    ├── AccountsError                                    the accounts file and its entries
    ├── ManifestError                                    the persisted-query manifest
    └── TracingUnavailable                               tracing on, its packages missing

Who raises them: ``AccessDenied`` gateway.tenancy.authorization (answered by the request
guard); ``NotPermitted`` and ``WriteRejected`` the mutations (schema.types.mutations) and
the providers' writes; ``PersistedQueryError`` gateway.persisted.queries; ``TooComplex``
schema.validation.cost, which reports it as a validation error; ``CircuitOpen`` and
``PacingTimeout`` the upstream guard (gateway.upstream.breaker, .pacer) before any call;
the other upstream errors the provider's client; ``BadUserInput`` and ``RecordNotFound``
the domain and the resolvers. ``ConfigError`` and its subclasses are raised while the app
is built (gateway.tenancy.accounts, gateway.persisted.manifest,
gateway.observability.tracing) and by ``lms-gateway persisted-queries build``; the CLI prints
them and exits with status 2. They stand outside ``GatewayError`` because their messages,
for the operator, name files and settings, and no client is ever sent one.

Codes that no class here carries are set where their error arises: the GraphQL document's
(``GRAPHQL_PARSE_FAILED``, ``GRAPHQL_VALIDATION_FAILED``, variables' ``BAD_USER_INPUT``) in
schema.validation.extensions; ``OPERATION_LIMIT_EXCEEDED`` and ``INTROSPECTION_DISABLED`` by
``OperationLimitExceeded`` and ``IntrospectionDisabled`` in schema.validation.limits, which
are graphql-core ``GraphQLError``s that validation rules report, so they live beside
graphql-core (this module sits below the domain, which imports no GraphQL); demand control's
refusals in schema.validation.cost; ``DEADLINE_EXCEEDED`` and ``CLIENT_CLOSED_REQUEST`` in
the ``/graphql`` view; the HTTP refusals (``BAD_REQUEST``, ``NOT_FOUND``,
``METHOD_NOT_ALLOWED``, ``UNSUPPORTED_MEDIA_TYPE``, ``REQUEST_TOO_LARGE``,
``REQUEST_TIMEOUT``, ``INTERNAL``) in gateway.http and gateway.app. The simulator
(gateway.simulator) imitates the portal and imports nothing of the gateway: its exceptions
are the portal's, not part of this tree.

Messages of ``GatewayError`` are safe to show: they never contain credentials, and upstream
messages are the provider's own short sentences (e.g. "The requested user does not exist").
This module imports nothing of the gateway: every layer may raise its errors.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any, Final, TypedDict, Unpack

__all__ = [
    "AccessDenied",
    "AccountsError",
    "BadUserInput",
    "CircuitOpen",
    "ConfigError",
    "ErrorCode",
    "GatewayError",
    "ManifestError",
    "NotPermitted",
    "PacingTimeout",
    "PersistedQueryError",
    "RecordNotFound",
    "TooComplex",
    "TracingUnavailable",
    "UpstreamAuthFailed",
    "UpstreamBadResponse",
    "UpstreamError",
    "UpstreamForbidden",
    "UpstreamGone",
    "UpstreamNotFound",
    "UpstreamRateLimited",
    "UpstreamRejected",
    "UpstreamTokenRejected",
    "UpstreamUnavailable",
    "UserErrorCode",
    "WriteRejected",
    "retry_after_seconds",
]


class ErrorCode(StrEnum):
    """Every code the gateway sends in ``extensions.code``, in the order of the error table in
    docs/api.md, which gives each one's HTTP status and meaning (tests/test_errors.py keeps the
    table and this enum equal). A ``StrEnum``: a code is its name as a plain string in JSON,
    logs and metric labels."""

    # Refused before GraphQL runs.
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_REQUEST = "BAD_REQUEST"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
    # The document: parsing, validation, operation limits, demand control, arguments.
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    OPERATION_LIMIT_EXCEEDED = "OPERATION_LIMIT_EXCEEDED"
    INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
    COST_LIMIT_EXCEEDED = "COST_LIMIT_EXCEEDED"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    # Execution and the provider behind it.
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    NOT_FOUND = "NOT_FOUND"
    UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
    UPSTREAM_AUTH_FAILED = "UPSTREAM_AUTH_FAILED"
    UPSTREAM_RATE_LIMITED = "UPSTREAM_RATE_LIMITED"
    UPSTREAM_ERROR = "UPSTREAM_ERROR"
    # Persisted queries (gateway.persisted.queries).
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
    PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
    PERSISTED_QUERY_NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"
    # Idempotent mutations (gateway.http.idempotency).
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    # Anything else, masked; and the outcome of a request its client gave up on.
    INTERNAL = "INTERNAL"
    CLIENT_CLOSED_REQUEST = "CLIENT_CLOSED_REQUEST"


class GatewayError(Exception):
    """Base of the tree; ``code`` goes to ``extensions.code``."""

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadUserInput(GatewayError):
    code = ErrorCode.BAD_USER_INPUT


class RecordNotFound(GatewayError):
    """A record a client asked for by key does not exist (e.g. a federation entity)."""

    code = ErrorCode.NOT_FOUND


class AccessDenied(GatewayError):
    """A request is refused before any upstream call.

    ``status`` is the HTTP status, ``code`` goes to ``extensions.code``; ``message`` is safe to
    show: it echoes neither the presented key nor the X-LMS-Account header, and an unknown
    account reads exactly like an account outside the key's scope, so ids cannot be probed.
    """

    def __init__(self, status: int, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code

    def __repr__(self) -> str:
        return f"AccessDenied({self.status}, {self.code.value!r}, {self.message!r})"


class PersistedQueryError(GatewayError):
    """A persisted-query request that cannot run; ``status`` is the HTTP status it gets
    when it is the only operation of its request (batches always answer 200)."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.headers = headers or {}


class TooComplex(GatewayError):
    """The operation expands to more fields than an estimate may visit."""

    code = ErrorCode.COST_LIMIT_EXCEEDED

    def __init__(self, max_visits: int) -> None:
        super().__init__(
            f"This query expands to more than {max_visits} fields; its cost cannot be bounded."
        )


class NotPermitted(GatewayError):
    """The request's gateway key lacks the scope an operation needs (``write``, ``launch``);
    refused before any upstream call."""

    code = ErrorCode.FORBIDDEN


class UserErrorCode(StrEnum):
    """Expected failures of a write, sent as data in a mutation payload's ``userErrors``
    (docs/api.md § Mutations), never as errors."""

    USER_NOT_FOUND = "USER_NOT_FOUND"
    COURSE_NOT_FOUND = "COURSE_NOT_FOUND"
    ALREADY_ENROLLED = "ALREADY_ENROLLED"
    NOT_ENROLLED = "NOT_ENROLLED"
    UNSUPPORTED_ROLE = "UNSUPPORTED_ROLE"
    DUPLICATE_EMAIL = "DUPLICATE_EMAIL"
    DUPLICATE_USERNAME = "DUPLICATE_USERNAME"
    INVALID_EMAIL = "INVALID_EMAIL"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    INVALID_INPUT = "INVALID_INPUT"
    NOT_SUPPORTED = "NOT_SUPPORTED"


class WriteRejected(GatewayError):
    """A write the LMS refused, or would refuse, for a reason the client can act on.

    ``field`` is the path of the input field at fault (``("userId",)``), or ``None``.
    """

    def __init__(
        self, code: UserErrorCode, message: str, field: tuple[str, ...] | None = None
    ) -> None:
        super().__init__(message)
        self.user_error_code = code
        self.field = field


class UpstreamError(GatewayError):
    """The LMS behind the gateway failed. Carries where, for logs and ``extensions``."""

    code = ErrorCode.UPSTREAM_ERROR

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        endpoint: str = "",
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.endpoint = endpoint
        self.status_code = status_code


class UpstreamUnavailable(UpstreamError):
    code = ErrorCode.UPSTREAM_UNAVAILABLE


class CircuitOpen(UpstreamUnavailable):
    """Raised without calling the upstream because the breaker is open.

    ``service`` names the provider in the message ("TalentLMS", "LearnWorlds"). ``retry_at``
    is the ``clock()`` time at which a test call will be allowed again and ``retry_in`` the
    seconds until then (what clients can be told to wait).
    """

    def __init__(
        self,
        *,
        retry_at: float,
        retry_in: float,
        probing: bool = False,
        breaker: str = "",
        service: str = "the LMS",
        **where: Any,
    ) -> None:
        retry_in = max(0.0, retry_in)
        if probing:
            until = "a test call in progress succeeds"
        else:
            until = f"a test call in {max(1, math.ceil(retry_in))} s"
        super().__init__(
            f"{_sentence(service)} is failing: calls are paused until {until}", **where
        )
        self.retry_at = retry_at
        self.retry_in = retry_in
        self.breaker = breaker


class UpstreamAuthFailed(UpstreamError):
    code = ErrorCode.UPSTREAM_AUTH_FAILED


class UpstreamTokenRejected(UpstreamAuthFailed):
    """A call signed with an access token was refused (401): the token may have expired or
    been revoked. The LearnWorlds client answers it with one renewal and one retry, and
    raises a plain ``UpstreamAuthFailed`` when that cannot help (a static token, a second 401).
    """


class UpstreamForbidden(UpstreamError):
    code = ErrorCode.UPSTREAM_AUTH_FAILED


class _Where(TypedDict, total=False):
    """``UpstreamError``'s keywords, for subclasses that pass them on."""

    provider: str
    endpoint: str
    status_code: int | None


class UpstreamRateLimited(UpstreamError):
    """The portal's limits stand in the way; ``retry_after`` seconds (if known) until they
    will not, shown to clients as ``extensions.retryAfter``."""

    code = ErrorCode.UPSTREAM_RATE_LIMITED

    def __init__(
        self, message: str, *, retry_after: float | None = None, **where: Unpack[_Where]
    ) -> None:
        super().__init__(message, **where)
        self.retry_after = retry_after


class PacingTimeout(UpstreamRateLimited):
    """No call slot frees up before the caller's deadline; nothing was sent upstream.

    ``retry_after`` is the seconds until this caller would have got a slot. With
    ``operation_calls``, a whole operation was refused before it started (``Admission.request``).
    """

    def __init__(
        self,
        *,
        retry_after: float,
        max_calls: int = 0,
        window: float = 0.0,
        operation_calls: int = 0,
        service: str = "the LMS",
        **where: Any,
    ) -> None:
        retry_after = max(0.0, retry_after)
        limit = f" (at most {max_calls} calls per {window:g} s)" if max_calls else ""
        if operation_calls:
            message = (
                f"{_sentence(service)} is busy{limit}: this operation may need up to "
                f"{operation_calls} calls and they could not all start before its deadline; "
                f"try again in {retry_after:.1f} s"
            )
        else:
            message = (
                f"Too many {service} calls at once{limit}: no call slot frees up before the "
                f"request's deadline; try again in {retry_after:.1f} s"
            )
        super().__init__(message, retry_after=retry_after, **where)


class UpstreamNotFound(UpstreamError):
    code = ErrorCode.NOT_FOUND


class UpstreamGone(UpstreamNotFound):
    """TalentLMS answers "The requested user is no longer available" for deleted users."""


class UpstreamRejected(UpstreamError):
    pass


class UpstreamBadResponse(UpstreamError):
    pass


class ConfigError(ValueError):
    """The configuration cannot work; the message says which variable to fix."""


class AccountsError(ConfigError):
    """The accounts configuration cannot work.

    The message names the file, the entry (``accounts[1] 'globex'``) and what to fix. It never
    contains a configured value that could be a secret: not an environment variable's value,
    not a ``sha256`` (which may hold a raw key pasted by mistake), not a ``base_url``.
    """


class ManifestError(ConfigError):
    """The manifest cannot be used; the message names the file and what is wrong."""


class TracingUnavailable(ConfigError):
    """Tracing is switched on but the ``tracing`` extra is not installed; the message starts
    with ``code``."""

    code: Final = "TRACING_UNAVAILABLE"


def _sentence(text: str) -> str:
    """``text`` starting a sentence: "the LMS" → "The LMS"; "TalentLMS" as it is."""
    return text[:1].upper() + text[1:]


def retry_after_seconds(seconds: float | None) -> int | None:
    """Whole seconds to wait, rounded up as HTTP's ``Retry-After`` has them."""
    if seconds is None or not math.isfinite(seconds):
        return None
    return max(0, math.ceil(seconds))
