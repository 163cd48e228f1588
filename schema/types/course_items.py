"""GraphQL ``CourseItem``: a module, section, lesson or unit of a course (unified model §4)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

import strawberry

from gateway.domain import model
from gateway.execution.context import Info
from gateway.execution.loaders import Pending
from schema.types.links import course_from_ref
from schema.types.scalars import JSON
from schema.types.shared import Url

if TYPE_CHECKING:
    from schema.types.courses import Course

__all__ = ["CourseItem"]

T = TypeVar("T")
_Course = Annotated["Course", strawberry.lazy("schema.types.courses")]


@strawberry.type(description="Part of a course's content; items may nest (sections hold units).")
class CourseItem:
    id: strawberry.ID
    type: str | None = strawberry.field(
        description="section, content, web_content, video, audio, document, iframe, test, "
        "survey, assignment, ilt, scorm or other."
    )
    title: str | None
    description: str | None
    position: int | None = strawberry.field(description="0-based place in the course's order.")
    duration_seconds: int | None
    is_required: bool | None
    urls: list[Url]
    created_at: datetime | None
    updated_at: datetime | None
    custom_fields: JSON
    remote_data: JSON | None

    @strawberry.field(description="The course this item belongs to.")
    async def course(root: strawberry.Parent[model.CourseItem], info: Info) -> _Course | None:
        return await course_from_ref(info, root.course)  # type: ignore[return-value]

    # parent and children: sync once the course's items are loaded (they are, for an item
    # that came from them); an awaitable otherwise.
    @strawberry.field(description="The item this one belongs to, if any.")
    def parent(root: strawberry.Parent[model.CourseItem], info: Info) -> CourseItem | None:
        if root.parent is None or root.course is None:
            return None
        parent_id = root.parent.id
        return _with_items(  # type: ignore[return-value]
            info, root.course.id, lambda items: next((i for i in items if i.id == parent_id), None)
        )

    @strawberry.field(
        description="Items that belong to this one, in order. A plain list: a section's "
        "units are few and come with the course in one call."
    )
    def children(root: strawberry.Parent[model.CourseItem], info: Info) -> list[CourseItem] | None:
        if root.course is None:
            return []
        item_id = root.id
        return _with_items(  # type: ignore[return-value]
            info,
            root.course.id,
            lambda items: [i for i in items if i.parent is not None and i.parent.id == item_id],
        )


def _with_items(
    info: Info, course_id: str, pick: Callable[[list[model.CourseItem]], T]
) -> T | Awaitable[T]:
    loader = info.context.loaders.course_items_by_course_id
    items = loader.loaded(course_id)
    if items is not Pending.PENDING:
        return pick(items or [])

    async def load() -> T:
        return pick(await loader.load(course_id) or [])

    return load()
