"""Logs: one JSON object per line (or plain text), each carrying the request's id.

``configure_logging`` is what ``lms-gateway serve`` calls: one handler on the root logger,
so the gateway's, Starlette's and uvicorn's records all come out in one format (``auto``:
plain text when stderr is a terminal, JSON otherwise). The
``RequestIdFilter`` on that handler stamps every record with the id of the request being
served (``gateway.observability.telemetry``), wherever in the code the record was made.

``OperationLog`` subscribes to the telemetry events and writes one line per GraphQL
operation and, optionally, one access line per HTTP request (in place of uvicorn's access
log, which is switched off: it would be a second, unstructured line without the id). What
goes into those lines is chosen field by field — ids, names, counts, codes, durations;
never API keys, Authorization headers, query text, variables or result values. Paths are
logged without their query string, which for ``GET /graphql`` holds the document.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import IO, Any, Literal

from gateway.observability.telemetry import (
    MutationRecord,
    Observer,
    OperationRecord,
    RequestRecord,
    current_request_id,
)

__all__ = ["JsonFormatter", "OperationLog", "RequestIdFilter", "configure_logging", "log_handler"]

LogFormat = Literal["auto", "json", "text"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

_PRINTABLE_NAME = re.compile(r"[^A-Za-z0-9_]")
_MAX_NAME = 100
_MAX_PATH = 200


class RequestIdFilter(logging.Filter):
    """Sets ``record.request_id`` (``-`` outside a request). Goes on handlers, so records of
    every logger passing through them get it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "request_id", ...fields}`` on one line.

    Structured fields come from ``extra={"fields": {...}}``; nothing else a record carries
    is copied, so a library's ``extra`` cannot put unexpected data into the line.
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _given_id(record) or current_request_id(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def _given_id(record: logging.LogRecord) -> str | None:
    """The id the filter stamped, for records formatted outside their request."""
    value = getattr(record, "request_id", None)
    return value if value and value != "-" else None


class _TextFormatter(logging.Formatter):
    """``TEXT_FORMAT`` with the structured fields appended as ``key=value``."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and fields:
            pairs = " ".join(f"{key}={_compact(value)}" for key, value in fields.items())
            head, _, tail = text.partition("\n")  # keep a traceback below the line
            text = f"{head} {pairs}" + (f"\n{tail}" if tail else "")
        return text


def _compact(value: object) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def log_handler(stream: IO[str] | None = None, log_format: LogFormat = "json") -> logging.Handler:
    """A stream handler with the chosen format and the request-id filter; ``auto`` is text
    when the stream is a terminal (a person reads it) and JSON otherwise (a collector does)."""
    stream = stream or sys.stderr
    if log_format == "auto":
        log_format = "text" if stream.isatty() else "json"
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if log_format == "json" else _TextFormatter(TEXT_FORMAT))
    handler.addFilter(RequestIdFilter())
    return handler


def configure_logging(log_format: LogFormat = "auto", level: str | int = "INFO") -> None:
    """Route every record through one handler on the root logger, in ``log_format``.

    uvicorn's loggers lose their own handlers and propagate to it; its access logger is
    silenced because ``OperationLog`` writes the access lines.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(log_handler(None, log_format))
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per upstream call


def _name(value: str | None) -> str | None:
    """An operation name fit for a log line: bounded, GraphQL name characters only."""
    if value is None:
        return None
    return _PRINTABLE_NAME.sub("?", value[:_MAX_NAME])


class OperationLog(Observer):
    """Writes the per-operation line (``gateway.operation``), the audit line of each mutation
    (``gateway.audit``) and the access line (``gateway.access``) from telemetry events.
    Upstream calls are counted in the operation's line: a line per call would drown it."""

    def __init__(self, *, access_log: bool = True) -> None:
        self._operations = logging.getLogger("gateway.operation")
        self._audit = logging.getLogger("gateway.audit")
        self._access = logging.getLogger("gateway.access")
        self._access_log = access_log

    def operation_finished(self, record: OperationRecord) -> None:
        if not self._operations.isEnabledFor(logging.INFO):
            return
        fields = {
            "account": record.account_id,
            "operation": _name(record.operation_name),
            "operation_type": record.operation_type,
            "duration_ms": round(record.duration * 1000, 3),
            "outcome": record.outcome,
            "error_codes": sorted(set(record.error_codes)),
            "resolved_fields": record.resolved_fields,
            "upstream_calls": record.upstream_calls,
            "upstream_by_endpoint": dict(sorted(record.upstream_by_endpoint.items())),
            "cache_hits": record.cache_hits,
            "retries": record.retries,
        }
        self._operations.info("graphql operation", extra={"fields": fields})

    def mutation_finished(self, record: MutationRecord) -> None:
        # Ids and codes only: the record carries no input values, links or keys.
        fields = {
            "account": record.account_id,
            "key": record.key_name,
            "mutation": record.mutation,
            "targets": dict(record.targets),
            "outcome": record.outcome,
            "upstream_calls": record.upstream_calls,
            "replayed": record.replayed,
        }
        self._audit.info("mutation", extra={"fields": fields})

    def request_finished(self, record: RequestRecord) -> None:
        if not self._access_log or not self._access.isEnabledFor(logging.INFO):
            return
        fields = {
            "method": record.method,
            "path": record.path[:_MAX_PATH],
            "status": record.status,
            "duration_ms": round(record.duration * 1000, 3),
        }
        self._access.info("http request", extra={"fields": fields})
