"""Incremental delivery over HTTP: answers to ``@defer`` and ``@stream`` in parts, as
``multipart/mixed`` (the GraphQL-over-HTTP incremental delivery RFC).

**Who gets parts.** A client that names ``multipart/mixed`` in ``Accept``, not ranked below a
JSON type it accepts (``incremental_format``). Every other client, and every operation of
a batch, gets one JSON answer with the deferred and streamed data in it
(``schema/incremental.py``): the directives are hints a server may ignore, and a client that
cannot read parts still gets a complete, valid answer.

**Formats.** Two, by what the client asks for:

* ``multipart/mixed;deferSpec=20220824`` (Apollo Client 3, Apollo Kotlin and iOS, Apollo
  Router): the format of graphql-js 17.0.0-alpha.2. Each later part has ``incremental``
  entries with the ``path`` their ``data`` (or a streamed list's ``items``, at the ``path`` of
  the list with the index of its first item) is merged at, and the fragment's ``label``. A
  fragment that failed as a whole is an entry with ``"data": null`` and its errors.
* any other ``multipart/mixed``: graphql-core's own, that of graphql-js 17 now: ``pending``
  announces each fragment and stream by ``id`` with its ``path`` and ``label``; ``incremental``
  entries name an ``id`` (and a ``subPath`` below its path); ``completed`` closes an ``id``,
  with ``errors`` when it failed as a whole.

**The operation.** An answer in parts is one operation: its deadline covers every part, its
errors get their codes (unexpected ones masked) in whichever part holds them, and it ends
(``IncrementalAnswer.finish``: provider closed, the calls the pacer promised it released,
telemetry reported with its whole call count) after its last part, or when the client leaves,
or when the deadline passes. A deadline passed, or a failure, ends the stream with a last part
that fails every fragment still pending with an error, never with a broken stream. The last
part carries ``extensions`` (``upstream`` and ``cost``: the operation's totals); earlier parts
carry none.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

# Strawberry's dependency: RFC 9110 media types (tests/test_strawberry_internals.py).
from cross_web import parse_content_type
from graphql import (
    ExperimentalIncrementalExecutionResults,
    GraphQLError,
    InitialIncrementalExecutionResult,
    SubsequentIncrementalExecutionResult,
)
from graphql.execution import IncrementalStreamResult, PendingResult
from strawberry.http.streaming import (
    JSONEncoder,
    MultipartDataStream,
    MultipartTextStream,
    MultipartTransport,
)

from gateway.errors import ErrorCode
from gateway.http.graphql_over_http import GRAPHQL_RESPONSE_JSON, JSON

__all__ = [
    "MULTIPART_MIXED",
    "IncrementalAnswer",
    "IncrementalFormat",
    "Outcome",
    "Parts",
    "PartsTransport",
    "incremental_format",
    "multipart_content_type",
]

logger = logging.getLogger("gateway.graphql")

MULTIPART_MIXED = "multipart/mixed"
_JSON_RANGES = frozenset({GRAPHQL_RESPONSE_JSON, JSON, "application/*", "*/*"})

Payload = dict[str, Any]
Path = list[str | int]


class IncrementalFormat(enum.Enum):
    """The payload format of an answer in parts."""

    DEFER_SPEC_20220824 = "20220824"
    """``multipart/mixed;deferSpec=20220824``: graphql-js 17.0.0-alpha.2's, Apollo's."""
    GRAPHQL_CORE = "graphql-core"
    """graphql-core 3.3's (graphql-js 17's): ``pending``, ``incremental``, ``completed`` by id."""


class PartsTransport(MultipartTransport):
    """Strawberry's multipart/mixed framing, with the closing delimiter written together
    with the last part (``hasNext: false``) instead of after it: a client that stops reading
    once it has the last part (urql tears its fetch down then) never finds a read of the
    body still pending, and none has to wait for one more network write."""

    def stream(self, data: MultipartDataStream, encode_json: JSONEncoder) -> MultipartTextStream:
        async def stream() -> AsyncGenerator[str, None]:
            yield f"--{self.separator}"
            closed = False
            async for value in data():
                part = self.encode_multipart_data(value, encode_json)
                closed = isinstance(value, dict) and value.get("hasNext") is False
                yield part + "--\r\n" if closed else part
            if not closed:
                yield "--\r\n"

        return stream


def incremental_format(accept: str | None) -> IncrementalFormat | None:
    """The format to answer ``@defer``/``@stream`` in parts, or ``None`` for one JSON answer.

    Parts when ``Accept`` names ``multipart/mixed`` with a ``q`` above 0 and not below that of
    any JSON type it accepts (``*/*`` and ``application/*`` count as JSON): a client names
    ``multipart/mixed`` only if it reads it (Apollo Client's
    ``multipart/mixed;deferSpec=20220824,application/json``, GraphiQL's
    ``application/json, multipart/mixed``), unless it ranks it lower
    (``application/json, multipart/mixed;q=0.5``).
    """
    multipart: tuple[float, dict[str, str]] | None = None
    best_json = 0.0
    for media_range in (accept or "").split(","):
        media_type, parameters = parse_content_type(media_range.strip())
        q = _weight(parameters.get("q"))
        if media_type == MULTIPART_MIXED:
            if multipart is None or q > multipart[0]:
                multipart = (q, parameters)
        elif media_type in _JSON_RANGES:
            best_json = max(best_json, q)
    if multipart is None or multipart[0] <= 0 or multipart[0] < best_json:
        return None
    defer_spec = multipart[1].get("deferspec", "").strip("'\"")
    if defer_spec == IncrementalFormat.DEFER_SPEC_20220824.value:
        return IncrementalFormat.DEFER_SPEC_20220824
    return IncrementalFormat.GRAPHQL_CORE


def _weight(value: str | None) -> float:
    if value is None:
        return 1.0
    try:
        return float(value)
    except ValueError:
        return 0.0  # a malformed weight: do not let it win


def multipart_content_type(base: str, fmt: IncrementalFormat) -> str:
    """The response's ``Content-Type``: Strawberry's (``multipart/mixed; boundary="-"``), naming
    the ``deferSpec`` when the answer is in that format, as Apollo Router does."""
    if fmt is IncrementalFormat.DEFER_SPEC_20220824:
        return f"{base}; deferSpec={fmt.value}"
    return base


Coder = Callable[[Sequence[GraphQLError]], list[GraphQLError]]


class Parts:
    """graphql-core's incremental results as one format's payloads (plain JSON-ready dicts).

    It keeps what it has sent: the pending ids (their path and label), where each streamed
    list continues, every error (coded by ``code``) and the data, as the pieces delivered
    (telemetry counts their fields). Nothing delivered is modified.
    """

    def __init__(self, fmt: IncrementalFormat, code: Coder) -> None:
        self.format = fmt
        self._code = code
        self._pending: dict[str, PendingResult] = {}
        self._next_item: dict[str, int] = {}  # a stream's next index (deferSpec=20220824)
        self._delivered: list[tuple[Path, Any]] = []  # (path, data) newest last
        self.errors: list[GraphQLError] = []

    @property
    def data(self) -> list[dict[str, Any]]:
        """Every piece of data delivered so far, each a JSON object."""
        return [
            piece if isinstance(piece, dict) else {"items": piece} for _, piece in self._delivered
        ]

    @property
    def open_ids(self) -> list[str]:
        """Fragments and streams announced and not yet completed."""
        return list(self._pending)

    def _native(self) -> bool:
        return self.format is IncrementalFormat.GRAPHQL_CORE

    def _errors(self, errors: Iterable[GraphQLError] | None) -> list[dict[str, Any]]:
        coded = self._code(list(errors or ()))
        self.errors += coded
        return [dict(error.formatted) for error in coded]

    def _announce(self, pending: Iterable[PendingResult]) -> list[dict[str, Any]]:
        announced = []
        for entry in pending:
            self._pending[entry.id] = entry
            announced.append(dict(entry.formatted))
        return announced

    def initial(self, result: InitialIncrementalExecutionResult) -> Payload:
        """The first part: the data not deferred, and what is still to come."""
        payload: Payload = {"data": result.data}
        errors = self._errors(result.errors)
        if errors:
            payload["errors"] = errors
        pending = self._announce(result.pending)
        if self._native():
            payload["pending"] = pending
        payload["hasNext"] = result.has_next
        if result.data is not None:
            self._delivered.append(([], result.data))
        return payload

    def subsequent(
        self, result: SubsequentIncrementalExecutionResult, extensions: dict[str, Any]
    ) -> Payload | None:
        """A later part; ``extensions`` are sent only with the last one (``has_next`` false).
        ``None`` when the part says nothing the client's format can carry."""
        pending = self._announce(result.pending or ())
        entries: list[dict[str, Any]] = []
        for entry in result.incremental or ():
            entries.append(self._entry(entry))
        completed: list[dict[str, Any]] = []
        for done in result.completed or ():
            announced = self._pending.pop(done.id, None)
            errors = self._errors(done.errors)
            if self._native():
                completed.append({"id": done.id, **({"errors": errors} if errors else {})})
            elif errors and announced is not None:
                entries.append(self._failed(done.id, announced, errors))
        payload: Payload = {"hasNext": result.has_next}
        if self._native():
            if pending:
                payload["pending"] = pending
            if entries:
                payload["incremental"] = entries
            if completed:
                payload["completed"] = completed
        elif entries:
            payload["incremental"] = entries
        elif result.has_next:
            return None  # only ids opened or closed: nothing in this format
        return self._last(payload, extensions) if not result.has_next else payload

    def abandoned(
        self, errors_at: Callable[[Path], GraphQLError], extensions: dict[str, Any]
    ) -> Payload:
        """The last part when the rest cannot be delivered (deadline, failure): every fragment
        and stream still pending fails with the error ``errors_at`` its path gives."""
        completed: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        for id_, announced in list(self._pending.items()):
            errors = self._errors([errors_at(list(announced.path))])
            if self._native():
                completed.append({"id": id_, "errors": errors})
            else:
                entries.append(self._failed(id_, announced, errors))
        self._pending.clear()
        payload: Payload = {"hasNext": False}
        if entries:
            payload["incremental"] = entries
        if completed:
            payload["completed"] = completed
        return self._last(payload, extensions)

    def ended(self, extensions: dict[str, Any]) -> Payload:
        """The last part when graphql-core ended without saying so."""
        return self._last({"hasNext": False}, extensions)

    def _last(self, payload: Payload, extensions: dict[str, Any]) -> Payload:
        # Apollo Client 3 writes a deferSpec=20220824 part without `incremental` to its cache as
        # an empty result: there the totals ride only on a part that has entries.
        if extensions and (self._native() or payload.get("incremental")):
            payload["extensions"] = extensions
        return payload

    def _entry(self, entry: Any) -> dict[str, Any]:
        announced = self._pending[entry.id]
        sub_path = list(entry.sub_path or ())
        path: Path = [*announced.path, *sub_path]
        errors = self._errors(entry.errors)
        stream = isinstance(entry, IncrementalStreamResult)
        value = entry.items if stream else entry.data
        if self._native():
            out: dict[str, Any] = {"id": entry.id, ("items" if stream else "data"): value}
            if sub_path:
                out["subPath"] = sub_path
        elif stream:
            start = self._stream_index(entry.id, path)
            self._next_item[entry.id] = start + len(value)
            out = {"items": value, "path": [*path, start]}
        else:
            out = {"data": value, "path": path}
        if not self._native() and announced.label is not None:
            out["label"] = announced.label
        if errors:
            out["errors"] = errors
        self._delivered.append((path, value))
        return out

    def _failed(
        self, id_: str, announced: PendingResult, errors: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """deferSpec=20220824's entry for a fragment or stream that failed as a whole: its
        errors, with no data (``{}``, or no items). Not ``"data": null``, which that format
        reads as a null above the fragment, and clients apply by nulling the object the
        fragment is on, fields already sent included: the object is there, only the fragment's
        fields are not."""
        path: Path = list(announced.path)
        if id_ in self._next_item:  # a stream that delivered items: none more from its end
            out: dict[str, Any] = {"items": [], "path": [*path, self._next_item[id_]]}
        else:
            out = {"data": {}, "path": path}
        if announced.label is not None:
            out["label"] = announced.label
        out["errors"] = errors
        return out

    def _stream_index(self, id_: str, path: Path) -> int:
        """Where a stream's next items go: after those sent so far (initially, the list's
        items already delivered at ``path``)."""
        if id_ in self._next_item:
            return self._next_item[id_]
        found = self._find(path)
        return len(found) if isinstance(found, list) else 0

    def _find(self, path: Path) -> Any:
        for root, data in reversed(self._delivered):
            if path[: len(root)] != root:
                continue
            node: Any = data
            try:
                for key in path[len(root) :]:
                    node = node[key]
            except (KeyError, IndexError, TypeError):
                continue
            return node
        return None


@dataclass
class Outcome:
    """How an answer in parts ended: the data delivered (in pieces), every error sent, and
    whether every part was delivered."""

    data: list[dict[str, Any]]
    errors: list[GraphQLError]
    complete: bool


@dataclass
class IncrementalAnswer:
    """One operation answered in parts: its first part now, the others as they complete.

    ``results`` are graphql-core's; ``parts`` formats them; ``deadline`` (the event loop's
    clock) bounds every later part as it bounded the first; ``timed_out`` is the error a
    fragment still pending at the deadline gets (at its path); ``extensions`` gives the
    last part's ``extensions``; ``on_finish`` callbacks run once, with the ``Outcome``.
    ``step`` is entered around each wait for a later part (tracing makes its span current).
    """

    results: ExperimentalIncrementalExecutionResults
    parts: Parts
    deadline: float
    timed_out: Callable[[Path], GraphQLError]
    extensions: Callable[[], dict[str, Any]]
    on_finish: list[Callable[[Outcome], None]] = field(default_factory=list)
    step: Callable[[], AbstractContextManager[Any]] = nullcontext
    _stream: AsyncGenerator[Payload, None] | None = field(default=None, init=False)
    _finished: bool = field(default=False, init=False)
    _complete: bool = field(default=False, init=False)

    def start(self) -> ExperimentalIncrementalExecutionResults:
        """What Strawberry's view frames as multipart/mixed: the first part, and the rest."""
        first = self.parts.initial(self.results.initial_result)
        self._stream = self._later_parts()
        # Strawberry frames whatever the view's _process_stream_result returns: here, parts
        # already in their format (gateway.http.endpoint; tests/test_strawberry_internals.py).
        return ExperimentalIncrementalExecutionResults(first, self._stream)  # type: ignore[arg-type]

    async def _later_parts(self) -> AsyncGenerator[Payload, None]:
        subsequent = self.results.subsequent_results
        try:
            while True:
                try:
                    async with asyncio.timeout_at(self.deadline):
                        with self.step():
                            result = await anext(subsequent)
                except StopAsyncIteration:
                    self._complete = True
                    yield self.parts.ended(self.extensions())
                    return
                except TimeoutError:
                    await subsequent.aclose()  # cancels the deferred work still running
                    yield self.parts.abandoned(self.timed_out, self.extensions())
                    return
                except Exception:
                    logger.exception("incremental delivery failed")
                    await subsequent.aclose()
                    yield self.parts.abandoned(_internal_error, self.extensions())
                    return
                last = not result.has_next
                payload = self.parts.subsequent(result, self.extensions() if last else {})
                if last:
                    self._complete = True
                if payload is not None:
                    yield payload
                if last:
                    return
        finally:
            await subsequent.aclose()
            self.finish()

    async def close(self) -> None:
        """End the answer if its parts did not (the client left, or it was never sent)."""
        if self._stream is not None:
            await self._stream.aclose()
        await self.results.subsequent_results.aclose()  # if the parts never started
        self.finish()

    def finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        outcome = Outcome(self.parts.data, list(self.parts.errors), self._complete)
        for callback in self.on_finish:
            try:
                callback(outcome)
            except Exception:  # one failing observer must not stop the others
                logger.exception("finishing an incremental answer failed")


def _internal_error(path: Path) -> GraphQLError:
    return GraphQLError("Internal server error", path=path, extensions={"code": ErrorCode.INTERNAL})
