"""GraphQL ``CourseEnrollment``: one user's record in one course (unified model §5)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Final

import strawberry

from gateway.domain import model
from gateway.domain.pagination import Cursors, PageArgs
from gateway.domain.querying import EnrollmentFilter, filter_enrollments
from gateway.execution.context import Info
from schema.selection import node_field_names
from schema.types import descriptions
from schema.types.descriptions import NOT_RECORDED, after_bound, before_bound
from schema.types.enums import EnrollmentStatus
from schema.types.links import COURSE_REFERENCE, course_from_ref, user_from_ref
from schema.types.lists import full_enrollments, to_query
from schema.types.node import Node, node_id_field, reference_id, remote_id_field
from schema.types.pagination import Connection, connection_from_list, connection_from_refs
from schema.types.scalars import JSON
from schema.types.shared import MaybeAwaitable, Url, resolver_field, with_detail

if TYPE_CHECKING:
    from schema.types.courses import Course
    from schema.types.users import User

__all__ = [
    "COURSE_ENROLLMENTS_FILTER",
    "USER_ENROLLMENTS_FILTER",
    "CourseEnrollment",
    "CourseEnrollmentFilter",
    "enrollment_connection",
]

_User = Annotated["User", strawberry.lazy("schema.types.users")]
_Course = Annotated["Course", strawberry.lazy("schema.types.courses")]

_FROM_MEMBER: Final = (
    "On a course's roster, where the rows lack it, selecting it reads each member's "
    "enrollment (one or two calls per member)."
)
USER_ENROLLMENTS_FILTER: Final = (
    "Which of the user's enrollments to list, applied in the gateway before paging. A filter "
    "costs no call beyond the user's enrollments, and for `status`, where the LMS keeps "
    "progress apart, the user's progress."
)
COURSE_ENROLLMENTS_FILTER: Final = (
    "Which members of the roster to list, applied in the gateway before paging. Where the "
    "roster carries no statuses, a `status` filter reads each member's enrollment first (one "
    "or two calls per member)."
)


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
        default=None,
        description=f"{descriptions.ANY_OF} On a course's roster, where the rows lack "
        "statuses, this reads each member's enrollment first (one or two calls per member).",
    )
    completed_after: datetime | None = strawberry.field(
        default=None, description=after_bound("completedAt")
    )
    completed_before: datetime | None = strawberry.field(
        default=None, description=before_bound("completedAt")
    )
    enrolled_after: datetime | None = strawberry.field(
        default=None, description=after_bound("enrolledAt")
    )
    enrolled_before: datetime | None = strawberry.field(
        default=None, description=before_bound("enrolledAt")
    )
    min_progress: float | None = strawberry.field(
        default=None,
        description="Least progressPercent, 0 to 100 (inclusive); an enrollment without "
        "progress does not match.",
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
    detail_only = info.context.provider.detail_only_fields.get("CourseEnrollment", frozenset())
    if query is not None:
        if query.fields_read & detail_only:  # every row is compared: every row completed
            enrollments = await full_enrollments(info, enrollments)
        enrollments = filter_enrollments(enrollments, query)
    if detail_only & node_field_names(info) and any(e.partial for e in enrollments):
        # Rows that lack a selected field are completed for the page only, in one batch.
        return await connection_from_refs(
            cursors, enrollments, args, lambda page: full_enrollments(info, page)
        )
    return connection_from_list(cursors, enrollments, args)


@strawberry.type(description="A user's enrollment in a course: status, progress, dates.")
class CourseEnrollment(Node):
    id: strawberry.ID = node_id_field("CourseEnrollment")
    remote_id: strawberry.ID = remote_id_field()
    assigned_at: datetime | None = strawberry.field(
        description=f"When the course was assigned. {NOT_RECORDED}"
    )
    due_at: datetime | None = strawberry.field(
        description=f"When completion is due (an access expiry is not a due date). {NOT_RECORDED}"
    )
    enrolled_at: datetime | None = strawberry.field(
        description="When the user enrolled or registered."
    )
    started_at: datetime | None = strawberry.field(
        description=f"When the user started. {NOT_RECORDED}"
    )
    last_activity_at: datetime | None = strawberry.field(
        description=f"The last recorded activity. {NOT_RECORDED}"
    )
    completed_at: datetime | None = strawberry.field(
        description="When the user completed the course; null until then."
    )
    progress_percent: float | None = strawberry.field(
        description="Progress, 0 to 100, as the LMS reports it."
    )
    time_spent_seconds: int | None = strawberry.field(
        description="Total time spent in the course, in seconds."
    )
    score: float | None = strawberry.field(
        description="The latest or final score, e.g. the average over graded items; null where "
        "the LMS records none."
    )
    is_mandatory: bool | None = strawberry.field(
        description=f"Whether the enrollment is part of a mandatory assignment. {NOT_RECORDED}"
    )
    attempt_number: int | None = strawberry.field(
        description=f"The latest attempt's number, where the LMS allows retakes. {NOT_RECORDED}"
    )
    attempts_count: int | None = strawberry.field(
        description=f"How many attempts the user made. {NOT_RECORDED}"
    )
    created_at: datetime | None = strawberry.field(
        description=f"{descriptions.CREATED_AT} {NOT_RECORDED}"
    )
    updated_at: datetime | None = strawberry.field(
        description=f"{descriptions.UPDATED_AT} Where the LMS records no update time, the later "
        "of completedAt and enrolledAt."
    )
    custom_fields: JSON = strawberry.field(description=descriptions.CUSTOM_FIELDS)
    remote_data: JSON | None = strawberry.field(description=descriptions.REMOTE_DATA)

    # Sync: the value, or an awaitable when a partial row must load its detail.
    @resolver_field(
        description="The user's lifecycle status in this course, from the LMS's completion "
        f"or progress status (EnrollmentStatus says how). {_FROM_MEMBER}",
        graphql_type=EnrollmentStatus | None,
    )
    def status(
        root: strawberry.Parent[model.CourseEnrollment], info: Info
    ) -> MaybeAwaitable[EnrollmentStatus | None]:
        return with_detail(info, "CourseEnrollment", "status", root, lambda e: e.status)

    @resolver_field(
        description="Enrollment URLs, such as the last accessed item's; empty where the LMS "
        f"gives none. {_FROM_MEMBER}",
        graphql_type=list[Url],
    )
    def urls(
        root: strawberry.Parent[model.CourseEnrollment], info: Info
    ) -> MaybeAwaitable[list[model.Url]]:
        return with_detail(info, "CourseEnrollment", "urls", root, lambda e: e.urls)

    @resolver_field(
        description="The learner. Selecting only its id or remoteId costs no call; any other "
        "field loads the user: one call per user, none when the operation has already read it.",
        graphql_type=_User | None,
    )
    async def user(
        root: strawberry.Parent[model.CourseEnrollment], info: Info
    ) -> model.User | None:
        return await user_from_ref(info, root.user)

    @resolver_field(description=f"The course. {COURSE_REFERENCE}", graphql_type=_Course | None)
    async def course(
        root: strawberry.Parent[model.CourseEnrollment], info: Info
    ) -> model.Course | None:
        return await course_from_ref(info, root.course)

    @resolver_field(
        description=f"Who assigned the course. {NOT_RECORDED}",
        graphql_type=_User | None,
    )
    async def assigned_by(
        root: strawberry.Parent[model.CourseEnrollment], info: Info
    ) -> model.User | None:
        return await user_from_ref(info, root.assigned_by)
