"""GraphQL ``CourseEnrollment``: one user's record in one course (unified model §5)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.domain import model
from gateway.domain.pagination import Cursors, PageArgs
from gateway.domain.querying import EnrollmentFilter, filter_enrollments
from gateway.execution.context import Info
from schema.types.enums import EnrollmentStatus
from schema.types.links import course_from_ref, user_from_ref
from schema.types.lists import full_enrollments, to_query
from schema.types.node import Node, node_id_field, reference_id, remote_id_field
from schema.types.pagination import Connection, connection_from_list
from schema.types.scalars import JSON
from schema.types.shared import MaybeAwaitable, Url, resolver_field, with_detail

if TYPE_CHECKING:
    from schema.types.courses import Course
    from schema.types.users import User

__all__ = ["CourseEnrollment", "CourseEnrollmentFilter", "enrollment_connection"]

_User = Annotated["User", strawberry.lazy("schema.types.users")]
_Course = Annotated["Course", strawberry.lazy("schema.types.courses")]


@strawberry.input(
    description="Which enrollments to list. Date bounds: …After is inclusive, …Before exclusive."
)
class CourseEnrollmentFilter:
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this user's enrollments (a User's global id)."
    )
    course_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only enrollments in this course (a Course's global id)."
    )
    status: list[EnrollmentStatus] | None = strawberry.field(
        default=None, description="One or more statuses."
    )
    completed_after: datetime | None = None
    completed_before: datetime | None = None
    enrolled_after: datetime | None = None
    enrolled_before: datetime | None = None
    min_progress: float | None = strawberry.field(
        default=None, description="Least progressPercent, 0 to 100."
    )

    def to_query(self, info: Info) -> EnrollmentFilter | None:
        """The domain's filter, with the provider's ids; ``None`` when it names a user or
        course of another account, which no enrollment here matches."""
        user_id = course_id = None
        if self.user_id is not None:
            user_id = reference_id(info, self.user_id, ("User",), "filter.userId")
            if user_id is None:
                return None
        if self.course_id is not None:
            course_id = reference_id(info, self.course_id, ("Course",), "filter.courseId")
            if course_id is None:
                return None
        query = to_query(self, EnrollmentFilter)
        return dataclasses.replace(query, user_id=user_id, course_id=course_id)


async def enrollment_connection(
    info: Info,
    list_name: str,
    parent_id: str,
    load: Callable[[], Awaitable[list[model.CourseEnrollment] | None]],
    filter: CourseEnrollmentFilter | None,
    args: PageArgs,
) -> Connection[model.CourseEnrollment]:
    """A page of enrollments after ``filter``; statuses of partial rows are loaded first.

    The arguments are checked before ``load`` runs, so a bad cursor costs no call.
    """
    query = filter.to_query(info) if filter is not None else None
    cursors = Cursors(info.context.account_id, list_name, parent_id, query)
    cursors.check(args)
    if filter is not None and query is None:
        return connection_from_list(cursors, [], args)  # another account's user or course
    enrollments = await load() or []
    if query is not None:
        if query.uses_status:
            enrollments = await full_enrollments(info, enrollments)
        enrollments = filter_enrollments(enrollments, query)
    return connection_from_list(cursors, enrollments, args)


@strawberry.type(description="A user's enrollment in a course: status, progress, dates.")
class CourseEnrollment(Node):
    id: strawberry.ID = node_id_field("CourseEnrollment")
    remote_id: strawberry.ID = remote_id_field()
    assigned_at: datetime | None
    due_at: datetime | None
    enrolled_at: datetime | None
    started_at: datetime | None
    last_activity_at: datetime | None
    completed_at: datetime | None
    progress_percent: float | None = strawberry.field(description="0 to 100.")
    time_spent_seconds: int | None
    score: float | None
    is_mandatory: bool | None
    attempt_number: int | None
    attempts_count: int | None
    created_at: datetime | None
    updated_at: datetime | None
    custom_fields: JSON
    remote_data: JSON | None

    # Sync: the value, or an awaitable when a partial row must load its detail.
    @resolver_field(graphql_type=EnrollmentStatus | None)
    def status(
        root: strawberry.Parent[model.CourseEnrollment], info: Info
    ) -> MaybeAwaitable[EnrollmentStatus | None]:
        return with_detail(info, "CourseEnrollment", "status", root, lambda e: e.status)

    @resolver_field(graphql_type=list[Url])
    def urls(
        root: strawberry.Parent[model.CourseEnrollment], info: Info
    ) -> MaybeAwaitable[list[model.Url]]:
        return with_detail(info, "CourseEnrollment", "urls", root, lambda e: e.urls)

    @resolver_field(description="The learner.", graphql_type=_User | None)
    async def user(
        root: strawberry.Parent[model.CourseEnrollment], info: Info
    ) -> model.User | None:
        return await user_from_ref(info, root.user)

    @resolver_field(description="The course.", graphql_type=_Course | None)
    async def course(
        root: strawberry.Parent[model.CourseEnrollment], info: Info
    ) -> model.Course | None:
        return await course_from_ref(info, root.course)

    @resolver_field(
        description="Who assigned the course, where the provider records it.",
        graphql_type=_User | None,
    )
    async def assigned_by(
        root: strawberry.Parent[model.CourseEnrollment], info: Info
    ) -> model.User | None:
        return await user_from_ref(info, root.assigned_by)
