"""GraphQL enums: the unified model's enums, exposed under their own names."""

from __future__ import annotations

import strawberry

from gateway.domain import model, querying

__all__ = [
    "CourseLevel",
    "CourseOrderField",
    "CourseStatus",
    "CourseType",
    "EnrollmentStatus",
    "OrderDirection",
    "UserOrderField",
    "UserRole",
    "UserStatus",
]

UserStatus = strawberry.enum(model.UserStatus, description="Lifecycle status of a user.")
UserRole = strawberry.enum(model.UserRole, description="Primary role of a user in the LMS.")
CourseType = strawberry.enum(model.CourseType, description="Kind of learning item.")
CourseStatus = strawberry.enum(model.CourseStatus, description="Publication status of a course.")
CourseLevel = strawberry.enum(model.CourseLevel, description="Difficulty level of a course.")
EnrollmentStatus = strawberry.enum(
    model.EnrollmentStatus, description="A user's lifecycle status in one course."
)

OrderDirection = strawberry.enum(querying.OrderDirection, description="Sort direction.")
UserOrderField = strawberry.enum(querying.UserOrderField, description="What users sort by.")
CourseOrderField = strawberry.enum(querying.CourseOrderField, description="What courses sort by.")
