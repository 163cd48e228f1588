"""GraphQL ``Course``: a catalog item (unified model §3)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway import model
from gateway.context import Info
from schema.enums import CourseLevel, CourseStatus, CourseType
from schema.pagination import DEFAULT_PAGE_SIZE, Connection, connection_from_list
from schema.scalars import JSON
from schema.shared import Category, Organization, Url

if TYPE_CHECKING:
    from schema.course_items import CourseItem
    from schema.enrollments import CourseEnrollment

__all__ = ["Course"]

_Item = Annotated["CourseItem", strawberry.lazy("schema.course_items")]
_Enrollment = Annotated["CourseEnrollment", strawberry.lazy("schema.enrollments")]


@strawberry.type(description="A course, training or other catalog item.")
class Course:
    id: strawberry.ID
    title: str | None
    description: str | None = strawberry.field(description="As the provider has it (may be HTML).")
    code: str | None
    type: CourseType | None
    status: CourseStatus | None
    language: str | None
    duration_seconds: int | None
    level: CourseLevel | None
    urls: list[Url]
    tags: list[str]
    categories: list[Category]
    organization: Organization | None
    published_at: datetime | None
    created_at: datetime | None
    updated_at: datetime | None
    custom_fields: JSON
    remote_data: JSON | None

    @strawberry.field(description="Top-level items of the course, in curriculum order.")
    async def items(
        root: strawberry.Parent[model.Course],
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Connection[_Item] | None:
        items = await info.context.loaders.course_items_by_course_id.load(root.id) or []
        top_level = [item for item in items if item.parent is None]
        return connection_from_list("Course.items", top_level, first, after)  # type: ignore[return-value]

    @strawberry.field(description="Who is enrolled in this course.")
    async def enrollments(
        root: strawberry.Parent[model.Course],
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Connection[_Enrollment] | None:
        roster = await info.context.loaders.enrollments_by_course_id.load(root.id) or []
        return connection_from_list("Course.enrollments", roster, first, after)  # type: ignore[return-value]
