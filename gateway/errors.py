"""Every exception the gateway raises on purpose, in one tree.

::

    GatewayError                      INTERNAL
    ├── BadUserInput                  BAD_USER_INPUT      the client sent something unusable
    ├── PersistedQueryError           PERSISTED_QUERY_*   gateway.persisted.queries; BAD_REQUEST
    ├── RecordNotFound                NOT_FOUND           a record the client named is not there
    └── UpstreamError                 UPSTREAM_ERROR      the provider failed in a way not below
        ├── UpstreamUnavailable       UPSTREAM_UNAVAILABLE  connect/read failure, timeout
        ├── UpstreamAuthFailed        UPSTREAM_AUTH_FAILED  401: key missing, wrong or revoked
        ├── UpstreamForbidden         UPSTREAM_AUTH_FAILED  403: API disabled, portal inactive
        ├── UpstreamRateLimited       UPSTREAM_RATE_LIMITED 429 or a rate-limit error body
        ├── UpstreamNotFound          NOT_FOUND             "The requested … does not exist"
        │   └── UpstreamGone          NOT_FOUND             the record existed and was deleted
        ├── UpstreamRejected          UPSTREAM_ERROR        400-class: invalid arguments, conflicts
        └── UpstreamBadResponse       UPSTREAM_ERROR        not JSON, or not the documented shape

``code``, an ``ErrorCode``, is what clients see in ``errors[].extensions.code``. Messages are
safe to show: they never contain credentials, and upstream messages are the provider's own
short sentences (e.g. "The requested user does not exist").
"""

from __future__ import annotations

import math
from enum import StrEnum

__all__ = [
    "BadUserInput",
    "ErrorCode",
    "GatewayError",
    "RecordNotFound",
    "UpstreamAuthFailed",
    "UpstreamBadResponse",
    "UpstreamError",
    "UpstreamForbidden",
    "UpstreamGone",
    "UpstreamNotFound",
    "UpstreamRateLimited",
    "UpstreamRejected",
    "UpstreamUnavailable",
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


class UpstreamAuthFailed(UpstreamError):
    code = ErrorCode.UPSTREAM_AUTH_FAILED


class UpstreamForbidden(UpstreamError):
    code = ErrorCode.UPSTREAM_AUTH_FAILED


class UpstreamRateLimited(UpstreamError):
    """The portal's limits stand in the way; ``retry_after`` seconds (if known) until they
    will not, shown to clients as ``extensions.retryAfter``."""

    code = ErrorCode.UPSTREAM_RATE_LIMITED

    def __init__(self, message: str, *, retry_after: float | None = None, **where: object) -> None:
        super().__init__(message, **where)  # type: ignore[arg-type]
        self.retry_after = retry_after


class UpstreamNotFound(UpstreamError):
    code = ErrorCode.NOT_FOUND


class UpstreamGone(UpstreamNotFound):
    """TalentLMS answers "The requested user is no longer available" for deleted users."""


class UpstreamRejected(UpstreamError):
    pass


class UpstreamBadResponse(UpstreamError):
    pass


def retry_after_seconds(seconds: float | None) -> int | None:
    """Whole seconds to wait, rounded up as HTTP's ``Retry-After`` has them."""
    if seconds is None or not math.isfinite(seconds):
        return None
    return max(0, math.ceil(seconds))
