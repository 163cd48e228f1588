"""Connections: ``nodes``, ``edges { cursor node }``, ``pageInfo`` and ``totalCount``.

Cursors are opaque: base64 of a short digest of the list's scope (account, list, parent,
filter and order) and an offset. A cursor is only accepted by the list it came from, so a
cursor of one account, list or filter is refused by another.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import enum
import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import strawberry

from gateway.errors import BadUserInput
from gateway.providers.base import Page

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "Connection",
    "Cursors",
    "Edge",
    "PageArgs",
    "PageInfo",
    "Window",
    "connection_from_list",
    "connection_from_provider",
]

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class PageArgs:
    """The Relay arguments of one list field."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    @property
    def needs_total(self) -> bool:
        """``last`` without ``before`` counts from the end, which needs the list's length."""
        return self.last is not None and self.before is None


@dataclass(frozen=True, slots=True)
class Window:
    """Rows ``[start, start + count)`` of a list."""

    start: int
    count: int


class Cursors:
    """Encodes and checks the cursors of one list scope."""

    __slots__ = ("_digest", "name")

    def __init__(self, account: str, name: str, *scope: object) -> None:
        self.name = name
        # Canonical JSON, so a cursor stays valid across processes and restarts.
        key = json.dumps([account, name, *scope], sort_keys=True, default=_canonical)
        self._digest = hashlib.sha256(key.encode()).hexdigest()[:16]

    def encode(self, offset: int) -> str:
        return base64.urlsafe_b64encode(f"{self._digest}:{offset}".encode()).decode("ascii")

    def decode(self, cursor: str) -> int:
        try:
            digest, _, offset = (
                base64.urlsafe_b64decode(cursor.encode("ascii")).decode().partition(":")
            )
            value = int(offset)
        except (ValueError, UnicodeError, binascii.Error):
            raise BadUserInput(f"invalid cursor for {self.name}") from None
        if digest != self._digest or value < 0:
            raise BadUserInput(
                f"invalid cursor for {self.name}: it belongs to another list, filter or account"
            )
        return value

    def window(self, args: PageArgs, total: int | None) -> Window:
        """The rows ``args`` ask for; ``total`` may be ``None`` unless ``args.needs_total``."""
        if args.first is not None and args.last is not None:
            raise BadUserInput(f"{self.name}: give first or last, not both")
        for name, value in (("first", args.first), ("last", args.last)):
            if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
                raise BadUserInput(f"{name} must be between 0 and {MAX_PAGE_SIZE}, got {value}")
        low = self.decode(args.after) + 1 if args.after is not None else 0
        high = self.decode(args.before) if args.before is not None else total
        if high is not None:
            high = max(low, high if total is None else min(high, total))
        if args.last is not None:
            assert high is not None, "needs_total: the caller must know the list's length"
            start = max(low, high - args.last)
            return Window(start, high - start)
        first = DEFAULT_PAGE_SIZE if args.first is None else args.first
        count = first if high is None else max(0, min(first, high - low))
        return Window(low, count)


def _canonical(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, frozenset | set):
        return sorted(value, key=str)
    if isinstance(value, enum.Enum):
        return value.value
    return str(value)


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="A node with the cursor that points at it.")
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="One page of a list.")
class Connection(Generic[T]):
    nodes: list[T]
    _cursors: strawberry.Private[Cursors]
    _start: strawberry.Private[int]
    _has_next: strawberry.Private[bool]
    _total: strawberry.Private[int | None]

    @strawberry.field(description="Items in the whole list after filtering, not only this page.")
    def total_count(self) -> int:
        # Resolvers take the whole-list path whenever totalCount is selected.
        assert self._total is not None, "totalCount on a list paged upstream"
        return self._total

    @strawberry.field
    def edges(self) -> list[Edge[T]]:
        encode, start = self._cursors.encode, self._start
        return [Edge(cursor=encode(start + i), node=node) for i, node in enumerate(self.nodes)]

    @strawberry.field
    def page_info(self) -> PageInfo:
        encode, start, count = self._cursors.encode, self._start, len(self.nodes)
        return PageInfo(
            has_next_page=self._has_next,
            has_previous_page=start > 0,
            start_cursor=encode(start) if count else None,
            end_cursor=encode(start + count - 1) if count else None,
        )


def connection_from_list(cursors: Cursors, items: Sequence[T], args: PageArgs) -> Connection[T]:
    """A page of a list held in memory."""
    window = cursors.window(args, len(items))
    end = window.start + window.count
    return Connection(
        nodes=list(items[window.start : end]),
        _cursors=cursors,
        _start=window.start,
        _has_next=len(items) > end,
        _total=len(items),
    )


async def connection_from_provider(
    cursors: Cursors,
    args: PageArgs,
    fetch: Callable[[int, int], Awaitable[Page[T]]],
) -> Connection[T]:
    """A page the provider cuts upstream (TalentLMS pages ``/users``); no total is known."""
    window = cursors.window(args, None)
    page = await fetch(window.start, window.count)
    return Connection(
        nodes=page.items,
        _cursors=cursors,
        _start=window.start,
        _has_next=page.has_next,
        _total=None,
    )
