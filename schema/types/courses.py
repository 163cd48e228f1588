"""GraphQL ``Course``: a catalog item (unified model §3)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.domain import model, querying
from gateway.domain.pagination import Cursors
from gateway.execution.context import Info
from schema.types import descriptions
from schema.types.descriptions import NOT_RECORDED
from schema.types.enrollments import (
    COURSE_ENROLLMENTS_FILTER,
    CourseEnrollmentFilter,
    enrollment_connection,
)
from schema.types.enums import (
    CourseLevel,
    CourseOrderField,
    CourseStatus,
    CourseType,
    OrderDirection,
)
from schema.types.lists import After, Before, First, Last, RecordDatesInput, page_args, to_query
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
    title: str | None = strawberry.field(description="Title.")
    description: str | None = strawberry.field(
        description="Description, as the LMS has it: HTML is kept as sent."
    )
    code: str | None = strawberry.field(description=f"Course code or SKU. {NOT_RECORDED}")
    type: CourseType | None = strawberry.field(
        description="Kind of learning item: COURSE for every course of the catalog that the "
        "LMS does not mark as another kind."
    )
    status: CourseStatus | None = strawberry.field(
        description="Publication status, mapped from the LMS's own status or access setting "
        "(CourseStatus says how); UNKNOWN for a value the gateway cannot map."
    )
    language: str | None = strawberry.field(description=f"Main language, e.g. en. {NOT_RECORDED}")
    duration_seconds: int | None = strawberry.field(
        description="Estimated duration in seconds; null where the LMS records none (an access "
        "time limit is not a duration)."
    )
    level: CourseLevel | None = strawberry.field(
        description="Difficulty level, by name or on a scale of 1 to 3 (CourseLevel says how); "
        "null where the LMS records none or the level is empty."
    )
    urls: list[Url] = strawberry.field(
        description="Related URLs, each with its type: e.g. the public page of a shared course, "
        "or the course's image."
    )
    tags: list[str] = strawberry.field(
        description="Tags or labels on the course; empty where the LMS records none."
    )
    categories: list[Category] = strawberry.field(
        description="Categories the course is in. Where the course names only a category's id, "
        "its name costs one call that reads every category, once per operation."
    )
    organization: Organization | None = strawberry.field(
        description=f"Organization or tenant of the course. {NOT_RECORDED}"
    )
    published_at: datetime | None = strawberry.field(
        description=f"When the course was published. {NOT_RECORDED}"
    )
    created_at: datetime | None = strawberry.field(
        description=f"{descriptions.CREATED_AT} {descriptions.DATE_AS_TEXT}"
    )
    updated_at: datetime | None = strawberry.field(
        description=f"{descriptions.UPDATED_AT} {descriptions.DATE_AS_TEXT}"
    )
    custom_fields: JSON = strawberry.field(description=descriptions.CUSTOM_FIELDS)
    remote_data: JSON | None = strawberry.field(description=descriptions.REMOTE_DATA)

    @resolver_field(
        description="Top-level items of the course, in curriculum order: its sections, and "
        "any items outside a section. One call per course reads the whole outline (shared with "
        "the course's record where the record holds it).",
        graphql_type=Connection[_Item] | None,
    )
    async def items(
        root: strawberry.Parent[model.Course],
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[model.CourseItem]:
        items = await info.context.loaders.course_items_by_course_id.load(root.id) or []
        top_level = [item for item in items if item.parent is None]
        cursors = Cursors(info.context.account_id, "Course.items", root.id)
        return connection_from_list(cursors, top_level, page_args(first, after, last, before))

    @resolver_field(
        description="Who is enrolled in this course, in the LMS's order: the course's roster, "
        "one call per course or roster page (shared with the course's record where the record "
        "holds it). "
        "Where roster rows lack them, a status, progress or date field costs one or two calls "
        "per member.",
        graphql_type=Connection[_Enrollment] | None,
    )
    async def enrollments(
        root: strawberry.Parent[model.Course],
        info: Info,
        filter: Annotated[
            CourseEnrollmentFilter | None,
            strawberry.argument(description=COURSE_ENROLLMENTS_FILTER),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
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
    status: list[CourseStatus] | None = strawberry.field(
        default=None, description=descriptions.ANY_OF
    )
    category: str | None = strawberry.field(
        default=None,
        description="A category: its global id, its remoteId, or its name (any case). A name "
        "can cost one call that reads every category's name.",
    )
    code: str | None = strawberry.field(
        default=None, description="The course code, whole, any case."
    )
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


@strawberry.input(description="How to sort courses; ties keep the LMS's order.")
class CourseOrder:
    field: CourseOrderField = strawberry.field(description=descriptions.ORDER_FIELD)
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description=descriptions.ORDER_DIRECTION
    )

    def to_query(self) -> querying.Order:
        return to_query(self, querying.Order)
