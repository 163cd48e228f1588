"""GraphQL ``CourseEnrollment``: one user's record in one course (unified model §5)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway import model
from gateway.context import Info
from schema.enums import EnrollmentStatus
from schema.links import course_from_ref, user_from_ref
from schema.scalars import JSON
from schema.shared import Url, with_detail

if TYPE_CHECKING:
    from schema.courses import Course
    from schema.users import User

__all__ = ["CourseEnrollment", "CourseEnrollmentFilter"]

_User = Annotated["User", strawberry.lazy("schema.users")]
_Course = Annotated["Course", strawberry.lazy("schema.courses")]


@strawberry.input(description="Which enrollments to list: those of a user, of a course, or both.")
class CourseEnrollmentFilter:
    user_id: strawberry.ID | None = None
    course_id: strawberry.ID | None = None


@strawberry.type(description="A user's enrollment in a course: status, progress, dates.")
class CourseEnrollment:
    id: strawberry.ID = strawberry.field(
        description="Stable id; for TalentLMS `{userId}:{courseId}`."
    )
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

    @strawberry.field
    async def status(
        root: strawberry.Parent[model.CourseEnrollment], info: Info
    ) -> EnrollmentStatus | None:
        enrollment = await with_detail(info, "CourseEnrollment", "status", root)
        return enrollment.status  # type: ignore[union-attr, return-value]

    @strawberry.field
    async def urls(root: strawberry.Parent[model.CourseEnrollment], info: Info) -> list[Url]:
        enrollment = await with_detail(info, "CourseEnrollment", "urls", root)
        return enrollment.urls  # type: ignore[union-attr, return-value]

    @strawberry.field(description="The learner.")
    async def user(root: strawberry.Parent[model.CourseEnrollment], info: Info) -> _User | None:
        return await user_from_ref(info, root.user)  # type: ignore[return-value]

    @strawberry.field(description="The course.")
    async def course(root: strawberry.Parent[model.CourseEnrollment], info: Info) -> _Course | None:
        return await course_from_ref(info, root.course)  # type: ignore[return-value]

    @strawberry.field(description="Who assigned the course, where the provider records it.")
    async def assigned_by(
        root: strawberry.Parent[model.CourseEnrollment], info: Info
    ) -> _User | None:
        return await user_from_ref(info, root.assigned_by)  # type: ignore[return-value]
