"""What every provider does with the upstream calls of one operation.

``OperationCalls`` makes each distinct call at most once per operation and shares it among
everything that needs it; ``per_key`` fetches a batch of keys concurrently so that one failing
key fails only itself; ``find`` picks one record out of a key's result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, ParamSpec, Protocol, TypeVar

from gateway.errors import (
    UpstreamError,
    UpstreamNotFound,
    UpstreamRejected,
    UserErrorCode,
    WriteRejected,
)
from gateway.providers.base import Result

__all__ = [
    "OperationCalls",
    "Rejection",
    "fetch_each",
    "find",
    "find_in_parents",
    "per_key",
    "rejected_by_message",
    "require_ids",
]

P = ParamSpec("P")  # an upstream call's parameters
R = TypeVar("R")  # and its answer
F = TypeVar("F")  # what an upstream fetch answers for one key
V = TypeVar("V")  # what a provider method answers for one key


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


M = TypeVar("M", bound=_Identified)

# A phrase of an LMS's error message, the expected failure it means, the input field at fault.
Rejection = tuple[str, UserErrorCode, tuple[str, ...] | None]


class OperationCalls:
    """The upstream calls one operation has started, by key."""

    __slots__ = ("_calls",)

    def __init__(self) -> None:
        self._calls: dict[Hashable, asyncio.Future[Any]] = {}

    def once(
        self,
        key: Hashable,
        call: Callable[P, Awaitable[R]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> asyncio.Future[R]:
        """The call named ``key``: started now by ``call(*args, **kwargs)``, or the one
        already started under that key."""
        future = self._calls.get(key)
        if future is None:
            future = self._calls[key] = asyncio.ensure_future(call(*args, **kwargs))
        return future

    def started(self, key: Hashable) -> bool:
        return key in self._calls

    def answered(self, key: Hashable, value: object) -> None:
        """Record ``value`` as the answer of the call ``key`` (another call's answer holds
        it), unless that call was already started."""
        if key not in self._calls:
            done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            done.set_result(value)
            self._calls[key] = done

    def forget(self, key: Hashable) -> None:
        """Drop the answer kept for ``key`` (a write changed it): the next ``once`` calls again."""
        self._calls.pop(key, None)

    def close(self) -> None:
        """End the operation: cancel calls still in flight (after a deadline, say)."""
        for future in self._calls.values():
            if not future.done():
                future.cancel()
            elif not future.cancelled():
                future.exception()  # retrieved: a failure nobody awaited is not an error


async def per_key(
    keys: Sequence[str],
    fetch: Callable[[str], Awaitable[F]],
    build: Callable[[str, F], V | None],
) -> list[Result[V]]:
    """Fetch every key concurrently; a failing key yields its exception, not the batch's."""
    raws = await asyncio.gather(*(fetch(key) for key in keys), return_exceptions=True)
    return [
        raw if isinstance(raw, BaseException) else build(key, raw)
        for key, raw in zip(keys, raws, strict=True)
    ]


async def fetch_each(
    keys: Sequence[str], fetch: Callable[[str], Awaitable[V | None]]
) -> list[Result[V]]:
    """``per_key`` for a fetch that answers the value itself."""
    found = await asyncio.gather(*(fetch(key) for key in keys), return_exceptions=True)
    return list(found)


def find(records: Result[list[M]], record_id: str) -> Result[M]:
    """The record with ``record_id`` in one key's result (passing a failure through)."""
    if isinstance(records, BaseException):
        return records
    return next((record for record in records or () if record.id == record_id), None)


async def find_in_parents(
    ids: Sequence[str],
    split: Callable[[str], tuple[str, str] | None],
    load: Callable[[Sequence[str]], Awaitable[list[Result[list[M]]]]],
) -> list[Result[M]]:
    """Records whose ids name their parent (``split``: ``"{course}:{item}"`` → the pair, or
    ``None`` for an id that names nothing), found in their parents' lists, which ``load``
    gives in one batch."""
    pairs = [split(i) for i in ids]
    parents = sorted({pair[0] for pair in pairs if pair})
    by_parent = dict(zip(parents, await load(parents), strict=True))
    return [
        find(by_parent.get(pair[0]) if pair else None, record_id)
        for record_id, pair in zip(ids, pairs, strict=True)
    ]


def rejected_by_message(
    error: UpstreamError, rejections: Sequence[Rejection], prefix: str
) -> WriteRejected | None:
    """The expected failure of a write that the LMS's refusal names (the first of
    ``rejections`` whose phrase its message holds, in any case), if any; the message loses
    the client's ``prefix`` ("TalentLMS refused the request:")."""
    if not isinstance(error, UpstreamNotFound | UpstreamRejected):
        return None
    message = error.message.lower()
    for phrase, code, field in rejections:
        if phrase in message:
            return WriteRejected(code, error.message.removeprefix(prefix).strip(), field)
    return None


def require_ids(valid: Callable[[str], bool], user_id: str, course_id: str | None = None) -> None:
    """Refuse, before any call, a write naming ids the LMS cannot have (``valid`` says which
    it can): no record has them."""
    if not valid(user_id):
        raise WriteRejected(UserErrorCode.USER_NOT_FOUND, "No user has this id", ("userId",))
    if course_id is not None and not valid(course_id):
        raise WriteRejected(UserErrorCode.COURSE_NOT_FOUND, "No course has this id", ("courseId",))
