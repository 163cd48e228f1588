"""GraphQL ``CourseItem``: a module, section, lesson or unit of a course (unified model §4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

import strawberry

from gateway.domain import model
from gateway.execution.context import Info
from gateway.execution.loaders import Pending
from schema.types import descriptions
from schema.types.descriptions import NOT_RECORDED
from schema.types.links import COURSE_REFERENCE, course_from_ref
from schema.types.node import Node, node_id_field, remote_id_field
from schema.types.scalars import JSON
from schema.types.shared import MaybeAwaitable, Url, resolver_field

if TYPE_CHECKING:
    from schema.types.courses import Course

__all__ = ["CourseItem"]

T = TypeVar("T")
_Course = Annotated["Course", strawberry.lazy("schema.types.courses")]


@strawberry.type(description="Part of a course's content; items may nest (sections hold units).")
class CourseItem(Node):
    id: strawberry.ID = node_id_field("CourseItem")
    remote_id: strawberry.ID = remote_id_field()
    type: str | None = strawberry.field(
        description="Kind of item: section, content, web_content, video, audio, document, "
        "iframe, test, survey, assignment, ilt, scorm or other (an item type the gateway does "
        "not know is other, the LMS's own type kept in customFields)."
    )
    title: str | None = strawberry.field(description="Title.")
    description: str | None = strawberry.field(
        description=f"Description of the item. {NOT_RECORDED}"
    )
    position: int | None = strawberry.field(
        description="Place in the course's order, counted from 0 over all of the course's "
        "items (sections and the items in them together)."
    )
    duration_seconds: int | None = strawberry.field(
        description=f"Estimated duration in seconds. {NOT_RECORDED}"
    )
    is_required: bool | None = strawberry.field(
        description="Whether completing the course needs this item: true for every item but "
        "sections when the course requires all of its items to be completed; null when unknown."
    )
    urls: list[Url] = strawberry.field(
        description="Item URLs, such as its launch URL; empty where the LMS gives none."
    )
    created_at: datetime | None = strawberry.field(
        description=f"{descriptions.CREATED_AT} {NOT_RECORDED}"
    )
    updated_at: datetime | None = strawberry.field(
        description=f"{descriptions.UPDATED_AT} {NOT_RECORDED}"
    )
    custom_fields: JSON = strawberry.field(description=descriptions.CUSTOM_FIELDS)
    remote_data: JSON | None = strawberry.field(description=descriptions.REMOTE_DATA)

    @resolver_field(
        description=f"The course this item belongs to. {COURSE_REFERENCE}",
        graphql_type=_Course | None,
    )
    async def course(root: strawberry.Parent[model.CourseItem], info: Info) -> model.Course | None:
        return await course_from_ref(info, root.course)

    # parent and children: sync once the course's items are loaded (they are, for an item
    # that came from them); an awaitable otherwise.
    @resolver_field(
        description="The item this one belongs to, if any: the section that holds it (in an "
        "outline that is one flat list, the nearest section before it).",
        graphql_type="CourseItem | None",
    )
    def parent(
        root: strawberry.Parent[model.CourseItem], info: Info
    ) -> MaybeAwaitable[model.CourseItem | None]:
        if root.parent is None or root.course is None:
            return None
        parent_id = root.parent.id
        return _with_items(
            info, root.course.id, lambda items: next((i for i in items if i.id == parent_id), None)
        )

    @resolver_field(
        description="Items that belong to this one, in order. A plain list: a section's "
        "items are few and come with the course's outline in one call.",
        graphql_type="list[CourseItem] | None",
    )
    def children(
        root: strawberry.Parent[model.CourseItem], info: Info
    ) -> MaybeAwaitable[list[model.CourseItem]]:
        if root.course is None:
            return []
        item_id = root.id
        return _with_items(
            info,
            root.course.id,
            lambda items: [i for i in items if i.parent is not None and i.parent.id == item_id],
        )


def _with_items(
    info: Info, course_id: str, pick: Callable[[list[model.CourseItem]], T]
) -> MaybeAwaitable[T]:
    loader = info.context.loaders.course_items_by_course_id
    items = loader.loaded(course_id)
    if items is not Pending.PENDING:
        return pick(items or [])

    async def load() -> T:
        return pick(await loader.load(course_id) or [])

    return load()
