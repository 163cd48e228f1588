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

``code`` is what GraphQL clients see in ``errors[].extensions.code``. Messages are safe to
show: they never contain credentials, and upstream messages are the provider's own short
sentences (e.g. "The requested user does not exist").
"""

from __future__ import annotations

import math
from typing import TypedDict, Unpack

__all__ = [
    "BadUserInput",
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


class GatewayError(Exception):
    """Base of the tree; ``code`` goes to ``extensions.code``."""

    code = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadUserInput(GatewayError):
    code = "BAD_USER_INPUT"


class RecordNotFound(GatewayError):
    """A record a client asked for by key does not exist (e.g. a federation entity)."""

    code = "NOT_FOUND"


class UpstreamError(GatewayError):
    """The LMS behind the gateway failed. Carries where, for logs and ``extensions``."""

    code = "UPSTREAM_ERROR"

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
    code = "UPSTREAM_UNAVAILABLE"


class UpstreamAuthFailed(UpstreamError):
    code = "UPSTREAM_AUTH_FAILED"


class UpstreamForbidden(UpstreamError):
    code = "UPSTREAM_AUTH_FAILED"


class _Where(TypedDict, total=False):
    """``UpstreamError``'s keywords, for subclasses that pass them on."""

    provider: str
    endpoint: str
    status_code: int | None


class UpstreamRateLimited(UpstreamError):
    """The portal's limits stand in the way; ``retry_after`` seconds (if known) until they
    will not, shown to clients as ``extensions.retryAfter``."""

    code = "UPSTREAM_RATE_LIMITED"

    def __init__(
        self, message: str, *, retry_after: float | None = None, **where: Unpack[_Where]
    ) -> None:
        super().__init__(message, **where)
        self.retry_after = retry_after


class UpstreamNotFound(UpstreamError):
    code = "NOT_FOUND"


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
