"""GraphQL ``Course``: a catalog item (unified model §3)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.domain import model, querying
from gateway.domain.pagination import Cursors
from gateway.execution.context import Info
from schema.types.enrollments import CourseEnrollmentFilter, enrollment_connection
from schema.types.enums import (
    CourseLevel,
    CourseOrderField,
    CourseStatus,
    CourseType,
    OrderDirection,
)
from schema.types.lists import RecordDatesInput, page_args, to_query
from schema.types.node import (
    Node,
    decode_global_id,
    node_id_field,
    reference_id,
    remote_id_field,
)
from schema.types.pagination import Connection, connection_from_list
from schema.types.scalars import JSON
from schema.types.shared import Category, Organization, Url, resolver_field

if TYPE_CHECKING:
    from schema.types.course_items import CourseItem
    from schema.types.enrollments import CourseEnrollment

__all__ = ["Course", "CourseFilter", "CourseOrder"]

_Item = Annotated["CourseItem", strawberry.lazy("schema.types.course_items")]
_Enrollment = Annotated["CourseEnrollment", strawberry.lazy("schema.types.enrollments")]


@strawberry.type(description="A course, training or other catalog item.")
class Course(Node):
    id: strawberry.ID = node_id_field("Course")
    remote_id: strawberry.ID = remote_id_field()
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

    @resolver_field(
        description="Top-level items of the course, in curriculum order.",
        graphql_type=Connection[_Item] | None,
    )
    async def items(
        root: strawberry.Parent[model.Course],
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[model.CourseItem]:
        items = await info.context.loaders.course_items_by_course_id.load(root.id) or []
        top_level = [item for item in items if item.parent is None]
        cursors = Cursors(info.context.account_id, "Course.items", root.id)
        return connection_from_list(cursors, top_level, page_args(first, after, last, before))

    @resolver_field(
        description="Who is enrolled in this course, in the provider's order.",
        graphql_type=Connection[_Enrollment] | None,
    )
    async def enrollments(
        root: strawberry.Parent[model.Course],
        info: Info,
        filter: CourseEnrollmentFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[model.CourseEnrollment]:
        return await enrollment_connection(
            info,
            "Course.enrollments",
            root.id,
            lambda: info.context.loaders.enrollments_by_course_id.load(root.id),
            filter,
            page_args(first, after, last, before),
        )


@strawberry.input(
    description="Which courses to list. Date bounds: …After is inclusive, …Before exclusive."
)
class CourseFilter(RecordDatesInput):
    status: list[CourseStatus] | None = None
    category: str | None = strawberry.field(
        default=None,
        description="A category: its global id, its remoteId, or its name (any case).",
    )
    code: str | None = None
    search: str | None = strawberry.field(
        default=None, description="Part of the title or code, any case."
    )

    def to_query(self, info: Info) -> querying.CourseFilter | None:
        """The domain's filter, with the provider's ids; ``None`` when it names a category
        of another account, which no course here matches."""
        query = to_query(self, querying.CourseFilter)
        if self.category is None or decode_global_id(self.category) is None:
            return query
        category_id = reference_id(info, self.category, ("Category",), "filter.category")
        if category_id is None:
            return None
        return dataclasses.replace(query, category=category_id)


@strawberry.input(description="How to sort courses; ties keep the provider's order.")
class CourseOrder:
    field: CourseOrderField
    direction: OrderDirection = OrderDirection.ASC

    def to_query(self) -> querying.Order:
        return to_query(self, querying.Order)
