"""The root ``Query``: lookups by id and the top-level lists."""

from __future__ import annotations

import strawberry

from gateway.context import Info
from gateway.errors import BadUserInput
from schema.course_items import CourseItem
from schema.courses import Course
from schema.enrollments import CourseEnrollment, CourseEnrollmentFilter
from schema.pagination import (
    DEFAULT_PAGE_SIZE,
    Connection,
    connection_from_list,
    connection_from_provider,
)
from schema.users import User

__all__ = ["Query"]


@strawberry.type
class Query:
    @strawberry.field(description="A user by id; null when there is none.")
    async def user(self, info: Info, id: strawberry.ID) -> User | None:
        return await info.context.loaders.user_by_id.load(str(id))  # type: ignore[return-value]

    @strawberry.field(description="Users in the provider's order (TalentLMS: by id).")
    async def users(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[User] | None:
        return await connection_from_provider(  # type: ignore[return-value]
            "users", first, after, info.context.provider.list_users
        )

    @strawberry.field(description="A course by id; null when there is none.")
    async def course(self, info: Info, id: strawberry.ID) -> Course | None:
        return await info.context.loaders.course_by_id.load(str(id))  # type: ignore[return-value]

    @strawberry.field(description="Courses in the provider's order (TalentLMS: catalog order).")
    async def courses(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[Course] | None:
        return await connection_from_provider(  # type: ignore[return-value]
            "courses", first, after, info.context.provider.list_courses
        )

    @strawberry.field(description="A course item by id (`{courseId}:{unitId}` for TalentLMS).")
    async def course_item(self, info: Info, id: strawberry.ID) -> CourseItem | None:
        return await info.context.loaders.course_item_by_id.load(str(id))  # type: ignore[return-value]

    @strawberry.field(description="An enrollment by id (`{userId}:{courseId}` for TalentLMS).")
    async def course_enrollment(self, info: Info, id: strawberry.ID) -> CourseEnrollment | None:
        return await info.context.loaders.enrollment_by_id.load(str(id))  # type: ignore[return-value]

    @strawberry.field(
        description="Enrollments of a user, of a course, or of one user in one course."
    )
    async def course_enrollments(
        self,
        info: Info,
        filter: CourseEnrollmentFilter,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Connection[CourseEnrollment] | None:
        loaders = info.context.loaders
        user_id = str(filter.user_id) if filter.user_id is not None else None
        course_id = str(filter.course_id) if filter.course_id is not None else None
        if user_id is None and course_id is None:
            raise BadUserInput("courseEnrollments needs filter.userId or filter.courseId")
        if user_id is not None:
            enrollments = await loaders.enrollments_by_user_id.load(user_id) or []
            if course_id is not None:
                enrollments = [e for e in enrollments if e.course and e.course.id == course_id]
        else:
            enrollments = await loaders.enrollments_by_course_id.load(course_id) or []  # type: ignore[arg-type]
        return connection_from_list("courseEnrollments", enrollments, first, after)  # type: ignore[return-value]
