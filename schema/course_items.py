"""GraphQL ``CourseItem``: a module, section, lesson or unit of a course (unified model §4)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway import model
from gateway.context import Info
from schema.links import course_from_ref
from schema.scalars import JSON
from schema.shared import Url

if TYPE_CHECKING:
    from schema.courses import Course

__all__ = ["CourseItem"]

_Course = Annotated["Course", strawberry.lazy("schema.courses")]


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

    @strawberry.field(description="The item this one belongs to, if any.")
    async def parent(root: strawberry.Parent[model.CourseItem], info: Info) -> CourseItem | None:
        if root.parent is None or root.course is None:
            return None
        items = await info.context.loaders.course_items_by_course_id.load(root.course.id) or []
        return next((item for item in items if item.id == root.parent.id), None)  # type: ignore[return-value]

    @strawberry.field(
        description="Items that belong to this one, in order. A plain list: a section's "
        "units are few and come with the course in one call."
    )
    async def children(
        root: strawberry.Parent[model.CourseItem], info: Info
    ) -> list[CourseItem] | None:
        if root.course is None:
            return []
        items = await info.context.loaders.course_items_by_course_id.load(root.course.id) or []
        return [item for item in items if item.parent is not None and item.parent.id == root.id]  # type: ignore[misc]
