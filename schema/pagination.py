"""Connections: ``nodes``, ``edges { cursor node }`` and ``pageInfo`` on every list.

Cursors are opaque to clients: base64 of ``{list}:{offset}``. A cursor names the list it
came from, so one list's cursor is refused by another.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import strawberry

from gateway.errors import BadUserInput
from gateway.providers.base import Page

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "Connection",
    "Edge",
    "PageInfo",
    "connection_from_list",
    "connection_from_provider",
    "decode_cursor",
    "encode_cursor",
    "page_window",
]

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


def encode_cursor(list_name: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{list_name}:{offset}".encode()).decode("ascii")


def decode_cursor(list_name: str, cursor: str) -> int:
    """The offset a cursor points at; ``BadUserInput`` unless it came from ``list_name``."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
        name, _, offset = text.rpartition(":")
        value = int(offset)
    except (ValueError, UnicodeError, binascii.Error):
        raise BadUserInput(f"invalid cursor for {list_name}: {cursor[:40]!r}") from None
    if name != list_name or value < 0:
        raise BadUserInput(f"invalid cursor for {list_name}: it belongs to another list")
    return value


def page_window(list_name: str, first: int, after: str | None) -> tuple[int, int]:
    """``(offset, limit)`` of the page asked for by ``first``/``after``."""
    if first < 0 or first > MAX_PAGE_SIZE:
        raise BadUserInput(f"first must be between 0 and {MAX_PAGE_SIZE}, got {first}")
    offset = decode_cursor(list_name, after) + 1 if after is not None else 0
    return offset, first


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="A node with the cursor that points at it.")
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="One page of a list.")
class Connection(Generic[T]):
    nodes: list[T]
    _list_name: strawberry.Private[str]
    _offset: strawberry.Private[int]
    _has_next: strawberry.Private[bool]

    @strawberry.field
    def edges(self) -> list[Edge[T]]:
        return [
            Edge(cursor=encode_cursor(self._list_name, self._offset + index), node=node)
            for index, node in enumerate(self.nodes)
        ]

    @strawberry.field
    def page_info(self) -> PageInfo:
        end = (
            encode_cursor(self._list_name, self._offset + len(self.nodes) - 1)
            if self.nodes
            else None
        )
        return PageInfo(has_next_page=self._has_next, end_cursor=end)


async def connection_from_provider(
    list_name: str,
    first: int,
    after: str | None,
    fetch: Callable[[int, int], Awaitable[Page[T]]],
) -> Connection[T]:
    """A page the provider cuts itself (e.g. TalentLMS pages ``/users`` upstream)."""
    offset, limit = page_window(list_name, first, after)
    page = await fetch(offset, limit)
    return Connection(
        nodes=page.items, _list_name=list_name, _offset=offset, _has_next=page.has_next
    )


def connection_from_list(
    list_name: str, items: Sequence[T], first: int, after: str | None
) -> Connection[T]:
    """A page of a list held in memory."""
    offset, limit = page_window(list_name, first, after)
    return Connection(
        nodes=list(items[offset : offset + limit]),
        _list_name=list_name,
        _offset=offset,
        _has_next=len(items) > offset + limit,
    )
