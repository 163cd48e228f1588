"""The GraphQL-over-HTTP rules the ``/graphql`` view applies on top of Strawberry's.

The response media type follows the client's ``Accept`` header: the spec's own
``application/graphql-response+json`` when the client prefers it, ``application/json``
otherwise (also when the header names nothing we serve: the spec allows falling back to the
default rather than answering 406, and old clients send odd headers). Under the new media type
a *request error* — the operation was refused before execution, so there is no ``data`` — has
no ``data`` entry and a 4xx status; under ``application/json`` it stays ``200`` with
``"data": null``, as legacy clients expect.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# Strawberry's HTTP layer: tests/test_strawberry_internals.py.
from cross_web import parse_content_type  # Strawberry's dependency: RFC 9110 media types
from starlette.responses import JSONResponse

from gateway.errors import ErrorCode

__all__ = [
    "GRAPHQL_RESPONSE_JSON",
    "JSON",
    "body_media_type_refusal",
    "error_response",
    "http_error_code",
    "is_request_error",
    "names_persisted_query",
    "request_error_status",
    "response_media_type",
]

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"

# Codes of errors raised before execution begins (parsing, validation, operation limits and
# demand control, variable coercion), with the status each gets under the new media type.
_REQUEST_ERROR_STATUS: Mapping[str, int] = {
    ErrorCode.GRAPHQL_PARSE_FAILED: 400,
    ErrorCode.GRAPHQL_VALIDATION_FAILED: 400,
    ErrorCode.OPERATION_LIMIT_EXCEEDED: 400,
    ErrorCode.INTROSPECTION_DISABLED: 400,
    ErrorCode.COST_LIMIT_EXCEEDED: 400,
    ErrorCode.BAD_USER_INPUT: 400,
    # The portal's hourly quota cannot cover the operation: retry later (extensions.retryAt).
    ErrorCode.UPSTREAM_RATE_LIMITED: 429,
}

# Persisted-query refusals are request errors too, but they keep the status Apollo's protocol
# gives them (``gateway.persisted.queries``): ``PersistedQueryNotFound`` must stay 200 for
# clients to retry with the document.
_OWN_STATUS_CODES: frozenset[str] = frozenset(
    {
        ErrorCode.PERSISTED_QUERY_NOT_FOUND,
        ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
        ErrorCode.PERSISTED_QUERY_HASH_MISMATCH,
        ErrorCode.PERSISTED_QUERY_NOT_ALLOWED,
    }
)

# What each media range of an Accept header stands for, among the types we serve.
_RANGES: Mapping[str, str] = {
    GRAPHQL_RESPONSE_JSON: GRAPHQL_RESPONSE_JSON,
    JSON: JSON,
    "application/*": JSON,
    "*/*": JSON,
}


def body_media_type_refusal(content_type: str | None) -> str | None:
    """Why a POST body of ``content_type`` cannot be run, or ``None`` for JSON.

    The header is parsed as a media type: type and subtype are case-insensitive and
    parameters are allowed, but the type must be exactly ``application/json`` (not one that
    merely contains it, such as ``application/jsonx`` or a list of types), and a charset, if
    given, UTF-8, the only one JSON has (RFC 8259).
    """
    media_type, parameters = parse_content_type(content_type or "")
    if media_type != JSON:
        given = f"not {media_type!r}" if media_type else "none was given"
        return f"The request body must be {JSON} ({given})"
    charset = parameters.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        return f"The request body must be {JSON} in UTF-8, not {charset!r}"
    return None


def response_media_type(accept: str | None) -> str:
    """The media type to answer in: the served type the client ranks highest (``q``), the
    first listed among equals; ``application/json`` without a header or a served type."""
    best, best_q = JSON, 0.0
    for media_range, q in _parse_accept(accept or ""):
        served = _RANGES.get(media_range)
        if served is not None and q > best_q:
            best, best_q = served, q
    return best


def _parse_accept(accept: str) -> Iterable[tuple[str, float]]:
    for part in accept.split(","):
        media_range, *params = (piece.strip() for piece in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0  # a malformed weight: do not let it win
        if media_range:
            yield media_range.lower(), q


def _code(error: Any) -> str | None:
    extensions = getattr(error, "extensions", None) or {}
    code = extensions.get("code")
    return code if isinstance(code, str) else None


def is_request_error(data: object, errors: Sequence[Any] | None) -> bool:
    """No data, and every error was raised before execution (no path, a pre-execution code)."""
    return (
        data is None
        and bool(errors)
        and all(
            getattr(error, "path", None) is None and _is_request_error_code(_code(error))
            for error in errors or ()
        )
    )


def _is_request_error_code(code: str | None) -> bool:
    return code in _REQUEST_ERROR_STATUS or code in _OWN_STATUS_CODES


def request_error_status(formatted_errors: Sequence[Mapping[str, Any]]) -> int | None:
    """The status of a response without data: 400 if the client must change the request,
    429 if only the portal's quota stands in the way; ``None`` to keep the status already set
    (a persisted-query refusal)."""
    codes = [str((error.get("extensions") or {}).get("code") or "") for error in formatted_errors]
    if any(code in _OWN_STATUS_CODES for code in codes):
        return None
    statuses = {_REQUEST_ERROR_STATUS.get(code, 400) for code in codes}
    return 400 if 400 in statuses or not statuses else max(statuses)


def error_response(
    status: int, code: ErrorCode, message: str, *, media_type: str = JSON, **headers: str
) -> JSONResponse:
    """A GraphQL-over-HTTP error body for a request refused before GraphQL ran."""
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers or None, media_type=media_type)


# Codes of the HTTP errors raised outside GraphQL, by Strawberry's view or Starlette's router
# (any other 4xx is BAD_REQUEST).
_HTTP_ERROR_CODES: Mapping[int, ErrorCode] = {
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
}


def http_error_code(status: int) -> ErrorCode:
    return _HTTP_ERROR_CODES.get(status, ErrorCode.BAD_REQUEST)


def names_persisted_query(params: Any) -> bool:
    return "extensions" in params
