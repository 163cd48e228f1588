"""Connections: ``nodes``, ``edges { cursor node }``, ``pageInfo`` and ``totalCount``.

Windows and cursors are computed in ``gateway.domain.pagination``; this module shapes them for
GraphQL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import strawberry

from gateway.domain.pagination import Cursors, PageArgs
from gateway.providers.base import Page
from schema.types.shared import resolver_field

__all__ = [
    "Connection",
    "Edge",
    "PageInfo",
    "connection_from_list",
    "connection_from_provider",
    "connection_from_refs",
]

T = TypeVar("T")
R = TypeVar("R")


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether records follow this page.")
    has_previous_page: bool = strawberry.field(description="Whether records come before this page.")
    start_cursor: str | None = strawberry.field(
        description="The cursor of the page's first record, for `before`; null when the page "
        "is empty."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the page's last record, for `after`; null when the page is "
        "empty."
    )


@strawberry.type(description="A node with the cursor that points at it.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(
        description="Opaque position of the record in its list: pass it as `after` or `before`."
    )
    node: T = strawberry.field(description="The record.")


@strawberry.type(description="One page of a list.")
class Connection(Generic[T]):
    nodes: list[T] = strawberry.field(
        description="The page's records, in the list's order (the nodes of `edges`)."
    )
    _cursors: strawberry.Private[Cursors]
    _start: strawberry.Private[int]
    _has_next: strawberry.Private[bool]
    _total: strawberry.Private[int | None]

    @resolver_field(description="Items in the whole list after filtering, not only this page.")
    def total_count(self) -> int:
        # Resolvers take the whole-list path whenever totalCount is selected.
        assert self._total is not None, "totalCount on a list paged upstream"
        return self._total

    @resolver_field(description="The page's records, each with its cursor.")
    def edges(self) -> list[Edge[T]]:
        encode, start = self._cursors.encode, self._start
        return [Edge(cursor=encode(start + i), node=node) for i, node in enumerate(self.nodes)]

    @resolver_field(description="Where the page sits in its list, and the cursors to page on.")
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


async def connection_from_refs(
    cursors: Cursors,
    refs: Sequence[R],
    args: PageArgs,
    load: Callable[[list[R]], Awaitable[list[T]]],
) -> Connection[T]:
    """A page of a list of references held in memory, whose records ``load`` gives for the
    page's references only (a group's members: only the page's users are read)."""
    window = cursors.window(args, len(refs))
    end = window.start + window.count
    return Connection(
        nodes=await load(list(refs[window.start : end])),
        _cursors=cursors,
        _start=window.start,
        _has_next=len(refs) > end,
        _total=len(refs),
    )


async def connection_from_provider(
    cursors: Cursors,
    args: PageArgs,
    fetch: Callable[[int, int], Awaitable[Page[T]]],
) -> Connection[T]:
    """A page the provider cuts upstream (a users list paged by the LMS); no total is known."""
    window = cursors.window(args, None)
    page = await fetch(window.start, window.count)
    return Connection(
        nodes=page.items,
        _cursors=cursors,
        _start=window.start,
        _has_next=page.has_next,
        _total=None,
    )
