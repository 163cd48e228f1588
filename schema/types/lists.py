"""What every list field shares: its arguments, and checks on what clients pass through."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, TypeVar

import strawberry

from gateway.domain import model
from gateway.domain.pagination import PageArgs
from gateway.errors import BadUserInput
from gateway.execution.context import Info
from schema.selection import field_names
from schema.types import descriptions
from schema.types.descriptions import after_bound, before_bound
from schema.types.scalars import JSON

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "MAX_REMOTE_VALUE",
    "After",
    "Before",
    "First",
    "Last",
    "RecordDatesInput",
    "RemoteQuery",
    "full_enrollments",
    "page_args",
    "remote_params",
    "to_query",
    "wants_total",
]

MAX_REMOTE_VALUE = 200


Q = TypeVar("Q", bound="DataclassInstance")


# The Relay arguments every connection takes (``page_args`` reads them), and the passthrough
# of the root lists.
First: TypeAlias = Annotated[int | None, strawberry.argument(description=descriptions.FIRST)]
After: TypeAlias = Annotated[str | None, strawberry.argument(description=descriptions.AFTER)]
Last: TypeAlias = Annotated[int | None, strawberry.argument(description=descriptions.LAST)]
Before: TypeAlias = Annotated[str | None, strawberry.argument(description=descriptions.BEFORE)]
RemoteQuery: TypeAlias = Annotated[
    JSON | None, strawberry.argument(description=descriptions.REMOTE_QUERY)
]


@strawberry.input(description="Bounds on when records were created and last updated.")
class RecordDatesInput:
    created_after: datetime | None = strawberry.field(
        default=None, description=after_bound("createdAt")
    )
    created_before: datetime | None = strawberry.field(
        default=None, description=before_bound("createdAt")
    )
    updated_after: datetime | None = strawberry.field(
        default=None, description=after_bound("updatedAt")
    )
    updated_before: datetime | None = strawberry.field(
        default=None, description=before_bound("updatedAt")
    )


def to_query(source: object, target: type[Q]) -> Q:
    """The ``gateway.domain.querying`` value of a GraphQL input with the same field names.

    Lists become frozensets; unset fields keep the target's defaults.
    """
    values = {}
    for item in dataclasses.fields(target):
        value = getattr(source, item.name, None)
        if value is not None:
            values[item.name] = frozenset(value) if isinstance(value, list) else value
    return target(**values)


def page_args(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> PageArgs:
    return PageArgs(first=first, after=after, last=last, before=before)


def wants_total(info: Info) -> bool:
    """Whether the connection's ``totalCount`` is selected (fragments included)."""
    return "totalCount" in field_names(info)


def remote_params(info: Info, list_name: str, remote_query: Any) -> dict[str, str]:
    """``remoteQuery`` checked against the provider's own parameters for this list."""
    if remote_query is None:
        return {}
    allowed = info.context.provider.remote_query_keys.get(list_name, frozenset())
    if not isinstance(remote_query, Mapping):
        raise BadUserInput("remoteQuery must be an object of provider parameters")
    params: dict[str, str] = {}
    for key, value in remote_query.items():
        if key not in allowed:
            names = ", ".join(sorted(allowed)) or "none"
            raise BadUserInput(
                f"remoteQuery.{str(key)[:40]} is not a parameter of this list (allowed: {names})"
            )
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise BadUserInput(f"remoteQuery.{key} must be a string or a number")
        text = str(value)
        if not text or len(text) > MAX_REMOTE_VALUE or not text.isprintable():
            raise BadUserInput(
                f"remoteQuery.{key} must be 1 to {MAX_REMOTE_VALUE} printable characters"
            )
        params[key] = text
    return params


async def full_enrollments(
    info: Info, enrollments: Sequence[model.CourseEnrollment]
) -> list[model.CourseEnrollment]:
    """Enrollments with partial rows replaced by full records, loaded in one batch."""
    partial = [e.id for e in enrollments if e.partial]
    if not partial:
        return list(enrollments)
    loaded = await info.context.loaders.enrollment_by_id.load_many(partial)
    full = {e.id: e for e in loaded if e is not None}
    return [full.get(e.id, e) for e in enrollments]
